//! Plain-text tables for `--format table`: the calls of a transcript, stage
//! totals, and the summary lines.

use std::fmt::Write as _;

use crate::transcript::{Entry, Outcome, Summary};

pub use crate::table::Table;

/// The calls of a transcript, one row each; `stages` adds the stage column.
pub fn entries(entries: &[Entry], stages: bool) -> String {
    let mut headers = vec!["#"];
    let mut right = vec![true];
    if stages {
        headers.push("stage");
        right.push(false);
    }
    headers.extend(["call", "input", "outcome", "fuel", "clock ns"]);
    right.extend([false, false, false, true, true]);
    let mut t = Table::new(headers, right);
    for e in entries {
        let mut cells = vec![e.index.to_string()];
        if stages {
            cells.push(e.stage.clone().unwrap_or_default());
        }
        let input = match (&e.input, &e.argument) {
            (Some(i), _) => format!("seq={} {}", i.sequence, i.payload.short()),
            (None, Some(a)) => a.clone(),
            (None, None) => String::new(),
        };
        cells.extend([
            e.call.name().to_string(),
            input,
            outcome(e),
            group(e.fuel),
            group(e.now_ns),
        ]);
        let mut notes = Vec::new();
        if let Some(f) = &e.failed_host_call {
            notes.push(format!(
                "failed host call {} ({} of the call): {} answered {}",
                f.index, f.in_call, f.function, f.answer
            ));
        }
        if let Outcome::Fault { message, .. } = &e.outcome {
            notes.push(message.clone());
        }
        if !e.lent_to.is_empty() {
            notes.push(format!("lent to {} (no copy)", e.lent_to.join(", ")));
        }
        if let Some(out) = &e.stdout {
            notes.push(format!("stdout: {}", out.short()));
        }
        if let Some(err) = &e.stderr {
            notes.push(format!("stderr: {}", err.short()));
        }
        t.row(cells, notes);
    }
    t.render()
}

/// An outcome in short: like [`Outcome::short`], but an emitted element
/// shows its sequence only when it is news (a pull, or a sequence other
/// than the input's) and its content type only when it is not `text/plain`.
fn outcome(e: &Entry) -> String {
    match &e.outcome {
        Outcome::Emit {
            sequence,
            content_type,
            payload,
            ..
        } => {
            let mut s = format!("emit {}", payload.short());
            if e.input.as_ref().is_none_or(|i| i.sequence != *sequence) {
                s = format!("emit seq={sequence} {}", payload.short());
            }
            if content_type != crate::scenario::DEFAULT_CONTENT_TYPE {
                s.push_str(&format!(" ({content_type})"));
            }
            s
        }
        other => other.short(),
    }
}

/// The summary of a single-component run as `label  value` lines.
pub fn summary(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "elements      {} in, {} out, {} dropped, {} failed  ({} process-errors, {} faults, {} calls)",
        s.elements_in,
        s.elements_out,
        s.elements_dropped,
        s.elements_failed,
        s.process_errors,
        s.faults,
        s.calls
    );
    if let Some(why) = &s.stopped {
        let _ = match s.elements_skipped {
            0 => writeln!(out, "stopped       {why}"),
            n => writeln!(out, "stopped       {why}; {n} elements not sent"),
        };
    }
    let _ = writeln!(
        out,
        "fuel/element  p50 {}  p99 {}  max {}  (total {})",
        group(s.fuel_per_element.p50),
        group(s.fuel_per_element.p99),
        group(s.fuel_per_element.max),
        group(s.fuel_total)
    );
    let _ = writeln!(
        out,
        "bytes         {} into the guest, {} out of it",
        group(s.bytes_in),
        group(s.bytes_out)
    );
    let _ = writeln!(
        out,
        "engine time   {}  ({} elements/s)",
        duration(s.virtual_time_ns),
        group(s.elements_per_virtual_second)
    );
    if let Some(w) = &s.wall {
        let _ = writeln!(
            out,
            "wall time     {}  ({} elements/s)",
            duration(w.wall_ns),
            group(w.elements_per_second.round() as u64)
        );
    }
    out
}

/// `1234567` as `1 234 567`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Nanoseconds in the largest unit that keeps a whole part: `812 ns`,
/// `1.50 µs`, `3.25 ms`, `2.00 s`.
pub fn duration(ns: u64) -> String {
    let f = ns as f64;
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.2} µs", f / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", f / 1e6)
    } else {
        format!("{:.2} s", f / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1 000");
        assert_eq!(group(1234567), "1 234 567");
        assert_eq!(duration(812), "812 ns");
        assert_eq!(duration(1500), "1.50 µs");
        assert_eq!(duration(3_250_000), "3.25 ms");
    }

    #[test]
    fn columns_align() {
        let mut t = Table::new(vec!["a", "n"], vec![false, true]);
        t.row(vec!["xyz".into(), "1".into()], vec!["note".into()]);
        t.row(vec!["q".into(), "100".into()], vec![]);
        assert_eq!(t.render(), "a      n\nxyz    1\n      note\nq    100\n");
    }
}
