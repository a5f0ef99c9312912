//! How the scenario's binary was compiled. Numbers measured in an
//! unoptimised build describe the compiler's debug output, not the system:
//! a loopback echo measured 55.7 k round trips/s at opt-level 0 and
//! 103 k/s optimised. Cargo tells a crate nothing about its own opt-level,
//! so the registration carries a probe compiled *in the scenario's crate*
//! (a generic instantiated with a type of that crate is code-generated
//! there, at that crate's opt-level) and Brunt runs the same probe compiled
//! in its own crate.
//!
//! The probe reads the stack: a frame holding an 8 KiB array nothing uses
//! keeps it at opt-level 0 and loses it at any optimisation level (LLVM
//! removes dead allocas from opt-level 1 up), so the distance between a
//! caller's local and a callee's is over 8 KiB unoptimised and a few dozen
//! bytes optimised — deterministic, and a few nanoseconds, unlike timing
//! a loop on a machine that may be busy.

use std::hint::black_box;

/// The padding the probe's middle frame holds, bytes.
const PADDING: usize = 8192;

/// What a scenario's registration says about the crate that declared it.
#[derive(Debug, Clone, Copy)]
pub struct ScenarioBuild {
    /// [`frame_probe`] instantiated in the scenario's crate.
    pub frame_probe: fn() -> usize,
    /// `cfg!(debug_assertions)` as the scenario's crate was compiled.
    pub debug_assertions: bool,
}

impl ScenarioBuild {
    /// Whether the scenario's crate was compiled with optimisation.
    pub fn optimised(&self) -> bool {
        (self.frame_probe)() < PADDING
    }
}

/// Whether Brunt itself (its recorder, load models and sampler, which run
/// on every op) was compiled with optimisation.
pub fn harness_optimised() -> bool {
    struct Harness;
    frame_probe::<Harness>() < PADDING
}

/// Bytes of stack between a caller's local and a callee two frames down,
/// with an unused 8 KiB array in the frame between: over 8 KiB when that
/// frame was compiled at opt-level 0. `T` is only there to make the
/// instantiation, and so the code generation, happen in the caller's crate.
// `T` is unused on purpose: it places the instantiation in the caller's crate.
#[allow(clippy::extra_unused_type_parameters)]
#[inline(never)]
pub fn frame_probe<T>() -> usize {
    let top = 0u8;
    padded_frame::<T>(black_box(&top) as *const u8 as usize)
}

#[allow(clippy::extra_unused_type_parameters)]
#[inline(never)]
fn padded_frame<T>(caller: usize) -> usize {
    let padding = [0u8; PADDING];
    let _ = &padding;
    leaf_frame::<T>(caller)
}

#[allow(clippy::extra_unused_type_parameters)]
#[inline(never)]
fn leaf_frame<T>(caller: usize) -> usize {
    let here = 0u8;
    caller.abs_diff(black_box(&here) as *const u8 as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_reads_this_crates_build() {
        // The workspace compiles `brunt` at opt-level 2 even in `cargo test`
        // (see its Cargo.toml); the opt-level 0 case is the fixture
        // `brunt-unoptimised`'s (fixtures/tests/outcomes.rs).
        struct Here;
        let distance = frame_probe::<Here>();
        assert!(distance < PADDING, "{distance} bytes: read as unoptimised");
        assert!(harness_optimised());
    }
}
