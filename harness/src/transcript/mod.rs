//! Transcripts: the record of a simulated run, one [`Entry`] per call, and a
//! [`Summary`]. Serializable as YAML and JSON, and printable as text.
//!
//! A transcript under the virtual clock is deterministic for a given seed,
//! Wasmtime version and compiler, except for [`Summary::wall`] (real time
//! spent), which [`Transcript::snapshot_form`] removes. Snapshots and
//! equality checks use that form.

mod model;
mod outcome;
mod preview;
mod render;
mod summary;

pub use model::{Entry, FailedHostCall, InputSummary, Transcript};
pub use outcome::Outcome;
pub use preview::{PREVIEW_BYTES, PayloadPreview, guest_error_lines, without_backtrace};
pub(crate) use render::mask_times;
pub use render::{OutputFormat, render_entries, to_json, to_yaml};
pub(crate) use summary::per_second;
pub use summary::{FuelStats, Summary, WallStats};
