//! The engine clock: the one source of time for invocation durations,
//! element timestamps, flow-context deadlines and the guest's WASI clocks.
//!
//! Cold path to create, hot path to read. Today the clock is the system's
//! monotonic clock; every reader goes through [`Clock`] so that a virtual
//! clock can replace it without touching the readers.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A shared clock; clones read the same time.
#[derive(Clone, Debug)]
pub struct Clock(Arc<ClockKind>);

#[derive(Debug)]
enum ClockKind {
    System {
        origin: Instant,
        wall_origin: Duration,
    },
}

impl Clock {
    /// The system clock: monotonic nanoseconds since this clock was made,
    /// wall time from the operating system. Not deterministic.
    pub fn system() -> Self {
        let wall_origin = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self(Arc::new(ClockKind::System {
            origin: Instant::now(),
            wall_origin,
        }))
    }

    /// Nanoseconds since the clock's origin. Deadlines in
    /// [`crate::FlowContext::deadline_ns`] and element timestamps are on this
    /// timeline.
    pub fn now_ns(&self) -> u64 {
        match &*self.0 {
            ClockKind::System { origin, .. } => {
                u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
            }
        }
    }

    /// Wall-clock time since the Unix epoch, as the guest's
    /// `wasi:clocks/wall-clock` sees it.
    pub fn wall_now(&self) -> Duration {
        match &*self.0 {
            ClockKind::System { wall_origin, .. } => {
                *wall_origin + Duration::from_nanos(self.now_ns())
            }
        }
    }

    /// A deadline `after` from now on this clock's timeline, for
    /// [`crate::FlowContext::with_deadline_ns`].
    pub fn deadline_after(&self, after: Duration) -> u64 {
        self.now_ns()
            .saturating_add(u64::try_from(after.as_nanos()).unwrap_or(u64::MAX))
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}
