//! Plain-text tables for `--format table`: the calls of a transcript, stage
//! totals, and the summary lines.

use std::fmt::Write as _;

use crate::transcript::{Entry, Outcome, Summary, without_backtrace};

pub use crate::table::Table;

/// How to see a failed call's stderr whole, added to a preview that cuts it.
pub const WHOLE_STDERR: &str = "--preview-bytes 0 shows all";

/// The calls of a transcript, one row each; `stages` adds the stage column.
///
/// Under a failed call, the guest's own error comes first: the lines of
/// its stderr that say what went wrong ([`Entry::stderr_error`]), whole.
/// A trap's Wasmtime backtrace is shown only when `verbose` (`-v`);
/// otherwise the fault is one line and a count of the frames.
pub fn entries(entries: &[Entry], stages: bool, verbose: bool) -> String {
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
        if let Some(lines) = &e.stderr_error {
            const LABEL: &str = "guest error (stderr): ";
            for (i, line) in lines.lines().enumerate() {
                let lead = if i == 0 { LABEL } else { "" };
                notes.push(format!("{lead:<width$}{line}", width = LABEL.len()));
            }
        }
        if let Some(f) = &e.failed_host_call {
            notes.push(format!(
                "failed host call {} ({} of the call): {} answered {}",
                f.index, f.in_call, f.function, f.answer
            ));
        }
        if let Outcome::Fault { message, .. } = &e.outcome {
            notes.extend(fault_lines(message, verbose));
        }
        notes.extend(content_type_note(&e.outcome));
        if !e.lent_to.is_empty() {
            notes.push(format!("lent to {} (no copy)", e.lent_to.join(", ")));
        }
        if let Some(out) = &e.stdout {
            notes.push(format!("stdout: {}", out.short()));
        }
        if let Some(err) = &e.stderr {
            let how = if e.failed() { WHOLE_STDERR } else { "" };
            notes.push(format!("stderr: {}", err.short_noting(how)));
        }
        notes.extend(host_call_lines(e));
        t.row(cells, notes);
    }
    t.render()
}

/// With a host-call trace: one note line per host call of the entry
/// (`host call 0: buffer.read-all(#1) -> 5 bytes`), with a line that says
/// how many were left out of a trace the engine cut short, or that the
/// call made none.
fn host_call_lines(e: &Entry) -> Vec<String> {
    let Some(trace) = &e.host_call_trace else {
        return Vec::new();
    };
    if trace.is_empty() {
        return vec!["host calls: none".into()];
    }
    let mut out: Vec<String> = trace
        .iter()
        .enumerate()
        .map(|(i, l)| format!("host call {i}: {l}"))
        .collect();
    let made = e.host_calls as usize;
    if made > trace.len() {
        out.push(format!(
            "... {} more host calls, past the {} a trace keeps",
            made - trace.len(),
            trace.len()
        ));
    }
    out
}

/// A fault's message as note lines. Unless `verbose`, a Wasmtime backtrace
/// in it is left out ([`without_backtrace`]): the fault is its first line
/// with the trap, then the number of frames and how to see them.
pub fn fault_lines(message: &str, verbose: bool) -> Vec<String> {
    let all = || message.lines().map(str::to_string).collect();
    if verbose {
        return all();
    }
    match without_backtrace(message) {
        Some((fault, frames)) => {
            let mut out: Vec<String> = fault.lines().map(str::to_string).collect();
            out.push(format!(
                "wasm backtrace: {frames} frame{} (-v shows it)",
                if frames == 1 { "" } else { "s" }
            ));
            out
        }
        None => all(),
    }
}

