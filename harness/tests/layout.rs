//! The layout holds its two rules: no cycle among the top-level modules of
//! either crate (a module that imports another is not imported back, even
//! through others), and no Rust source file of the workspace over 800 lines
//! before its tests (`#[cfg(test)]`). A file that grows past the bound is
//! split by concept; an import that closes a cycle moves the item it needs
//! to the lower module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most lines a source file may have before its tests.
const MAX_LINES: usize = 800;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, recursively, in a stable order.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if p.is_dir() {
                if !matches!(name, "target" | "published" | "corpus" | "artifacts") {
                    stack.push(p);
                }
            } else if name.ends_with(".rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The text of a file before its tests, without comment lines.
fn code_before_tests(text: &str) -> String {
    text.split("#[cfg(test)]")
        .next()
        .unwrap_or("")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::`: paths
/// (`crate::a::B`) and the first segments of a `use crate::{a::B, c}`
/// group.
fn crate_references(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // The group's items at brace depth 0, each named by its first
            // segment: `backend::{A, B}`, `error::E` and `sim` in
            // `crate::{backend::{A, B}, error::E, sim}`.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(item.trim()));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.insert(ident(item.trim()));
        } else {
            out.insert(ident(after));
        }
        rest = after;
    }
    out.remove("");
    out
}

/// The top-level modules of the crate whose source is `src` and, for each,
/// the others it names.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(src)
        .expect("src is a directory")
        .flatten()
    {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if matches!(name, "lib.rs" | "main.rs" | "bin") {
            continue;
        }
        let module = name.trim_end_matches(".rs").to_string();
        let files = if path.is_dir() {
            rust_files(&path)
        } else {
            vec![path.clone()]
        };
        let refs = graph.entry(module.clone()).or_default();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            refs.extend(crate_references(&code_before_tests(&text)));
        }
        refs.remove(&module);
    }
    let names: BTreeSet<String> = graph.keys().cloned().collect();
    for refs in graph.values_mut() {
        refs.retain(|r| names.contains(r));
    }
    graph
}

/// The cycles of a graph: its strongly connected components of more than
/// one module (Tarjan's algorithm).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in &s.graph[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// The edges among `component` that make it a cycle, for the message.
fn describe(graph: &BTreeMap<String, BTreeSet<String>>, component: &[String]) -> String {
    component
        .iter()
        .map(|m| {
            let inside: Vec<&str> = graph[m]
                .iter()
                .filter(|r| component.contains(r))
                .map(String::as_str)
                .collect();
            format!("{m} -> {}", inside.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn the_references_of_a_use_group_and_of_a_path_are_found() {
    let code = "use crate::{backend::{A, B}, error::E, sim};\nlet x = crate::table::Table::new();";
    let refs = crate_references(code);
    let want: BTreeSet<String> = ["backend", "error", "sim", "table"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(refs, want);
}

#[test]
fn a_cycle_is_found_and_a_chain_is_not() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    assert!(cycles(&graph(&[("a", "b"), ("b", "c")])).is_empty());
    assert_eq!(
        cycles(&graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])),
        vec![vec!["a".to_string(), "b".into(), "c".into()]]
    );
}

#[test]
fn no_top_level_module_of_either_crate_is_in_a_cycle() {
    let root = root();
    if !root.join("src/lib.rs").is_file() {
        eprintln!("skipped: no workspace beside this package");
        return;
    }
    let mut problems = Vec::new();
    for (krate, src) in [
        ("torvyn-engine", root.join("src")),
        ("torvyn-harness", root.join("harness/src")),
    ] {
        let graph = module_graph(&src);
        assert!(
            graph.len() > 5,
            "{krate}: modules of {} not found",
            src.display()
        );
        for c in cycles(&graph) {
            problems.push(format!("{krate}: {}", describe(&graph, &c)));
        }
    }
    assert!(
        problems.is_empty(),
        "module cycles (move the item the lower module needs down to it):\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_source_file_is_over_800_lines_before_its_tests() {
    let root = root();
    if !root.join("src/lib.rs").is_file() {
        eprintln!("skipped: no workspace beside this package");
        return;
    }
    let mut over = Vec::new();
    let mut seen = 0;
    for dir in [
        "src", "harness", "tests", "benches", "examples", "fuzz", "compat",
    ] {
        for f in rust_files(&root.join(dir)) {
            seen += 1;
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            let lines = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or("")
                .lines()
                .count();
            if lines > MAX_LINES {
                let shown = f.strip_prefix(&root).unwrap_or(&f).display().to_string();
                over.push(format!("{shown}: {lines} lines"));
            }
        }
    }
    assert!(
        seen > 100,
        "only {seen} source files found under {}",
        root.display()
    );
    assert!(
        over.is_empty(),
        "files over {MAX_LINES} lines before their tests (split them by concept):\n{}",
        over.join("\n")
    );
}
