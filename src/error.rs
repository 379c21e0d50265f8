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
    /// Another run is writing the same output (a file, or a directory that is not a rank
    /// directory of the same distributed run).
    #[error("{destination} is being written by another nninit run ({holder})")]
    Busy {
        /// The output file or directory.
        destination: String,
        /// Who holds it: pid, host and run id.
        holder: String,
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

    /// An [`Error::Gpu`] raised `during` an operation. wgpu spreads an error and its causes over
    /// several lines ("Caused by:" and indented causes); the reason keeps them on one line.
    pub fn gpu(during: &'static str, reason: impl ToString) -> Self {
        Self::Gpu {
            during,
            reason: one_line(&reason.to_string()),
        }
    }

    /// Whether this is the error of a lost GPU device (`Error::Gpu` whose reason starts with
    /// "device lost"): the handle that returned it will fail every call from now on, and the
    /// remedy is a new one ([`crate::GpuContext::new`]).
    pub fn is_device_lost(&self) -> bool {
        matches!(self, Self::Gpu { reason, .. } if reason.starts_with("device lost"))
    }

    /// Whether this is a GPU out-of-memory error (an allocation the device or driver refused).
    /// The handle usually survives it: smaller work may still succeed.
    pub fn is_out_of_memory(&self) -> bool {
        matches!(self, Self::Gpu { reason, .. } if reason.starts_with("Out of Memory"))
    }
}

/// `elements` as a host length, when `elements · element_bytes` bytes are addressable; otherwise an
/// [`Error::InvalidParameter`] naming `name` (shown as `shown`): too many elements for host memory.
pub(crate) fn host_len(
    name: &'static str,
    shown: impl std::fmt::Display,
    elements: u64,
    element_bytes: usize,
) -> Result<usize> {
    usize::try_from(elements)
        .ok()
        .filter(|n| n.checked_mul(element_bytes).is_some())
        .ok_or_else(|| Error::invalid(name, shown, "too many elements for host memory"))
}

/// A host vector of `len` elements equal to `value`, or, where the allocator refuses it, the
/// [`host_len`] error naming `name` (shown as `shown`) instead of an abort.
pub(crate) fn host_vec<T: Clone>(
    name: &'static str,
    shown: impl std::fmt::Display,
    len: usize,
    value: T,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    out.try_reserve_exact(len)
        .map_err(|_| Error::invalid(name, shown, "too many elements for host memory"))?;
    out.resize(len, value);
    Ok(out)
}

/// `text`'s non-empty lines joined by ": ", without wgpu's "Caused by" headers, trailing colons
/// or repeated lines.
pub(crate) fn one_line(text: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_end_matches(':').trim_end();
        if !line.is_empty() && line != "Caused by" && !parts.contains(&line) {
            parts.push(line);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_lost_and_out_of_memory_are_recognized() {
        assert!(Error::gpu("fill", "device lost (destroyed)").is_device_lost());
        assert!(!Error::gpu("fill", "Validation Error: x").is_device_lost());
        assert!(!Error::invalid("device lost", 1, "x").is_device_lost());
        let oom = Error::gpu(
            "fill",
            "Out of Memory: In Device::create_buffer: Not enough memory",
        );
        assert!(oom.is_out_of_memory() && !oom.is_device_lost());
    }

    #[test]
    fn gpu_reasons_are_one_line() {
        let wgpu_text = "Buffer view error: Validation Error\n\nCaused by:\n  Buffer with 'x' label is invalid\n";
        assert_eq!(
            Error::gpu("buffer creation", wgpu_text).to_string(),
            "GPU error during buffer creation: Buffer view error: Validation Error: \
             Buffer with 'x' label is invalid"
        );
    }
}
