//! The engine clock: the one source of time for invocation durations,
//! element timestamps, flow-context deadlines and the guest's WASI clocks.
//!
//! Cold path to create, hot path to read. Two kinds:
//!
//! - [`Clock::system`]: the monotonic system clock. Deadlines are enforced
//!   with epoch interruption. Not deterministic. Read through `quanta`: the
//!   CPU's invariant time-stamp counter, calibrated once per process against
//!   the OS monotonic clock (or that clock itself on CPUs without one). A
//!   reading costs ~15 ns here against ~50 ns for `std::time::Instant` (a
//!   vDSO `clock_gettime` in this KVM guest), and every call reads it twice
//!   for its duration.
//! - [`Clock::virtual_time`]: time advances only as a function of work —
//!   every host call the guest makes adds [`VirtualTime::ns_per_host_call`],
//!   and when a call ends its fuel adds fuel × [`VirtualTime::ns_per_fuel`].
//!   Deadlines are enforced through fuel (the time left is converted into a
//!   fuel budget), so a guest that overruns stops at the same instruction in
//!   every run. Deterministic for a given Wasmtime version and compiler
//!   (fuel counts, and so times, can differ between versions and between
//!   Cranelift and Winch).
//!
//! Clones share the same time: give one clock to every stage of a simulated
//! pipeline and its timestamps form one timeline.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The cost model of a virtual clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VirtualTime {
    /// Nanoseconds one unit of fuel (about one Wasm instruction) takes.
    pub ns_per_fuel: u64,
    /// Nanoseconds each call the guest makes into the host takes.
    pub ns_per_host_call: u64,
    /// The wall-clock time (since the Unix epoch) at virtual time zero, as
    /// the guest's `wasi:clocks/wall-clock` sees it.
    pub wall_start: Duration,
}

impl Default for VirtualTime {
    /// 1 ns per fuel unit, 100 ns per host call, starting at
    /// 2025-01-01T00:00:00Z.
    fn default() -> Self {
        Self {
            ns_per_fuel: 1,
            ns_per_host_call: 100,
            wall_start: Duration::from_secs(1_735_689_600),
        }
    }
}

/// A shared clock; clones read the same time.
#[derive(Clone, Debug)]
pub struct Clock(Arc<ClockKind>);

#[derive(Debug)]
enum ClockKind {
    System {
        source: quanta::Clock,
        /// The source's raw reading when the clock was made.
        origin: u64,
        wall_origin: Duration,
    },
    Virtual {
        now_ns: AtomicU64,
        model: VirtualTime,
    },
}

impl Clock {
    /// The system clock: monotonic nanoseconds since this clock was made,
    /// wall time from the operating system. Not deterministic.
    pub fn system() -> Self {
        let wall_origin = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let source = quanta::Clock::new();
        Self(Arc::new(ClockKind::System {
            origin: source.raw(),
            source,
            wall_origin,
        }))
    }

    /// A virtual clock at time zero that advances only with work (see the
    /// module docs). An engine using it needs fuel metering on.
    pub fn virtual_time(model: VirtualTime) -> Self {
        Self(Arc::new(ClockKind::Virtual {
            now_ns: AtomicU64::new(0),
            model,
        }))
    }

    /// The virtual cost model, if this is a virtual clock.
    pub fn virtual_model(&self) -> Option<VirtualTime> {
        match &*self.0 {
            ClockKind::System { .. } => None,
            ClockKind::Virtual { model, .. } => Some(*model),
        }
    }

    /// Whether this is a virtual clock.
    pub fn is_virtual(&self) -> bool {
        self.virtual_model().is_some()
    }

    /// Nanoseconds since the clock's origin. Deadlines in
    /// [`crate::FlowContext::deadline_ns`] and element timestamps are on this
    /// timeline.
    pub fn now_ns(&self) -> u64 {
        match &*self.0 {
            ClockKind::System { source, origin, .. } => {
                source.delta_as_nanos(*origin, source.raw())
            }
            ClockKind::Virtual { now_ns, .. } => now_ns.load(Ordering::Relaxed),
        }
    }

    /// Wall-clock time since the Unix epoch, as the guest's
    /// `wasi:clocks/wall-clock` sees it.
    pub fn wall_now(&self) -> Duration {
        let start = match &*self.0 {
            ClockKind::System { wall_origin, .. } => *wall_origin,
            ClockKind::Virtual { model, .. } => model.wall_start,
        };
        start + Duration::from_nanos(self.now_ns())
    }

