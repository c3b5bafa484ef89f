//! WAT fixture loader and componentizer.
//!
//! Test guests live in `fixtures/components/NAME.wat`. A fixture is either
//!
//! * a **core module** that follows the canonical ABI for one of the worlds of
//!   the `torvyn:streaming@0.1.0` contract (or a world of the fixture package
//!   in `fixtures/wit/`). It is turned into a component at load time, exactly
//!   as `wasm-tools component new` does for a module with embedded
//!   `component-type` metadata; or
//! * a **component** in text format (the file starts with `(component`), which
//!   is returned as is.
//!
//! The world of a core module is chosen, in order, by an explicit argument to
//! [`componentize`], by a `;; world: NAME` comment line in the WAT text, or
//! from the module's exports (see [`infer_world`]).
//!
//! ```no_run
//! let bytes = torvyn_harness::fixtures::load_fixture("passthrough").unwrap();
//! assert!(torvyn_harness::fixtures::is_component(&bytes));
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{PackageId, Resolve, WorldId};

/// The WIT package every contract world lives in.
pub const CONTRACT_PACKAGE: &str = "torvyn:streaming@0.1.0";

/// Errors from loading, parsing or componentizing a fixture.
///
/// Every message says what failed, where, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// No `NAME.wat` exists in the fixture directory.
    #[error(
        "fixture `{name}` not found: there is no `{name}.wat` in {}; available fixtures: {}. \
         Check the spelling or add the file",
        dir.display(),
        list_or_none(available)
    )]
    NotFound {
        /// The requested fixture name.
        name: String,
        /// The directory that was searched.
        dir: PathBuf,
        /// Names of the fixtures that do exist.
        available: Vec<String>,
    },
    /// Reading a file failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or directory that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The WAT text does not parse.
    #[error("invalid WAT in {origin}: {message}\nfix the syntax error at the line shown")]
    Wat {
        /// File path or name the text came from.
        origin: String,
        /// The parser's message, with `path:line:column` and a snippet.
        message: String,
    },
    /// The WIT files (contract or fixture package) do not resolve.
    #[error("cannot load the WIT packages from {}: {message}\nfix the .wit files there", path.display())]
    Wit {
        /// The WIT directory that failed to resolve.
        path: PathBuf,
        /// The resolver's message.
        message: String,
    },
    /// A world name that no loaded WIT package defines.
    #[error(
        "unknown world `{world}`; available worlds: {}. \
         Use a short contract world name (e.g. `transform`) or a full `ns:pkg/world` name",
        list_or_none(available)
    )]
    UnknownWorld {
        /// The requested world.
        world: String,
        /// Fully qualified names of every world that is available.
        available: Vec<String>,
    },
    /// No world was given and the module's exports do not identify one.
    #[error(
        "cannot infer the world of {origin} from its exports (contract exports seen: {}; \
         all exports: {}). Export `torvyn:streaming/processor@0.1.0#process`, `.../source@0.1.0#pull` \
         or `.../sink@0.1.0#push`, or name the world with a `;; world: NAME` line in the WAT",
        list_or_none(contract_exports),
        list_or_none(exports)
    )]
    CannotInferWorld {
        /// File path or name of the module.
        origin: String,
        /// Contract interfaces the module exports functions of.
        contract_exports: Vec<String>,
        /// Every export name of the core module.
        exports: Vec<String>,
    },
    /// wit-component rejected the module for the chosen world.
    #[error(
        "cannot componentize {origin} for world `{world}`: {message}\n\
         check the module's import/export names and core signatures against the world's WIT"
    )]
    Componentize {
        /// File path or name of the module.
        origin: String,
        /// The world the module was encoded against.
        world: String,
        /// wit-component's error chain.
        message: String,
    },
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_string()
    } else {
        items.join(", ")
    }
}

