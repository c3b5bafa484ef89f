//! How bytes are shown: payload previews, a failed guest's error lines, a fault
//! without its backtrace.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use torvyn_engine::GuestOutput;

use super::model::{is_false, is_zero_u64};

/// Payload bytes shown in a preview by default; the full length is always
/// recorded. A scenario's or pipeline's `preview_bytes` (the CLI's
/// `--preview-bytes N`) changes it for one run, `0` showing every byte.
pub const PREVIEW_BYTES: usize = 64;

/// A short view of some bytes: UTF-8 text when valid and printable, else
/// hex; at most [`PREVIEW_BYTES`] bytes (or the cap of
/// [`PayloadPreview::with_cap`]), with the full length.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadPreview {
    /// The full length in bytes.
    pub len: usize,
    /// The bytes as text, when they are printable UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The bytes as lower-case hex, otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
    /// Whether the preview is cut short of `len`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub truncated: bool,
    /// Guest output only: bytes the engine discarded past its capture cap.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub discarded: u64,
}

impl PayloadPreview {
    /// A preview of `bytes`, cut at [`PREVIEW_BYTES`].
    pub fn of(bytes: &[u8]) -> Self {
        Self::with_cap(bytes, PREVIEW_BYTES)
    }

    /// A preview of `bytes`, cut at `cap` bytes; `0` is no cap (every byte
    /// is shown).
    pub fn with_cap(bytes: &[u8], cap: usize) -> Self {
        let cap = if cap == 0 { usize::MAX } else { cap };
        let truncated = bytes.len() > cap;
        let mut cut = bytes.len().min(cap);
        // Text: back off to a character boundary when cutting mid-character.
        let text = loop {
            match std::str::from_utf8(&bytes[..cut]) {
                Ok(s) => break Some(s),
                Err(e) if truncated && e.error_len().is_none() && e.valid_up_to() > 0 => {
                    cut = e.valid_up_to();
                }
                Err(_) => break None,
            }
        };
        match text.filter(|s| printable(s)) {
            Some(s) => Self {
                len: bytes.len(),
                text: Some(s.to_string()),
                hex: None,
                truncated,
                discarded: 0,
            },
            None => Self {
                len: bytes.len(),
                text: None,
                hex: Some(hex(&bytes[..bytes.len().min(cap)])),
                truncated,
                discarded: 0,
            },
        }
    }

    /// A preview of guest output cut at [`PREVIEW_BYTES`], or `None` when
    /// the guest wrote nothing.
    pub fn of_guest_output(out: &GuestOutput) -> Option<Self> {
        Self::of_guest_output_with_cap(out, PREVIEW_BYTES)
    }

    /// A preview of guest output cut at `cap` bytes (`0`: no cap), or
    /// `None` when the guest wrote nothing.
    pub fn of_guest_output_with_cap(out: &GuestOutput, cap: usize) -> Option<Self> {
        if out.bytes.is_empty() && out.discarded == 0 {
            return None;
        }
        Some(Self {
            discarded: out.discarded,
            ..Self::with_cap(&out.bytes, cap)
        })
    }

    /// The preview on one line: `"text"` or `0x..`, with `…(N bytes)` when
    /// truncated.
    pub fn short(&self) -> String {
        self.short_noting("")
    }

    /// [`PayloadPreview::short`], with `how` (how to see every byte) added
    /// to the `…(N bytes; HOW)` of a truncated preview; `""` adds nothing.
    pub fn short_noting(&self, how: &str) -> String {
        let body = match (&self.text, &self.hex) {
            (Some(t), _) => format!("{t:?}"),
            (None, Some(h)) => format!("0x{h}"),
            (None, None) => "\"\"".into(),
        };
        match (self.truncated, how) {
            (false, _) => body,
            (true, "") => format!("{body}…({} bytes)", self.len),
            (true, how) => format!("{body}…({} bytes; {how})", self.len),
        }
    }
}

/// Lines of a guest's stderr shown at most by [`guest_error_lines`] when
/// the stderr is not a Python traceback.
const ERROR_LINES: usize = 3;
/// Characters kept of one line by [`guest_error_lines`] (the rest is cut,
/// marked `…`), so a guest printing one huge line cannot flood a table.
const ERROR_LINE_CHARS: usize = 400;

