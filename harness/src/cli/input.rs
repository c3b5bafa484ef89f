//! The input elements of `torvyn-sim run` and `torvyn-sim bench`: JSON
//! Lines or plain lines; and `--config`'s init config (text or `@FILE`).
//!
//! The format is chosen per file: when the first non-blank line starts with
//! `{`, every non-blank line is a JSON object
//!
//! ```text
//! {"payload": "hello", "content_type": "text/plain", "deadline_ms": 5}
//! {"payload_hex": "00ff10", "content_type": "application/octet-stream"}
//! {"payload": {"id": 7}}
//! ```
//!
//! with `payload` (a string is sent as its UTF-8 bytes; any other JSON value
//! as its JSON text byte for byte as the line writes it, key order and
//! spacing kept, with content type `application/json` unless
//! `content_type` says otherwise) or `payload_hex` (bytes in hex), an
//! optional `content_type` (default `text/plain`) and an optional deadline
//! relative to the element's call (`deadline_ms` or `deadline_ns`). Unknown
//! fields are errors. Otherwise every non-blank line is one `text/plain`
//! element whose payload is the line (without its line ending). Blank lines
//! are skipped in both formats.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::CliError;
use crate::scenario::InputElement;
use torvyn_engine::record::decode_hex;

/// How an input file was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON object per line.
    JsonLines,
    /// One text element per line.
    PlainLines,
}

/// One JSON Lines record.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    /// The value as written in the line (serde_json's `RawValue`), so a
    /// non-string payload keeps its key order and spacing.
    #[serde(default)]
    payload: Option<Box<RawValue>>,
    #[serde(default)]
    payload_hex: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    deadline_ms: Option<u64>,
    #[serde(default)]
    deadline_ns: Option<u64>,
}

/// Which format `text` is in: JSON Lines when its first non-blank line
/// starts with `{`.
pub fn detect(text: &str) -> InputFormat {
    match text.lines().map(str::trim_start).find(|l| !l.is_empty()) {
        Some(l) if l.starts_with('{') => InputFormat::JsonLines,
        _ => InputFormat::PlainLines,
    }
}

/// Parses the input elements of `text`; `origin` (a path, or `<stdin>`)
/// names it in errors, which also give the line number.
pub fn parse_inputs(text: &str, origin: &str) -> Result<Vec<InputElement>, CliError> {
    Ok(parse_numbered(text, origin)?
        .into_iter()
        .map(|(_, element)| element)
        .collect())
}

/// [`parse_inputs`], each element with the number (from 1) of the line it
/// was read from, for messages that point back into the file.
pub fn parse_numbered(text: &str, origin: &str) -> Result<Vec<(usize, InputElement)>, CliError> {
    let format = detect(text);
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let element = match format {
            InputFormat::PlainLines => InputElement::text(line),
            InputFormat::JsonLines => parse_record(line, origin, i + 1)?,
        };
        out.push((i + 1, element));
    }
    Ok(out)
}

