//! Builders of the image and detection family.

use super::{NodeCtx, Registry};
use crate::error::Result;
use crate::ir::ops::image::{
    AspectPolicy, CoordMode, GridPadding, ImageOp, Interp, NearestMode, ResizeAttrs,
};
use crate::ir::Op;

fn op(o: ImageOp) -> Result<Op> {
    Ok(Op::Image(o))
}

fn mode(c: &NodeCtx, m: &str) -> Result<Interp> {
    Ok(match m {
        "nearest" => Interp::Nearest,
        "linear" | "bilinear" => Interp::Linear,
        "cubic" | "bicubic" => Interp::Cubic,
        m => return Err(c.invalid(format!("unknown mode '{m}'"))),
    })
}

fn resize(c: &NodeCtx, upsample: bool) -> Result<Op> {
    let legacy = upsample || c.opset < 11;
    let interp = mode(c, &c.string("mode", "nearest")?)?;
    if legacy && interp == Interp::Cubic {
        return Err(c.invalid("mode 'cubic' needs Resize from opset 11"));
    }
    let coord = if legacy {
        CoordMode::Asymmetric
    } else {
        match c
            .string("coordinate_transformation_mode", "half_pixel")?
            .as_str()
        {
            "half_pixel" => CoordMode::HalfPixel,
            "half_pixel_symmetric" => CoordMode::HalfPixelSymmetric,
            "pytorch_half_pixel" => CoordMode::PytorchHalfPixel,
            "align_corners" => CoordMode::AlignCorners,
            "asymmetric" => CoordMode::Asymmetric,
            "tf_half_pixel_for_nn" => CoordMode::TfHalfPixelForNn,
            "tf_crop_and_resize" => CoordMode::TfCropAndResize,
            m => return Err(c.invalid(format!("unknown coordinate_transformation_mode '{m}'"))),
        }
    };
    let nearest = if legacy {
        // Upsample and Resize-10: floor, as their `np.repeat`-style reference has it
        NearestMode::Floor
    } else {
        match c.string("nearest_mode", "round_prefer_floor")?.as_str() {
            "round_prefer_floor" => NearestMode::RoundPreferFloor,
            "round_prefer_ceil" => NearestMode::RoundPreferCeil,
            "floor" => NearestMode::Floor,
            "ceil" => NearestMode::Ceil,
            m => return Err(c.invalid(format!("unknown nearest_mode '{m}'"))),
        }
    };
    let policy = match c.string("keep_aspect_ratio_policy", "stretch")?.as_str() {
        "stretch" => AspectPolicy::Stretch,
        "not_larger" => AspectPolicy::NotLarger,
        "not_smaller" => AspectPolicy::NotSmaller,
        m => return Err(c.invalid(format!("unknown keep_aspect_ratio_policy '{m}'"))),
    };
    let scales = if upsample && c.opset < 9 {
        Some(
            c.floats_opt("scales")?
                .ok_or_else(|| c.invalid("missing attribute 'scales'"))?,
        )
    } else {
        None
    };
    op(ImageOp::Resize(Box::new(ResizeAttrs {
        mode: interp,
        coord,
        nearest,
        cubic_a: c.float("cubic_coeff_a", -0.75)?,
        exclude_outside: c.int("exclude_outside", 0)? != 0,
        extrapolation: c.float("extrapolation_value", 0.0)?,
        antialias: c.int("antialias", 0)? != 0,
        axes: c.ints_opt("axes")?,
        policy,
        scales_input: if legacy { 1 } else { 2 },
        scales,
    })))
}

/// Registers Resize, Upsample, GridSample, AffineGrid, Col2Im, CenterCropPad, RoiAlign and
/// NonMaxSuppression.
pub fn register(r: &mut Registry) {
    r.insert("Resize", |c| resize(c, false));
    r.insert("Upsample", |c| resize(c, true));
    r.insert("GridSample", |c| {
        let default = if c.opset < 20 { "bilinear" } else { "linear" };
        let padding = match c.string("padding_mode", "zeros")?.as_str() {
            "zeros" => GridPadding::Zeros,
            "border" => GridPadding::Border,
            "reflection" => GridPadding::Reflection,
            m => return Err(c.invalid(format!("unknown padding_mode '{m}'"))),
        };
        op(ImageOp::GridSample {
            mode: mode(c, &c.string("mode", default)?)?,
            padding,
            align_corners: c.int("align_corners", 0)? != 0,
        })
    });
    r.insert("AffineGrid", |c| {
        op(ImageOp::AffineGrid {
            align_corners: c.int("align_corners", 0)? != 0,
        })
    });
    r.insert("Col2Im", |c| {
        c.expect_inputs(3, 3)?;
        op(ImageOp::Col2Im {
            dilations: c.ints_opt("dilations")?,
            pads: c.ints_opt("pads")?,
            strides: c.ints_opt("strides")?,
        })
    });
    r.insert("CenterCropPad", |c| {
        c.expect_inputs(2, 2)?;
        op(ImageOp::CenterCropPad {
            axes: c.ints_opt("axes")?,
        })
    });
    r.insert("RoiAlign", |c| {
        c.expect_inputs(3, 3)?;
        let max = match c.string("mode", "avg")?.as_str() {
            "avg" => false,
            "max" => true,
            m => return Err(c.invalid(format!("unknown mode '{m}'"))),
        };
        let half_pixel = if c.opset < 16 {
            false
        } else {
            match c
                .string("coordinate_transformation_mode", "half_pixel")?
                .as_str()
            {
                "half_pixel" => true,
                "output_half_pixel" => false,
                m => return Err(c.invalid(format!("unknown coordinate_transformation_mode '{m}'"))),
            }
        };
        let positive = |name: &str, d: i64| -> Result<usize> {
            let v = c.int(name, d)?;
            if v < 0 || (v == 0 && name != "sampling_ratio") {
                return Err(c.invalid(format!("{name} {v} must be positive")));
            }
            Ok(v as usize)
        };
        op(ImageOp::RoiAlign {
            max,
            output_height: positive("output_height", 1)?,
            output_width: positive("output_width", 1)?,
            sampling_ratio: positive("sampling_ratio", 0)?,
            spatial_scale: c.float("spatial_scale", 1.0)?,
            half_pixel,
        })
    });
    r.insert("NonMaxSuppression", |c| {
        c.expect_inputs(2, 5)?;
        op(ImageOp::NonMaxSuppression {
            center_point_box: c.int("center_point_box", 0)? != 0,
        })
    });
}
