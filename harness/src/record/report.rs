//! What a replay reports: the divergences it found, fuel figures, the text
//! that names them.

use torvyn_engine::{Function, WorldInterface};

use crate::spec::BackendKind;

/// A call whose answer differs from the recording's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The call's index in the recording.
    pub index: u64,
    /// The function called.
    pub function: Function,
    /// The call's input, described (`seq=3 "hello"`), if it took one.
    pub input: Option<String>,
    /// The recorded answer, described.
    pub expected: String,
    /// The answer now, described.
    pub actual: String,
    /// Where two payloads first differ, when both are outputs.
    pub detail: Option<String>,
}

/// A call whose guest read the outside world differently from the
/// recording (see the module docs): more or fewer reads of an interface,
/// or the same reads in another order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorldDivergence {
    /// The call's index in the recording.
    pub index: u64,
    /// The function called.
    pub function: Function,
    /// The interface read differently, when one is (not for reads that
    /// only come in another order).
    pub interface: Option<WorldInterface>,
    /// What differs, on one line: `call 0: the guest read
    /// `wasi:clocks/wall-clock.now` twice; the recording has one read`.
    pub message: String,
}

/// A call whose guest wrote other bytes to stdout or stderr than the
/// recording has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputDivergence {
    /// The call's index in the recording.
    pub index: u64,
    /// The function called.
    pub function: Function,
    /// `stdout` or `stderr`.
    pub stream: &'static str,
    /// What the recording has, described.
    pub expected: String,
    /// What the guest wrote now, described.
    pub actual: String,
}

/// Fuel per call, recorded and now, over the calls compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FuelFigures {
    /// Median fuel per call in the recording.
    pub recorded_p50: u64,
    /// 99th percentile in the recording.
    pub recorded_p99: u64,
    /// Median fuel per call now.
    pub now_p50: u64,
    /// 99th percentile now.
    pub now_p99: u64,
    /// Total fuel in the recording.
    pub recorded_total: u64,
    /// Total fuel now.
    pub now_total: u64,
}

/// What a replay found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    /// The component replayed against (as named).
    pub component: String,
    /// The backend it ran on.
    pub backend: BackendKind,
    /// The recorded instance's id.
    pub recorded_id: String,
    /// Calls in the recording.
    pub calls: usize,
    /// Calls made (up to and including the last answer divergence the
    /// limit lets the replay list).
    pub replayed: usize,
    /// Calls whose answer was the recorded one.
    pub equal: usize,
    /// The most divergences of each kind listed
    /// ([`ReplayOptions::max_divergences`](super::ReplayOptions::max_divergences)).
    pub max_divergences: usize,
    /// The calls whose answer differs, in order, up to the limit (the
    /// replay stops at the last of them when the limit is reached).
    pub divergences: Vec<Divergence>,
    /// The calls that read the outside world differently, in order, up to
    /// the limit (the replay goes on past them).
    pub world_divergences: Vec<WorldDivergence>,
    /// The calls that wrote other stdout or stderr, in order, up to the
    /// limit (the replay goes on past them).
    pub output_divergences: Vec<OutputDivergence>,
    /// Whether an output divergence still lets the replay match
    /// (`torvyn-sim replay --ignore-output`); false unless set.
    pub ignore_output: bool,
    /// Fuel per call, recorded and now.
    pub fuel: FuelFigures,
    /// What the reader should know (a rotated part, another digest...).
    pub notes: Vec<String>,
}

impl ReplayReport {
    /// Whether every call answered as recorded, read the outside world as
    /// recorded, and (unless [`ReplayReport::ignore_output`]) wrote what
    /// was recorded.
    pub fn matches(&self) -> bool {
        self.divergences.is_empty()
            && self.world_divergences.is_empty()
            && (self.ignore_output || self.output_divergences.is_empty())
            && self.equal == self.calls
    }

    /// The first call whose answer differs, if one does.
    pub fn divergence(&self) -> Option<&Divergence> {
        self.divergences.first()
    }

    /// The first call that read the outside world differently, if one did.
    pub fn world_divergence(&self) -> Option<&WorldDivergence> {
        self.world_divergences.first()
    }

