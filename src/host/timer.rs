//! A call's deadline as the host sees it, so that everything that moves the
//! engine clock during a call counts against it.
//!
//! Hot path: the call frame notes when every call started (a few stores;
//! the timer is built when a host call or a wait first needs it). On an
//! engine with a virtual clock, each host call looks at one flag (a load
//! and a branch); on the system clock the host functions are linked
//! without the check. Only on a virtual clock does a host call do more: there the clock moves
//! with work (the guest's fuel, charged when the call ends, and every host
//! call as it happens), so a guest that makes host calls in a loop would
//! otherwise run past its deadline on time its fuel allowance never saw.
//! Each host call on a virtual clock therefore asks [`CallTimer::host_call`]
//! whether the call's time so far (clock moves, plus the fuel burned, plus
//! the host call itself) passes the deadline: if it does, the guest is
//! stopped there with `DeadlineExceeded`; if not, the time left becomes the
//! most fuel the guest may still burn (the rest is withheld and not
//! counted as consumed). The point where a deadline fires is then the same
//! in every run.
//!
//! On the system clock, guest code is watched by Wasmtime's epoch deadline
//! (see `WasmtimeEngineConfig::epoch_tick`); the timer only bounds the
//! host's own waits (a guest that sleeps through `wasi:io/poll`).

use crate::clock::Clock;

/// The deadline of the call in progress.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallTimer {
    /// The engine-clock reading the call may not pass.
    pub deadline_ns: u64,
    /// Nanoseconds per unit of fuel on a virtual clock; 0 on the system
    /// clock (host calls are not checked there).
    pub ns_per_fuel: u64,
    /// The fuel the call was given.
    pub fuel: u64,
    /// Fuel withheld from the guest because its time ran short (not
    /// consumed: subtracted when the call's fuel is read).
    pub withheld: u64,
    /// Whether the deadline stopped the guest at a host call or a wait.
    pub fired: bool,
}

/// The deadline passed during a call: the guest is stopped where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DeadlinePassed;

impl std::fmt::Display for DeadlinePassed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the call's deadline passed during a host call")
    }
}

impl std::error::Error for DeadlinePassed {}

impl CallTimer {
    /// A timer for a call that started at `start_ns` and may run for
    /// `allowed_ns`, with `fuel` to burn, on `clock`.
    pub fn new(clock: &Clock, start_ns: u64, allowed_ns: u64, fuel: u64) -> Self {
        Self {
            deadline_ns: start_ns.saturating_add(allowed_ns),
            ns_per_fuel: clock.virtual_model().map_or(0, |m| m.ns_per_fuel.max(1)),
            fuel,
            withheld: 0,
            fired: false,
        }
    }

    /// A host call on a virtual clock, when the guest has `fuel_left` of
    /// the fuel it was given: `Err` when the call's time, with this host
    /// call's cost (`host_call_ns`), passes the deadline; otherwise the
    /// most fuel the guest may have left after it (`None`: what it has).
    #[cold]
    pub fn host_call(
        &mut self,
        clock: &Clock,
        host_call_ns: u64,
        fuel_left: u64,
    ) -> Result<Option<u64>, DeadlinePassed> {
        let burned = self.burned(fuel_left);
        let after = clock
            .now_ns()
            .saturating_add(host_call_ns)
            .saturating_add(burned.saturating_mul(self.ns_per_fuel));
        self.allowance(after, fuel_left)
    }

    /// A wait on a virtual clock until `until_ns`, when the guest has
    /// `fuel_left`: `Err` when the call's time passes the deadline before
    /// then (the clock is moved to the deadline); otherwise the clock is
    /// moved to `until_ns` and the most fuel the guest may have left is
    /// returned (`None`: what it has).
    #[cold]
    #[cfg(feature = "wasmtime-backend")]
    pub fn wait_virtual(
        &mut self,
        clock: &Clock,
        until_ns: u64,
        fuel_left: u64,
    ) -> Result<Option<u64>, DeadlinePassed> {
        let fuel_ns = self.burned(fuel_left).saturating_mul(self.ns_per_fuel);
        let now = clock.now_ns();
        // The fuel burned so far is charged when the call ends; the wait
        // is charged now.
        let reach = until_ns.min(self.deadline_ns.saturating_sub(fuel_ns));
        if reach > now {
            clock.advance(reach - now);
        }
        if until_ns.saturating_add(fuel_ns) > self.deadline_ns {
            self.fired = true;
            return Err(DeadlinePassed);
        }
        self.allowance(clock.now_ns().saturating_add(fuel_ns), fuel_left)
    }

    /// The fuel the guest has burned of what it was given.
    fn burned(&self, fuel_left: u64) -> u64 {
        self.fuel
            .saturating_sub(fuel_left)
            .saturating_sub(self.withheld)
    }

    /// At time `at_ns` (fuel included) with `fuel_left`: past the
    /// deadline, or the fuel the time left allows, when that is less.
    fn allowance(&mut self, at_ns: u64, fuel_left: u64) -> Result<Option<u64>, DeadlinePassed> {
        if at_ns > self.deadline_ns {
            self.fired = true;
            return Err(DeadlinePassed);
        }
        let allowed = (self.deadline_ns - at_ns) / self.ns_per_fuel;
        if allowed < fuel_left {
            self.withheld += fuel_left - allowed;
            return Ok(Some(allowed));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::VirtualTime;

    fn clock() -> Clock {
        Clock::virtual_time(VirtualTime {
            ns_per_fuel: 2,
            ns_per_host_call: 100,
            ..VirtualTime::default()
        })
    }

    #[test]
    fn host_calls_take_their_time_from_the_fuel_allowance() {
        let c = clock();
        // 1000 ns allowed: 500 fuel.
        let mut t = CallTimer::new(&c, 0, 1000, 500);
        assert_eq!(t.ns_per_fuel, 2);
        // 50 fuel burned (100 ns), then a host call (100 ns): 800 ns left,
        // 400 fuel; the guest has 450, so 50 are withheld.
        assert_eq!(t.host_call(&c, 100, 450), Ok(Some(400)));
        assert_eq!(t.withheld, 50);
        c.charge_host_call();
        // The guest burns 300 of its 400: 350 burned (700 ns) + 100 ns of
        // host calls + this one's 100 = 900 ns; 100 ns (50 fuel) left of
        // the 100 it has.
        assert_eq!(t.host_call(&c, 100, 100), Ok(Some(50)));
        assert_eq!(t.withheld, 100);
        c.charge_host_call();
        // The guest burns its last 50: 400 burned (800 ns) + 200 ns of host
        // calls = 1000; a third host call would pass the deadline.
        assert_eq!(t.host_call(&c, 100, 0), Err(DeadlinePassed));
        assert!(t.fired);
        assert_eq!(t.burned(0), 400, "withheld fuel is not burned");
    }

    #[test]
    #[cfg(feature = "wasmtime-backend")]
    fn a_wait_moves_a_virtual_clock_up_to_the_deadline() {
        let c = clock();
        let mut t = CallTimer::new(&c, 0, 1000, 500);
        // 100 fuel burned (200 ns); wait until 500: the clock moves to 500,
        // 500 + 200 = 700 ns spent, 150 fuel allowed of the 400 left.
        assert_eq!(t.wait_virtual(&c, 500, 400), Ok(Some(150)));
        assert_eq!(c.now_ns(), 500);
        // A wait past the deadline moves the clock as far as the deadline
        // allows (1000 - 200 ns of fuel) and stops the guest.
        assert_eq!(t.wait_virtual(&c, 5000, 150), Err(DeadlinePassed));
        assert_eq!(c.now_ns(), 800);
    }
}