/// The lines of a failed call's stderr that say what went wrong, whole
/// (not cut at a preview's byte count), or `None` when it has no
/// non-blank line. For a Python traceback (CPython prints one to stderr
/// on an uncaught exception; componentize-py then prints its runtime's
/// panic after it), the last traceback's last frame (`File "...", line
/// N, in f` and its source line) and the exception (`TypeError: ...`, up
/// to the next blank line); for anything else, the last three non-blank
/// lines. Only the bytes the engine kept are read (a flood past its
/// capture cap loses its end). Control characters are escaped.
pub fn guest_error_lines(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    let picked: Vec<&str> = match python_traceback(&lines) {
        Some(picked) => picked,
        None => {
            let mut tail: Vec<&str> = lines
                .iter()
                .rev()
                .filter(|l| !l.trim().is_empty())
                .take(ERROR_LINES)
                .copied()
                .collect();
            tail.reverse();
            tail
        }
    };
    if picked.is_empty() {
        return None;
    }
    let shown: Vec<String> = picked.iter().map(|l| clean_line(l)).collect();
    Some(shown.join("\n"))
}

/// A Python traceback's last frame and exception lines, if `lines` hold a
/// traceback followed by its exception.
fn python_traceback<'a>(lines: &[&'a str]) -> Option<Vec<&'a str>> {
    let start = lines
        .iter()
        .rposition(|l| l.trim_end() == "Traceback (most recent call last):")?;
    let body = &lines[start + 1..];
    // Frames are indented; the exception is the first line that is not.
    let exception = body
        .iter()
        .position(|l| !l.trim().is_empty() && !l.starts_with(char::is_whitespace))?;
    let frames = &body[..exception];
    let mut picked: Vec<&str> = match frames
        .iter()
        .rposition(|l| l.trim_start().starts_with("File \""))
    {
        // The frame and its source line; not the `^^^^` markers under it.
        Some(f) => frames[f..]
            .iter()
            .filter(|l| !l.trim().chars().all(|c| matches!(c, '^' | '~')))
            .map(|l| l.trim())
            .collect(),
        None => Vec::new(),
    };
    picked.extend(
        body[exception..]
            .iter()
            .take_while(|l| !l.trim().is_empty())
            .copied(),
    );
    Some(picked)
}