    /// The first call that wrote other stdout or stderr, if one did.
    pub fn output_divergence(&self) -> Option<&OutputDivergence> {
        self.output_divergences.first()
    }

    /// Whether the replay stopped at its last answer divergence, before
    /// the recording's end, because the limit was reached.
    pub fn stopped_early(&self) -> bool {
        self.divergences.len() >= self.max_divergences && self.replayed < self.calls
    }

    /// The report for people: the divergences in call order (reads,
    /// output, then the answer of each call), then the summary.
    pub fn render_text(&self) -> String {
        let mut s = format!(
            "replay of {} ({} calls) against {} on {}\n",
            self.recorded_id,
            self.calls,
            self.component,
            self.backend.name()
        );
        for n in &self.notes {
            s.push_str(&format!("note: {n}\n"));
        }
        // (call index, kind order, text) for every divergence, in call order.
        let mut blocks: Vec<(u64, u8, String)> = Vec::new();
        for (i, w) in self.world_divergences.iter().enumerate() {
            let mut b = format!(
                "\nreads diverge at call {} ({})\n  {}\n",
                w.index, w.function, w.message
            );
            if i == 0 {
                b.push_str(
                    "  the replay went on: each interface's recorded values are given back in \
                     order, live ones once they run out\n",
                );
            }
            blocks.push((w.index, 0, b));
        }
        for o in &self.output_divergences {
            blocks.push((
                o.index,
                1,
                format!(
                    "\noutput diverges at call {} ({}): {}{}\n  expected  {}\n  actual    {}\n",
                    o.index,
                    o.function,
                    o.stream,
                    if self.ignore_output {
                        " (ignored: --ignore-output)"
                    } else {
                        ""
                    },
                    o.expected,
                    o.actual
                ),
            ));
        }
        for (i, d) in self.divergences.iter().enumerate() {
            let mut b = format!(
                "\n{} at call {} ({})\n",
                if i == 0 {
                    "first divergence"
                } else {
                    "divergence"
                },
                d.index,
                d.function
            );
            if let Some(input) = &d.input {
                b.push_str(&format!("  input     {input}\n"));
            }
            b.push_str(&format!("  expected  {}\n", d.expected));
            b.push_str(&format!("  actual    {}\n", d.actual));
            if let Some(detail) = &d.detail {
                b.push_str(&format!("  {detail}\n"));
            }
            blocks.push((d.index, 2, b));
        }
        blocks.sort_by_key(|(index, order, _)| (*index, *order));
        for (_, _, b) in &blocks {
            s.push_str(b);
        }
        if self.stopped_early() {
            s.push_str(&if self.max_divergences == 1 {
                format!(
                    "\nthe replay stopped at the first divergence, after {} of {} calls; --all \
                     goes on and lists every divergence (--max-divergences N the first N)\n",
                    self.replayed, self.calls
                )
            } else {
                format!(
                    "\nthe replay stopped at divergence {} (the limit), after {} of {} calls; \
                     --all goes on to the end\n",
                    self.max_divergences, self.replayed, self.calls
                )
            });
        }
        if self.max_divergences > 1 && !self.matches() {
            s.push_str(&format!(
                "\ndivergences   {} answers, {} reads, {} output{}\n  a call after the first \
                 divergence may differ because an earlier one did (the component's state)\n",
                self.divergences.len(),
                self.world_divergences.len(),
                self.output_divergences.len(),
                if self.ignore_output { " (ignored)" } else { "" }
            ));
        }
        let f = &self.fuel;
        s.push_str(&format!(
            "\ncalls equal   {} of {} ({} replayed)\n\
             fuel/call     recorded p50 {}  p99 {}  (total {})\n\
             \x20             now      p50 {}  p99 {}  (total {})\n",
            self.equal,
            self.calls,
            self.replayed,
            f.recorded_p50,
            f.recorded_p99,
            f.recorded_total,
            f.now_p50,
            f.now_p99,
            f.now_total
        ));
        s.push_str(if self.matches() {
            "result        every call matches\n"
        } else {
            "result        diverges\n"
        });
        s
    }
}
