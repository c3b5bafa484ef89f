//! Reading a recording back: every line's checksum, then its fields, then
//! the order of the calls. Any byte string gives a recording or a
//! [`RecordingError`] naming the line and what is wrong; nothing here
//! panics (`tests/all/record.rs` feeds it truncations, edits and random
//! bytes, and the `recording` fuzz target does so for longer).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{
    CallRecord, End, FORMAT_NAME, FORMAT_VERSION, Header, OLDEST_VERSION, Payload, PayloadMode,
    RecordedContext, RecordedElement, RecordedMetrics, RecordedOutcome, RecordedOutput, Recording,
};
use crate::call::{Answer, Outcome};
use crate::error::FaultName;
use crate::types::{BackpressureSignal, Function, ProcessErrorName};
use crate::world::{WorldInterface, WorldRead};

/// How strict the reader is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Accept a recording without its end line (its writer was stopped
    /// before it finished: a host that crashed); every line present is
    /// still checked, and a line cut short is still refused.
    pub allow_incomplete: bool,
}

/// Why a recording cannot be read. Lines are counted from 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordingError {
    /// The file could not be read.
    #[error("cannot read the recording {}: {message}; check the path", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        message: String,
    },
    /// A problem in a file (the problem, with the file named).
    #[error("recording {}: {source}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: Box<RecordingError>,
    },
    /// Nothing at all.
    #[error("the recording is empty; a recording starts with a `{FORMAT_NAME}` header line")]
    Empty,
    /// The first line is not a recording header.
    #[error(
        "line 1 is not a recording header ({problem}); a recording is the JSON Lines a \
         torvyn-engine `Recorder` writes (`torvyn-sim run --record FILE`)"
    )]
    NotARecording {
        /// What the first line is or lacks.
        problem: String,
    },
    /// A format version this engine does not read.
    #[error(
        "the recording's format version is {found}, this engine reads versions {OLDEST_VERSION} \
         to {FORMAT_VERSION}; read it with the torvyn-engine version that wrote it ({engine})"
    )]
    UnsupportedVersion {
        /// The version found.
        found: u64,
        /// The engine named in the header.
        engine: String,
    },
    /// A line whose checksum does not match its bytes.
    #[error(
        "line {line}: its checksum does not match its contents: the line was edited or \
         damaged; recordings are not edited by hand (`torvyn-sim record to-scenario` makes \
         an editable scenario from one)"
    )]
    Checksum {
        /// The line.
        line: usize,
    },
    /// The last line is cut short.
    #[error(
        "line {line} is cut short (no newline at its end): the recording is truncated; record \
         again, or cut the file after line {} and read it with --allow-incomplete",
        line.saturating_sub(1)
    )]
    Truncated {
        /// The line.
        line: usize,
    },
    /// No end line: the writer did not finish.
    #[error(
        "the recording has no end line after its {calls} calls: its writer did not finish \
         (the host stopped before `Recorder::finish`, or the file was cut at a line); read \
         it with --allow-incomplete (`ReadOptions::allow_incomplete`) to use the calls it has"
    )]
    Incomplete {
        /// Calls read.
        calls: usize,
    },
    /// A line that is not what the format says.
    #[error("line {line}: {problem}")]
    Corrupt {
        /// The line.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

impl RecordingError {
    /// The same error, naming `path`.
    pub(super) fn in_file(self, path: &Path) -> Self {
        match self {
            e @ (Self::Io { .. } | Self::InFile { .. }) => e,
            e => Self::InFile {
                path: path.to_path_buf(),
                source: Box::new(e),
            },
        }
    }

    /// The error without the file it is in.
    pub fn problem(&self) -> &RecordingError {
        match self {
            Self::InFile { source, .. } => source.problem(),
            e => e,
        }
    }
}

fn corrupt(line: usize, problem: impl Into<String>) -> RecordingError {
    RecordingError::Corrupt {
        line,
        problem: problem.into(),
    }
}

/// Checks a line's checksum and returns its JSON text (with the checksum
/// field removed).
fn checked(line_no: usize, line: &[u8]) -> Result<String, RecordingError> {
    const TAG: &[u8] = b",\"crc\":\"";
    // `,"crc":"` + 8 hex + `"}`
    let tail_len = TAG.len() + 8 + 2;
    if line.len() < tail_len + 1 {
        return Err(corrupt(line_no, "too short to be a recording line"));
    }
    let split = line.len() - tail_len;
    let (body, tail) = line.split_at(split);
    if !tail.starts_with(TAG) || !tail.ends_with(b"\"}") {
        return Err(corrupt(
            line_no,
            "the line does not end with its checksum (`,\"crc\":\"XXXXXXXX\"}`)",
        ));
    }
    let hex = &tail[TAG.len()..TAG.len() + 8];
    // Lower-case only, as written: one spelling per checksum, so no edit
    // of a line goes unseen.
    let expected = std::str::from_utf8(hex)
        .ok()
        .filter(|h| h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or_else(|| corrupt(line_no, "the checksum is not 8 lower-case hex digits"))?;
    if crc32fast::hash(body) != expected {
        return Err(RecordingError::Checksum { line: line_no });
    }
    let mut text = std::str::from_utf8(body)
        .map_err(|e| {
            corrupt(
                line_no,
                format!("not UTF-8 at byte {}", e.valid_up_to().saturating_add(1)),
            )
        })?
        .to_string();
    text.push('}');
    Ok(text)
}

pub(super) fn parse(bytes: &[u8], options: ReadOptions) -> Result<Recording, RecordingError> {
    if bytes.is_empty() {
        return Err(RecordingError::Empty);
    }
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    // A complete file ends with a newline: the last piece is empty.
    let last = lines.pop().unwrap_or_default();
    if !last.is_empty() {
        return Err(RecordingError::Truncated {
            line: lines.len() + 1,
        });
    }
    let Some((first, rest)) = lines.split_first() else {
        return Err(RecordingError::Empty);
    };
    let header = parse_header(first)?;
    let mut calls = Vec::new();
    let mut end = None;
    for (i, raw) in rest.iter().enumerate() {
        let line_no = i + 2;
        if end.is_some() {
            return Err(corrupt(
                line_no,
                "a line after the end line; a recording ends with its end line",
            ));
        }
        let text = checked(line_no, raw)?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| corrupt(line_no, format!("not JSON: {e}")))?;
        if let Some(e) = value.get("end") {
            let e: End = serde_json::from_value(e.clone())
                .map_err(|e| corrupt(line_no, format!("a bad end line: {e}")))?;
            if e.calls != calls.len() as u64 {
                return Err(corrupt(
                    line_no,
                    format!(
                        "the end line counts {} calls, the recording has {}: lines are missing",
                        e.calls,
                        calls.len()
                    ),
                ));
            }
            end = Some(e);
            continue;
        }
        let expected = header.first_call.saturating_add(calls.len() as u64);
        let call = parse_call(line_no, value, header.payloads)?;
        if call.index != expected {
            return Err(corrupt(
                line_no,
                format!(
                    "call {} where call {expected} was due: calls are missing or out of order",
                    call.index
                ),
            ));
        }
        calls.push(call);
    }
    if end.is_none() && !options.allow_incomplete {
        return Err(RecordingError::Incomplete { calls: calls.len() });
    }
    Ok(Recording { header, calls, end })
}

fn parse_header(line: &[u8]) -> Result<Header, RecordingError> {
    let not = |problem: String| RecordingError::NotARecording { problem };
    // The format and version are looked at before the checksum, so a
    // foreign file or a newer format is named as such.
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| not(format!("not a JSON object: {e}")))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
        return Err(not(format!("no `\"format\": \"{FORMAT_NAME}\"`")));
    }
    let version = value.get("version").and_then(|v| v.as_u64());
    match version {
        Some(v) if (u64::from(OLDEST_VERSION)..=u64::from(FORMAT_VERSION)).contains(&v) => {}
        Some(found) => {
            return Err(RecordingError::UnsupportedVersion {
                found,
                engine: value
                    .get("engine")
                    .and_then(|e| e.as_str())
                    .unwrap_or("unknown")
                    .to_string(),
            });
        }
        None => return Err(not("no numeric `version`".into())),
    }
    let text = checked(1, line)?;
    let header: Header =
        serde_json::from_str(&text).map_err(|e| corrupt(1, format!("a bad header: {e}")))?;
    if let Some(world) = &header.world
        && world.insecure_seed.is_some()
        && world.insecure_seed_value().is_none()
    {
        return Err(corrupt(
            1,
            "the header's `world.insecure_seed` is not 32 lower-case hex digits",
        ));
    }
    Ok(header)
}

