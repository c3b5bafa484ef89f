//! `docs/src/scenario-reference.md` against the types it documents.
//!
//! The names a scenario or pipeline file may use are read from the types
//! themselves: this test parses `src/` and the engine's `../src/` (with
//! `syn`; the engine derives serde behind its `serde` feature,
//! `#[cfg_attr(feature = "serde", ...)]`), starts at `Scenario`
//! and `Pipeline`, follows every field's type to the `Deserialize` types
//! it names (inputs, stages, scripts, host-fault plans...), and applies
//! serde's attributes (`rename_all`, `rename`, `alias`, `skip`,
//! `untagged`). Then:
//!
//! * every name of every such type has a row in a table of the page marked
//!   `<!-- fields: TYPE ... -->` for that type (the words of an enum of
//!   words may instead be listed in the row of a field of that type), and
//!   every row of such a table names something one of its types accepts;
//! * every block after `<!-- example: scenario|pipeline|mock -->` loads;
//! * the defaults the page states are the code's.
//!
//! A new field is one new row (its words listed there when its type is an
//! enum of words); a new nested type with fields, one new table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::{Attribute, Fields, Item, LitStr, Type};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The page, or `None` in a packaged crate (it is the workspace's).
fn page() -> Option<String> {
    std::fs::read_to_string(root().join("docs/src/scenario-reference.md")).ok()
}

/// A struct or enum with `#[derive(Deserialize)]` in `src/`.
struct Container {
    /// `faults` for `src/faults.rs`, `backend` for `src/backend/mod.rs`.
    module: String,
    item: Item,
}

/// The names a file may use for a type, and the types its fields name
/// (with the field's names; none for an unnamed field).
#[derive(Default)]
struct Shape {
    names: BTreeSet<String>,
    refers_to: Vec<(Vec<String>, Vec<String>)>,
    /// An enum whose variants are all words (no values).
    words_only: bool,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `Deserialize` struct and enum at the top level of a file in
/// `src/` or the engine's `src/`, by name (a name may be in several
/// modules), and the names of the other structs and enums (not those with
/// a hand-written `Deserialize`, which read one value, as a number does).
fn containers() -> (BTreeMap<String, Vec<Container>>, BTreeSet<String>) {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let engine = root().join("src");
    if engine.is_dir() {
        rust_files(&engine, &mut files);
    }
    let mut found: BTreeMap<String, Vec<Container>> = BTreeMap::new();
    let mut others = BTreeSet::new();
    let mut leaves = BTreeSet::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let module = if stem == "mod" || stem == "lib" {
            path.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
        } else {
            stem
        }
        .to_string();
        for item in file.items {
            // A type with a hand-written `Deserialize` (`Percent`: a number
            // or "10%") is read as one value: a leaf, like a number.
            if let Item::Impl(imp) = &item
                && imp.trait_.as_ref().is_some_and(|(_, t, _)| {
                    t.segments.last().is_some_and(|s| s.ident == "Deserialize")
                })
                && let syn::Type::Path(tp) = &*imp.self_ty
                && let Some(last) = tp.path.segments.last()
            {
                leaves.insert(last.ident.to_string());
                continue;
            }
            let (ident, attrs) = match &item {
                Item::Struct(s) => (s.ident.to_string(), &s.attrs),
                Item::Enum(e) => (e.ident.to_string(), &e.attrs),
                _ => continue,
            };
            if derives_deserialize(attrs) {
                found.entry(ident).or_default().push(Container {
                    module: module.clone(),
                    item,
                });
            } else {
                others.insert(ident);
            }
        }
    }
    for leaf in &leaves {
        others.remove(leaf);
    }
    (found, others)
}

/// An attribute as written, or one the `serde` feature turns on.
enum SerdeAttr<'a> {
    Written(&'a syn::Meta),
    Enabled(syn::Meta),
}