/// The workspace root: the parent of this crate's directory.
/// The harness package's directory. `fixtures` and `wit` in it are links
/// to the workspace's `fixtures/` and `wit/` (a packaged crate carries
/// copies), so the paths below hold in the workspace and in a published
/// package alike.
fn package_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The fixtures directory (the workspace's `fixtures/`).
pub fn fixtures_dir() -> PathBuf {
    package_dir().join("fixtures")
}

/// The `wit/` directory holding the `torvyn:streaming@0.1.0` contract (the
/// workspace's `wit/`).
pub fn contract_wit_dir() -> PathBuf {
    package_dir().join("wit")
}

/// The directory of fixture-only WIT (the `torvyn:fixtures` package and its
/// `deps/`, e.g. the WASI subset).
pub fn fixtures_wit_dir() -> PathBuf {
    fixtures_dir().join("wit")
}

/// The directory holding `NAME.wat` fixtures.
pub fn components_dir() -> PathBuf {
    fixtures_dir().join("components")
}

/// Sorted names (without `.wat`) of every fixture in `fixtures/components/`.
pub fn list_fixtures() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(components_dir()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect();
    names.sort();
    names
}

/// The path of fixture `name` (which need not exist).
pub fn fixture_path(name: &str) -> PathBuf {
    components_dir().join(format!("{name}.wat"))
}

/// The component binary for fixture `name` (`fixtures/components/NAME.wat`).
///
/// Core modules are componentized; components are returned as written.
pub fn load_fixture(name: &str) -> Result<Vec<u8>, FixtureError> {
    let path = fixture_path(name);
    if !path.is_file() {
        return Err(FixtureError::NotFound {
            name: name.to_string(),
            dir: components_dir(),
            available: list_fixtures(),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(|source| FixtureError::Io {
        path: path.clone(),
        source,
    })?;
    component_from_wat(&text, &path.display().to_string())
}

/// Parses WAT `text` and returns a component binary.
///
/// `origin` (a file path or a name) is used in error messages. A component
/// is returned unchanged; a core module is componentized for the world named
/// by a `;; world: NAME` line in `text`, or else for the world inferred from
/// its exports.
pub fn component_from_wat(text: &str, origin: &str) -> Result<Vec<u8>, FixtureError> {
    let bytes = wat::Parser::new()
        .parse_str(Some(Path::new(origin)), text)
        .map_err(|e| FixtureError::Wat {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
    if is_component(&bytes) {
        return Ok(bytes);
    }
    let world = world_directive(text);
    componentize_named(&bytes, world.as_deref(), origin)
}

/// The world named by the first `;; world: NAME` comment line of `text`.
pub fn world_directive(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix(";;")?.trim_start();
        let name = rest.strip_prefix("world:")?.trim();
        (!name.is_empty()).then(|| name.to_string())
    })
}

/// Whether `bytes` is a component (as opposed to a core module).
pub fn is_component(bytes: &[u8]) -> bool {
    wasmparser::Parser::is_component(bytes)
}

/// Turns a canonical-ABI core module into a component.
///
/// `world` is a contract world (`transform`, `managed-transform`,
/// `data-source`, `data-sink`) or a fully qualified world
/// (`torvyn:fixtures/wasi-transform`). With `None` the world is inferred from
/// the exports (see [`infer_world`]), unless the module already carries
/// `component-type` metadata, which is then used as is.
pub fn componentize(core_module: &[u8], world: Option<&str>) -> Result<Vec<u8>, FixtureError> {
    componentize_named(core_module, world, "<core module>")
}

fn componentize_named(
    core_module: &[u8],
    world: Option<&str>,
    origin: &str,
) -> Result<Vec<u8>, FixtureError> {
    let mut module = core_module.to_vec();
    let world_label = match world {
        Some(name) => {
            let (resolve, id) = lookup_world(name)?;
            embed(&mut module, resolve, id, origin, name)?;
            name.to_string()
        }
        None if has_component_type_section(core_module) => "<embedded metadata>".to_string(),
        None => {
            let name = infer_world_named(core_module, origin)?;
            let (resolve, id) = lookup_world(name)?;
            embed(&mut module, resolve, id, origin, name)?;
            name.to_string()
        }
    };
    let encode = || -> Result<Vec<u8>, String> {
        ComponentEncoder::default()
            .validate(true)
            .module(&module)
            .map_err(|e| format!("{e:#}"))?
            .encode()
            .map_err(|e| format!("{e:#}"))
    };
    encode().map_err(|message| FixtureError::Componentize {
        origin: origin.to_string(),
        world: world_label,
        message,
    })
}

fn embed(
    module: &mut Vec<u8>,
    resolve: &Resolve,
    world: WorldId,
    origin: &str,
    world_name: &str,
) -> Result<(), FixtureError> {
    wit_component::embed_component_metadata(module, resolve, world, StringEncoding::UTF8).map_err(
        |e| FixtureError::Componentize {
            origin: origin.to_string(),
            world: world_name.to_string(),
            message: format!("{e:#}"),
        },
    )
}

fn has_component_type_section(module: &[u8]) -> bool {
    wasmparser::Parser::new(0).parse_all(module).any(|p| {
        matches!(p, Ok(wasmparser::Payload::CustomSection(s)) if s.name().starts_with("component-type"))
    })
}

/// The contract world a core module implements, judged by its exports:
/// processor and lifecycle → `managed-transform`, processor only →
/// `transform`, source → `data-source`, sink → `data-sink`.
pub fn infer_world(core_module: &[u8]) -> Result<&'static str, FixtureError> {
    infer_world_named(core_module, "<core module>")
}

fn infer_world_named(core_module: &[u8], origin: &str) -> Result<&'static str, FixtureError> {
    let exports = core_exports(core_module).map_err(|message| FixtureError::Wat {
        origin: origin.to_string(),
        message,
    })?;
    let roles: BTreeSet<String> = exports
        .iter()
        .filter_map(|name| contract_interface(name))
        .map(str::to_string)
        .collect();
    let has = |r: &str| roles.contains(r);
    let world = match (has("processor"), has("source"), has("sink")) {
        (true, false, false) if has("lifecycle") => Some("managed-transform"),
        (true, false, false) => Some("transform"),
        (false, true, false) => Some("data-source"),
        (false, false, true) => Some("data-sink"),
        _ => None,
    };
    world.ok_or_else(|| FixtureError::CannotInferWorld {
        origin: origin.to_string(),
        contract_exports: roles
            .iter()
            .map(|r| format!("torvyn:streaming/{r}"))
            .collect(),
        exports,
    })
}

/// `processor` for `torvyn:streaming/processor@0.1.0#process` (any version).
fn contract_interface(export: &str) -> Option<&str> {
    let (iface, _func) = export.split_once('#')?;
    let iface = iface.split_once('@').map_or(iface, |(i, _)| i);
    iface.strip_prefix("torvyn:streaming/")
}

fn core_exports(module: &[u8]) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let wasmparser::Payload::ExportSection(reader) = payload.map_err(|e| e.to_string())? {
            for export in reader {
                names.push(export.map_err(|e| e.to_string())?.name.to_string());
            }
        }
    }
    Ok(names)
}

