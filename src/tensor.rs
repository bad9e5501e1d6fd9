//! Host tensors: the values Hearth takes in, hands out and computes on the CPU.
//!
//! A [`Tensor`] is a dense, row-major array with a shape and typed storage ([`TensorData`]).
//! The public dtypes are those ONNX models use in practice ([`DType`]). Inside the engine, `f16` and
//! `f64` values are computed in `f32` (inputs and initializers are widened or narrowed once at load or
//! at the start of a run; outputs are converted back to the dtype the model declares), so kernels only
//! ever see `F32`, `I64`, `I32`, `I8`, `U8` and `Bool` storage. Likewise `int16`/`uint16` are
//! computed in `i32`, `uint32` and `uint64` in `i64` (`uint64` as its two's-complement bits: values
//! from 2^63 compare, divide and shift right as negative int64), and `bfloat16` in `f32`; a value
//! of a narrow dtype is wrapped to its range after every node that yields it
//! ([`Tensor::wrapped`]).

use crate::error::{Error, Result};
use half::{bf16, f16};
use std::borrow::Cow;

/// Largest number of elements a single tensor may hold (2^28: 1 GiB of `f32`).
///
/// Every kernel that allocates an output goes through [`numel_checked`], so an absurd shape in a
/// model or an input gives [`Error::Limit`] instead of an unbounded allocation.
pub const MAX_ELEMENTS: usize = 1 << 28;

/// Largest rank Hearth accepts (ONNX places no limit; real models stay far below this).
pub const MAX_RANK: usize = 16;

/// Element types a tensor can have at the API boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F16,
    F64,
    I64,
    I32,
    I8,
    U8,
    Bool,
    /// UTF-8 strings (ONNX `string`): category names and class labels of tabular models.
    Str,
    /// Storage-only dtypes: computed in `I32` (`I16`, `U16`), `I64` (`U32`, `U64`) or `F32`
    /// (`BF16`), see [`DType::compute`].
    I16,
    U16,
    U32,
    U64,
    BF16,
}

impl DType {
    /// ONNX `TensorProto.DataType` code of this dtype.
    pub fn onnx_code(self) -> i32 {
        match self {
            DType::F32 => 1,
            DType::U8 => 2,
            DType::I8 => 3,
            DType::I32 => 6,
            DType::I64 => 7,
            DType::Bool => 9,
            DType::F16 => 10,
            DType::F64 => 11,
            DType::Str => 8,
            DType::U16 => 4,
            DType::I16 => 5,
            DType::U32 => 12,
            DType::U64 => 13,
            DType::BF16 => 16,
        }
    }

    /// The dtype of an ONNX `TensorProto.DataType` code, or [`Error::UnsupportedDType`].
    pub fn from_onnx(code: i32) -> Result<DType> {
        Ok(match code {
            1 => DType::F32,
            2 => DType::U8,
            3 => DType::I8,
            6 => DType::I32,
            7 => DType::I64,
            9 => DType::Bool,
            10 => DType::F16,
            11 => DType::F64,
            8 => DType::Str,
            4 => DType::U16,
            5 => DType::I16,
            12 => DType::U32,
            13 => DType::U64,
            16 => DType::BF16,
            other => return Err(Error::UnsupportedDType(onnx_dtype_name(other).to_string())),
        })
    }

    /// The dtype kernels compute this dtype in (`F16`, `F64` and `BF16` are computed in `F32`,
    /// `I16` and `U16` in `I32`, `U32` and `U64` in `I64`).
    pub fn compute(self) -> DType {
        match self {
            DType::F16 | DType::F64 | DType::BF16 => DType::F32,
            DType::I16 | DType::U16 => DType::I32,
            DType::U32 | DType::U64 => DType::I64,
            d => d,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F16 | DType::F64 | DType::BF16)
    }

    /// Lower-case name as ONNX and numpy spell it (`float32`, `int64`, `bool`, …).
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F16 => "float16",
            DType::F64 => "float64",
            DType::I64 => "int64",
            DType::I32 => "int32",
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::Bool => "bool",
            DType::Str => "string",
            DType::I16 => "int16",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::BF16 => "bfloat16",
        }
    }
}

