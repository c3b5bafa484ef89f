//! `docs/component-authors.md` against the guests `fixtures/guests/build.sh`
//! builds: the toolchain versions the guide installs are the ones the
//! script pins, and a code block marked `<!-- same as: PATH -->` is that
//! file's code (its leading comment left out), so the guide shows what the
//! test suite builds and runs (`tests/all/guests.rs`).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The guide, or `None` in a packaged crate (it is the workspace's).
fn guide() -> Option<String> {
    std::fs::read_to_string(root().join("docs/component-authors.md")).ok()
}

/// `NAME=VALUE` from build.sh.
fn pinned(script: &str, name: &str) -> String {
    script
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("build.sh sets {name}"))
        .to_string()
}

#[test]
fn the_guide_installs_the_toolchain_versions_build_sh_pins() {
    let Some(guide) = guide() else {
        eprintln!("skipped: no workspace docs/ next to this package");
        return;
    };
    let script = std::fs::read_to_string(root().join("fixtures/guests/build.sh")).unwrap();
    let py = pinned(&script, "PY_VERSION");
    let js = pinned(&script, "JS_VERSION");
    for install in [
        format!("pip install componentize-py=={py}"),
        format!("npm install @bytecodealliance/componentize-js@{js}"),
    ] {
        assert!(guide.contains(&install), "the guide lacks `{install}`");
    }
    // No other version of either is named.
    for (tool, version) in [("componentize-py ", &py), ("componentize-js ", &js)] {
        for (i, _) in guide.match_indices(tool) {
            let rest = &guide[i + tool.len()..];
            if rest.starts_with(|c: char| c.is_ascii_digit()) {
                assert!(
                    rest.starts_with(version.as_str()),
                    "the guide names {tool}{} where build.sh pins {version}",
                    &rest[..rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len())]
                );
            }
        }
    }
    let readme = std::fs::read_to_string(root().join("fixtures/guests/README.md")).unwrap();
    assert!(readme.contains(&format!("componentize-py {py}")));
    assert!(readme.contains(&format!("componentize-js {js}")));
}

/// The file's code: its leading comment lines and the blank lines after
/// them left out.
fn code_of(text: &str) -> String {
    text.lines()
        .skip_while(|l| l.starts_with('#') || l.starts_with("//") || l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn the_guides_examples_are_the_guests_the_suite_builds() {
    let Some(guide) = guide() else {
        eprintln!("skipped: no workspace docs/ next to this package");
        return;
    };
    let mut lines = guide.lines();
    let mut compared = 0;
    while let Some(line) = lines.next() {
        let Some(path) = line
            .strip_prefix("<!-- same as: ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().expect("a block follows the marker");
        assert!(fence.starts_with("```"), "a code block follows `{line}`");
        let block: String = lines
            .by_ref()
            .take_while(|l| *l != "```")
            .map(|l| format!("{l}\n"))
            .collect();
        let file =
            std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(
            block,
            code_of(&file),
            "the guide's block differs from {path}: copy the file's code into the guide"
        );
        compared += 1;
    }
    assert!(
        compared >= 2,
        "the guide marks its Python and JavaScript examples"
    );
}