/// Every WIT package the componentizer knows: the contract plus the fixture
/// package, resolved once.
struct Worlds {
    resolve: Resolve,
    contract: PackageId,
}

impl fmt::Debug for Worlds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worlds").finish_non_exhaustive()
    }
}

static WORLDS: LazyLock<Result<Worlds, (PathBuf, String)>> = LazyLock::new(|| {
    let mut resolve = Resolve::default();
    let dir = contract_wit_dir();
    let (contract, _) = resolve
        .push_dir(&dir)
        .map_err(|e| (dir.clone(), format!("{e:#}")))?;
    let fixtures = fixtures_wit_dir();
    if fixtures.is_dir() {
        resolve
            .push_dir(&fixtures)
            .map_err(|e| (fixtures.clone(), format!("{e:#}")))?;
    }
    Ok(Worlds { resolve, contract })
});

fn worlds() -> Result<&'static Worlds, FixtureError> {
    WORLDS
        .as_ref()
        .map_err(|(path, message)| FixtureError::Wit {
            path: path.clone(),
            message: message.clone(),
        })
}

/// Fully qualified names (`ns:pkg/world@version`) of every world the
/// componentizer can target, sorted.
pub fn available_worlds() -> Result<Vec<String>, FixtureError> {
    let w = worlds()?;
    let mut names: Vec<String> = w
        .resolve
        .worlds
        .iter()
        .filter_map(|(_, world)| Some(w.resolve.id_of_name(world.package?, &world.name)))
        .collect();
    names.sort();
    Ok(names)
}

/// Finds `name`: a short contract world name, or `ns:pkg/world` with or
/// without `@version`.
fn lookup_world(name: &str) -> Result<(&'static Resolve, WorldId), FixtureError> {
    let w = worlds()?;
    let resolve = &w.resolve;
    let found = if name.contains(':') {
        resolve.worlds.iter().find_map(|(id, world)| {
            let pkg = world.package?;
            let full = resolve.id_of_name(pkg, &world.name);
            let p = &resolve.packages[pkg].name;
            let unversioned = format!("{}:{}/{}", p.namespace, p.name, world.name);
            (name == full || name == unversioned).then_some(id)
        })
    } else {
        resolve.packages[w.contract].worlds.get(name).copied()
    };
    match found {
        Some(id) => Ok((resolve, id)),
        None => Err(FixtureError::UnknownWorld {
            world: name.to_string(),
            available: available_worlds()?,
        }),
    }
}