/// As JS and JSON name it: `"float32"`, `"int64"`, … ([`DType::name`]).
impl serde::Serialize for DType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Name of any ONNX dtype code, supported or not (for error messages).
pub fn onnx_dtype_name(code: i32) -> &'static str {
    match code {
        0 => "undefined",
        1 => "float32",
        2 => "uint8",
        3 => "int8",
        4 => "uint16",
        5 => "int16",
        6 => "int32",
        7 => "int64",
        8 => "string",
        9 => "bool",
        10 => "float16",
        11 => "float64",
        12 => "uint32",
        13 => "uint64",
        14 => "complex64",
        15 => "complex128",
        16 => "bfloat16",
        17..=20 => "float8",
        21 => "uint4",
        22 => "int4",
        23 => "float4e2m1",
        _ => "unknown",
    }
}

/// Typed, row-major storage of a tensor.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    F16(Vec<f16>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    I32(Vec<i32>),
    I8(Vec<i8>),
    U8(Vec<u8>),
    Bool(Vec<bool>),
    Str(Vec<String>),
    /// Storage only (the API boundary, model files): kernels see these in their compute dtype
    /// ([`TensorData::computed`]).
    I16(Vec<i16>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    BF16(Vec<bf16>),
}

/// Data as kernels see it: storage-only dtypes (int16, uint16, uint32, uint64, bfloat16)
/// converted to their compute dtype, every other dtype borrowed. [`with_data!`] and
/// [`map_data!`] match on this, so their bodies are instantiated for the compute dtypes only.
pub enum Computed<'a> {
    F32(Cow<'a, Vec<f32>>),
    F16(&'a Vec<f16>),
    F64(&'a Vec<f64>),
    I64(Cow<'a, Vec<i64>>),
    I32(Cow<'a, Vec<i32>>),
    I8(&'a Vec<i8>),
    U8(&'a Vec<u8>),
    Bool(&'a Vec<bool>),
    Str(&'a Vec<String>),
}

impl Computed<'_> {
    /// The data, owned (a copy where it was borrowed).
    pub fn into_data(self) -> TensorData {
        match self {
            Computed::F32(v) => TensorData::F32(v.into_owned()),
            Computed::F16(v) => TensorData::F16(v.clone()),
            Computed::F64(v) => TensorData::F64(v.clone()),
            Computed::I64(v) => TensorData::I64(v.into_owned()),
            Computed::I32(v) => TensorData::I32(v.into_owned()),
            Computed::I8(v) => TensorData::I8(v.clone()),
            Computed::U8(v) => TensorData::U8(v.clone()),
            Computed::Bool(v) => TensorData::Bool(v.clone()),
            Computed::Str(v) => TensorData::Str(v.clone()),
        }
    }
}

/// Calls `$body` with `$v` bound to the inner `Vec` of any [`TensorData`] (storage-only dtypes
/// in their compute dtype, [`TensorData::computed`]).
#[macro_export]
macro_rules! with_data {
    ($data:expr, $v:ident => $body:expr) => {
        match $crate::tensor::TensorData::computed($data) {
            $crate::tensor::Computed::F32(c) => {
                let $v: &Vec<f32> = &c;
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                out
            }
            $crate::tensor::Computed::F16($v) => {
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                out
            }
            $crate::tensor::Computed::F64($v) => {
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                out
            }
            $crate::tensor::Computed::I64(c) => {
                let $v: &Vec<i64> = &c;
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                out
            }
            $crate::tensor::Computed::I32(c) => {
                let $v: &Vec<i32> = &c;
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                out
            }
            $crate::tensor::Computed::I8($v) => {
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                out
            }
            $crate::tensor::Computed::U8($v) => {
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                out
            }
            $crate::tensor::Computed::Bool($v) => {
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                out
            }
            $crate::tensor::Computed::Str($v) => {
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                out
            }
        }
    };
}

/// Like [`with_data!`] but rebuilds the same variant from `$body`'s `Vec` result: for dtype-preserving
/// data movement (transpose, gather, slice, concat…) written once for every dtype. Storage-only
/// dtypes come out in their compute dtype.
#[macro_export]
macro_rules! map_data {
    ($data:expr, $v:ident => $body:expr) => {
        match $crate::tensor::TensorData::computed($data) {
            $crate::tensor::Computed::F32(c) => {
                let $v: &Vec<f32> = &c;
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                $crate::tensor::TensorData::F32(out)
            }
            $crate::tensor::Computed::F16($v) => {
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                $crate::tensor::TensorData::F16(out)
            }
            $crate::tensor::Computed::F64($v) => {
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                $crate::tensor::TensorData::F64(out)
            }
            $crate::tensor::Computed::I64(c) => {
                let $v: &Vec<i64> = &c;
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                $crate::tensor::TensorData::I64(out)
            }
            $crate::tensor::Computed::I32(c) => {
                let $v: &Vec<i32> = &c;
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                $crate::tensor::TensorData::I32(out)
            }
            $crate::tensor::Computed::I8($v) => {
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                $crate::tensor::TensorData::I8(out)
            }
            $crate::tensor::Computed::U8($v) => {
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                $crate::tensor::TensorData::U8(out)
            }
            $crate::tensor::Computed::Bool($v) => {
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                $crate::tensor::TensorData::Bool(out)
            }
            $crate::tensor::Computed::Str($v) => {
                #[allow(clippy::clone_on_copy)]
                let out = $body;
                $crate::tensor::TensorData::Str(out)
            }
        }
    };
}

/// An element type [`map_moved!`] moves as a plain word of its size and alignment.
pub trait Moved: Copy {
    type Word: Copy;
}
impl Moved for f32 {
    type Word = u32;
}
impl Moved for i32 {
    type Word = u32;
}
impl Moved for f64 {
    type Word = u64;
}
impl Moved for i64 {
    type Word = u64;
}
impl Moved for f16 {
    type Word = u16;
}
impl Moved for i8 {
    type Word = u8;
}
impl Moved for u8 {
    type Word = u8;
}
impl Moved for bool {
    type Word = u8;
}

/// The elements of `v` as plain words (for [`map_moved!`]).
pub fn words<T: Moved>(v: &[T]) -> &[T::Word] {
    const { assert!(size_of::<T>() == size_of::<T::Word>() && align_of::<T>() == align_of::<T::Word>()) };
    // SAFETY: same size and alignment (asserted above), and every bit pattern of a `T` is a
    // valid word (the words are unsigned integers).
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<T::Word>(), v.len()) }
}

/// Words back as elements of `T` (for [`map_moved!`]).
///
/// # Safety
/// Every word must be the bits of a valid `T` (read from a `T` through [`words`], or 0); only
/// `bool` has invalid bit patterns (anything but 0 and 1).
pub unsafe fn unwords<T: Moved>(v: Vec<T::Word>) -> Vec<T> {
    const { assert!(size_of::<T>() == size_of::<T::Word>() && align_of::<T>() == align_of::<T::Word>()) };
    let mut v = std::mem::ManuallyDrop::new(v);
    // SAFETY: the allocation was made for `T::Word`, of the same size and alignment as `T`;
    // the caller vouches for the bits.
    unsafe { Vec::from_raw_parts(v.as_mut_ptr().cast::<T>(), v.len(), v.capacity()) }
}

/// Like [`map_data!`], for bodies that only move elements (copy, transpose, slice, gather,
/// tile), never compute or compare them: `$v` is the data as a slice of plain words of the
/// element's width, so the body is instantiated once per width (`u8`: int8, uint8, bool; `u16`:
/// float16; `u32`: float32, int32; `u64`: float64, int64) and for strings (`&Vec<String>`), not
/// once per dtype (the duplicates were about 20 KB of wasm). A body must return words it read
/// from `$v` (or zero words): the macro turns them back into the dtype unchecked.
#[macro_export]
macro_rules! map_moved {
    ($data:expr, $v:ident => $body:expr) => {{
        use $crate::tensor::{unwords, words, Computed, TensorData};
        #[allow(clippy::clone_on_copy)]
        match TensorData::computed($data) {
            Computed::F32(c) => {
                let $v = words(&c[..]);
                // SAFETY: the body moves words read from `$v` (map_moved!'s contract)
                TensorData::F32(unsafe { unwords::<f32>($body) })
            }
            Computed::F16(c) => {
                let $v = words(&c[..]);
                // SAFETY: as above
                TensorData::F16(unsafe { unwords::<half::f16>($body) })
            }
            Computed::F64(c) => {
                let $v = words(&c[..]);
                // SAFETY: as above
                TensorData::F64(unsafe { unwords::<f64>($body) })
            }
            Computed::I64(c) => {
                let $v = words(&c[..]);
                // SAFETY: as above
                TensorData::I64(unsafe { unwords::<i64>($body) })
            }
            Computed::I32(c) => {
                let $v = words(&c[..]);
                // SAFETY: as above
                TensorData::I32(unsafe { unwords::<i32>($body) })
            }
            Computed::I8(c) => {
                let $v = words(&c[..]);
                // SAFETY: as above
                TensorData::I8(unsafe { unwords::<i8>($body) })
            }
            Computed::U8(c) => {
                let $v = words(&c[..]);
                // SAFETY: as above
                TensorData::U8(unsafe { unwords::<u8>($body) })
            }
            Computed::Bool(c) => {
                let $v = words(&c[..]);
                // SAFETY: as above (the words are 0 or 1: they were bools)
                TensorData::Bool(unsafe { unwords::<bool>($body) })
            }
            Computed::Str($v) => TensorData::Str($body),
        }
    }};
}

impl TensorData {
    /// Int64 data in the compute dtype of `d` (`i32` for int16/uint16), wrapped to `d`'s range.
    fn narrowed(self, d: DType) -> TensorData {
        match (self, d) {
            (TensorData::I64(v), DType::I16) => {
                TensorData::I32(v.iter().map(|&x| x as i16 as i32).collect())
            }
            (TensorData::I64(v), DType::U16) => {
                TensorData::I32(v.iter().map(|&x| x as u16 as i32).collect())
            }
            (TensorData::I64(v), DType::U32) => {
                TensorData::I64(v.iter().map(|&x| x as u32 as i64).collect())
            }
            (data, _) => data,
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            TensorData::F32(_) => DType::F32,
            TensorData::F16(_) => DType::F16,
            TensorData::F64(_) => DType::F64,
            TensorData::I64(_) => DType::I64,
            TensorData::I32(_) => DType::I32,
            TensorData::I8(_) => DType::I8,
            TensorData::U8(_) => DType::U8,
            TensorData::Bool(_) => DType::Bool,
            TensorData::Str(_) => DType::Str,
            TensorData::I16(_) => DType::I16,
            TensorData::U16(_) => DType::U16,
            TensorData::U32(_) => DType::U32,
            TensorData::U64(_) => DType::U64,
            TensorData::BF16(_) => DType::BF16,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::F16(v) => v.len(),
            TensorData::F64(v) => v.len(),
            TensorData::I64(v) => v.len(),
            TensorData::I32(v) => v.len(),
            TensorData::I8(v) => v.len(),
            TensorData::U8(v) => v.len(),
            TensorData::Bool(v) => v.len(),
            TensorData::Str(v) => v.len(),
            TensorData::I16(v) => v.len(),
            TensorData::U16(v) => v.len(),
            TensorData::U32(v) => v.len(),
            TensorData::U64(v) => v.len(),
            TensorData::BF16(v) => v.len(),
        }
    }

    /// This data as kernels see it ([`Computed`]): a storage-only dtype converted to its compute
    /// dtype (a copy), any other borrowed.
    #[inline(never)]
    pub fn computed(&self) -> Computed<'_> {
        let wide_i32 = |v: Vec<i32>| Computed::I32(Cow::Owned(v));
        let wide_i64 = |v: Vec<i64>| Computed::I64(Cow::Owned(v));
        match self {
            TensorData::F32(v) => Computed::F32(Cow::Borrowed(v)),
            TensorData::F16(v) => Computed::F16(v),
            TensorData::F64(v) => Computed::F64(v),
            TensorData::I64(v) => Computed::I64(Cow::Borrowed(v)),
            TensorData::I32(v) => Computed::I32(Cow::Borrowed(v)),
            TensorData::I8(v) => Computed::I8(v),
            TensorData::U8(v) => Computed::U8(v),
            TensorData::Bool(v) => Computed::Bool(v),
            TensorData::Str(v) => Computed::Str(v),
            TensorData::I16(v) => wide_i32(v.iter().map(|&x| x as i32).collect()),
            TensorData::U16(v) => wide_i32(v.iter().map(|&x| x as i32).collect()),
            TensorData::U32(v) => wide_i64(v.iter().map(|&x| x as i64).collect()),
            TensorData::U64(v) => wide_i64(v.iter().map(|&x| x as i64).collect()),
            TensorData::BF16(v) => {
                Computed::F32(Cow::Owned(v.iter().map(|x| x.to_f32()).collect()))
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A dense tensor: shape plus row-major data. `shape == []` is a scalar with one element.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: TensorData,
}

/// Number of elements of `shape`, or [`Error::Limit`] when it exceeds [`MAX_ELEMENTS`] or the rank
/// exceeds [`MAX_RANK`].
pub fn numel_checked(shape: &[usize]) -> Result<usize> {
    if shape.len() > MAX_RANK {
        return Err(Error::Limit(format!(
            "rank {} exceeds the limit of {MAX_RANK}",
            shape.len()
        )));
    }
    let mut n: usize = 1;
    for &d in shape {
        n = n
            .checked_mul(d)
            .filter(|&n| n <= MAX_ELEMENTS)
            .ok_or_else(|| {
                Error::Limit(format!(
                    "a tensor of shape {shape:?} would exceed the limit of {MAX_ELEMENTS} elements"
                ))
            })?;
    }
    Ok(n)
}

/// Row-major strides of `shape` (in elements).
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

impl Tensor {
    /// A tensor from a shape and data; [`Error::Shape`] when the element count does not match.
    pub fn new(shape: Vec<usize>, data: TensorData) -> Result<Tensor> {
        let n = numel_checked(&shape)?;
        if n != data.len() {
            return Err(Error::Shape(format!(
                "shape {shape:?} holds {n} elements but {} were given",
                data.len()
            )));
        }
        Ok(Tensor { shape, data })
    }

    pub fn from_f32(shape: Vec<usize>, v: Vec<f32>) -> Result<Tensor> {
        Tensor::new(shape, TensorData::F32(v))
    }
    pub fn from_i64(shape: Vec<usize>, v: Vec<i64>) -> Result<Tensor> {
        Tensor::new(shape, TensorData::I64(v))
    }
    pub fn from_bool(shape: Vec<usize>, v: Vec<bool>) -> Result<Tensor> {
        Tensor::new(shape, TensorData::Bool(v))
    }
    pub fn scalar_f32(v: f32) -> Tensor {
        Tensor {
            shape: vec![],
            data: TensorData::F32(vec![v]),
        }
    }
    pub fn scalar_i64(v: i64) -> Tensor {
        Tensor {
            shape: vec![],
            data: TensorData::I64(vec![v]),
        }
    }

    /// A tensor of `shape` filled with zeros of `dtype` (bounded by [`MAX_ELEMENTS`]).
    pub fn zeros(dtype: DType, shape: Vec<usize>) -> Result<Tensor> {
        let n = numel_checked(&shape)?;
        let data = match dtype {
            DType::F32 => TensorData::F32(vec![0.0; n]),
            DType::F16 => TensorData::F16(vec![f16::ZERO; n]),
            DType::F64 => TensorData::F64(vec![0.0; n]),
            DType::I64 => TensorData::I64(vec![0; n]),
            DType::I32 => TensorData::I32(vec![0; n]),
            DType::I8 => TensorData::I8(vec![0; n]),
            DType::U8 => TensorData::U8(vec![0; n]),
            DType::Bool => TensorData::Bool(vec![false; n]),
            DType::Str => TensorData::Str(vec![String::new(); n]),
            DType::I16 => TensorData::I16(vec![0; n]),
            DType::U16 => TensorData::U16(vec![0; n]),
            DType::U32 => TensorData::U32(vec![0; n]),
            DType::U64 => TensorData::U64(vec![0; n]),
            DType::BF16 => TensorData::BF16(vec![bf16::ZERO; n]),
        };
        Ok(Tensor { shape, data })
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    pub fn rank(&self) -> usize {
        self.shape.len()
    }
    pub fn numel(&self) -> usize {
        self.data.len()
    }
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }
    pub fn data(&self) -> &TensorData {
        &self.data
    }
    pub fn data_mut(&mut self) -> &mut TensorData {
        &mut self.data
    }
    pub fn into_parts(self) -> (Vec<usize>, TensorData) {
        (self.shape, self.data)
    }

    /// Same data, new shape (element counts must agree).
    pub fn reshaped(self, shape: Vec<usize>) -> Result<Tensor> {
        Tensor::new(shape, self.data)
    }

    /// `f32` view of the data, or [`Error::DType`] naming what was found.
    pub fn as_f32(&self) -> Result<&[f32]> {
        match &self.data {
            TensorData::F32(v) => Ok(v),
            d => Err(Error::DType(format!(
                "expected float32 data, got {}",
                d.dtype()
            ))),
        }
    }
    pub fn as_i64(&self) -> Result<&[i64]> {
        match &self.data {
            TensorData::I64(v) => Ok(v),
            d => Err(Error::DType(format!(
                "expected int64 data, got {}",
                d.dtype()
            ))),
        }
    }
    pub fn from_strings(shape: Vec<usize>, v: Vec<String>) -> Result<Tensor> {
        Tensor::new(shape, TensorData::Str(v))
    }
    pub fn as_str(&self) -> Result<&[String]> {
        match &self.data {
            TensorData::Str(v) => Ok(v),
            d => Err(Error::DType(format!(
                "expected string data, got {}",
                d.dtype()
            ))),
        }
    }
    pub fn as_bool(&self) -> Result<&[bool]> {
        match &self.data {
            TensorData::Bool(v) => Ok(v),
            d => Err(Error::DType(format!(
                "expected bool data, got {}",
                d.dtype()
            ))),
        }
    }

    /// Every element as `f64` (any dtype; bool is 0/1). For small tensors such as scalars, axes and
    /// attribute-like inputs, and for tests.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match &self.data {
            TensorData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::F16(v) => v.iter().map(|&x| x.to_f64()).collect(),
            TensorData::F64(v) => v.clone(),
            TensorData::I64(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::I32(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::I8(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::U8(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::Bool(v) => v.iter().map(|&x| x as u8 as f64).collect(),
            TensorData::Str(v) => v.iter().map(|x| parse_f64(x)).collect(),
            TensorData::I16(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::U16(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::U32(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::U64(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::BF16(v) => v.iter().map(|&x| x.to_f64()).collect(),
        }
    }

    /// Every element as `i64` (integer or bool dtypes; floats are truncated). For index-like inputs
    /// (axes, shapes, starts/ends, k, pads…).
    pub fn to_i64_vec(&self) -> Vec<i64> {
        match &self.data {
            TensorData::I64(v) => v.clone(),
            TensorData::I32(v) => v.iter().map(|&x| x as i64).collect(),
            TensorData::I8(v) => v.iter().map(|&x| x as i64).collect(),
            TensorData::U8(v) => v.iter().map(|&x| x as i64).collect(),
            TensorData::Bool(v) => v.iter().map(|&x| x as i64).collect(),
            TensorData::F32(v) => v.iter().map(|&x| x as i64).collect(),
            TensorData::F16(v) => v.iter().map(|&x| x.to_f32() as i64).collect(),
            TensorData::F64(v) => v.iter().map(|&x| x as i64).collect(),
            TensorData::Str(v) => v.iter().map(|x| parse_f64(x) as i64).collect(),
            TensorData::I16(v) => v.iter().map(|&x| x as i64).collect(),
            TensorData::U16(v) => v.iter().map(|&x| x as i64).collect(),
            TensorData::U32(v) => v.iter().map(|&x| x as i64).collect(),
            TensorData::U64(v) => v.iter().map(|&x| x as i64).collect(),
            TensorData::BF16(v) => v.iter().map(|&x| x.to_f32() as i64).collect(),
        }
    }

    /// Converts to the dtype kernels compute in ([`DType::compute`]); a no-op for most dtypes.
    pub fn into_compute(self) -> Tensor {
        let data = match self.data {
            TensorData::F16(v) => TensorData::F32(v.iter().map(|x| x.to_f32()).collect()),
            TensorData::F64(v) => TensorData::F32(v.iter().map(|&x| x as f32).collect()),
            d @ (TensorData::I16(_)
            | TensorData::U16(_)
            | TensorData::U32(_)
            | TensorData::U64(_)
            | TensorData::BF16(_)) => d.computed().into_data(),
            d => d,
        };
        Tensor {
            shape: self.shape,
            data,
        }
    }

    /// Converts a computed tensor to the declared dtype `want` when they differ only by compute
    /// precision (`f32` → `f16`/`f64`/`bf16`, `i32` → `i16`/`u16`, `i64` → `u32`/`u64`, integers
    /// wrapping to the narrow range); other tensors are returned unchanged.
    #[inline(never)]
    pub fn into_declared(self, want: DType) -> Tensor {
        let data = match (self.data, want) {
            (TensorData::F32(v), DType::F16) => {
                TensorData::F16(v.iter().map(|&x| f16::from_f32(x)).collect())
            }
            (TensorData::F32(v), DType::F64) => {
                TensorData::F64(v.iter().map(|&x| x as f64).collect())
            }
            (TensorData::F32(v), DType::BF16) => {
                TensorData::BF16(v.iter().map(|&x| bf16::from_f32(x)).collect())
            }
            (TensorData::I32(v), DType::I16) => {
                TensorData::I16(v.iter().map(|&x| x as i16).collect())
            }
            (TensorData::I32(v), DType::U16) => {
                TensorData::U16(v.iter().map(|&x| x as u16).collect())
            }
            (TensorData::I64(v), DType::U32) => {
                TensorData::U32(v.iter().map(|&x| x as u32).collect())
            }
            (TensorData::I64(v), DType::U64) => {
                TensorData::U64(v.iter().map(|&x| x as u64).collect())
            }
            (d, _) => d,
        };
        Tensor {
            shape: self.shape,
            data,
        }
    }
}

impl Tensor {
    /// A computed value of declared dtype `d` wrapped to that dtype's range (`i16`, `u16`, `u32`
    /// computed in a wider integer; bf16 rounded), still in the compute dtype. Other dtypes are
    /// returned unchanged. The executor applies it to every node output of such a dtype, so a
    /// uint16 `Add` that overflows reads as the wrapped value downstream as it would in uint16.
    ///
    /// A kernel that yields such a value in another integer dtype (an `ai.onnx.ml` encoder
    /// writing int64 for an int16 column) is brought to the compute dtype the same way.
    #[inline(never)]
    pub fn wrapped(self, d: DType) -> Tensor {
        let int = |t: DType| matches!(t, DType::I64 | DType::I32 | DType::I8 | DType::U8);
        match (self.dtype(), d) {
            (DType::I32, DType::I16 | DType::U16)
            | (DType::I64, DType::U32)
            | (DType::F32, DType::BF16) => self.into_declared(d).into_compute(),
            (t, DType::I16 | DType::U16 | DType::U32 | DType::U64)
                if int(t) && t != d.compute() =>
            {
                let data = TensorData::I64(self.to_i64_vec()).narrowed(d);
                Tensor {
                    shape: self.shape,
                    data,
                }
            }
            _ => self,
        }
    }
}

/// A string as a number the way ONNX's `Cast` from string reads it: decimal or scientific
/// notation, `inf`/`-inf`/`infinity` and `nan` in any case; anything else is NaN.
pub fn parse_f64(s: &str) -> f64 {
    let t = s.trim();
    t.parse::<f64>()
        .unwrap_or_else(|_| match t.to_ascii_lowercase().as_str() {
            "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
            "-inf" | "-infinity" => f64::NEG_INFINITY,
            _ => f64::NAN,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_moved_keeps_every_dtype_bit_exact() {
        // an odd permutation with repeats (gather-like), against the same move on the typed data
        let pick = [4usize, 0, 3, 3, 1, 2, 0];
        let moved = |d: &TensorData| crate::map_moved!(d, v => pick.iter().map(|&i| v[i].clone()).collect());
        let cases = [
            TensorData::F32(vec![-0.0, f32::NAN, 1.5e-42, f32::INFINITY, -3.25]),
            TensorData::F16(
                [-0.0f32, 65504.0, 6e-8, f32::NEG_INFINITY, 0.5]
                    .map(f16::from_f32)
                    .to_vec(),
            ),
            TensorData::F64(vec![f64::MIN_POSITIVE, -1e300, 0.1, f64::NAN, 7.0]),
            TensorData::I64(vec![i64::MIN, -1, 0, i64::MAX, 42]),
            TensorData::I32(vec![i32::MIN, -7, 0, i32::MAX, 9]),
            TensorData::I8(vec![i8::MIN, -1, 0, i8::MAX, 3]),
            TensorData::U8(vec![0, 1, 128, 255, 7]),
            TensorData::Bool(vec![true, false, false, true, true]),
            TensorData::Str(
                ["a", "", "ü", "long string", "e"]
                    .map(String::from)
                    .to_vec(),
            ),
            // storage-only dtypes come out in their compute dtype, as with map_data!
            TensorData::U16(vec![0, 1, 65535, 300, 5]),
        ];
        for d in &cases {
            let want = crate::map_data!(d, v => pick.iter().map(|&i| v[i].clone()).collect());
            let got = moved(d);
            // compare bits (NaN != NaN for floats)
            assert_eq!(format!("{got:?}"), format!("{want:?}"));
            match (&got, &want) {
                (TensorData::F32(a), TensorData::F32(b)) => {
                    assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()))
                }
                (TensorData::F64(a), TensorData::F64(b)) => {
                    assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()))
                }
                (TensorData::F16(a), TensorData::F16(b)) => {
                    assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()))
                }
                (a, b) => assert_eq!(a, b),
            }
        }
    }

    #[test]
    fn new_checks_element_count() {
        assert!(Tensor::from_f32(vec![2, 3], vec![0.0; 6]).is_ok());
        let e = Tensor::from_f32(vec![2, 3], vec![0.0; 5]).unwrap_err();
        assert!(matches!(e, Error::Shape(_)), "{e}");
    }

    #[test]
    fn absurd_shapes_are_refused_without_allocating() {
        let e = Tensor::zeros(DType::F32, vec![1 << 20, 1 << 20]).unwrap_err();
        assert!(matches!(e, Error::Limit(_)), "{e}");
        assert!(numel_checked(&[usize::MAX, 2]).is_err());
        assert_eq!(numel_checked(&[]).unwrap(), 1);
        assert_eq!(numel_checked(&[3, 0, 5]).unwrap(), 0);
    }

    #[test]
    fn compute_round_trip() {
        let t = Tensor::new(vec![2], TensorData::F64(vec![1.5, -2.25])).unwrap();
        let c = t.into_compute();
        assert_eq!(c.dtype(), DType::F32);
        let back = c.into_declared(DType::F64);
        assert_eq!(back.data(), &TensorData::F64(vec![1.5, -2.25]));
    }

    #[test]
    fn narrow_dtypes_compute_wide_and_wrap() {
        let t = Tensor::new(vec![3], TensorData::U16(vec![0, 7, 65535])).unwrap();
        let c = t.into_compute();
        assert_eq!(c.data(), &TensorData::I32(vec![0, 7, 65535]));
        // uint16 overflow wraps
        let over = Tensor::new(vec![2], TensorData::I32(vec![65536 + 3, -1])).unwrap();
        assert_eq!(
            over.clone().wrapped(DType::U16).data(),
            &TensorData::I32(vec![3, 65535])
        );
        assert_eq!(
            over.into_declared(DType::I16).data(),
            &TensorData::I16(vec![3, -1])
        );
        let big = Tensor::new(vec![1], TensorData::U64(vec![u64::MAX])).unwrap();
        let back = big.clone().into_compute().into_declared(DType::U64);
        assert_eq!(back, big);
        let u32s = Tensor::new(vec![1], TensorData::I64(vec![-1])).unwrap();
        assert_eq!(
            u32s.into_declared(DType::U32).data(),
            &TensorData::U32(vec![u32::MAX])
        );
        // bfloat16 keeps 8 significant bits
        let b = Tensor::from_f32(vec![1], vec![1.0 + 1.0 / 256.0]).unwrap();
        assert_eq!(b.wrapped(DType::BF16).as_f32().unwrap(), &[1.0]);
        // data movement sees the compute dtype
        let u = TensorData::U32(vec![1, 2]);
        assert_eq!(
            crate::map_data!(&u, v => v.clone()),
            TensorData::I64(vec![1, 2])
        );
    }

    #[test]
    fn strides_row_major() {
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(strides(&[]), Vec::<usize>::new());
    }
}
