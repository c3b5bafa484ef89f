//! The `.t` format of the CLI cases (cases/README.md): directives that
//! write files, run `torvyn-sim` with its stdin, environment, directory and
//! expected exit code, and show a file, in order.

use std::path::{Path, PathBuf};

/// A parsed `.t` file.
#[derive(Debug)]
pub struct Case {
    pub path: PathBuf,
    /// The real-toolchain guests it needs (`NEEDS-GUEST`).
    pub guests: Vec<String>,
    pub steps: Vec<Step>,
}

/// One step of a case, run in file order.
#[derive(Debug)]
pub enum Step {
    /// Write a file into the case's temporary directory.
    File { name: String, contents: Vec<u8> },
    /// Run `torvyn-sim`.
    Run(Run),
    /// Show a file in the blessed stdout.
    Cat { text: String },
}

#[derive(Debug)]
pub struct Run {
    /// The line of the `RUN` in the `.t`.
    pub line: usize,
    /// The arguments as written, for the blessed outputs' headers.
    pub text: String,
    pub words: Vec<String>,
    pub stdin: Option<String>,
    pub exit: i32,
    pub env: Vec<(String, String)>,
    pub cwd: Option<String>,
}

/// Which block the `|` lines that follow add to.
enum Block {
    None,
    File,
    Stdin,
}

/// Parses a `.t` file (format: cases/README.md). An error names the file
/// and line.
pub fn parse(path: &Path, text: &str) -> Result<Case, String> {
    let mut case = Case {
        path: path.to_path_buf(),
        guests: Vec::new(),
        steps: Vec::new(),
    };
    let mut block = Block::None;
    for (k, raw) in text.lines().enumerate() {
        let line = k + 1;
        let at = |msg: String| format!("{}:{line}: {msg}", path.display());
        fn last_run<'a>(
            steps: &'a mut [Step],
            what: &str,
            at: impl Fn(String) -> String,
        ) -> Result<&'a mut Run, String> {
            match steps.last_mut() {
                Some(Step::Run(run)) => Ok(run),
                _ => Err(at(format!("{what} must follow a RUN line"))),
            }
        }
        if let Some(content) = raw.strip_prefix('|') {
            let content = match content.strip_prefix(' ') {
                Some(c) => c,
                None if content.is_empty() => "",
                None => return Err(at("a content line is `| TEXT` or `|` alone".into())),
            };
            match (&block, case.steps.last_mut()) {
                (Block::File, Some(Step::File { contents, .. })) => {
                    contents.extend_from_slice(content.as_bytes());
                    contents.push(b'\n');
                }
                (Block::Stdin, Some(Step::Run(run))) => {
                    let stdin = run.stdin.get_or_insert_with(String::new);
                    stdin.push_str(content);
                    stdin.push('\n');
                }
                _ => return Err(at("a `|` line must follow FILE or STDIN".into())),
            }
            continue;
        }
        block = Block::None;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (directive, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
        let rest = rest.trim();
        match directive {
            "RUN" => {
                let words = split_words(rest).map_err(at)?;
                case.steps.push(Step::Run(Run {
                    line,
                    text: rest.to_string(),
                    words,
                    stdin: None,
                    exit: 0,
                    env: Vec::new(),
                    cwd: None,
                }));
            }
            "STDIN" => {
                let run = last_run(&mut case.steps, "STDIN", at)?;
                if run.stdin.is_some() {
                    return Err(at("a second STDIN for the same RUN".into()));
                }
                run.stdin = Some(String::new());
                block = Block::Stdin;
            }
            "EXIT" => {
                let code = rest
                    .parse()
                    .map_err(|_| at(format!("EXIT takes a number, not `{rest}`")))?;
                last_run(&mut case.steps, "EXIT", at)?.exit = code;
            }
            "ENV" => {
                let (name, value) = rest
                    .split_once('=')
                    .ok_or_else(|| at(format!("ENV takes NAME=VALUE, not `{rest}`")))?;
                last_run(&mut case.steps, "ENV", at)?
                    .env
                    .push((name.to_string(), value.to_string()));
            }
            "CD" => last_run(&mut case.steps, "CD", at)?.cwd = Some(rest.to_string()),
            "FILE" => {
                let mut words = rest.split_whitespace();
                let name = words
                    .next()
                    .ok_or_else(|| at("FILE takes a file name".into()))?;
                let contents = match (words.next(), words.next(), words.next()) {
                    (None, _, _) => {
                        block = Block::File;
                        Vec::new()
                    }
                    (Some("HEX"), Some(hex), None) => decode_hex(hex).map_err(at)?,
                    _ => return Err(at("FILE takes NAME, or NAME HEX BYTES".into())),
                };
                if name.contains('/') || name.contains("..") {
                    return Err(at(format!(
                        "FILE names a file of the case's directory, not a path: `{name}`"
                    )));
                }
                case.steps.push(Step::File {
                    name: name.to_string(),
                    contents,
                });
            }
            "CAT" => case.steps.push(Step::Cat {
                text: rest.to_string(),
            }),
            "NEEDS-GUEST" => case
                .guests
                .extend(rest.split_whitespace().map(String::from)),
            _ => {
                return Err(at(format!(
                    "unknown directive `{directive}` (RUN, STDIN, EXIT, ENV, CD, FILE, CAT, \
                     NEEDS-GUEST; cases/README.md)"
                )));
            }
        }
    }
    if !case.steps.iter().any(|s| matches!(s, Step::Run(_))) {
        return Err(format!("{}: no RUN line", path.display()));
    }
    Ok(case)
}

/// Splits a RUN line into words at spaces; text in single quotes is one
/// word (or part of one), taken literally.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err(format!("an unclosed ' in `{line}`"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn decode_hex(hex: &str) -> Result<Vec<u8>, String> {
    if !hex.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits in `{hex}`"));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| format!("not hex: `{hex}`")))
        .collect()
}

#[test]
fn a_bad_line_is_an_error_naming_the_file_and_line() {
    let path = Path::new("topic/x.t");
    let err = parse(path, "RUN demo\nEXPECT 0\n").unwrap_err();
    assert!(
        err.starts_with("topic/x.t:2: unknown directive `EXPECT`"),
        "{err}"
    );
    let err = parse(path, "# nothing\n").unwrap_err();
    assert!(err.contains("no RUN line"), "{err}");
    let err = parse(path, "STDIN\n").unwrap_err();
    assert!(err.contains("x.t:1: STDIN must follow a RUN line"), "{err}");
    let err = parse(path, "RUN run 'a b\n").unwrap_err();
    assert!(err.contains("unclosed '"), "{err}");
    let case = parse(path, "RUN pipeline --config 'a={\"count\": 4}' x''y\n").unwrap();
    let Step::Run(run) = &case.steps[0] else {
        panic!()
    };
    assert_eq!(
        run.words,
        ["pipeline", "--config", "a={\"count\": 4}", "xy"]
    );
}
