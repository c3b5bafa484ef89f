//! `torvyn-sim inspect COMPONENT`: roles, imports, exports, the contract
//! worlds the component satisfies ([`WasmtimeCompiled::worlds`]) and, for
//! every other world, what is missing.
//!
//! Imports the engine does not provide are linked to stubs that trap when
//! called and listed as stubbed (unless `--refuse-unknown-imports`). A
//! component the engine cannot link (it imports something no world offers
//! with `--refuse-unknown-imports`, say) is still described: its imports and exports are read from
//! the binary, the report says why it does not link, and the command exits
//! with [`super::EXIT_INPUT`].

use std::fmt::Write as _;

use serde::Serialize;
use torvyn_engine::wasmtime::WasmtimeCompiled;
use torvyn_engine::{EngineError, Role, Roles, World};

use super::cache::CacheChoice;
use super::error::CliError;
use super::{Format, InspectArgs, Report, check_component_ref};
use crate::HarnessError;
use crate::backend::{EngineSettings, WasmtimeBackend};
use crate::scenario::infer_role;
use crate::sim::DEFAULT_SEED;
use crate::source::ComponentSource;

/// What `inspect` found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// The component as given.
    pub component: String,
    /// Where it was read from.
    pub origin: String,
    /// Whether the engine links it (every import provided).
    pub links: bool,
    /// Why it does not link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_error: Option<String>,
    /// The contract roles it exports (by name).
    pub roles: Vec<String>,
    /// The role `torvyn-sim run` drives it in by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_role: Option<String>,
    /// The worlds it satisfies, by short name (`data-source`).
    pub worlds: Vec<String>,
    /// Its imports.
    pub imports: Vec<String>,
    /// The imports the engine does not provide, linked to stubs that trap
    /// when called (none with `--refuse-unknown-imports`).
    pub stubbed_imports: Vec<String>,
    /// Its exports.
    pub exports: Vec<String>,
    /// What each export that is not a contract interface is (the engine
    /// never calls those).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub export_notes: Vec<ExportNote>,
    /// Every world it does not satisfy, and why.
    pub other_worlds: Vec<WorldGap>,
}

/// An export that is not a contract interface, and what it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportNote {
    /// The export's name.
    pub export: String,
    /// What it is.
    pub note: String,
}

/// What componentize-py's `exports` export is.
const COMPONENTIZE_PY_EXPORTS: &str = "not a contract interface: componentize-py's build-time \
    hook (`init(app-name, symbols, stub-wasi)`), which loaded the Python code into the \
    component when it was built; every componentize-py guest exports it, and the engine never \
    calls it";

/// What any other export that is not a contract interface is.
const OTHER_EXPORT: &str = "not a contract interface: the engine never calls it";

/// A note for every export that is not a contract interface: the
/// `exports` instance componentize-py leaves in every guest it builds
/// (told apart by the name of componentize-py's runtime library,
/// `libcomponentize_py_runtime.so`, in `bytes`: 0.17.2's guests and
/// 0.25.1's both link it), or any other.
fn export_notes(exports: &[String], bytes: &[u8]) -> Vec<ExportNote> {
    const MARK: &[u8] = b"componentize_py_runtime";
    let contract = |e: &str| {
        Role::ALL
            .into_iter()
            .any(|r| r.interface_names().contains(&e))
    };
    let mut componentize_py = None;
    exports
        .iter()
        .filter(|e| !contract(e))
        .map(|e| {
            let by_componentize_py = e == "exports"
                && *componentize_py
                    .get_or_insert_with(|| bytes.windows(MARK.len()).any(|w| w == MARK));
            ExportNote {
                export: e.clone(),
                note: if by_componentize_py {
                    COMPONENTIZE_PY_EXPORTS
                } else {
                    OTHER_EXPORT
                }
                .to_string(),
            }
        })
        .collect()
}

/// Why a component does not satisfy a world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorldGap {
    /// The world's short name.
    pub world: String,
    /// Interfaces the world exports that the component does not.
    pub missing_exports: Vec<String>,
    /// Imports of the component the world does not allow.
    pub disallowed_imports: Vec<String>,
    /// Anything else (exports with the wrong types, a link failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Reads the component bytes for `source` as the runner would.
fn load_bytes(source: &ComponentSource, label: &str) -> Result<(Vec<u8>, String), HarnessError> {
    source.load(label)
}

/// The top-level import and export names of a component binary.
fn binary_names(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    use wasmparser::{Parser, Payload};
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        match payload {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) if depth > 0 => depth -= 1,
            Payload::ComponentImportSection(r) if depth == 0 => {
                imports.extend(r.into_iter().flatten().map(|i| i.name.name.to_string()));
            }
            Payload::ComponentExportSection(r) if depth == 0 => {
                exports.extend(r.into_iter().flatten().map(|e| e.name.name.to_string()));
            }
            _ => {}
        }
    }
    (imports, exports)
}