impl std::ops::Deref for SerdeAttr<'_> {
    type Target = syn::Meta;

    fn deref(&self) -> &syn::Meta {
        match self {
            Self::Written(m) => m,
            Self::Enabled(m) => m,
        }
    }
}

/// `attrs` with every `#[cfg_attr(feature = "serde", A, B...)]` read as
/// `#[A] #[B]...` (the engine's serde derives and attributes).
fn with_serde_feature(attrs: &[Attribute]) -> Vec<SerdeAttr<'_>> {
    use syn::punctuated::Punctuated;
    let mut out = Vec::new();
    for a in attrs {
        let enabled = a
            .path()
            .is_ident("cfg_attr")
            .then(|| {
                a.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
                    .ok()
            })
            .flatten()
            .and_then(|metas| {
                let mut metas = metas.into_iter();
                let serde_feature = matches!(
                    metas.next(),
                    Some(syn::Meta::NameValue(nv)) if nv.path.is_ident("feature")
                        && matches!(&nv.value, syn::Expr::Lit(l)
                            if matches!(&l.lit, syn::Lit::Str(s) if s.value() == "serde"))
                );
                serde_feature.then(|| metas.collect::<Vec<_>>())
            });
        match enabled {
            Some(metas) => out.extend(metas.into_iter().map(SerdeAttr::Enabled)),
            None => out.push(SerdeAttr::Written(&a.meta)),
        }
    }
    out
}

fn derives_deserialize(attrs: &[Attribute]) -> bool {
    with_serde_feature(attrs).iter().any(|a| {
        a.path().is_ident("derive") && {
            let mut yes = false;
            a.require_list()
                .unwrap()
                .parse_nested_meta(|m| {
                    yes |= m.path.segments.last().unwrap().ident == "Deserialize";
                    Ok(())
                })
                .unwrap();
            yes
        }
    })
}

/// The serde attributes this test understands.
#[derive(Default)]
struct Serde {
    rename_all: Option<String>,
    rename: Option<String>,
    aliases: Vec<String>,
    skip: bool,
    untagged: bool,
    /// `try_from` or `from`: the type a file writes instead.
    read_as: Option<String>,
}

fn serde_attrs(attrs: &[Attribute], what: &str) -> Serde {
    let mut s = Serde::default();
    let attrs = with_serde_feature(attrs);
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        a.require_list()
            .and_then(|list| {
                list.parse_nested_meta(|m| {
            let key = m
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            let string = |m: &syn::meta::ParseNestedMeta| -> syn::Result<String> {
                Ok(m.value()?.parse::<LitStr>()?.value())
            };
            match key.as_str() {
                "rename_all" => s.rename_all = Some(string(&m)?),
                "rename" => s.rename = Some(string(&m)?),
                "alias" => s.aliases.push(string(&m)?),
                "skip" | "skip_deserializing" => s.skip = true,
                "untagged" => s.untagged = true,
                "deny_unknown_fields" | "default" | "skip_serializing" => {
                    if m.input.peek(syn::Token![=]) {
                        let _: syn::Expr = m.value()?.parse()?;
                    }
                }
                "try_from" | "from" => s.read_as = Some(string(&m)?),
                "with" | "skip_serializing_if" | "into" | "deserialize_with" | "serialize_with" => {
                    let _: syn::Expr = m.value()?.parse()?;
                }
                other => panic!(
                    "{what}: `#[serde({other} ...)]` changes what a file may write and this \
                     test does not know it; teach `serde_attrs` and `shape` what it means"
                ),
            }
            Ok(())
        })
            })
            .unwrap_or_else(|e| panic!("{what}: cannot read its serde attributes: {e}"));
    }
    s
}

