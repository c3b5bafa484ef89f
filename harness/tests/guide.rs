//! The guide (`docs/`, an mdBook) and README.md:
//!
//! * `docs/src/component-authors.md` against the guests
//!   `fixtures/guests/build.sh` builds: the toolchain versions the chapter
//!   installs are the ones the script pins, and a code block marked
//!   `<!-- same as: PATH -->` is that file's code (its leading comment left
//!   out), so the chapter shows what the test suite builds and runs
//!   (`tests/all/guests.rs`);
//! * every relative link of README.md, the guide and the other Markdown
//!   pages of the workspace names a file or directory of the tree (and a
//!   `#fragment`, a heading of that page);
//! * `docs/src/SUMMARY.md` lists every chapter under `docs/src/`, and
//!   nothing else.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The guide, or `None` in a packaged crate (it is the workspace's).
fn guide() -> Option<String> {
    std::fs::read_to_string(root().join("docs/src/component-authors.md")).ok()
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

/// The Markdown pages whose links are checked: README.md, every page of
/// the guide (`docs/`), and the other pages of the workspace.
fn markdown_pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut pages = Vec::new();
    walk(&root().join("docs"), &mut pages);
    for page in [
        "README.md",
        "ARCHITECTURE.md",
        "CHANGELOG.md",
        "benches/RESULTS.md",
        "fixtures/README.md",
        "fixtures/guests/README.md",
        "fuzz/README.md",
        "fuzz/RESULTS.md",
        "fuzz/regressions/README.md",
        "harness/README.md",
        "compat/torvyn-engine-0.1/README.md",
    ] {
        let path = root().join(page);
        assert!(path.is_file(), "{page} is gone: update markdown_pages()");
        pages.push(path);
    }
    pages
}

/// The lines of `text` outside fenced code blocks, with their numbers
/// (from 1) and inline code spans blanked out.
fn prose_lines(text: &str) -> Vec<(usize, String)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // `code` spans: a link inside one is text, not a link.
        let mut prose = String::new();
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
                prose.push(' ');
            } else {
                prose.push(if in_code { ' ' } else { c });
            }
        }
        out.push((i + 1, prose));
    }
    out
}

/// The targets of the inline links `[text](target)` and reference
/// definitions `[label]: target` of `line`.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let end = after.find(')').unwrap_or(after.len());
        let target = after[..end].split_whitespace().next().unwrap_or("");
        targets.push(target.trim_matches(['<', '>']).to_string());
        rest = &after[end..];
    }
    let trimmed = line.trim_start();
    if trimmed.starts_with('[')
        && let Some(i) = trimmed.find("]: ")
    {
        targets.push(trimmed[i + 3..].trim().to_string());
    }
    targets
}

/// The anchors of a page's headings, as GitHub and mdBook make them:
/// lower case, markup and punctuation dropped, spaces as `-`, a repeated
/// heading suffixed `-1`, `-2`...
fn anchors(text: &str) -> Vec<String> {
    let mut anchors = Vec::new();
    let mut counts = std::collections::HashMap::<String, usize>::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if fenced || hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        // A link in a heading counts with its text only.
        let mut heading = line[hashes..].trim().to_string();
        while let (Some(open), Some(mid)) = (heading.find('['), heading.find("](")) {
            let Some(close) = heading[mid..].find(')') else {
                break;
            };
            if open > mid {
                break;
            }
            heading = format!(
                "{}{}{}",
                &heading[..open],
                &heading[open + 1..mid],
                &heading[mid + close + 1..]
            );
        }
        let slug: String = heading
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = counts.entry(slug.clone()).or_insert(0);
        anchors.push(if *n == 0 { slug } else { format!("{slug}-{n}") });
        *n += 1;
    }
    anchors
}

#[test]
fn every_relative_link_of_the_readme_and_the_guide_names_a_file_of_the_tree() {
    if !root().join("docs/src/SUMMARY.md").is_file() {
        eprintln!("skipped: no workspace docs/ next to this package");
        return;
    }
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in markdown_pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let shown = page.strip_prefix(root()).unwrap().display().to_string();
        for (line, prose) in prose_lines(&text) {
            for target in link_targets(&prose) {
                if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (path, fragment) = match target.split_once('#') {
                    Some((p, f)) => (p, Some(f)),
                    None => (target.as_str(), None),
                };
                let file = if path.is_empty() {
                    page.clone()
                } else {
                    page.parent().unwrap().join(path)
                };
                if !file.exists() {
                    problems.push(format!(
                        "{shown}:{line}: `{target}` names no file of the tree"
                    ));
                    continue;
                }
                if let Some(fragment) = fragment
                    && file.extension().is_some_and(|e| e == "md")
                {
                    let target_text = std::fs::read_to_string(&file).unwrap();
                    if !anchors(&target_text).iter().any(|a| a == fragment) {
                        problems.push(format!(
                            "{shown}:{line}: `{target}`: {} has no heading `#{fragment}`",
                            file.strip_prefix(root()).unwrap_or(&file).display()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken links (paths are relative to the page that has the link):\n{}",
        problems.join("\n")
    );
    assert!(checked >= 100, "only {checked} relative links found");
}

#[test]
fn the_guides_summary_lists_every_chapter_once() {
    let src = root().join("docs/src");
    let Ok(summary) = std::fs::read_to_string(src.join("SUMMARY.md")) else {
        eprintln!("skipped: no workspace docs/ next to this package");
        return;
    };
    let mut listed = Vec::new();
    for (_, prose) in prose_lines(&summary) {
        listed.extend(link_targets(&prose));
    }
    let mut chapters = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        assert!(
            !path.is_dir(),
            "{}: chapters live directly in docs/src (or extend this test)",
            path.display()
        );
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".md") && name != "SUMMARY.md" {
            chapters.push(name);
        }
    }
    chapters.sort();
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        listed.len(),
        "SUMMARY.md lists a chapter twice: {listed:?}"
    );
    assert_eq!(
        unique, chapters,
        "SUMMARY.md must list every chapter file of docs/src, and only those"
    );
    // mdBook's book.toml names the chapters' directory.
    let book = std::fs::read_to_string(root().join("docs/book.toml")).unwrap();
    assert!(
        book.lines().any(|l| l.replace(' ', "") == "src=\"src\""),
        "{book}"
    );
}
