//! A progress indicator for long runs: an indicatif spinner on stderr with
//! the elapsed time, shown only when stderr is a terminal and the work takes
//! longer than [`DELAY`]. Piped or redirected output gets nothing extra.
//!
//! The runner reports nothing until a run ends, so the indicator shows that
//! the run is alive and for how long, not how far along it is.

use std::io::IsTerminal as _;
use std::sync::mpsc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// How long work runs before the spinner appears.
pub const DELAY: Duration = Duration::from_millis(400);

/// Runs `work`, showing a spinner labelled `label` on stderr while it runs
/// past [`DELAY`] (when stderr is a terminal).
pub fn with_spinner<T>(label: &str, work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let (done, wait) = mpsc::channel::<()>();
    let label = label.to_string();
    let spinner = std::thread::spawn(move || {
        if wait.recv_timeout(DELAY) != Err(mpsc::RecvTimeoutError::Timeout) {
            return;
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(label);
        bar.enable_steady_tick(Duration::from_millis(100));
        let _ = wait.recv();
        bar.finish_and_clear();
    });
    let out = work();
    drop(done);
    let _ = spinner.join();
    out
}