/// A call line as JSON gives it, before its fields are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCall {
    call: u64,
    #[serde(rename = "fn")]
    function: String,
    #[serde(default)]
    arg: Option<String>,
    #[serde(default, rename = "in")]
    input: Option<RawElement>,
    out: serde_json::Value,
    m: RecordedMetrics,
    /// What the guest read (version 3).
    #[serde(default)]
    w: Option<Vec<serde_json::Value>>,
    /// What it wrote to stdout (version 3).
    #[serde(default)]
    stdout: Option<RawPayload>,
    /// What it wrote to stderr (version 3).
    #[serde(default)]
    stderr: Option<RawPayload>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawElement {
    seq: u64,
    ts: u64,
    ct: String,
    payload: RawPayload,
    ctx: RecordedContext,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    seq: u64,
    ts: u64,
    ct: String,
    #[serde(default)]
    bct: Option<String>,
    payload: RawPayload,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayload {
    #[serde(default)]
    b64: Option<String>,
    /// An output's payload that is the call's input payload, byte for byte
    /// (`{"in": true}`, version 2).
    #[serde(default, rename = "in")]
    same_as_input: Option<bool>,
    #[serde(default)]
    len: Option<u64>,
    #[serde(default)]
    sha256: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawError {
    kind: String,
    #[serde(default)]
    message: Option<String>,
}

fn payload(line: usize, raw: RawPayload, mode: PayloadMode) -> Result<Payload, RecordingError> {
    match (mode, raw) {
        (
            PayloadMode::Stored,
            RawPayload {
                b64: Some(b),
                same_as_input: None,
                len: None,
                sha256: None,
            },
        ) => base64_simd::STANDARD
            .decode_to_vec(b.as_bytes())
            .map(|v| Payload::Stored(v.into()))
            .map_err(|_| {
                corrupt(
                    line,
                    "a payload is not valid base64 (the standard alphabet, padded)",
                )
            }),
        (
            PayloadMode::Digest,
            RawPayload {
                b64: None,
                same_as_input: None,
                len: Some(len),
                sha256: Some(d),
            },
        ) => {
            let sha256 = parse_digest(&d)
                .ok_or_else(|| corrupt(line, "a payload's sha256 is not 64 hex digits"))?;
            Ok(Payload::Digest { len, sha256 })
        }
        (mode, _) => Err(corrupt(
            line,
            format!(
                "a payload is not written as the header says (`payloads: {}`: {})",
                mode.name(),
                match mode {
                    PayloadMode::Stored => "`{\"b64\": ...}`",
                    PayloadMode::Digest => "`{\"len\": N, \"sha256\": ...}`",
                }
            ),
        )),
    }
}

/// 64 hex digits as 32 bytes.
pub(crate) fn parse_digest(text: &str) -> Option<[u8; 32]> {
    let b = text.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// An output's payload: as [`payload`] gives it, or (`{"in": true}`) the
/// stored payload of the call's input.
fn output_payload(
    line: usize,
    raw: RawPayload,
    mode: PayloadMode,
    input: Option<&Payload>,
) -> Result<Payload, RecordingError> {
    match raw {
        RawPayload {
            same_as_input: Some(true),
            b64: None,
            len: None,
            sha256: None,
        } => match input {
            Some(p @ Payload::Stored(_)) => Ok(p.clone()),
            _ => Err(corrupt(
                line,
                "an output's payload is `{\"in\": true}`, but the call has no stored input payload",
            )),
        },
        raw => payload(line, raw, mode),
    }
}

fn output(
    line: usize,
    raw: RawOutput,
    mode: PayloadMode,
    input: Option<&Payload>,
) -> Result<RecordedOutput, RecordingError> {
    Ok(RecordedOutput {
        sequence: raw.seq,
        timestamp_ns: raw.ts,
        buffer_content_type: raw.bct.unwrap_or_else(|| raw.ct.clone()),
        content_type: raw.ct,
        payload: output_payload(line, raw.payload, mode, input)?,
    })
}

fn field<T: serde::de::DeserializeOwned>(
    line: usize,
    what: &str,
    v: serde_json::Value,
) -> Result<T, RecordingError> {
    serde_json::from_value(v).map_err(|e| corrupt(line, format!("a bad `{what}`: {e}")))
}

fn outcome(
    line: usize,
    v: serde_json::Value,
    mode: PayloadMode,
    input: Option<&Payload>,
) -> Result<RecordedOutcome, RecordingError> {
    use serde_json::Value;
    let bad = || {
        corrupt(
            line,
            "`out` is none of \"ok\", \"drop\", \"none\", {\"emit\"}, {\"signal\"}, {\"pass\"}, \
             {\"ports\"}, {\"flushed\"}, {\"error\"}, {\"fault\"}",
        )
    };
    match v {
        Value::String(s) => match s.as_str() {
            "ok" => Ok(Outcome::Answer(Answer::Done)),
            "drop" => Ok(Outcome::Answer(Answer::Drop)),
            "none" => Ok(Outcome::Answer(Answer::Nothing)),
            _ => Err(bad()),
        },
        Value::Object(map) if map.len() == 1 => {
            let Some((key, value)) = map.into_iter().next() else {
                return Err(bad());
            };
            match key.as_str() {
                "emit" => Ok(Outcome::Answer(Answer::Emit(output(
                    line,
                    field(line, "emit", value)?,
                    mode,
                    input,
                )?))),
                "signal" => match value.as_str().and_then(BackpressureSignal::from_name) {
                    Some(s) => Ok(Outcome::Answer(Answer::Signal(s))),
                    None => Err(corrupt(line, "`signal` is neither \"ready\" nor \"pause\"")),
                },
                "pass" => Ok(Outcome::Answer(Answer::Verdict(field(
                    line, "pass", value,
                )?))),
                "ports" => Ok(Outcome::Answer(Answer::Ports(field(line, "ports", value)?))),
                "flushed" => {
                    let raws: Vec<RawOutput> = field(line, "flushed", value)?;
                    raws.into_iter()
                        .map(|r| output(line, r, mode, input))
                        .collect::<Result<_, _>>()
                        .map(|outs| Outcome::Answer(Answer::Flushed(outs)))
                }
                "error" => {
                    let e: RawError = field(line, "error", value)?;
                    let kind = ProcessErrorName::from_name(&e.kind).ok_or_else(|| {
                        corrupt(
                            line,
                            format!(
                                "`error.kind` \"{}\" is no process-error of the contract",
                                e.kind
                            ),
                        )
                    })?;
                    Ok(Outcome::Error {
                        kind,
                        message: e.message,
                    })
                }
                "fault" => {
                    let e: RawError = field(line, "fault", value)?;
                    let kind = FaultName::from_name(&e.kind).ok_or_else(|| {
                        corrupt(
                            line,
                            format!("`fault.kind` \"{}\" is no fault this engine knows", e.kind),
                        )
                    })?;
                    Ok(Outcome::Fault {
                        kind,
                        message: e.message.unwrap_or_default(),
                    })
                }
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

/// Whether `function` takes an element.
pub(crate) fn takes_element(function: Function) -> bool {
    matches!(
        function,
        Function::Process
            | Function::Push
            | Function::Evaluate
            | Function::Route
            | Function::Ingest
    )
}

fn parse_call(
    line: usize,
    value: serde_json::Value,
    mode: PayloadMode,
) -> Result<CallRecord, RecordingError> {
    let raw: RawCall = field(line, "call line", value)?;
    let function = Function::CALLS
        .into_iter()
        .find(|f| f.name() == raw.function)
        .ok_or_else(|| {
            corrupt(
                line,
                format!("`fn` is `{}`, not a function of the contract", raw.function),
            )
        })?;
    if takes_element(function) != raw.input.is_some() {
        return Err(corrupt(
            line,
            if raw.input.is_some() {
                format!("`{function}` takes no element, but the line has `in`")
            } else {
                format!("`{function}` takes an element, but the line has no `in`")
            },
        ));
    }
    let wants_arg = matches!(function, Function::Init | Function::NotifyBackpressure);
    if wants_arg != raw.arg.is_some() {
        return Err(corrupt(
            line,
            format!(
                "`{function}` {} an `arg`",
                if wants_arg { "needs" } else { "takes no" }
            ),
        ));
    }
    if function == Function::NotifyBackpressure
        && !matches!(raw.arg.as_deref(), Some("ready" | "pause"))
    {
        return Err(corrupt(
            line,
            "`notify-backpressure`'s `arg` is neither ready nor pause",
        ));
    }
    let input = match raw.input {
        Some(el) => Some(RecordedElement {
            sequence: el.seq,
            timestamp_ns: el.ts,
            content_type: el.ct,
            payload: payload(line, el.payload, mode)?,
            context: el.ctx,
        }),
        None => None,
    };
    let outcome = outcome(line, raw.out, mode, input.as_ref().map(|el| &el.payload))?;
    if !outcome.fits(function) {
        return Err(corrupt(
            line,
            format!("`{function}` cannot answer `{}`", outcome.variant()),
        ));
    }
    let reads = raw
        .w
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, v)| world_read(line, i, v))
        .collect::<Result<_, _>>()?;
    let stdout = raw.stdout.map(|p| payload(line, p, mode)).transpose()?;
    let stderr = raw.stderr.map(|p| payload(line, p, mode)).transpose()?;
    Ok(CallRecord {
        index: raw.call,
        function,
        argument: raw.arg,
        input,
        outcome,
        metrics: raw.m,
        reads,
        stdout,
        stderr,
    })
}

/// Read `index` of a call's `w`: `{"KEY": VALUE}` as
/// `write::push_read` writes it.
fn world_read(
    line: usize,
    index: usize,
    v: serde_json::Value,
) -> Result<WorldRead, RecordingError> {
    use serde_json::Value;
    let bad = |what: &str| {
        corrupt(
            line,
            format!(
                "read {index} of `w` {what}; a read is {{\"KEY\": VALUE}} with KEY one of {}",
                WorldInterface::ALL.map(|i| i.key()).join(", ")
            ),
        )
    };
    let Value::Object(map) = v else {
        return Err(bad("is not an object"));
    };
    let mut entries = map.into_iter();
    let (Some((key, value)), None) = (entries.next(), entries.next()) else {
        return Err(bad("does not have one key"));
    };
    let interface =
        WorldInterface::from_key(&key).ok_or_else(|| bad(&format!("has the key `{key}`")))?;
    let number = |v: &Value| {
        v.as_u64()
            .ok_or_else(|| bad(&format!("(`{key}`) is not a u64")))
    };
    let duration = |v: &Value| match v.as_array().map(Vec::as_slice) {
        Some([s, n]) => match (s.as_u64(), n.as_u64().and_then(|n| u32::try_from(n).ok())) {
            (Some(s), Some(n)) if n < 1_000_000_000 => Ok(std::time::Duration::new(s, n)),
            _ => Err(bad(&format!("(`{key}`) is not [SECONDS, NANOSECONDS]"))),
        },
        _ => Err(bad(&format!("(`{key}`) is not [SECONDS, NANOSECONDS]"))),
    };
    let bytes = |v: &Value| {
        v.as_str()
            .and_then(parse_hex)
            .ok_or_else(|| bad(&format!("(`{key}`) is not hex bytes")))
    };
    Ok(match interface {
        WorldInterface::WallClockNow => WorldRead::WallClockNow(duration(&value)?),
        WorldInterface::WallClockResolution => WorldRead::WallClockResolution(duration(&value)?),
        WorldInterface::MonotonicClockNow => WorldRead::MonotonicClockNow(number(&value)?),
        WorldInterface::MonotonicClockResolution => {
            WorldRead::MonotonicClockResolution(number(&value)?)
        }
        WorldInterface::RandomBytes => WorldRead::RandomBytes(bytes(&value)?),
        WorldInterface::RandomU64 => WorldRead::RandomU64(number(&value)?),
        WorldInterface::InsecureRandomBytes => WorldRead::InsecureRandomBytes(bytes(&value)?),
        WorldInterface::InsecureRandomU64 => WorldRead::InsecureRandomU64(number(&value)?),
    })
}

/// Lower-case hex as bytes.
fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    if !b.len().is_multiple_of(2) || !b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    b.chunks_exact(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}