/// A note when an emitted element's meta and its buffer name different
/// content types (a buffer that names none is not a difference): which
/// one counts, as [`torvyn_engine::OutputElement`] documents.
fn content_type_note(outcome: &Outcome) -> Option<String> {
    let emits: Vec<&Outcome> = match outcome {
        Outcome::Flushed { elements } => elements.iter().collect(),
        other => vec![other],
    };
    emits.into_iter().find_map(|o| match o {
        Outcome::Emit {
            content_type,
            buffer_content_type: Some(buffer),
            ..
        } if !buffer.is_empty() => Some(format!(
            "content type: the meta says {content_type}, the buffer {buffer}; the meta's \
             counts (the next stage gets it), the buffer's is what `set-content-type` named"
        )),
        _ => None,
    })
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

    /// A trap's message as the Wasmtime backend words it (a CPython guest's
    /// uncaught exception, frames cut to three).
    const TRAP: &str = "guest trapped (unreachable): error while executing at wasm backtrace:\n    \
        0: 0x21e3331 - libc.so!abort\n    \
        1:  0x127e8 - <unknown>!<wasm function 306>\n   \
        13: 0x224df12 - libcomponentize_py_bindings.so!torvyn:streaming/lifecycle@0.1.0#init-export: \
        wasm trap: wasm `unreachable` instruction executed; the instance is poisoned, re-instantiate it";

    #[test]
    fn a_backtrace_is_a_count_unless_verbose() {
        assert_eq!(
            fault_lines(TRAP, false),
            [
                "guest trapped (unreachable): wasm trap: wasm `unreachable` instruction \
                 executed; the instance is poisoned, re-instantiate it",
                "wasm backtrace: 3 frames (-v shows it)",
            ]
        );
        assert_eq!(fault_lines(TRAP, true), TRAP.lines().collect::<Vec<_>>());
        let plain = "fuel exhausted (budget 5 units); raise the fuel budget";
        assert_eq!(fault_lines(plain, false), [plain]);
        // Wasmtime's note after the frames: the trap follows it.
        let noted = "guest trapped (unreachable): error while executing at wasm backtrace:\n    \
            0: 0x2c0 - <unknown>!<wasm function 4>\nnote: using the \
            `WASMTIME_BACKTRACE_DETAILS=1` environment variable may show more debugging \
            information: wasm trap: wasm `unreachable` instruction executed";
        assert_eq!(
            fault_lines(noted, false),
            [
                "guest trapped (unreachable): wasm trap: wasm `unreachable` instruction executed",
                "wasm backtrace: 1 frame (-v shows it)",
            ]
        );
    }

    fn failed_call(stderr: &[u8]) -> Entry {
        let mut e = Entry::new(
            0,
            torvyn_engine::Function::Init,
            Outcome::Fault {
                kind: "trap".into(),
                message: TRAP.into(),
                poisons: true,
            },
            &Default::default(),
        );
        e.stderr = crate::transcript::PayloadPreview::with_cap(stderr, 64).into();
        e.stderr_error = crate::transcript::guest_error_lines(stderr);
        e
    }

    #[test]
    fn a_failed_call_shows_the_guest_error_first_and_how_to_see_its_stderr() {
        let stderr =
            b"Traceback (most recent call last):\n  File \"/0/app.py\", line 32, in init\n\
            TypeError: 'int' object is not iterable\n\nthread '<unnamed>' panicked at \
            runtime/src/lib.rs:515:25:\nPython function threw an unexpected exception\n";
        let text = entries(&[failed_call(stderr)], false, false);
        let notes: Vec<&str> = text.lines().skip(2).map(str::trim_end).collect();
        assert_eq!(
            notes,
            [
                "      guest error (stderr): File \"/0/app.py\", line 32, in init",
                "                            TypeError: 'int' object is not iterable",
                "      guest trapped (unreachable): wasm trap: wasm `unreachable` instruction \
                 executed; the instance is poisoned, re-instantiate it",
                "      wasm backtrace: 3 frames (-v shows it)",
                &format!(
                    "      stderr: \"Traceback (most recent call last):\\n  File \\\"/0/app.py\\\", \
                     line 32, \"…({} bytes; --preview-bytes 0 shows all)",
                    stderr.len()
                ),
            ]
        );
        let verbose = entries(&[failed_call(stderr)], false, true);
        assert!(verbose.contains("libc.so!abort"), "{verbose}");
        assert!(!text.contains("libc.so!abort"), "{text}");
    }

    #[test]
    fn differing_content_types_say_which_counts() {
        let emit = |buffer: &str| Outcome::Emit {
            sequence: 0,
            content_type: "text/plain".into(),
            buffer_content_type: Some(buffer.into()),
            payload: crate::transcript::PayloadPreview::of(b"{}"),
        };
        let note = content_type_note(&emit("application/json")).unwrap();
        assert!(
            note.starts_with(
                "content type: the meta says text/plain, the buffer application/json; the \
                 meta's counts"
            ),
            "{note}"
        );
        assert_eq!(
            content_type_note(&emit("")),
            None,
            "a buffer that names none"
        );
        let flushed = Outcome::Flushed {
            elements: vec![emit("application/json")],
        };
        assert_eq!(content_type_note(&flushed), Some(note));
    }

    #[test]
    fn columns_align() {
        let mut t = Table::new(vec!["a", "n"], vec![false, true]);
        t.row(vec!["xyz".into(), "1".into()], vec!["note".into()]);
        t.row(vec!["q".into(), "100".into()], vec![]);
        assert_eq!(t.render(), "a      n\nxyz    1\n      note\nq    100\n");
    }
}