/// A line of guest output made safe to print: control characters escaped
/// (tabs kept), at most [`ERROR_LINE_CHARS`] characters.
fn clean_line(line: &str) -> String {
    let mut out = String::new();
    for (i, c) in line.trim_end().chars().enumerate() {
        if i == ERROR_LINE_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn printable(s: &str) -> bool {
    s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t')
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The first line of a Wasmtime backtrace in a fault's message.
const BACKTRACE: &str = "error while executing at wasm backtrace:";

/// A fault's message without the Wasmtime backtrace in it
/// (`... error while executing at wasm backtrace:`, a line per frame, the
/// trap after the last frame): the lines before it, then the fault's first
/// line with the trap in place of the frames; and how many frames there
/// were. `None` when the message has no backtrace.
///
/// The frames name code offsets and function indices, which move with
/// every build of a component; the rest says what happened. The table
/// shows this form unless `-v`, and a behaviour comparison
/// ([`crate::snapshot::Compare::Behaviour`]) compares this form.
pub fn without_backtrace(message: &str) -> Option<(String, usize)> {
    let lines: Vec<&str> = message.lines().collect();
    let at = lines.iter().position(|l| l.ends_with(BACKTRACE))?;
    let frames = lines[at + 1..].iter().filter(|l| is_frame(l)).count();
    let last = lines.last().filter(|_| frames > 0)?;
    // The trap follows the last frame's function name (`N: 0x.. - name:
    // wasm trap: ...`), or a note Wasmtime put after the frames.
    let cause = if is_frame(last) {
        last.split_once(" - ")
            .and_then(|(_, rest)| rest.split_once(": "))
            .map(|(_, cause)| cause)
    } else {
        last.split_once("information: ").map(|(_, cause)| cause)
    }
    .unwrap_or(last.trim());
    let mut out = String::new();
    for l in &lines[..at] {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&lines[at][..lines[at].len() - BACKTRACE.len()]);
    out.push_str(cause);
    Some((out, frames))
}

/// Whether `line` is a backtrace frame: `  N: ...`.
fn is_frame(line: &str) -> bool {
    line.trim_start()
        .split_once(':')
        .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_show_text_or_hex_and_cut_long_payloads() {
        let p = PayloadPreview::of(b"hello");
        assert_eq!(
            (p.text.as_deref(), p.len, p.truncated),
            (Some("hello"), 5, false)
        );
        let p = PayloadPreview::of(&[0, 1, 0xff]);
        assert_eq!(p.hex.as_deref(), Some("0001ff"));
        let long = "é".repeat(40); // 80 bytes; byte 64 is a boundary
        let p = PayloadPreview::of(long.as_bytes());
        assert!(p.truncated && p.len == 80);
        assert_eq!(p.text.as_deref().map(str::len), Some(64));
        let odd = format!("a{}", "é".repeat(40)); // cut falls mid-character
        let p = PayloadPreview::of(odd.as_bytes());
        assert_eq!(p.text.as_deref().map(str::len), Some(63));
        assert!(
            PayloadPreview::of(b"a\x07b").hex.is_some(),
            "control characters are hex"
        );
    }

    #[test]
    fn a_cap_of_zero_shows_every_byte() {
        let long = "x".repeat(200);
        let p = PayloadPreview::with_cap(long.as_bytes(), 0);
        assert_eq!(
            (p.text.as_deref(), p.truncated),
            (Some(long.as_str()), false)
        );
        let p = PayloadPreview::with_cap(long.as_bytes(), 10);
        assert_eq!((p.text.as_deref(), p.truncated), (Some("xxxxxxxxxx"), true));
        let bin = vec![0u8; 100];
        let p = PayloadPreview::with_cap(&bin, 0);
        assert_eq!(p.hex.map(|h| h.len()), Some(200));
        assert_eq!(
            PayloadPreview::of(long.as_bytes()),
            PayloadPreview::with_cap(long.as_bytes(), PREVIEW_BYTES)
        );
    }

    #[test]
    fn the_guest_error_is_a_tracebacks_last_frame_and_exception_else_the_last_lines() {
        // componentize-py: CPython's traceback, then the runtime's panic.
        let py = "Traceback (most recent call last):\n  File \"/0/app.py\", line 32, in init\n\
                  TypeError: 'int' object is not iterable\n\nthread '<unnamed>' panicked at \
                  runtime/src/lib.rs:515:25:\nPython function threw an unexpected exception\n";
        assert_eq!(
            guest_error_lines(py.as_bytes()).as_deref(),
            Some("File \"/0/app.py\", line 32, in init\nTypeError: 'int' object is not iterable")
        );
        // Python 3.11+: a source line with markers under it, chained
        // exceptions (the last traceback counts), a two-line message.
        let chained = "Traceback (most recent call last):\n  File \"a.py\", line 1, in f\n\
                       KeyError: 'x'\n\nDuring handling of the above exception, another \
                       exception occurred:\n\nTraceback (most recent call last):\n  \
                       File \"a.py\", line 9, in g\n    raise ValueError(\"bad\\nworse\")\n    \
                       ^^^^^^^^^^^^^^^^\nValueError: bad\nworse\n";
        assert_eq!(
            guest_error_lines(chained.as_bytes()).as_deref(),
            Some(
                "File \"a.py\", line 9, in g\nraise ValueError(\"bad\\nworse\")\nValueError: bad\nworse"
            )
        );
        assert_eq!(
            guest_error_lines(b"one\n\ntwo\nthree\n\nfour\x1b[0m\n").as_deref(),
            Some("two\nthree\nfour\\u{1b}[0m")
        );
        assert_eq!(guest_error_lines(b"\n  \n"), None);
        let long = "x".repeat(1000);
        let shown = guest_error_lines(long.as_bytes()).unwrap();
        assert_eq!(shown.chars().count(), ERROR_LINE_CHARS + 1);
        assert!(shown.ends_with('…'));
    }
}
