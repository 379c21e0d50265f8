//! The one error type of the library. Every variant says what was wrong and what is allowed.

/// Everything that can go wrong in nninit. User input never panics; it returns one of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is outside the range it may take.
    #[error("invalid {name} = {value}: {allowed}")]
    InvalidParameter {
        /// The parameter's name as the API or CLI spells it.
        name: String,
        /// The value given, as text.
        value: String,
        /// What would have been accepted.
        allowed: String,
    },
    /// A spec string or other text input could not be parsed.
    #[error("cannot parse {what} {input:?}: {reason}")]
    Parse {
        /// What was being parsed (e.g. "init spec").
        what: &'static str,
        /// The input text.
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// No wgpu adapter could be found.
    #[error(
        "no GPU adapter found ({reason}); on headless Linux install the Vulkan software driver \
         (`apt-get install mesa-vulkan-drivers`), or use the CPU reference (--device cpu)"
    )]
    NoAdapter {
        /// What wgpu said, and which backends were searched.
        reason: String,
    },
    /// The adapter refused to create a device.
    #[error("could not create a device on adapter {adapter}: {reason}")]
    RequestDevice {
        /// Adapter name.
        adapter: String,
        /// What wgpu said.
        reason: String,
    },
    /// A wgpu operation failed (validation, out of memory, lost device, failed map).
    #[error("GPU error during {during}: {reason}")]
    Gpu {
        /// The operation that failed.
        during: &'static str,
        /// What wgpu said.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result with nninit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::InvalidParameter`] for `name` with `value`, saying what is `allowed`.
    pub fn invalid(
        name: impl Into<String>,
        value: impl ToString,
        allowed: impl Into<String>,
    ) -> Self {
        Self::InvalidParameter {
            name: name.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// An [`Error::Gpu`] raised `during` an operation.
    pub fn gpu(during: &'static str, reason: impl ToString) -> Self {
        Self::Gpu {
            during,
            reason: reason.to_string(),
        }
    }
}
