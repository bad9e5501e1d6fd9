//! Image and detection ops: Resize (and the deprecated Upsample), GridSample, AffineGrid,
//! Col2Im, CenterCropPad, RoiAlign, NonMaxSuppression.

use crate::ir::fact::{Dim, Fact};
use crate::tensor::DType;

/// Interpolation of Resize and GridSample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interp {
    Nearest,
    Linear,
    Cubic,
}

/// How Resize maps an output coordinate to an input coordinate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordMode {
    HalfPixel,
    HalfPixelSymmetric,
    PytorchHalfPixel,
    AlignCorners,
    Asymmetric,
    TfHalfPixelForNn,
    TfCropAndResize,
}

/// How Resize rounds a coordinate in nearest mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NearestMode {
    RoundPreferFloor,
    RoundPreferCeil,
    Floor,
    Ceil,
}

/// Resize's `keep_aspect_ratio_policy` (opset 18) for `sizes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AspectPolicy {
    Stretch,
    NotLarger,
    NotSmaller,
}

/// Resize's attributes. Inputs: X, roi, scales, sizes (opset 11+); X, scales (opset 10 and
/// Upsample 9); X only with `scales` given here (Upsample 7).
#[derive(Clone, Debug, PartialEq)]
pub struct ResizeAttrs {
    pub mode: Interp,
    pub coord: CoordMode,
    pub nearest: NearestMode,
    pub cubic_a: f32,
    pub exclude_outside: bool,
    pub extrapolation: f32,
    pub antialias: bool,
    pub axes: Option<Vec<i64>>,
    pub policy: AspectPolicy,
    /// Index of the scales input (1 for opset 10 and Upsample 9, 2 from opset 11).
    pub scales_input: usize,
    /// Upsample 7's `scales` attribute.
    pub scales: Option<Vec<f32>>,
}

/// GridSample's padding of samples outside the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridPadding {
    Zeros,
    Border,
    Reflection,
}

#[derive(Clone, Debug)]
pub enum ImageOp {
    Resize(Box<ResizeAttrs>),
    GridSample {
        mode: Interp,
        padding: GridPadding,
        align_corners: bool,
    },
    AffineGrid {
        align_corners: bool,
    },
    Col2Im {
        dilations: Option<Vec<i64>>,
        pads: Option<Vec<i64>>,
        strides: Option<Vec<i64>>,
    },
    CenterCropPad {
        axes: Option<Vec<i64>>,
    },
    RoiAlign {
        max: bool,
        output_height: usize,
        output_width: usize,
        sampling_ratio: usize,
        spatial_scale: f32,
        /// `half_pixel` (opset 16 default) shifts by -0.5; `output_half_pixel` (opset 10) does not.
        half_pixel: bool,
    },
    NonMaxSuppression {
        center_point_box: bool,
    },
}

impl ImageOp {
    pub fn name(&self) -> &'static str {
        match self {
            ImageOp::Resize(_) => "Resize",
            ImageOp::GridSample { .. } => "GridSample",
            ImageOp::AffineGrid { .. } => "AffineGrid",
            ImageOp::Col2Im { .. } => "Col2Im",
            ImageOp::CenterCropPad { .. } => "CenterCropPad",
            ImageOp::RoiAlign { .. } => "RoiAlign",
            ImageOp::NonMaxSuppression { .. } => "NonMaxSuppression",
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        match self {
            ImageOp::NonMaxSuppression { .. } => vec![Fact::new(
                Some(DType::I64),
                Some(vec![Dim::Any, Dim::Known(3)]),
            )],
            ImageOp::Resize(_) | ImageOp::CenterCropPad { .. } => {
                vec![Fact::new(x.dtype, x.rank().map(|r| vec![Dim::Any; r]))]
            }
            _ => vec![Fact::new(x.dtype, None)],
        }
    }
}