/// An init config as `--config` gives it: `@PATH` is the whole content of
/// the file PATH (UTF-8, read as is), `@@...` the text `@...`, anything
/// else the text itself.
///
/// # Errors
///
/// An input error naming the file when it cannot be read or is not UTF-8.
pub fn read_config(arg: &str) -> Result<String, CliError> {
    if let Some(rest) = arg.strip_prefix("@@") {
        return Ok(format!("@{rest}"));
    }
    let Some(path) = arg.strip_prefix('@') else {
        return Ok(arg.to_string());
    };
    let bytes = std::fs::read(path).map_err(|e| {
        CliError::input(format!(
            "cannot read the config file {path} (--config @{path}): {e}; check the path, or \
             write @@ for a config that starts with a literal @"
        ))
    })?;
    String::from_utf8(bytes).map_err(|e| {
        CliError::input(format!(
            "the config file {path} is not UTF-8 (byte {}); an init config is a string",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn parse_record(line: &str, origin: &str, n: usize) -> Result<InputElement, CliError> {
    let bad = |problem: String| {
        CliError::input(format!(
            "bad input in {origin} at line {n}: {problem}; each line of a JSON Lines input is an \
             object like {{\"payload\": \"hello\", \"content_type\": \"text/plain\"}} (fields: \
             payload or payload_hex, content_type, deadline_ms or deadline_ns)"
        ))
    };
    let record: Record = serde_json::from_str(line).map_err(|e| {
        // serde_json ends its message with "at line 1 column C"; the line is
        // ours to give, the column is kept.
        let text = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        match text.strip_suffix(&suffix) {
            Some(msg) if e.column() > 0 => bad(format!("{msg} (column {})", e.column())),
            _ => bad(text),
        }
    })?;
    if record.payload.is_some() && record.payload_hex.is_some() {
        return Err(bad("both `payload` and `payload_hex`; keep one".into()));
    }
    if record.deadline_ms.is_some() && record.deadline_ns.is_some() {
        return Err(bad("both `deadline_ms` and `deadline_ns`; keep one".into()));
    }
    if let Some(hex) = &record.payload_hex {
        decode_hex(hex).map_err(|p| bad(format!("payload_hex: {p}")))?;
    }
    let (payload, default_type) = match record.payload.as_deref().map(RawValue::get) {
        None => (None, None),
        Some(raw) if raw.starts_with('"') => {
            let text: String =
                serde_json::from_str(raw).map_err(|e| bad(format!("payload: {e}")))?;
            (Some(text), None)
        }
        Some(raw) => (Some(raw.to_string()), Some("application/json".to_string())),
    };
    Ok(InputElement {
        payload,
        payload_hex: record.payload_hex,
        content_type: record.content_type.or(default_type),
        deadline_ns: record
            .deadline_ns
            .or(record.deadline_ms.map(|ms| ms.saturating_mul(1_000_000))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_and_plain_lines() {
        let j = "\n{\"payload\": \"a\", \"deadline_ms\": 2}\n\n{\"payload_hex\": \"00ff\", \"content_type\": \"x/y\"}\n{\"payload\": {\"k\": 1}}\n";
        assert_eq!(detect(j), InputFormat::JsonLines);
        let v = parse_inputs(j, "in.jsonl").unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].payload.as_deref(), Some("a"));
        assert_eq!(v[0].deadline_ns, Some(2_000_000));
        assert_eq!(v[1].payload_hex.as_deref(), Some("00ff"));
        assert_eq!(
            v[2].payload.as_deref(),
            Some("{\"k\": 1}"),
            "kept as written"
        );
        assert_eq!(v[2].content_type.as_deref(), Some("application/json"));

        let p = "hello\r\n\n{not json at first}\n";
        assert_eq!(detect("hello\n{x}"), InputFormat::PlainLines);
        let v = parse_inputs(p, "in.txt").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].payload.as_deref(), Some("hello"));
    }

    #[test]
    fn json_payloads_are_kept_byte_for_byte() {
        let line = "{\"payload\":  {\"z\": 1,   \"a\" :[2, 3], \"m\":{\"y\":null}} , \"content_type\": \"x/json\"}";
        let v = parse_inputs(line, "x").unwrap();
        assert_eq!(
            v[0].payload.as_deref(),
            Some("{\"z\": 1,   \"a\" :[2, 3], \"m\":{\"y\":null}}")
        );
        assert_eq!(v[0].content_type.as_deref(), Some("x/json"));
        let v = parse_inputs("{\"payload\": \"a\\u00e9\\n\"}", "x").unwrap();
        assert_eq!(
            v[0].payload.as_deref(),
            Some("a\u{e9}\n"),
            "strings are unescaped"
        );
        let v = parse_inputs("{\"payload\": 1.50}", "x").unwrap();
        assert_eq!(v[0].payload.as_deref(), Some("1.50"));
    }

    #[test]
    fn numbered_elements_carry_their_line() {
        let v = parse_numbered("\na\n\nb\n", "x").unwrap();
        let lines: Vec<usize> = v.iter().map(|(n, _)| *n).collect();
        assert_eq!(lines, [2, 4]);
        assert_eq!(v[1].1.payload.as_deref(), Some("b"));
    }

    #[test]
    fn a_config_is_text_or_a_file() {
        assert_eq!(read_config("{\"count\": 2}").unwrap(), "{\"count\": 2}");
        assert_eq!(read_config("@@home").unwrap(), "@home");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.json");
        std::fs::write(&file, "{\"count\": 4}\n").unwrap();
        let arg = format!("@{}", file.display());
        assert_eq!(read_config(&arg).unwrap(), "{\"count\": 4}\n");
        let e = read_config("@/no/such/config.json").unwrap_err();
        assert_eq!(e.code(), crate::cli::EXIT_INPUT);
        assert!(e.message().contains("/no/such/config.json"), "{e}");
        std::fs::write(&file, [0xff, 0xfe]).unwrap();
        assert!(
            read_config(&arg)
                .unwrap_err()
                .message()
                .contains("not UTF-8")
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e =
            parse_inputs("{\"payload\": \"a\"}\n\n{\"payload\": oops}\n", "in.jsonl").unwrap_err();
        assert!(e.message().contains("in.jsonl at line 3"), "{e}");
        let e = parse_inputs("{\"payload\": \"a\", \"colour\": 1}", "x").unwrap_err();
        assert!(e.message().contains("colour"), "{e}");
        let e = parse_inputs("{\"payload_hex\": \"zz\"}", "x").unwrap_err();
        assert!(e.message().contains("not a hex byte"), "{e}");
    }
}
