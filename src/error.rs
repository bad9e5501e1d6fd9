//! One error type for the engine. Each variant belongs to a stage and says what the caller can do;
//! the wasm boundary maps the variant to a stable `code` ([`Error::code`]).

/// Errors from loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not a valid ONNX model (malformed protobuf, dangling references, bad tensors).
    #[error("invalid model: {0}")]
    InvalidModel(String),

    /// The model uses an operator Hearth does not implement.
    #[error(
        "unsupported operator '{op}' (domain '{domain}', opset {opset}) at node '{node}': {hint}"
    )]
    UnsupportedOp {
        op: String,
        domain: String,
        opset: i64,
        node: String,
        hint: String,
    },

    /// An attribute or an attribute/opset combination Hearth does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// A dtype Hearth does not compute (string, complex, bfloat16, uint16/32/64, int16, …).
    #[error("unsupported data type {0}: Hearth computes float32/float16/float64, int64, int32, int8, uint8 and bool")]
    UnsupportedDType(String),

    /// An input given to `run` does not match the model (name, dtype or shape).
    #[error("input '{name}': {msg}")]
    Input { name: String, msg: String },

    /// A shape that does not fit an operation (raised by kernels and inference).
    #[error("shape error: {0}")]
    Shape(String),

    /// A dtype that does not fit an operation (raised by kernels and inference).
    #[error("dtype error: {0}")]
    DType(String),

    /// A kernel failed on a node; wraps the kernel's error with the node's name and op.
    #[error("node '{node}' ({op}): {source}")]
    Node {
        node: String,
        op: String,
        #[source]
        source: Box<Error>,
    },

    /// A size limit was exceeded (elements per tensor, rank, nesting, external data).
    #[error("limit exceeded: {0}")]
    Limit(String),

    /// Any other invalid argument to an API call.
    #[error("invalid argument: {0}")]
    Argument(String),

    /// The bytes are not a valid `.hearth` bundle (header, manifest, tensor sizes, ids).
    #[error("invalid bundle: {0}")]
    InvalidBundle(String),

    /// A backend that was asked for cannot start here (no adapter, device refused, or not built
    /// in); `reason` says which and what to do.
    #[error("backend {backend} unavailable: {reason}")]
    BackendUnavailable { backend: String, reason: String },

    /// The GPU failed while running (device lost, out of memory, readback failed).
    #[error("GPU error: {0}")]
    Gpu(String),

    /// An item id that the bundle (a recommender's catalog, a tracer's question bank) does not
    /// contain.
    #[error("unknown item '{0}': it is not in this bundle")]
    UnknownItem(String),

    /// A row given to a tabular `predict` does not fit the model's feature spec: `field` names
    /// the feature, `reason` says what is wrong with it (`crate::tabular`).
    #[error("row {row}, field '{field}': {msg}")]
    Feature {
        row: usize,
        field: String,
        reason: FeatureReason,
        msg: String,
    },

    /// A feature spec that is malformed, does not fit the model, or is missing where the model's
    /// inputs do not name its features (`hearth spec MODEL.onnx` writes one).
    #[error("feature spec: {0}")]
    Spec(String),
}

/// What is wrong with one field of a row (see [`Error::Feature`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeatureReason {
    /// The row lacks the field and the spec gives no default.
    Missing,
    /// The value has the wrong JS/JSON type for the feature's kind.
    Type,
    /// A category not in the vocabulary, where the spec's policy is `error`.
    UnknownCategory,
    /// NaN or ±Infinity where the spec does not allow it.
    NonFinite,
    /// The row itself is not an object.
    NotAnObject,
}

impl FeatureReason {
    /// Stable name (the JS error's `reason`).
    pub fn name(self) -> &'static str {
        match self {
            FeatureReason::Missing => "missing",
            FeatureReason::Type => "type",
            FeatureReason::UnknownCategory => "unknownCategory",
            FeatureReason::NonFinite => "nonFinite",
            FeatureReason::NotAnObject => "notAnObject",
        }
    }
}

/// Result with Hearth's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Stable machine-readable code (the TypeScript package's `HearthError.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidModel(_) => "MODEL_INVALID",
            Error::UnsupportedOp { .. } | Error::Unsupported(_) | Error::UnsupportedDType(_) => {
                "UNSUPPORTED"
            }
            Error::Input { .. } => "INPUT",
            Error::Shape(_) => "SHAPE",
            Error::DType(_) => "DTYPE",
            Error::Node { source, .. } => source.code(),
            Error::Limit(_) => "LIMIT",
            Error::Argument(_) => "ARGUMENT",
            Error::InvalidBundle(_) => "BUNDLE_INVALID",
            Error::UnknownItem(_) => "UNKNOWN_ITEM",
            Error::Feature { .. } => "FEATURE",
            Error::Spec(_) => "SPEC_INVALID",
            Error::BackendUnavailable { .. } => "BACKEND_UNAVAILABLE",
            Error::Gpu(_) => "GPU",
        }
    }

    /// The innermost error (through [`Error::Node`] wrappers).
    pub fn root(&self) -> &Error {
        match self {
            Error::Node { source, .. } => source.root(),
            e => e,
        }
    }

    /// Shorthand for an [`Error::Shape`].
    pub fn shape(msg: impl Into<String>) -> Error {
        Error::Shape(msg.into())
    }

    /// Shorthand for an [`Error::DType`].
    pub fn dtype(msg: impl Into<String>) -> Error {
        Error::DType(msg.into())
    }

    /// Shorthand for an [`Error::InvalidModel`].
    pub fn model(msg: impl Into<String>) -> Error {
        Error::InvalidModel(msg.into())
    }

    /// Shorthand for an [`Error::Unsupported`].
    pub fn unsupported(msg: impl Into<String>) -> Error {
        Error::Unsupported(msg.into())
    }
}

/// `bail!(Shape, "...")`-style early return: `return Err(Error::Shape(format!(...)))`.
#[macro_export]
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::error::Error::$kind(format!($($arg)*)))
    };
}
