//! WAT fixture loader and componentizer.
//!
//! Test guests live in `fixtures/components/NAME.wat`. A fixture is either
//!
//! * a **core module** that follows the canonical ABI for one of the worlds of
//!   the `torvyn:streaming@0.1.0` contract or of its extension packages
//!   (`torvyn:filtering`, `torvyn:aggregation`), or a world of the fixture
//!   package in `fixtures/wit/`. It is turned into a component at load
//!   time, exactly as `wasm-tools component new` does for a module with
//!   embedded `component-type` metadata; or
//! * a **component** in text format (the file starts with `(component`), which
//!   is returned as is.
//!
//! The world of a core module is chosen, in order, by an explicit argument to
//! [`componentize`], by a `;; world: NAME` comment line in the WAT text, or
//! from the module's exports (see [`infer_world`]).
//!
//! A core module names the streaming package's interfaces in one of two
//! [`Spelling`]s: `torvyn:streaming/types@0.1.0`, as the runtime publishes
//! the package, or `torvyn:streaming/types` without a version, as a
//! component built against an unversioned copy of the package does (the
//! runtime's token-streaming example builds its filter and aggregator so).
//! The spelling is read from the module's import and export names (see
//! [`spelling_of`]), or set by a `;; spelling: unversioned` (or
//! `versioned`) comment line, and the module is componentized against the
//! WIT of that spelling: `wit/` as written, or an unversioned copy derived
//! from it at load time ([`unversioned_wit`]), so no second copy of the WIT
//! is kept by hand.
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
use wit_parser::{PackageId, Resolve, SourceMap, UnresolvedPackageGroup, WorldId};

/// The WIT package every contract world lives in.
pub const CONTRACT_PACKAGE: &str = "torvyn:streaming@0.1.0";

/// The extension packages whose worlds short names also find (after the
/// contract's): `content-filter`, `content-router`, `stream-aggregator`.
pub const EXTENSION_PACKAGES: [&str; 2] = ["torvyn:filtering", "torvyn:aggregation"];

/// How a core module names the interfaces of the streaming package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Spelling {
    /// `torvyn:streaming/types@0.1.0`: the package as the runtime publishes
    /// it (`wit/` as written).
    Versioned,
    /// `torvyn:streaming/types`: built against a copy of the package
    /// declared `package torvyn:streaming;` (see [`unversioned_wit`]).
    Unversioned,
}

impl Spelling {
    /// `versioned` or `unversioned`, as a `;; spelling:` line writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Versioned => "versioned",
            Self::Unversioned => "unversioned",
        }
    }
}

impl fmt::Display for Spelling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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
         Use a short world name (e.g. `transform`, `content-filter`) or a full `ns:pkg/world` name",
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
         all exports: {}). Export `torvyn:streaming/processor@0.1.0#process`, `.../source@0.1.0#pull`, \
         `.../sink@0.1.0#push`, `torvyn:filtering/filter@0.1.0#evaluate`, \
         `torvyn:filtering/router@0.1.0#route` or `torvyn:aggregation/aggregator@0.1.0#ingest`, \
         or name the world with a `;; world: NAME` line in the WAT",
        list_or_none(contract_exports),
        list_or_none(exports)
    )]
    CannotInferWorld {
        /// File path or name of the module.
        origin: String,
        /// Contract and extension interfaces the module exports functions
        /// of.
        contract_exports: Vec<String>,
        /// Every export name of the core module.
        exports: Vec<String>,
    },
    /// The module names streaming interfaces in both spellings.
    #[error(
        "{origin} names the streaming package both with and without a version \
         (versioned: {}; unversioned: {}); a component is built against one copy of the \
         package: spell every `torvyn:streaming/...` import and export the same way",
        list_or_none(versioned),
        list_or_none(unversioned)
    )]
    MixedSpelling {
        /// File path or name of the module.
        origin: String,
        /// Names with `@0.1.0`.
        versioned: Vec<String>,
        /// Names without a version.
        unversioned: Vec<String>,
    },
    /// A `;; spelling:` line names neither spelling.
    #[error(
        "{origin}: unknown spelling `{spelling}` in a `;; spelling:` line; \
         write `;; spelling: versioned` or `;; spelling: unversioned`"
    )]
    UnknownSpelling {
        /// File path or name of the module.
        origin: String,
        /// What the line said.
        spelling: String,
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
/// its exports, in the spelling a `;; spelling: NAME` line names, or else
/// the one its import and export names use (see [`spelling_of`]).
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
    let spelling = spelling_directive(text)
        .map(|name| parse_spelling(&name, origin))
        .transpose()?;
    componentize_named(&bytes, world.as_deref(), spelling, origin)
}