    /// A deadline `after` from now on this clock's timeline, for
    /// [`crate::FlowContext::with_deadline_ns`].
    pub fn deadline_after(&self, after: Duration) -> u64 {
        self.now_ns().saturating_add(duration_ns(after))
    }

    /// Moves a virtual clock forward by `ns` (the harness uses it to model
    /// time between calls). No effect on the system clock.
    pub fn advance(&self, ns: u64) {
        if let ClockKind::Virtual { now_ns, .. } = &*self.0 {
            now_ns.fetch_add(ns, Ordering::Relaxed);
        }
    }

    /// Moves a virtual clock back to time zero, for every clone; no effect
    /// on the system clock. For a harness that starts each case on a fresh
    /// timeline (the fuzz targets do, so that an input's result does not
    /// depend on what ran before it in the process): deadlines and
    /// timestamps taken before the reset mean nothing after it, so reset
    /// only between cases, with no call in flight.
    pub fn reset(&self) {
        if let ClockKind::Virtual { now_ns, .. } = &*self.0 {
            now_ns.store(0, Ordering::Relaxed);
        }
    }

    /// Charges one host call to a virtual clock.
    pub fn charge_host_call(&self) {
        if let ClockKind::Virtual { now_ns, model } = &*self.0 {
            now_ns.fetch_add(model.ns_per_host_call, Ordering::Relaxed);
        }
    }

    /// Charges the fuel a call consumed to a virtual clock.
    pub fn charge_fuel(&self, fuel: u64) {
        if let ClockKind::Virtual { now_ns, model } = &*self.0 {
            now_ns.fetch_add(fuel.saturating_mul(model.ns_per_fuel), Ordering::Relaxed);
        }
    }

    /// On a virtual clock, the fuel that takes `allowed` to burn.
    pub fn fuel_for(&self, allowed: Duration) -> Option<u64> {
        self.virtual_model()
            .map(|m| duration_ns(allowed) / m.ns_per_fuel.max(1))
    }
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The system clock reads the time-stamp counter through `quanta`; it
    /// must agree with the OS monotonic clock and never run backwards.
    #[test]
    fn the_system_clock_follows_the_os_clock() {
        let clock = Clock::system();
        // Each reading of ours is bracketed by two OS readings, so
        // preemption between them widens the bracket instead of failing.
        let a = std::time::Instant::now();
        let start = clock.now_ns();
        let b = std::time::Instant::now();
        let mut last = start;
        while a.elapsed() < Duration::from_millis(30) {
            let now = clock.now_ns();
            assert!(now >= last, "went back from {last} to {now}");
            last = now;
        }
        let c = std::time::Instant::now();
        let ours = clock.now_ns() - start;
        let d = std::time::Instant::now();
        let (low, high) = ((c - b).as_nanos() as u64, (d - a).as_nanos() as u64);
        // Calibration error: a few parts per million, plus a few ns.
        let slack = 10_000;
        assert!(
            ours + slack >= low && ours <= high + slack,
            "ours {ours} ns outside the OS bracket {low}..={high} ns"
        );
        // A second clock starts at zero again.
        assert!(Clock::system().now_ns() < ours);
    }

    #[test]
    fn virtual_time_moves_only_with_work() {
        let c = Clock::virtual_time(VirtualTime {
            ns_per_fuel: 3,
            ns_per_host_call: 50,
            wall_start: Duration::from_secs(1000),
        });
        assert_eq!(c.now_ns(), 0);
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(c.now_ns(), 0, "real time does not move it");
        c.charge_host_call();
        c.charge_fuel(10);
        assert_eq!(c.now_ns(), 80);
        c.clone().advance(20);
        assert_eq!(c.now_ns(), 100, "clones share the time");
        assert_eq!(
            c.wall_now(),
            Duration::from_secs(1000) + Duration::from_nanos(100)
        );
        assert_eq!(c.fuel_for(Duration::from_nanos(300)), Some(100));
        assert_eq!(c.deadline_after(Duration::from_nanos(5)), 105);
        c.clone().reset();
        assert_eq!(c.now_ns(), 0, "a reset takes every clone back to zero");
        c.charge_host_call();
        assert_eq!(c.now_ns(), 50, "and time moves with work again");
    }

    #[test]
    fn the_system_clock_ignores_charges() {
        let c = Clock::system();
        assert!(!c.is_virtual());
        assert_eq!(c.fuel_for(Duration::from_secs(1)), None);
        let before = c.now_ns();
        c.advance(1_000_000_000_000);
        c.charge_fuel(1_000_000_000);
        c.reset();
        assert!(c.now_ns() >= before, "a reset does not move it back");
        assert!(c.now_ns() < before + 1_000_000_000);
    }
}
