//! Benchmark support: the minimal `bindgen!` host the engine is measured
//! against, and quick interleaved engine-versus-baseline figures.
//!
//! * [`Baseline`] / [`BaselineInstance`]: the same component called
//!   directly through `wasmtime::component::bindgen!` bindings of the
//!   contract, with a host that keeps every buffer as a `Vec<u8>` in a
//!   Wasmtime [`ResourceTable`](wasmtime::component::ResourceTable) and
//!   does nothing else: no fuel accounting per call, no deadlines, no
//!   limits, no metrics, no reclaiming. It links WASI p2 as the engine does
//!   (`wasmtime_wasi::p2::add_to_linker_sync`, a context that grants
//!   nothing, stdout and stderr discarded), so it runs any component the
//!   engine runs, a `wasm32-wasip2` build included. It is built with the
//!   same code-generation settings as the engine it is compared with
//!   (compiler, fuel, epoch interruption, stack), so the difference is the
//!   engine's layers, not the machine code; [`Baseline::from_engine_code`]
//!   runs the engine's compiled code itself, with no second compile, and
//!   stubs the imports the engine stubbed.
//! * [`compare`] / [`compare_with`]: runs interleaved rounds of the engine
//!   and the baseline on one component in one process and returns a
//!   [`BenchReport`] (ns per element for each, and their ratio), on a
//!   built-in payload or on given inputs ([`BenchInput`], sent in turn).
//!   The engine first sends every input once: a call the component fails
//!   stops the comparison there ([`BenchError::Failed`], a
//!   [`CallFailure`] naming the input, the answer and the guest's stderr).
//!   The compile (through a cache directory when one is given) is
//!   reported apart ([`CompileReport`]). The criterion benches in
//!   `benches/` measure the same thing more carefully.
//!
//! ```no_run
//! let report = torvyn_harness::bench::compare("uppercase", 1024, 20_000)?;
//! println!("{report}");
//! assert!(report.ratio > 0.0);
//! # Ok::<(), torvyn_harness::bench::BenchError>(())
//! ```
//!
//! What the baseline does differently, by design: it copies each input
//! payload into its table (`Vec<u8>`), where the engine lends the caller's
//! `Bytes` without copying, and `clone-into-mutable` copies where the
//! engine shares. At large payloads that favours the engine; at small ones
//! the ratio is the cost of the engine's per-call work.

use torvyn_engine::Bytes;

use crate::error::HarnessError;
use crate::source::ComponentSource;

mod baseline;
mod compare;
mod failure;
mod report;
mod side;

pub use self::baseline::{Baseline, BaselineCallError, BaselineInstance, BaselineState};
pub use self::compare::{Against, BenchInput, CompareOptions, compare, compare_with};
pub use self::failure::{Blame, CallFailure, FailedInput};
pub use self::report::{BenchReport, CompileReport, InputSizes, RefusedInput, Sent};

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// Loading or compiling the component for the engine failed.
    #[error(transparent)]
    Harness(#[from] HarnessError),
    /// The baseline host could not compile, link or instantiate the
    /// component.
    #[error("the baseline host cannot {action} `{component}`: {message}")]
    Baseline {
        /// What was being done.
        action: &'static str,
        /// The component.
        component: String,
        /// Wasmtime's message.
        message: String,
    },
    /// A call of the other side (the baseline host or the mock) failed,
    /// its `init` among them, where the engine's calls did not: the message
    /// names the input. (The engine's own failed calls are
    /// [`BenchError::Failed`].)
    #[error("`{component}` failed during the benchmark ({side}): {message}")]
    Call {
        /// The component.
        component: String,
        /// `engine` or `baseline`.
        side: &'static str,
        /// What failed.
        message: String,
    },
    /// A comparison with the mock ([`Against::Mock`]) was asked for a
    /// component that has no mock model.
    #[error(
        "`{component}` has no mock model: `--backend mock` runs the model of a fixture ({}) \
         beside the engine; measure `{component}` on the engine against the bindgen baseline \
         instead (leave out `--backend mock`)",
        torvyn_engine::mock::models::NAMES.join(", ")
    )]
    NoMockModel {
        /// The component as named.
        component: String,
    },
    /// The component failed a call on the engine: it answered a
    /// `process-error` or the engine stopped it (a trap, fuel...), on an
    /// input or in `init`. [`CallFailure::blame`] says whose failure it
    /// is.
    #[error("{0}")]
    Failed(Box<CallFailure>),
    /// An init config was given for a component that does not export
    /// `lifecycle` (nothing would take it).
    #[error(
        "`{component}` does not export `torvyn:streaming/lifecycle`, so it takes no init config; \
         leave the config out"
    )]
    NoLifecycle {
        /// The component.
        component: String,
    },
    /// The component exports no role the benchmark can drive.
    #[error(
        "`{component}` exports neither a processor, a sink nor a source; benchmark a component \
         of one of those worlds"
    )]
    NoRole {
        /// The component.
        component: String,
    },
}

/// Loads a component for a benchmark: a fixture name, a `.wat` file or a
/// `.wasm` component. Returns its bytes and a name for messages.
pub fn load_component(reference: &str) -> Result<(Vec<u8>, String), HarnessError> {
    let source = ComponentSource::parse(reference, None);
    let (bytes, origin) = source.load(reference)?;
    // A fixture is named by its name; a file by its path.
    let name = match source {
        ComponentSource::Fixture(name) => name,
        ComponentSource::Wat(_) | ComponentSource::Wasm(_) | ComponentSource::Scripted(_) => origin,
    };
    Ok((bytes, name))
}

/// A payload of `len` bytes of lower-case ASCII text (so `uppercase` has
/// work to do on every byte).
pub fn text_payload(len: usize) -> Bytes {
    const TEXT: &[u8] = b"the quick brown fox jumps over the lazy dog ";
    Bytes::from(TEXT.iter().copied().cycle().take(len).collect::<Vec<u8>>())
}