/// Like [`component_from_wat`], with DWARF line tables of the text in the
/// core modules (`wat`'s `GenerateDwarf::Lines`), naming `origin` as the
/// source file: coverage of the component then maps onto the lines of
/// `text` (see `torvyn_engine::coverage`).
#[cfg(feature = "coverage")]
pub fn component_from_wat_with_lines(text: &str, origin: &str) -> Result<Vec<u8>, FixtureError> {
    let bytes = wat::Parser::new()
        .generate_dwarf(wat::GenerateDwarf::Lines)
        .parse_str(Some(Path::new(origin)), text)
        .map_err(|e| FixtureError::Wat {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
    if is_component(&bytes) {
        return Ok(bytes);
    }
    let world = world_directive(text);
    let spelling = spelling_directive(text)
        .map(|name| parse_spelling(&name, origin))
        .transpose()?;
    componentize_named(&bytes, world.as_deref(), spelling, origin)
}

/// The world named by the first `;; world: NAME` comment line of `text`.
pub fn world_directive(text: &str) -> Option<String> {
    directive(text, "world:")
}

/// What the first `;; spelling: NAME` comment line of `text` says
/// (`versioned` or `unversioned`), as written.
pub fn spelling_directive(text: &str) -> Option<String> {
    directive(text, "spelling:")
}

fn directive(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix(";;")?.trim_start();
        let value = rest.strip_prefix(key)?.trim();
        (!value.is_empty()).then(|| value.to_string())
    })
}

fn parse_spelling(name: &str, origin: &str) -> Result<Spelling, FixtureError> {
    match name {
        "versioned" => Ok(Spelling::Versioned),
        "unversioned" => Ok(Spelling::Unversioned),
        _ => Err(FixtureError::UnknownSpelling {
            origin: origin.to_string(),
            spelling: name.to_string(),
        }),
    }
}

/// Whether `bytes` is a component (as opposed to a core module).
pub fn is_component(bytes: &[u8]) -> bool {
    wasmparser::Parser::is_component(bytes)
}

/// Turns a canonical-ABI core module into a component.
///
/// `world` is a short world name of the contract (`transform`,
/// `managed-transform`, `data-source`, `data-sink`) or of an extension
/// package (`content-filter`, `content-router`, `stream-aggregator`), or a
/// fully qualified world (`torvyn:fixtures/wasi-transform`). With `None`
/// the world is inferred from the exports (see [`infer_world`]), unless the
/// module already carries `component-type` metadata, which is then used as
/// is. The WIT is that of the module's spelling (see [`spelling_of`]).
pub fn componentize(core_module: &[u8], world: Option<&str>) -> Result<Vec<u8>, FixtureError> {
    componentize_named(core_module, world, None, "<core module>")
}

/// Like [`componentize`], against the WIT of `spelling` whatever the
/// module's names say.
pub fn componentize_spelled(
    core_module: &[u8],
    world: Option<&str>,
    spelling: Spelling,
) -> Result<Vec<u8>, FixtureError> {
    componentize_named(core_module, world, Some(spelling), "<core module>")
}