fn roles_from_exports(exports: &[String]) -> Roles {
    Role::ALL
        .into_iter()
        .filter(|r| {
            exports
                .iter()
                .any(|e| r.interface_names().contains(&e.as_str()))
        })
        .collect()
}

fn gaps(roles: Roles, satisfied: &[World], imports: &[String], linked: bool) -> Vec<WorldGap> {
    World::ALL
        .into_iter()
        .filter(|w| !satisfied.contains(w))
        .map(|w| {
            let missing_exports: Vec<String> = w
                .exports()
                .iter()
                .filter(|r| !roles.contains(**r))
                .map(|r| r.interface().to_string())
                .collect();
            let disallowed_imports: Vec<String> = imports
                .iter()
                .filter(|i| !w.allows_import(i))
                .cloned()
                .collect();
            let note = (missing_exports.is_empty() && disallowed_imports.is_empty()).then(|| {
                if linked {
                    "its exports have the right names but not the contract's types".to_string()
                } else {
                    "the component does not link".to_string()
                }
            });
            WorldGap {
                world: w.name().to_string(),
                missing_exports,
                disallowed_imports,
                note,
            }
        })
        .collect()
}

fn from_compiled(
    component: &str,
    origin: String,
    bytes: &[u8],
    c: &WasmtimeCompiled,
) -> Inspection {
    let roles = c.roles();
    Inspection {
        component: component.to_string(),
        origin,
        links: true,
        link_error: None,
        roles: roles.iter().map(|r| r.to_string()).collect(),
        default_role: Some(infer_role(roles).name().to_string()),
        worlds: c.worlds().iter().map(|w| w.name().to_string()).collect(),
        imports: c.imports().to_vec(),
        stubbed_imports: c.stubbed_imports().to_vec(),
        exports: c.exports().to_vec(),
        export_notes: export_notes(c.exports(), bytes),
        other_worlds: gaps(roles, c.worlds(), c.imports(), true),
    }
}

fn from_binary(component: &str, origin: String, bytes: &[u8], error: String) -> Inspection {
    let (imports, exports) = binary_names(bytes);
    let roles = roles_from_exports(&exports);
    Inspection {
        component: component.to_string(),
        origin,
        links: false,
        link_error: Some(error),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        default_role: None,
        worlds: Vec::new(),
        other_worlds: gaps(roles, &[], &imports, false),
        imports,
        stubbed_imports: Vec::new(),
        export_notes: export_notes(&exports, bytes),
        exports,
    }
}

/// Inspects `component`. `Err` for a component that cannot be read at all;
/// a component that reads but does not link gives an [`Inspection`] with
/// `links: false`. Compiled components are kept where `cache` says. With `stub_unknown_imports`, imports the engine does not provide
/// are linked to stubs and listed in [`Inspection::stubbed_imports`];
/// without, the component does not link.
pub fn inspect(
    component: &str,
    cache: &CacheChoice,
    stub_unknown_imports: bool,
) -> Result<Inspection, CliError> {
    check_component_ref(component)?;
    let source = ComponentSource::parse(component, None);
    let (bytes, origin) = load_bytes(&source, component)?;
    let backend = WasmtimeBackend::new(&EngineSettings {
        cache_dir: cache.resolve()?,
        cache_max_bytes: cache.max_bytes,
        stub_unknown_imports,
        ..EngineSettings::deterministic(DEFAULT_SEED)
    })?;
    match backend.compile_named(&bytes, &origin) {
        Ok(c) => Ok(from_compiled(component, origin, &bytes, &c)),
        Err(
            e @ (EngineError::Link { .. }
            | EngineError::NoRoles { .. }
            | EngineError::WrongExportTypes { .. }),
        ) => Ok(from_binary(component, origin, &bytes, e.to_string())),
        Err(e) => Err(HarnessError::Engine {
            action: "compile",
            component: component.to_string(),
            source: e,
        }
        .into()),
    }
}

/// Runs `torvyn-sim inspect`.
pub fn run(args: &InspectArgs, cache: &CacheChoice) -> Result<Report, CliError> {
    let i = inspect(&args.component, cache, !args.refuse_unknown_imports)?;
    let stdout = match args.format {
        Format::Table => render_table(&i),
        Format::Yaml => crate::transcript::to_yaml(&i)?,
        Format::Json => format!("{}\n", crate::transcript::to_json(&i)?),
    };
    Ok(Report {
        failure: i.link_error.clone().map(CliError::input),
        ..Report::ok(stdout)
    })
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items.join(", ")
    }
}

