//! How the CLI cases' outputs are made comparable (cases/README.md, "What
//! is normalized"): the case's directories become `$TMP`, `$GUESTS` and
//! `$ROOT`, and wall-clock figures become placeholders, kept as printed
//! when they are not a plausible figure so the diff shows them.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::support::{guests_dir, workspace_root};

/// The directories a case's text names by variable: `$TMP` (the case's
/// temporary directory), `$GUESTS` (the real-toolchain guests) and
/// `$ROOT` (the workspace), in the order outputs are normalized.
pub struct Vars {
    pub dirs: Vec<(&'static str, PathBuf)>,
}

impl Vars {
    pub fn new(tmp: &Path) -> Vars {
        Vars {
            dirs: vec![
                ("$TMP", tmp.to_path_buf()),
                ("$GUESTS", guests_dir()),
                ("$ROOT", workspace_root()),
            ],
        }
    }

    /// `text` with each variable replaced by its directory.
    pub fn expand(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, dir) in &self.dirs {
            out = out.replace(name, &dir.display().to_string());
        }
        out
    }

    pub fn path(&self, text: &str) -> PathBuf {
        PathBuf::from(self.expand(text))
    }
}

/// A figure the rules replace: kept as printed when it is not a finite
/// number at least `min` (above it, with `strict`), so a zero rate or a
/// `NaN` ratio shows in the diff.
fn figure(text: &str, min: f64, strict: bool) -> bool {
    match text.replace(' ', "").parse::<f64>() {
        Ok(v) if v.is_finite() => {
            if strict {
                v > min
            } else {
                v >= min
            }
        }
        _ => false,
    }
}

/// One normalization rule: a pattern, and what its match becomes.
struct Rule {
    pattern: Regex,
    replace: fn(&Captures) -> String,
}

/// The rules of cases/README.md, in order (the directories come first).
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |pattern: &str, replace: fn(&Captures) -> String| Rule {
        pattern: Regex::new(pattern).unwrap(),
        replace,
    };
    // A wall-clock duration as the CLI prints it: `940.25 µs`, `6.4 ms`.
    const DURATION: &str = r"[0-9]+(?:\.[0-9]+)? (?:ns|µs|ms|s)";
    vec![
        // Log lines: the timestamp and a span's busy and idle times.
        rule(
            r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z",
            |_| "[timestamp]".into(),
        ),
        rule(r"time\.(busy|idle)=[0-9.]+(?:ns|µs|ms|s)", |c| {
            format!("time.{}=[time]", &c[1])
        }),
        // The `wall time` line of a table: its duration and rate.
        rule(
            &format!(r"(?m)^(wall time +)({DURATION})  \(([0-9][0-9 ]*(?:\.[0-9]+)?) ([^)]*)/s\)$"),
            |c| {
                let time = c[2].split(' ').next().unwrap();
                if figure(time, 0.0, false) && figure(&c[3], 0.0, false) {
                    format!("{}[time]  ([rate] {}/s)", &c[1], &c[4])
                } else {
                    c[0].to_string()
                }
            },
        ),
        // bench's table: each side's time per element, their ratio, the
        // compile line's times.
        rule(r"(?m)^  ([a-z]+) +([0-9.]+) ns/element$", |c| {
            if figure(&c[2], 0.0, true) {
                format!("  {} [time] ns/element", &c[1])
            } else {
                c[0].to_string()
            }
        }),
        rule(r"(?m)^  ratio +([0-9.]+) \(", |c| {
            if figure(&c[1], 0.0, true) {
                "  ratio [ratio] (".into()
            } else {
                c[0].to_string()
            }
        }),
        rule(r"(?m)^  compile +[^\n]*$", |c| {
            static MS: LazyLock<Regex> =
                LazyLock::new(|| Regex::new(r"( +)([0-9]+(?:\.[0-9]+)?) ms\b").unwrap());
            MS.replace_all(&c[0], |m: &Captures| {
                if figure(&m[2], 0.0, false) {
                    format!("{}[time]", &m[1])
                } else {
                    m[0].to_string()
                }
            })
            .into_owned()
        }),
        // bench's JSON report: the same figures.
        rule(
            r#""(ns_per_element|ratio|ms|other_ms)": ([-0-9.eE+]+|null)"#,
            |c| {
                let strict = matches!(&c[1], "ns_per_element" | "ratio");
                if figure(&c[2], 0.0, strict) {
                    format!(
                        "\"{}\": [{}]",
                        &c[1],
                        if &c[1] == "ratio" { "ratio" } else { "time" }
                    )
                } else {
                    c[0].to_string()
                }
            },
        ),
    ]
});

/// `text` with the case's directories as `$TMP`, `$GUESTS` and `$ROOT`, and
/// wall-clock figures as placeholders (cases/README.md lists the rules).
pub fn normalize(text: &str, vars: &Vars) -> String {
    let mut out = text.to_string();
    for (name, dir) in &vars.dirs {
        let mut forms = vec![dir.display().to_string()];
        if let Ok(canonical) = dir.canonicalize() {
            forms.push(canonical.display().to_string());
        }
        // The longest form first: one may contain the other.
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        for form in forms {
            out = out.replace(&form, name);
        }
    }
    for rule in RULES.iter() {
        out = rule.pattern.replace_all(&out, rule.replace).into_owned();
    }
    out
}

#[test]
fn wall_clock_figures_become_placeholders_and_odd_ones_stay() {
    let vars = Vars::new(Path::new("/tmp/case-dir"));
    let text = "wall time     940.25 µs  (5 318 elements delivered/s)\n\
                wall time     1.5 ms  (0 elements/s)\n\
                engine time   21.86 µs  (228 780 elements delivered/s)\n\
                \x20 engine        5702.5 ns/element\n\
                \x20 mock          0 ns/element\n\
                \x20 ratio          1.033 (engine / baseline)\n\
                \x20 compile   6.4 ms: cache miss; written to /tmp/case-dir/c); in 1.0 ms\n\
                \"ratio\": NaN, \"ms\": 0.5, \"ns_per_element\": 0.0\n";
    assert_eq!(
        normalize(text, &vars),
        "wall time     [time]  ([rate] elements delivered/s)\n\
         wall time     [time]  ([rate] elements/s)\n\
         engine time   21.86 µs  (228 780 elements delivered/s)\n\
         \x20 engine [time] ns/element\n\
         \x20 mock          0 ns/element\n\
         \x20 ratio [ratio] (engine / baseline)\n\
         \x20 compile   [time]: cache miss; written to $TMP/c); in [time]\n\
         \"ratio\": NaN, \"ms\": [time], \"ns_per_element\": 0.0\n"
    );
}

#[test]
fn log_times_and_the_case_directories_become_names() {
    let vars = Vars::new(Path::new("/tmp/case-dir"));
    let root = workspace_root().display().to_string();
    let guests = guests_dir().display().to_string();
    let text = format!(
        "2026-12-07T09:28:10.661221Z  INFO torvyn.cold{{operation=\"compile\" \
         subject=\"{root}/fixtures/x.wat\"}}: close time.busy=7.83ms time.idle=22.1µs\n\
         {guests}/py-sink.wasm /tmp/case-dir/in.txt\n"
    );
    assert_eq!(
        normalize(&text, &vars),
        "[timestamp]  INFO torvyn.cold{operation=\"compile\" \
         subject=\"$ROOT/fixtures/x.wat\"}: close time.busy=[time] time.idle=[time]\n\
         $GUESTS/py-sink.wasm $TMP/in.txt\n"
    );
}
