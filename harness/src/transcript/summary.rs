//! A run's totals: elements, fuel percentiles, bytes, time.

use std::fmt::Write as _;
use torvyn_engine::Function;

use serde::{Deserialize, Serialize};

use super::model::is_zero_u64;
use super::{Entry, Outcome};

/// Fuel per element call: nearest-rank percentiles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuelStats {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Maximum.
    pub max: u64,
}

impl FuelStats {
    /// Percentiles of `values` (zeros when empty).
    pub fn of(values: &[u64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mut v = values.to_vec();
        v.sort_unstable();
        let rank = |p: f64| {
            let r = (p * v.len() as f64).ceil() as usize;
            v[r.clamp(1, v.len()) - 1]
        };
        Self {
            p50: rank(0.50),
            p99: rank(0.99),
            max: *v.last().expect("non-empty"),
        }
    }
}

/// Real time a run took. Never deterministic: kept out of snapshots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WallStats {
    /// Wall-clock nanoseconds from the first call to the last.
    pub wall_ns: u64,
    /// Elements in per wall-clock second.
    pub elements_per_second: f64,
}

/// Totals of a run (or of one pipeline stage).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Calls made.
    pub calls: u64,
    /// Elements sent in (`process`, `push`) or pulled out of a source.
    pub elements_in: u64,
    /// Elements emitted (`process`, `ingest`, `flush`), pulled (`pull`),
    /// accepted (`push`), passed (`evaluate`) or routed to a port (`route`).
    pub elements_out: u64,
    /// Elements a processor, filter or router dropped.
    pub elements_dropped: u64,
    /// Element calls that failed (`process-error` or fault).
    pub elements_failed: u64,
    /// Guest `process-error`s, on any call.
    pub process_errors: u64,
    /// Engine faults, on any call.
    pub faults: u64,
    /// Fuel of every call.
    pub fuel_total: u64,
    /// Fuel per element call (`process`, `pull`, `push`).
    pub fuel_per_element: FuelStats,
    /// Bytes copied into the guest.
    pub bytes_in: u64,
    /// Bytes copied out of the guest.
    pub bytes_out: u64,
    /// Time the calls took, summed (engine clock, ns).
    pub busy_ns: u64,
    /// Time on the engine clock from before the first call to after the
    /// last (virtual nanoseconds under the virtual clock).
    pub virtual_time_ns: u64,
    /// Elements in per second of engine-clock time (0 when no time passed).
    pub elements_per_virtual_second: u64,
    /// Why the component took no more elements before its stream ended:
    /// its `init` failed, or it answered `fatal` (the contract's terminal
    /// error). Absent when it took every element it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Input elements not sent to a processor or sink because it had
    /// stopped (a source is pulled, so it skips none).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub elements_skipped: u64,
    /// Real time; absent in the snapshot form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall: Option<WallStats>,
}

impl Summary {
    /// Zeroes what the calls cost (fuel and time), keeping what they did:
    /// the summary's part of a transcript's `without_costs`.
    pub fn clear_costs(&mut self) {
        self.fuel_total = 0;
        self.fuel_per_element = FuelStats::default();
        self.busy_ns = 0;
        self.virtual_time_ns = 0;
        self.elements_per_virtual_second = 0;
    }

    /// Totals over `entries`, with `virtual_time_ns` elapsed on the engine
    /// clock; `wall` is left empty.
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a Entry>, virtual_time_ns: u64) -> Self {
        let mut s = Summary {
            virtual_time_ns,
            ..Summary::default()
        };
        let mut fuel = Vec::new();
        for e in entries {
            s.calls += 1;
            s.fuel_total += e.fuel;
            s.bytes_in += e.bytes_in;
            s.bytes_out += e.bytes_out;
            s.busy_ns += e.duration_ns;
            match &e.outcome {
                Outcome::ProcessError { .. } => s.process_errors += 1,
                Outcome::Fault { .. } => s.faults += 1,
                Outcome::Flushed { elements } => s.elements_out += elements.len() as u64,
                _ => {}
            }
            if !e.call.carries_element() {
                continue;
            }
            fuel.push(e.fuel);
            if e.call != Function::Pull {
                s.elements_in += 1;
            }
            match &e.outcome {
                Outcome::Emit { .. } if e.call == Function::Pull => {
                    s.elements_in += 1;
                    s.elements_out += 1;
                }
                Outcome::Emit { .. } | Outcome::Backpressure(_) | Outcome::Pass => {
                    s.elements_out += 1
                }
                Outcome::Routed { ports } if !ports.is_empty() => s.elements_out += 1,
                Outcome::Drop | Outcome::Reject | Outcome::Routed { .. } => s.elements_dropped += 1,
                _ if e.failed() => s.elements_failed += 1,
                _ => {}
            }
        }
        s.fuel_per_element = FuelStats::of(&fuel);
        s.elements_per_virtual_second = per_second(s.elements_in, virtual_time_ns);
        s
    }

    /// Fills in [`Summary::wall`] from real time spent.
    pub fn set_wall(&mut self, wall: std::time::Duration) {
        let wall_ns = u64::try_from(wall.as_nanos()).unwrap_or(u64::MAX);
        self.wall = Some(WallStats {
            wall_ns,
            elements_per_second: if wall_ns == 0 {
                0.0
            } else {
                self.elements_in as f64 * 1e9 / wall_ns as f64
            },
        });
    }

    /// The summary as a few lines of text.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "elements: {} in, {} out, {} dropped, {} failed ({} process-errors, {} faults in {} calls)",
            self.elements_in,
            self.elements_out,
            self.elements_dropped,
            self.elements_failed,
            self.process_errors,
            self.faults,
            self.calls
        );
        match (&self.stopped, self.elements_skipped) {
            (Some(why), 0) => {
                let _ = writeln!(s, "stopped: {why}");
            }
            (Some(why), n) => {
                let _ = writeln!(s, "stopped: {why}; {n} elements not sent");
            }
            (None, _) => {}
        }
        let _ = writeln!(
            s,
            "fuel: {} total; per element p50 {} p99 {} max {}",
            self.fuel_total,
            self.fuel_per_element.p50,
            self.fuel_per_element.p99,
            self.fuel_per_element.max
        );
        let _ = writeln!(
            s,
            "bytes: {} into the guest, {} out of it",
            self.bytes_in, self.bytes_out
        );
        let _ = writeln!(
            s,
            "time: {} ns on the engine clock ({} elements/s)",
            self.virtual_time_ns, self.elements_per_virtual_second
        );
        if let Some(w) = &self.wall {
            let _ = writeln!(
                s,
                "wall: {} ns ({:.0} elements/s)",
                w.wall_ns, w.elements_per_second
            );
        }
        s
    }
}

/// `count` per second over `ns` nanoseconds (0 when `ns` is 0).
pub(crate) fn per_second(count: u64, ns: u64) -> u64 {
    if ns == 0 {
        0
    } else {
        u64::try_from(u128::from(count) * 1_000_000_000 / u128::from(ns)).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(
            FuelStats::of(&v),
            FuelStats {
                p50: 50,
                p99: 99,
                max: 100
            }
        );
        assert_eq!(
            FuelStats::of(&[7]),
            FuelStats {
                p50: 7,
                p99: 7,
                max: 7
            }
        );
        assert_eq!(FuelStats::of(&[]), FuelStats::default());
    }
}