/// `ident` as serde spells it under `rule`; `variant` tells a PascalCase
/// variant from a snake_case field.
fn renamed(ident: &str, rule: Option<&str>, variant: bool, what: &str) -> String {
    let words: Vec<String> = if variant {
        let mut words = Vec::new();
        for c in ident.chars() {
            if c.is_uppercase() || words.is_empty() {
                words.push(String::new());
            }
            words.last_mut().unwrap().push(c);
        }
        words
    } else {
        ident.split('_').map(str::to_owned).collect()
    };
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    match rule {
        None => ident.to_string(),
        Some("snake_case") => lower.join("_"),
        Some("kebab-case") => lower.join("-"),
        Some("lowercase") => lower.join(""),
        Some(other) => panic!("{what}: teach this test `rename_all = \"{other}\"`"),
    }
}

/// The names of a field or variant: its (renamed) name and its aliases.
fn names_of(ident: &str, s: &Serde, rule: Option<&str>, variant: bool, what: &str) -> Vec<String> {
    let mut names = vec![
        s.rename
            .clone()
            .unwrap_or_else(|| renamed(ident, rule, variant, what)),
    ];
    names.extend(s.aliases.iter().cloned());
    names
}

/// Every path of type names inside `ty` (`Option<Vec<InputElement>>`
/// gives `Option`, `Vec`, `InputElement`), each as its segments.
fn type_paths(ty: &Type, out: &mut Vec<Vec<String>>) {
    match ty {
        Type::Path(p) => {
            out.push(
                p.path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect(),
            );
            for seg in &p.path.segments {
                if let syn::PathArguments::AngleBracketed(args) = &seg.arguments {
                    for arg in &args.args {
                        if let syn::GenericArgument::Type(t) = arg {
                            type_paths(t, out);
                        }
                    }
                }
            }
        }
        Type::Reference(r) => type_paths(&r.elem, out),
        Type::Tuple(t) => t.elems.iter().for_each(|t| type_paths(t, out)),
        Type::Array(a) => type_paths(&a.elem, out),
        Type::Slice(s) => type_paths(&s.elem, out),
        Type::Paren(p) => type_paths(&p.elem, out),
        Type::Group(g) => type_paths(&g.elem, out),
        _ => {}
    }
}

/// The fields of a struct (or struct variant) a file may write, named by
/// `rule`, and the types they name.
fn field_shape(fields: &Fields, rule: Option<&str>, what: &str, shape: &mut Shape) {
    for f in fields {
        let s = serde_attrs(&f.attrs, what);
        if s.skip {
            continue;
        }
        let names = match &f.ident {
            Some(ident) => names_of(&ident.to_string(), &s, rule, false, what),
            None => Vec::new(),
        };
        shape.names.extend(names.iter().cloned());
        let mut paths = Vec::new();
        type_paths(&f.ty, &mut paths);
        shape
            .refers_to
            .extend(paths.into_iter().map(|p| (names.clone(), p)));
    }
}

fn shape(c: &Container, name: &str) -> Shape {
    let mut shape = Shape::default();
    match &c.item {
        // `try_from = "f64"`: the file writes the other type.
        Item::Struct(st) if serde_attrs(&st.attrs, name).read_as.is_some() => {
            let read_as = serde_attrs(&st.attrs, name).read_as.unwrap();
            let ty: Type = syn::parse_str(&read_as).unwrap();
            let mut paths = Vec::new();
            type_paths(&ty, &mut paths);
            shape
                .refers_to
                .extend(paths.into_iter().map(|p| (Vec::new(), p)));
        }
        Item::Struct(st) => {
            let s = serde_attrs(&st.attrs, name);
            field_shape(&st.fields, s.rename_all.as_deref(), name, &mut shape);
        }
        Item::Enum(en) => {
            let s = serde_attrs(&en.attrs, name);
            shape.words_only =
                !s.untagged && en.variants.iter().all(|v| matches!(v.fields, Fields::Unit));
            for v in &en.variants {
                let what = format!("{name}::{}", v.ident);
                let vs = serde_attrs(&v.attrs, &what);
                if vs.skip {
                    continue;
                }
                // An untagged enum's variants have no name in a file: a
                // newtype variant is its inner type's form, a struct
                // variant a map of its fields.
                if !s.untagged {
                    shape.names.extend(names_of(
                        &v.ident.to_string(),
                        &vs,
                        s.rename_all.as_deref(),
                        true,
                        &what,
                    ));
                }
                // serde names a struct variant's fields as written unless
                // the variant says otherwise.
                field_shape(&v.fields, vs.rename_all.as_deref(), &what, &mut shape);
            }
        }
        _ => unreachable!(),
    }
    shape
}

