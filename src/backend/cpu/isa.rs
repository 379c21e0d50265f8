//! Which vector instructions the CPU backend computes with: the widest this CPU has, unless the
//! environment (`NNINIT_CPU_ISA`) or the caller ([`with_isa`]) names a narrower one. Every choice
//! gives the same bits; the choice exists so that each path can be tested and timed on one
//! machine, and a user can rule one out.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The environment variable that names the instruction set: `avx512`, `avx2` or `portable`.
pub const ISA_ENV: &str = "NNINIT_CPU_ISA";

/// A set of vector instructions the CPU backend has a path for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CpuIsa {
    /// Plain Rust that LLVM vectorizes as the target allows: SSE2 on x86-64, NEON on AArch64.
    Portable,
    /// x86-64 AVX2: Philox in 8-lane registers, the transforms compiled for AVX2.
    Avx2,
    /// x86-64 AVX-512 (F, DQ, VL, BW): Philox in 16-lane registers.
    Avx512,
}

impl CpuIsa {
    /// Every path, narrowest first.
    pub const ALL: [CpuIsa; 3] = [CpuIsa::Portable, CpuIsa::Avx2, CpuIsa::Avx512];

    /// The name `NNINIT_CPU_ISA` takes.
    pub fn name(self) -> &'static str {
        match self {
            CpuIsa::Portable => "portable",
            CpuIsa::Avx2 => "avx2",
            CpuIsa::Avx512 => "avx512",
        }
    }

    /// The instruction set as a figure should name it: `AVX-512`, `AVX2`, or the portable
    /// path's (`SSE2` on x86-64, `NEON` on AArch64).
    pub fn label(self) -> &'static str {
        match self {
            CpuIsa::Avx512 => "AVX-512",
            CpuIsa::Avx2 => "AVX2",
            CpuIsa::Portable if cfg!(target_arch = "x86_64") => "SSE2",
            CpuIsa::Portable if cfg!(target_arch = "aarch64") => "NEON",
            CpuIsa::Portable => "portable",
        }
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            CpuIsa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            CpuIsa::Avx2 => std::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            CpuIsa::Avx512 => {
                // The AVX-512 path also uses AVX2 (the transpose).
                std::is_x86_feature_detected!("avx2")
                    && std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx512dq")
                    && std::is_x86_feature_detected!("avx512vl")
                    && std::is_x86_feature_detected!("avx512bw")
            }
            #[cfg(not(target_arch = "x86_64"))]
            CpuIsa::Avx2 | CpuIsa::Avx512 => false,
        }
    }

    /// The paths this CPU can run, narrowest first.
    pub fn supported() -> Vec<CpuIsa> {
        Self::ALL.into_iter().filter(|i| i.is_supported()).collect()
    }

    /// The widest path this CPU can run: the default.
    pub fn widest() -> CpuIsa {
        *Self::supported()
            .last()
            .expect("the portable path runs everywhere")
    }

    /// The path fills on this thread use now: the one [`with_isa`] set, else `NNINIT_CPU_ISA`'s,
    /// else the widest. An `NNINIT_CPU_ISA` that names no path, or one this CPU lacks, is an
    /// error.
    pub fn current() -> Result<CpuIsa> {
        if let Some(isa) = OVERRIDE.get() {
            return Ok(isa);
        }
        // Read once: a process computes on one path unless a caller overrides it.
        static FROM_ENV: OnceLock<Option<String>> = OnceLock::new();
        match FROM_ENV.get_or_init(|| std::env::var(ISA_ENV).ok().filter(|v| !v.is_empty())) {
            Some(name) => {
                let isa: CpuIsa = name.parse()?;
                isa.check_supported()?;
                Ok(isa)
            }
            None => Ok(Self::widest()),
        }
    }

    fn check_supported(self) -> Result<()> {
        if self.is_supported() {
            return Ok(());
        }
        let names: Vec<_> = Self::supported().iter().map(|i| i.name()).collect();
        Err(Error::invalid(
            "CPU instruction set",
            self,
            format!("this CPU runs {}", names.join(", ")),
        ))
    }
}

impl fmt::Display for CpuIsa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CpuIsa {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|isa| isa.name() == s)
            .ok_or_else(|| Error::invalid(ISA_ENV, s, "must be avx512, avx2 or portable"))
    }
}

thread_local! {
    static OVERRIDE: Cell<Option<CpuIsa>> = const { Cell::new(None) };
}

/// Runs `f` with the CPU fills it calls on this thread computing on `isa` (the fills' own worker
/// threads follow the calling thread's choice), then restores the previous choice. An error if
/// this CPU lacks `isa`. For tests and benchmarks; the values are the same on every path.
pub fn with_isa<R>(isa: CpuIsa, f: impl FnOnce() -> R) -> Result<R> {
    isa.check_supported()?;
    struct Restore(Option<CpuIsa>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.set(self.0);
        }
    }
    let _restore = Restore(OVERRIDE.replace(Some(isa)));
    Ok(f())
}