fn componentize_named(
    core_module: &[u8],
    world: Option<&str>,
    spelling: Option<Spelling>,
    origin: &str,
) -> Result<Vec<u8>, FixtureError> {
    let mut module = core_module.to_vec();
    let world_label = match world {
        None if has_component_type_section(core_module) => "<embedded metadata>".to_string(),
        _ => {
            let spelling = match spelling {
                Some(s) => s,
                None => spelling_named(core_module, origin)?,
            };
            let name = match world {
                Some(name) => name,
                None => infer_world_named(core_module, origin)?,
            };
            let label = match spelling {
                Spelling::Versioned => name.to_string(),
                Spelling::Unversioned => format!("{name} (unversioned spelling)"),
            };
            let (resolve, id) = lookup_world(name, spelling)?;
            embed(&mut module, resolve, id, origin, &label)?;
            label
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

/// The spelling a core module uses, judged by its import module names and
/// export names: any `torvyn:streaming/NAME` without `@version` (an import
/// of `torvyn:streaming/types`, an export `torvyn:streaming/lifecycle#init`)
/// makes it [`Spelling::Unversioned`]; otherwise, and for a module that
/// names no streaming interface, [`Spelling::Versioned`]. A module that
/// uses both is refused ([`FixtureError::MixedSpelling`]).
pub fn spelling_of(core_module: &[u8]) -> Result<Spelling, FixtureError> {
    spelling_named(core_module, "<core module>")
}

fn spelling_named(core_module: &[u8], origin: &str) -> Result<Spelling, FixtureError> {
    let (imports, exports) = core_names(core_module).map_err(|message| FixtureError::Wat {
        origin: origin.to_string(),
        message,
    })?;
    let mut versioned = BTreeSet::new();
    let mut unversioned = BTreeSet::new();
    for name in imports.iter().chain(&exports) {
        let name = name.strip_prefix("[export]").unwrap_or(name);
        let iface = name.split_once('#').map_or(name, |(iface, _)| iface);
        let Some(rest) = iface.strip_prefix("torvyn:streaming/") else {
            continue;
        };
        if rest.contains('@') {
            versioned.insert(iface.to_string());
        } else {
            unversioned.insert(iface.to_string());
        }
    }
    match (versioned.is_empty(), unversioned.is_empty()) {
        (_, true) => Ok(Spelling::Versioned),
        (true, false) => Ok(Spelling::Unversioned),
        (false, false) => Err(FixtureError::MixedSpelling {
            origin: origin.to_string(),
            versioned: versioned.into_iter().collect(),
            unversioned: unversioned.into_iter().collect(),
        }),
    }
}

/// The world a core module implements, judged by its exports (either
/// spelling): processor and lifecycle → `managed-transform`, processor only
/// → `transform`, source → `data-source`, sink → `data-sink`, filter →
/// `content-filter`, router → `content-router`, aggregator →
/// `stream-aggregator`.
pub fn infer_world(core_module: &[u8]) -> Result<&'static str, FixtureError> {
    infer_world_named(core_module, "<core module>")
}

/// The roles whose export picks a world, with that world (`None` for the
/// processor: with or without lifecycle).
const WORLD_OF_EXPORT: [(&str, Option<&str>); 6] = [
    ("torvyn:streaming/processor", None),
    ("torvyn:streaming/source", Some("data-source")),
    ("torvyn:streaming/sink", Some("data-sink")),
    ("torvyn:filtering/filter", Some("content-filter")),
    ("torvyn:filtering/router", Some("content-router")),
    ("torvyn:aggregation/aggregator", Some("stream-aggregator")),
];

fn infer_world_named(core_module: &[u8], origin: &str) -> Result<&'static str, FixtureError> {
    let (_, exports) = core_names(core_module).map_err(|message| FixtureError::Wat {
        origin: origin.to_string(),
        message,
    })?;
    let interfaces: BTreeSet<String> = exports
        .iter()
        .filter_map(|n| known_interface(n))
        .map(str::to_string)
        .collect();
    let mut main = WORLD_OF_EXPORT
        .iter()
        .filter(|(iface, _)| interfaces.contains(*iface));
    let world = match (main.next(), main.next()) {
        (Some((_, Some(world))), None) => Some(*world),
        (Some((_, None)), None) if interfaces.contains("torvyn:streaming/lifecycle") => {
            Some("managed-transform")
        }
        (Some((_, None)), None) => Some("transform"),
        _ => None,
    };
    world.ok_or_else(|| FixtureError::CannotInferWorld {
        origin: origin.to_string(),
        contract_exports: interfaces.into_iter().collect(),
        exports,
    })
}

/// `torvyn:streaming/processor` for `torvyn:streaming/processor@0.1.0#process`
/// (any version, or none), and likewise for the extension packages' exports.
fn known_interface(export: &str) -> Option<&str> {
    let (iface, _func) = export.split_once('#')?;
    let iface = iface.split_once('@').map_or(iface, |(i, _)| i);
    (iface.starts_with("torvyn:streaming/")
        || iface.starts_with("torvyn:filtering/")
        || iface.starts_with("torvyn:aggregation/"))
    .then_some(iface)
}

/// The import module names and the export names of a core module.
fn core_names(module: &[u8]) -> Result<(Vec<String>, Vec<String>), String> {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        match payload.map_err(|e| e.to_string())? {
            wasmparser::Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    imports.push(import.map_err(|e| e.to_string())?.module.to_string());
                }
            }
            wasmparser::Payload::ExportSection(reader) => {
                for export in reader {
                    exports.push(export.map_err(|e| e.to_string())?.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok((imports, exports))
}

/// `text` (a `.wit` file) with the streaming package unversioned: `@0.1.0`
/// is removed from `package torvyn:streaming@0.1.0;` and from every
/// `torvyn:streaming/NAME@0.1.0` reference (`use`, `import`, `export`,
/// `include`); every other package keeps its version. This is how the
/// unversioned copy of the contract is derived from `wit/` at load time.
///
/// ```
/// use torvyn_harness::fixtures::unversioned_wit;
///
/// assert_eq!(
///     unversioned_wit("package torvyn:filtering@0.1.0;\nuse torvyn:streaming/types@0.1.0.{buffer};"),
///     "package torvyn:filtering@0.1.0;\nuse torvyn:streaming/types.{buffer};"
/// );
/// assert_eq!(unversioned_wit("package torvyn:streaming@0.1.0;"), "package torvyn:streaming;");
/// ```
pub fn unversioned_wit(text: &str) -> String {
    const PACKAGE: &str = "torvyn:streaming";
    let version = CONTRACT_PACKAGE
        .strip_prefix(PACKAGE)
        .expect("the contract package is torvyn:streaming");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(PACKAGE) {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        out.push_str(PACKAGE);
        let mut tail = &from[PACKAGE.len()..];
        if let Some(path) = tail.strip_prefix('/') {
            let end = path
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(path.len());
            out.push('/');
            out.push_str(&path[..end]);
            tail = &path[end..];
        }
        rest = tail.strip_prefix(version).unwrap_or(tail);
    }
    out.push_str(rest);
    out
}

/// Every WIT package the componentizer knows in one spelling: the contract
/// with its extension packages, plus the fixture package, resolved once.
struct Worlds {
    resolve: Resolve,
    contract: PackageId,
}

impl fmt::Debug for Worlds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worlds").finish_non_exhaustive()
    }
}

type Loaded = Result<Worlds, (PathBuf, String)>;

static VERSIONED: LazyLock<Loaded> = LazyLock::new(|| {
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

/// The same packages with the streaming package unversioned, every file
/// passed through [`unversioned_wit`].
static UNVERSIONED: LazyLock<Loaded> = LazyLock::new(|| {
    let mut resolve = Resolve::default();
    let dir = contract_wit_dir();
    let contract = push_unversioned(&mut resolve, &dir)?;
    let fixtures = fixtures_wit_dir();
    if fixtures.is_dir() {
        push_unversioned(&mut resolve, &fixtures)?;
    }
    Ok(Worlds { resolve, contract })
});

/// Pushes the package in `dir` and those in `dir/deps/*/`, each file
/// unversioned, as `Resolve::push_dir` would push them as written.
fn push_unversioned(resolve: &mut Resolve, dir: &Path) -> Result<PackageId, (PathBuf, String)> {
    let main = unversioned_group(dir)?;
    let deps_dir = dir.join("deps");
    let mut deps = Vec::new();
    if deps_dir.is_dir() {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&deps_dir)
            .map_err(|e| (deps_dir.clone(), e.to_string()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dep in dirs {
            deps.push(unversioned_group(&dep)?);
        }
    }
    resolve
        .push_groups(main, deps)
        .map_err(|e| (dir.to_path_buf(), format!("the unversioned copy: {e:#}")))
}

/// The `.wit` files of `dir` (not its subdirectories), unversioned and
/// parsed as one package.
fn unversioned_group(dir: &Path) -> Result<UnresolvedPackageGroup, (PathBuf, String)> {
    let io = |e: std::io::Error| (dir.to_path_buf(), e.to_string());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "wit"))
        .collect();
    files.sort();
    let mut map = SourceMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(io)?;
        map.push(&file, unversioned_wit(&text));
    }
    map.parse()
        .map_err(|(_, e)| (dir.to_path_buf(), format!("the unversioned copy: {e}")))
}

fn worlds(spelling: Spelling) -> Result<&'static Worlds, FixtureError> {
    let loaded = match spelling {
        Spelling::Versioned => &*VERSIONED,
        Spelling::Unversioned => &*UNVERSIONED,
    };
    loaded
        .as_ref()
        .map_err(|(path, message)| FixtureError::Wit {
            path: path.clone(),
            message: message.clone(),
        })
}