/// The container `path` (the segments of a type path written in module
/// `from`) names, if it is a `Deserialize` type of `src/`.
fn resolve<'a>(
    path: &[String],
    from: &str,
    found: &'a BTreeMap<String, Vec<Container>>,
    others: &BTreeSet<String>,
) -> Option<&'a Container> {
    let name = path.last()?;
    let Some(candidates) = found.get(name) else {
        // A type of src/ that a file reaches but that has no derived
        // `Deserialize` would go unchecked.
        assert!(
            !others.contains(name),
            "`{name}` (named in module `{from}`) is read from files but has no \
             #[derive(Deserialize)]: teach this test its form"
        );
        return None;
    };
    let module = (path.len() > 1).then(|| path[path.len() - 2].as_str());
    let pick: Vec<&Container> = candidates
        .iter()
        .filter(|c| match module {
            Some(m) => c.module == m,
            None => c.module == from,
        })
        .collect();
    match (pick.as_slice(), candidates.as_slice()) {
        ([one], _) => Some(one),
        ([], [one]) => Some(one),
        _ => panic!(
            "`{}` (named in module `{from}`) could mean the `{name}` of several modules; \
             write its module path",
            path.join("::")
        ),
    }
}

/// What a scenario or pipeline file reaches.
#[derive(Default)]
struct Reach {
    /// Every type, with its names.
    names: BTreeMap<String, BTreeSet<String>>,
    /// The enums of words.
    words_only: BTreeSet<String>,
    /// Each type's fields of other types: type → (owner, field names).
    used_by: BTreeMap<String, Vec<(String, Vec<String>)>>,
}

/// Every type a scenario or pipeline file reaches, with its names.
fn reachable() -> Reach {
    let (found, others) = containers();
    let mut out = Reach::default();
    let mut todo: Vec<(String, &Container)> = ["Scenario", "Pipeline"]
        .iter()
        .map(|r| {
            let c = resolve(&[r.to_string()], "", &found, &others).expect("the roots exist");
            (r.to_string(), c)
        })
        .collect();
    while let Some((name, c)) = todo.pop() {
        if out.names.contains_key(&name) {
            continue;
        }
        let shape = shape(c, &name);
        if shape.words_only {
            out.words_only.insert(name.clone());
        }
        for (fields, path) in &shape.refers_to {
            if let Some(next) = resolve(path, &c.module, &found, &others) {
                let next_name = match &next.item {
                    Item::Struct(s) => s.ident.to_string(),
                    Item::Enum(e) => e.ident.to_string(),
                    _ => unreachable!(),
                };
                out.used_by
                    .entry(next_name.clone())
                    .or_default()
                    .push((name.clone(), fields.clone()));
                todo.push((next_name, next));
            }
        }
        out.names.insert(name, shape.names);
    }
    out
}

/// A table of the page: the types its marker names, and its rows (each
/// row's names, the backticked words of its first cell, and its cells).
struct Table {
    types: Vec<String>,
    rows: Vec<(Vec<String>, Vec<String>)>,
    line: usize,
}

fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn tables(page: &str) -> Vec<Table> {
    let lines: Vec<&str> = page.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(types) = line
            .strip_prefix("<!-- fields:")
            .and_then(|l| l.strip_suffix("-->"))
        else {
            continue;
        };
        let rows = lines[i + 1..]
            .iter()
            .take_while(|l| l.starts_with('|'))
            .skip(2) // the header and the separator
            .map(|l| {
                let cells: Vec<String> = l
                    .trim_matches('|')
                    .split(" | ")
                    .map(|c| c.trim().to_owned())
                    .collect();
                (backticked(&cells[0]), cells)
            })
            .collect::<Vec<_>>();
        assert!(
            !rows.is_empty(),
            "line {}: a `fields` marker is followed by a table",
            i + 1
        );
        out.push(Table {
            types: types.split_whitespace().map(str::to_owned).collect(),
            rows,
            line: i + 1,
        });
    }
    out
}

#[test]
fn every_field_of_the_scenario_and_pipeline_types_has_a_row_and_every_row_a_field() {
    let Some(page) = page() else {
        eprintln!("skipped: no workspace docs/ next to this package");
        return;
    };
    let reach = reachable();
    let types = &reach.names;
    // The walk reaches the nested types, not only the roots.
    for t in [
        "InputElement",
        "StageSpec",
        "MockSpec",
        "ResponseSpec",
        "EmitSpec",
        "FailRule",
    ] {
        assert!(types.contains_key(t), "{t} not reached: {:?}", types.keys());
    }
    let tables = tables(&page);
    let mut documented: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut problems = Vec::new();
    for table in &tables {
        for t in &table.types {
            if !types.contains_key(t) {
                problems.push(format!(
                    "line {}: `{t}` is not a type a scenario or pipeline file reaches",
                    table.line
                ));
            }
        }
        for (names, _) in &table.rows {
            for name in names {
                let known = table
                    .types
                    .iter()
                    .any(|t| types.get(t).is_some_and(|n| n.contains(name)));
                if known {
                    for t in &table.types {
                        documented.entry(t).or_default().insert(name);
                    }
                } else {
                    problems.push(format!(
                        "line {}: the row `{name}` names no field of {}",
                        table.line,
                        table.types.join(", ")
                    ));
                }
            }
        }
    }
    // The row of field `field` of `owner`, if the page has one.
    let row_of = |owner: &str, field: &str| {
        tables
            .iter()
            .filter(|t| t.types.iter().any(|t| t == owner))
            .flat_map(|t| &t.rows)
            .find(|(names, _)| names.iter().any(|n| n == field))
    };
    for (t, names) in types {
        for name in names {
            let has_row = documented
                .get(t.as_str())
                .is_some_and(|d| d.contains(name.as_str()));
            // An enum of words: its words may be listed in the row of a
            // field of its type instead.
            let listed = reach.words_only.contains(t)
                && reach
                    .used_by
                    .get(t)
                    .into_iter()
                    .flatten()
                    .any(|(owner, fields)| {
                        fields.iter().any(|f| {
                            row_of(owner, f).is_some_and(|(_, cells)| {
                                cells.iter().any(|c| backticked(c).contains(name))
                            })
                        })
                    });
            if !has_row && !listed {
                problems.push(format!(
                    "`{t}` accepts `{name}`, which has no row: add one to a table whose \
                     `<!-- fields: ... -->` marker names `{t}`{}",
                    if reach.words_only.contains(t) {
                        ", or list it in the row of the field of this type"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "docs/src/scenario-reference.md:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_example_files_of_the_reference_load() {
    use torvyn_harness::pipeline::Pipeline;
    use torvyn_harness::scenario::Scenario;
    use torvyn_harness::source::mock_spec_from_yaml;
    let Some(page) = page() else {
        eprintln!("skipped: no workspace docs/ next to this package");
        return;
    };
    let mut loaded = BTreeMap::<&str, usize>::new();
    let mut lines = page.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let Some(kind) = line
            .strip_prefix("<!-- example: ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        let (_, fence) = lines.next().expect("a block follows the marker");
        assert_eq!(fence, "```yaml", "line {}: a yaml block", i + 2);
        let text: String = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| *l != "```")
            .map(|l| format!("{l}\n"))
            .collect();
        let origin = format!("docs/src/scenario-reference.md:{}", i + 3);
        let result = match kind {
            "scenario" => Scenario::from_yaml_str(&text, &origin).map(drop),
            "pipeline" => Pipeline::from_yaml_str(&text, &origin).map(drop),
            "mock" => mock_spec_from_yaml(&text, &origin).map(drop),
            other => panic!("line {}: an example of `{other}`?", i + 1),
        };
        result.unwrap_or_else(|e| panic!("{e}"));
        *loaded.entry(kind).or_default() += 1;
    }
    assert!(
        loaded.get("scenario") >= Some(&3)
            && loaded.get("pipeline") >= Some(&2)
            && loaded.get("mock") >= Some(&1),
        "{loaded:?}"
    );
}

/// The default cell of the row `field` in the table marked for `ty`.
fn default_of<'a>(tables: &'a [Table], ty: &str, field: &str) -> &'a str {
    tables
        .iter()
        .filter(|t| t.types.iter().any(|t| t == ty))
        .flat_map(|t| &t.rows)
        .find(|(names, _)| names.iter().any(|n| n == field))
        .map(|(_, cells)| cells[2].as_str())
        .unwrap_or_else(|| panic!("no row `{field}` for {ty}"))
}

#[test]
fn the_defaults_the_reference_states_are_the_codes() {
    use torvyn_harness::scenario::{GeneratedInputs, Scenario};
    let Some(page) = page() else {
        eprintln!("skipped: no workspace docs/ next to this package");
        return;
    };
    let tables = tables(&page);
    let generated: GeneratedInputs = serde_yaml_ng::from_str("count: 1").unwrap();
    let scenario = Scenario::from_yaml_str("name: t\ncomponent: x\n", "t").unwrap();
    let virtual_time = torvyn_engine::VirtualTime::default();
    let expected = [
        (
            "Scenario",
            "fuel",
            torvyn_engine::Limits::default().fuel_per_call.to_string(),
        ),
        (
            "StageSpec",
            "fuel",
            torvyn_engine::Limits::default().fuel_per_call.to_string(),
        ),
        (
            "Scenario",
            "pull_limit",
            torvyn_harness::scenario::DEFAULT_PULL_LIMIT.to_string(),
        ),
        (
            "Scenario",
            "sweep_limit",
            torvyn_harness::faults::DEFAULT_SWEEP_LIMIT.to_string(),
        ),
        (
            "Scenario",
            "seed",
            torvyn_harness::sim::DEFAULT_SEED.to_string(),
        ),
        (
            "Pipeline",
            "max_pulls",
            torvyn_harness::pipeline::DEFAULT_MAX_PULLS.to_string(),
        ),
        (
            "Pipeline",
            "drain_ns",
            torvyn_harness::pipeline::DEFAULT_DRAIN_NS.to_string(),
        ),
        (
            "InputElement",
            "content_type",
            torvyn_harness::scenario::DEFAULT_CONTENT_TYPE.to_string(),
        ),
        ("GeneratedInputs", "min_len", generated.min_len.to_string()),
        ("GeneratedInputs", "max_len", generated.max_len.to_string()),
        (
            "VirtualTimeSpec",
            "ns_per_fuel",
            virtual_time.ns_per_fuel.to_string(),
        ),
        (
            "VirtualTimeSpec",
            "ns_per_host_call",
            virtual_time.ns_per_host_call.to_string(),
        ),
        (
            "Scenario",
            "strategy",
            format!("`{}`", scenario.strategy.name()),
        ),
        (
            "Scenario",
            "clock",
            format!("{:?}", scenario.clock).to_lowercase(),
        ),
    ];
    for (ty, field, value) in expected {
        let cell = default_of(&tables, ty, field);
        assert!(
            cell.split(|c: char| c.is_whitespace() || "`(),;".contains(c))
                .any(|w| w == value.trim_matches('`'))
                && cell.contains(&value),
            "{ty}.{field}: the page says `{cell}`, the code {value}"
        );
    }
}