/// The inspection as text.
pub fn render_table(i: &Inspection) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "component     {} ({})", i.component, i.origin);
    let _ = writeln!(
        s,
        "links         {}",
        if i.links {
            "yes"
        } else {
            "no: the engine cannot link it (see the error below)"
        }
    );
    let _ = writeln!(s, "roles         {}", list(&i.roles));
    if let Some(r) = &i.default_role {
        let _ = writeln!(s, "run drives it as {r}");
    }
    let satisfied: Vec<String> = i
        .worlds
        .iter()
        .map(|w| match World::ALL.into_iter().find(|x| x.name() == w) {
            Some(world) => format!("{w} ({world})"),
            None => w.clone(),
        })
        .collect();
    let _ = writeln!(s, "satisfies     {}", list(&satisfied));
    let _ = writeln!(s, "imports");
    for x in &i.imports {
        let _ = writeln!(s, "  {x}");
    }
    if i.imports.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    if !i.stubbed_imports.is_empty() {
        let _ = writeln!(
            s,
            "stubbed imports (the engine does not provide them; a call traps)"
        );
        for x in &i.stubbed_imports {
            let _ = writeln!(s, "  {x}");
        }
    }
    let _ = writeln!(s, "exports");
    for x in &i.exports {
        match i.export_notes.iter().find(|n| &n.export == x) {
            Some(n) => writeln!(s, "  {x}  ({})", n.note),
            None => writeln!(s, "  {x}"),
        }
        .ok();
    }
    if i.exports.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    if !i.other_worlds.is_empty() {
        let _ = writeln!(s, "other worlds");
    }
    for g in &i.other_worlds {
        let mut why = Vec::new();
        if !g.missing_exports.is_empty() {
            why.push(format!("lacks exports {}", g.missing_exports.join(", ")));
        }
        if !g.disallowed_imports.is_empty() {
            why.push(format!(
                "imports what the world does not allow: {}",
                g.disallowed_imports.join(", ")
            ));
        }
        if let Some(n) = &g.note {
            why.push(n.clone());
        }
        let _ = writeln!(s, "  {:<18} {}", g.world, why.join("; "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPES: &str = "torvyn:streaming/types@0.1.0";
    const ALLOCATOR: &str = "torvyn:streaming/buffer-allocator@0.1.0";

    #[test]
    fn a_source_lacks_the_processor_export_for_transforms() {
        let g = gaps(
            Roles::NONE.with(Role::Source).with(Role::Lifecycle),
            &[World::DataSource],
            &[TYPES.to_string(), ALLOCATOR.to_string()],
            true,
        );
        let mt = g.iter().find(|g| g.world == "managed-transform").unwrap();
        assert_eq!(mt.missing_exports, ["torvyn:streaming/processor@0.1.0"]);
        let sink = g.iter().find(|g| g.world == "data-sink").unwrap();
        assert_eq!(sink.disallowed_imports, [ALLOCATOR]);
        let filter = g.iter().find(|g| g.world == "content-filter").unwrap();
        assert_eq!(filter.missing_exports, ["torvyn:filtering/filter@0.1.0"]);
        assert_eq!(filter.disallowed_imports, [ALLOCATOR]);
        let aggregator = g.iter().find(|g| g.world == "stream-aggregator").unwrap();
        assert!(aggregator.disallowed_imports.is_empty());
    }

    #[test]
    fn exports_outside_the_contract_are_explained() {
        let exports = [
            "exports".to_string(),
            "torvyn:streaming/processor@0.1.0".to_string(),
            "torvyn:streaming/lifecycle".to_string(),
            "acme:extra/thing".to_string(),
        ];
        let by_py = export_notes(&exports, b"\0\x1dlibcomponentize_py_runtime.so\0");
        let notes: Vec<(&str, &str)> = by_py
            .iter()
            .map(|n| (n.export.as_str(), n.note.as_str()))
            .collect();
        assert_eq!(
            notes,
            [
                ("exports", COMPONENTIZE_PY_EXPORTS),
                ("acme:extra/thing", OTHER_EXPORT)
            ]
        );
        // Another toolchain's `exports` is not called componentize-py's.
        let other = export_notes(&exports, b"no marker here");
        assert_eq!(other[0].note, OTHER_EXPORT);
    }

    #[test]
    fn the_unversioned_spelling_is_allowed_where_the_versioned_one_is() {
        let g = gaps(
            Roles::NONE.with(Role::Filter).with(Role::Lifecycle),
            &[World::ContentFilter],
            &["torvyn:streaming/types".to_string()],
            true,
        );
        let router = g.iter().find(|g| g.world == "content-router").unwrap();
        assert!(router.disallowed_imports.is_empty());
        assert_eq!(router.missing_exports, ["torvyn:filtering/router@0.1.0"]);
    }
}