/// Fully qualified names (`ns:pkg/world@version`) of every world the
/// componentizer can target in the versioned spelling, sorted.
pub fn available_worlds() -> Result<Vec<String>, FixtureError> {
    available_worlds_spelled(Spelling::Versioned)
}

/// Fully qualified names of every world the componentizer can target in
/// `spelling`, sorted (unversioned: `torvyn:streaming/transform`, but
/// `torvyn:filtering/content-filter@0.1.0`).
pub fn available_worlds_spelled(spelling: Spelling) -> Result<Vec<String>, FixtureError> {
    let w = worlds(spelling)?;
    let mut names: Vec<String> = w
        .resolve
        .worlds
        .iter()
        .filter_map(|(_, world)| Some(w.resolve.id_of_name(world.package?, &world.name)))
        .collect();
    names.sort();
    Ok(names)
}

/// Finds `name` in `spelling`'s packages: a short world name of the
/// contract, else of an extension package ([`EXTENSION_PACKAGES`]), or
/// `ns:pkg/world` with or without `@version`.
fn lookup_world(
    name: &str,
    spelling: Spelling,
) -> Result<(&'static Resolve, WorldId), FixtureError> {
    let w = worlds(spelling)?;
    let resolve = &w.resolve;
    let unversioned = |pkg: PackageId| {
        let p = &resolve.packages[pkg].name;
        format!("{}:{}", p.namespace, p.name)
    };
    let found = if name.contains(':') {
        resolve.worlds.iter().find_map(|(id, world)| {
            let pkg = world.package?;
            let full = resolve.id_of_name(pkg, &world.name);
            let short = format!("{}/{}", unversioned(pkg), world.name);
            (name == full || name == short).then_some(id)
        })
    } else {
        resolve.packages[w.contract]
            .worlds
            .get(name)
            .copied()
            .or_else(|| {
                resolve
                    .packages
                    .iter()
                    .filter(|(id, _)| EXTENSION_PACKAGES.contains(&unversioned(*id).as_str()))
                    .find_map(|(_, p)| p.worlds.get(name).copied())
            })
    };
    match found {
        Some(id) => Ok((resolve, id)),
        None => Err(FixtureError::UnknownWorld {
            world: name.to_string(),
            available: available_worlds_spelled(spelling)?,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use wit_component::DecodedWasm;

    use super::*;

    fn core(name: &str) -> Vec<u8> {
        let text = std::fs::read_to_string(fixture_path(name)).unwrap();
        wat::parse_str(text).unwrap()
    }

    /// The (imports, exports) interface names of a component.
    fn interfaces(component: &[u8]) -> (BTreeSet<String>, BTreeSet<String>) {
        let DecodedWasm::Component(resolve, world) = wit_component::decode(component).unwrap()
        else {
            panic!("not a component");
        };
        let names = |items: &wit_parser::IndexMap<wit_parser::WorldKey, _>| {
            items
                .keys()
                .map(|key| resolve.name_world_key(key))
                .collect::<BTreeSet<String>>()
        };
        let w = &resolve.worlds[world];
        (names(&w.imports), names(&w.exports))
    }

    #[test]
    fn unversioned_wit_strips_only_the_streaming_version() {
        let text = "package torvyn:streaming@0.1.0;\n\
                    interface filter {\n  use torvyn:streaming/types@0.1.0.{stream-element};\n}\n\
                    world w {\n  import torvyn:streaming/types@0.1.0;\n  \
                    export torvyn:streaming/lifecycle@0.1.0;\n  \
                    include torvyn:streaming/managed-transform@0.1.0;\n  \
                    import torvyn:capabilities/capability-query@0.1.0;\n}\n";
        assert_eq!(
            unversioned_wit(text),
            "package torvyn:streaming;\n\
             interface filter {\n  use torvyn:streaming/types.{stream-element};\n}\n\
             world w {\n  import torvyn:streaming/types;\n  \
             export torvyn:streaming/lifecycle;\n  \
             include torvyn:streaming/managed-transform;\n  \
             import torvyn:capabilities/capability-query@0.1.0;\n}\n"
        );
        // Other packages, and names that only start like the package, stay.
        for same in [
            "package torvyn:filtering@0.1.0;",
            "use torvyn:streaming-extra/types@0.1.0.{x};",
            "torvyn:streaming/types@0.2.0",
        ] {
            assert_eq!(unversioned_wit(same), same);
        }
    }

    #[test]
    fn the_unversioned_copy_resolves_with_the_extensions_versioned() {
        let worlds = available_worlds_spelled(Spelling::Unversioned).unwrap();
        for w in [
            "torvyn:streaming/transform",
            "torvyn:streaming/data-source",
            "torvyn:filtering/content-filter@0.1.0",
            "torvyn:filtering/content-router@0.1.0",
            "torvyn:aggregation/stream-aggregator@0.1.0",
            "torvyn:fixtures/capability-transform",
        ] {
            assert!(worlds.iter().any(|x| x == w), "{w} missing from {worlds:?}");
        }
        assert!(
            !worlds
                .iter()
                .any(|w| w.starts_with("torvyn:streaming/") && w.contains('@')),
            "{worlds:?}"
        );
        // The filter interface of the copy uses the unversioned types.
        let (resolve, id) = lookup_world("content-filter", Spelling::Unversioned).unwrap();
        let imports: Vec<String> = resolve.worlds[id]
            .imports
            .keys()
            .map(|k| resolve.name_world_key(k))
            .collect();
        assert_eq!(imports, ["torvyn:streaming/types"]);
        let (resolve, id) = lookup_world("content-filter", Spelling::Versioned).unwrap();
        let imports: Vec<String> = resolve.worlds[id]
            .imports
            .keys()
            .map(|k| resolve.name_world_key(k))
            .collect();
        assert_eq!(imports, ["torvyn:streaming/types@0.1.0"]);
    }

    #[test]
    fn extension_worlds_are_inferred_from_exports() {
        for (name, world) in [
            ("token-filter", "content-filter"),
            ("content-filter", "content-filter"),
            ("filter-trap", "content-filter"),
            ("router", "content-router"),
            ("route-flood", "content-router"),
            ("sentence-aggregator", "stream-aggregator"),
            ("flush-flood", "stream-aggregator"),
            ("flush-leak", "stream-aggregator"),
            ("token-source", "data-source"),
            ("capability-probe", "managed-transform"),
        ] {
            assert_eq!(infer_world(&core(name)).unwrap(), world, "{name}");
        }
        // A filter that is also a router picks no world.
        let both = r#"(module
            (func (export "torvyn:filtering/filter@0.1.0#evaluate"))
            (func (export "torvyn:filtering/router@0.1.0#route")))"#;
        let err = infer_world(&wat::parse_str(both).unwrap()).unwrap_err();
        assert!(
            matches!(&err, FixtureError::CannotInferWorld { contract_exports, .. }
                if contract_exports.len() == 2),
            "{err}"
        );
    }

    #[test]
    fn the_spelling_is_read_from_the_names() {
        assert_eq!(
            spelling_of(&core("token-filter")).unwrap(),
            Spelling::Unversioned
        );
        assert_eq!(
            spelling_of(&core("sentence-aggregator")).unwrap(),
            Spelling::Unversioned
        );
        for versioned in ["passthrough", "content-filter", "router", "token-source"] {
            assert_eq!(
                spelling_of(&core(versioned)).unwrap(),
                Spelling::Versioned,
                "{versioned}"
            );
        }
        let none = r#"(module (func (export "hello")))"#;
        assert_eq!(
            spelling_of(&wat::parse_str(none).unwrap()).unwrap(),
            Spelling::Versioned
        );
        let mixed = r#"(module
            (import "torvyn:streaming/types" "[resource-drop]buffer" (func (param i32)))
            (func (export "torvyn:streaming/lifecycle@0.1.0#teardown")))"#;
        let err = component_from_wat(mixed, "mixed.wat").unwrap_err();
        match &err {
            FixtureError::MixedSpelling {
                origin,
                versioned,
                unversioned,
            } => {
                assert_eq!(origin, "mixed.wat");
                assert_eq!(versioned, &["torvyn:streaming/lifecycle@0.1.0"]);
                assert_eq!(unversioned, &["torvyn:streaming/types"]);
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("both with and without"), "{err}");
    }

    #[test]
    fn each_spelling_is_componentized_against_its_own_copy() {
        let (imports, exports) = interfaces(&load_fixture("token-filter").unwrap());
        assert_eq!(
            imports,
            BTreeSet::from(["torvyn:streaming/types".to_string()])
        );
        assert_eq!(
            exports,
            BTreeSet::from([
                "torvyn:filtering/filter@0.1.0".to_string(),
                "torvyn:streaming/lifecycle".to_string(),
            ])
        );
        let (imports, exports) = interfaces(&load_fixture("content-filter").unwrap());
        assert_eq!(
            imports,
            BTreeSet::from(["torvyn:streaming/types@0.1.0".to_string()])
        );
        assert_eq!(
            exports,
            BTreeSet::from([
                "torvyn:filtering/filter@0.1.0".to_string(),
                "torvyn:streaming/lifecycle@0.1.0".to_string(),
            ])
        );
        let (imports, _) = interfaces(&load_fixture("sentence-aggregator").unwrap());
        assert_eq!(
            imports,
            BTreeSet::from([
                "torvyn:streaming/types".to_string(),
                "torvyn:streaming/buffer-allocator".to_string(),
            ])
        );
        // Forcing the other spelling cannot work: the names do not match.
        let err =
            componentize_spelled(&core("token-filter"), None, Spelling::Versioned).unwrap_err();
        assert!(matches!(err, FixtureError::Componentize { .. }), "{err}");
        let err =
            componentize_spelled(&core("content-filter"), None, Spelling::Unversioned).unwrap_err();
        assert!(
            err.to_string()
                .contains("content-filter (unversioned spelling)"),
            "{err}"
        );
    }

    #[test]
    fn a_spelling_line_overrides_the_names() {
        let text = std::fs::read_to_string(fixture_path("content-filter")).unwrap();
        assert_eq!(spelling_directive(&text), None);
        let forced = format!(";; spelling: unversioned\n{text}");
        assert_eq!(spelling_directive(&forced).as_deref(), Some("unversioned"));
        let err = component_from_wat(&forced, "forced.wat").unwrap_err();
        assert!(
            matches!(&err, FixtureError::Componentize { world, .. }
                if world == "content-filter (unversioned spelling)"),
            "{err}"
        );
        let same = format!(";; spelling: versioned\n{text}");
        assert!(is_component(
            &component_from_wat(&same, "same.wat").unwrap()
        ));
        let bad = format!(";; spelling: sideways\n{text}");
        let err = component_from_wat(&bad, "bad.wat").unwrap_err();
        assert!(
            matches!(&err, FixtureError::UnknownSpelling { spelling, .. } if spelling == "sideways"),
            "{err}"
        );
    }

    #[test]
    fn short_extension_world_names_resolve_in_both_spellings() {
        for spelling in [Spelling::Versioned, Spelling::Unversioned] {
            for (short, package) in [
                ("content-filter", "torvyn:filtering"),
                ("content-router", "torvyn:filtering"),
                ("stream-aggregator", "torvyn:aggregation"),
                ("transform", "torvyn:streaming"),
            ] {
                let (resolve, id) = lookup_world(short, spelling).unwrap();
                let world = &resolve.worlds[id];
                let p = &resolve.packages[world.package.unwrap()].name;
                assert_eq!(format!("{}:{}", p.namespace, p.name), package, "{short}");
                assert_eq!(world.name, short);
            }
        }
        let bytes = componentize(&core("router"), Some("content-router")).unwrap();
        assert!(is_component(&bytes));
        let bytes = componentize(
            &core("token-filter"),
            Some("torvyn:filtering/content-filter@0.1.0"),
        )
        .unwrap();
        assert!(is_component(&bytes));
        let err = componentize(&core("router"), Some("wasi-transform")).unwrap_err();
        assert!(matches!(err, FixtureError::UnknownWorld { .. }), "{err}");
    }
}
