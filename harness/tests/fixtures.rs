//! Tests of the WAT fixture loader: every fixture loads as a valid component
//! with the expected world, and every failure says what went wrong.

use std::collections::BTreeSet;

use torvyn_harness::fixtures::{
    FixtureError, available_worlds, component_from_wat, componentize, infer_world, is_component,
    list_fixtures, load_fixture, world_directive,
};
use wasmparser::{Validator, WasmFeatures};
use wit_component::DecodedWasm;

/// Fixture name → the world its core module is componentized for (`None`
/// for components written in component text; `every-role` is
/// `torvyn:fixtures/every-role`, which only a `;; world:` line names).
const EXPECTED: &[(&str, Option<&str>)] = &[
    ("abandon-buffers", Some("transform")),
    ("buffer-hog", Some("transform")),
    ("capability-probe", Some("managed-transform")),
    ("component-text", None),
    ("content-filter", Some("content-filter")),
    ("counter-source", Some("data-source")),
    ("deep-recursion", Some("transform")),
    ("fatal-sink", Some("data-sink")),
    ("filter", Some("transform")),
    ("filter-trap", Some("content-filter")),
    ("flush-alias", Some("stream-aggregator")),
    ("flush-flood", Some("stream-aggregator")),
    ("flush-leak", Some("stream-aggregator")),
    ("forged-handle", Some("transform")),
    ("host-call-loop", Some("transform")),
    ("hostile-source", Some("data-source")),
    ("huge-offsets", Some("transform")),
    ("leak-borrow", Some("transform")),
    ("lifecycle", Some("managed-transform")),
    ("memory-hog", Some("transform")),
    ("oversized-output", Some("transform")),
    ("passthrough", Some("transform")),
    ("route-alias", Some("content-router")),
    ("route-flood", Some("content-router")),
    ("router", Some("content-router")),
    ("scribble", Some("every-role")),
    ("sentence-aggregator", Some("stream-aggregator")),
    ("sink", Some("data-sink")),
    ("sleeper", Some("transform")),
    ("source-only", Some("data-source")),
    ("spin", Some("transform")),
    ("stamp", Some("transform")),
    ("stdout-flood", Some("managed-transform")),
    ("token-filter", Some("content-filter")),
    ("token-source", Some("data-source")),
    ("trap", Some("transform")),
    ("unlinked-import", Some("transform")),
    ("uppercase", Some("transform")),
    ("use-after-drop", Some("transform")),
    ("use-after-freeze", Some("transform")),
    ("validator", Some("transform")),
    ("wasi-hello", Some("managed-transform")),
    ("wrong-types", None),
];

fn validate(bytes: &[u8]) {
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(bytes)
        .expect("valid component");
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(torvyn_harness::fixtures::fixture_path(name)).unwrap()
}

/// The interfaces a component exports, e.g. `torvyn:streaming/processor@0.1.0`.
fn exported_interfaces(component: &[u8]) -> BTreeSet<String> {
    let DecodedWasm::Component(resolve, world) = wit_component::decode(component).unwrap() else {
        panic!("not a component");
    };
    resolve.worlds[world]
        .exports
        .keys()
        .map(|key| resolve.name_world_key(key))
        .collect()
}

fn contract(names: &[&str]) -> BTreeSet<String> {
    names
        .iter()
        .map(|n| format!("torvyn:streaming/{n}@0.1.0"))
        .collect()
}

/// Fixtures built against the unversioned copy of the streaming package.
const UNVERSIONED: [&str; 2] = ["sentence-aggregator", "token-filter"];

/// `extension` (e.g. `torvyn:filtering/filter@0.1.0`) and the streaming
/// `lifecycle` in `fixture`'s spelling.
fn extension(fixture: &str, extension: &str) -> BTreeSet<String> {
    let lifecycle = if UNVERSIONED.contains(&fixture) {
        "torvyn:streaming/lifecycle"
    } else {
        "torvyn:streaming/lifecycle@0.1.0"
    };
    BTreeSet::from([extension.to_string(), lifecycle.to_string()])
}

#[test]
fn fixture_list_is_the_expected_one() {
    let expected: Vec<String> = EXPECTED.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(list_fixtures(), expected);
}

#[test]
fn every_fixture_loads_as_a_valid_component() {
    let names = list_fixtures();
    assert!(!names.is_empty());
    for name in names {
        let bytes = load_fixture(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(is_component(&bytes), "{name} is not a component");
        validate(&bytes);
    }
}

#[test]
fn core_fixtures_infer_the_expected_world() {
    for (name, world) in EXPECTED {
        let text = fixture_text(name);
        let bytes = wat::parse_str(&text).unwrap();
        match world {
            None => assert!(is_component(&bytes), "{name} should be a component"),
            // Every role at once: no world is inferred from its exports.
            Some("every-role") => {
                assert!(!is_component(&bytes), "{name} should be a core module");
                assert!(
                    matches!(
                        infer_world(&bytes),
                        Err(FixtureError::CannotInferWorld { .. })
                    ),
                    "{name}"
                );
            }
            Some(world) => {
                assert!(!is_component(&bytes), "{name} should be a core module");
                assert_eq!(infer_world(&bytes).unwrap(), *world, "{name}");
            }
        }
    }
}

#[test]
fn fixtures_export_the_interfaces_of_their_world() {
    for (name, world) in EXPECTED {
        let bytes = load_fixture(name).unwrap();
        let expected = match world {
            None => contract(&["source"]),
            Some("transform") => contract(&["processor"]),
            Some("managed-transform") => contract(&["processor", "lifecycle"]),
            Some("data-source") => contract(&["source", "lifecycle"]),
            Some("data-sink") => contract(&["sink", "lifecycle"]),
            Some("content-filter") => extension(name, "torvyn:filtering/filter@0.1.0"),
            Some("content-router") => extension(name, "torvyn:filtering/router@0.1.0"),
            Some("stream-aggregator") => extension(name, "torvyn:aggregation/aggregator@0.1.0"),
            Some("every-role") => {
                let mut all = contract(&["processor", "source", "sink", "lifecycle"]);
                all.insert("torvyn:filtering/filter@0.1.0".into());
                all.insert("torvyn:filtering/router@0.1.0".into());
                all.insert("torvyn:aggregation/aggregator@0.1.0".into());
                all
            }
            Some(other) => panic!("unexpected world {other}"),
        };
        assert_eq!(exported_interfaces(&bytes), expected, "{name}");
    }
}

/// Checks fixture `name` names `world` with a `;; world:` line, and returns
/// the imports of the component it loads as.
fn world_and_imports(name: &str, world: &str) -> BTreeSet<String> {
    assert_eq!(world_directive(&fixture_text(name)).as_deref(), Some(world));
    let bytes = load_fixture(name).unwrap();
    let DecodedWasm::Component(resolve, world) = wit_component::decode(&bytes).unwrap() else {
        panic!("{name} is not a component");
    };
    resolve.worlds[world]
        .imports
        .keys()
        .map(|key| resolve.name_world_key(key))
        .collect()
}

#[test]
fn wasi_fixture_names_its_world_and_imports_wasi() {
    let imports = world_and_imports("wasi-hello", "torvyn:fixtures/wasi-transform");
    for wasi in [
        "wasi:cli/stdout@0.2.0",
        "wasi:io/streams@0.2.0",
        "wasi:io/error@0.2.0",
        "wasi:clocks/wall-clock@0.2.0",
        "wasi:random/random@0.2.0",
    ] {
        assert!(imports.contains(wasi), "missing import {wasi}: {imports:?}");
    }
}

#[test]
fn capability_probe_names_its_world_and_imports_the_capability_query() {
    let imports = world_and_imports("capability-probe", "torvyn:fixtures/capability-transform");
    assert!(
        imports.contains("torvyn:capabilities/capability-query@0.1.0"),
        "{imports:?}"
    );
}

#[test]
fn scribble_names_its_world_and_imports_the_allocator() {
    let imports = world_and_imports("scribble", "torvyn:fixtures/every-role");
    assert_eq!(
        imports,
        BTreeSet::from([
            "torvyn:streaming/types@0.1.0".to_string(),
            "torvyn:streaming/buffer-allocator@0.1.0".to_string(),
        ])
    );
}

#[test]
fn component_text_is_passed_through_unchanged() {
    let text = fixture_text("component-text");
    assert_eq!(
        load_fixture("component-text").unwrap(),
        wat::parse_str(&text).unwrap()
    );
}

#[test]
fn explicit_world_names_in_every_spelling() {
    let core = wat::parse_str(fixture_text("passthrough")).unwrap();
    for world in [
        "transform",
        "torvyn:streaming/transform",
        "torvyn:streaming/transform@0.1.0",
    ] {
        let bytes = componentize(&core, Some(world)).unwrap_or_else(|e| panic!("{world}: {e}"));
        validate(&bytes);
    }
    // A processor also satisfies the processor half of managed-transform only
    // if it exports lifecycle; wit-component says what is missing.
    let err = componentize(&core, Some("managed-transform")).unwrap_err();
    assert!(matches!(err, FixtureError::Componentize { .. }), "{err}");
    assert!(err.to_string().contains("managed-transform"), "{err}");
}

#[test]
fn available_worlds_include_contract_and_fixture_worlds() {
    let worlds = available_worlds().unwrap();
    for w in [
        "torvyn:streaming/transform@0.1.0",
        "torvyn:streaming/managed-transform@0.1.0",
        "torvyn:streaming/data-source@0.1.0",
        "torvyn:streaming/data-sink@0.1.0",
        "torvyn:filtering/content-filter@0.1.0",
        "torvyn:filtering/content-router@0.1.0",
        "torvyn:aggregation/stream-aggregator@0.1.0",
        "torvyn:fixtures/wasi-transform",
        "torvyn:fixtures/capability-transform",
    ] {
        assert!(worlds.iter().any(|x| x == w), "{w} missing from {worlds:?}");
    }
}

#[test]
fn unknown_fixture_lists_the_available_ones() {
    let err = load_fixture("no-such-fixture").unwrap_err();
    assert!(matches!(err, FixtureError::NotFound { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("no-such-fixture"), "{msg}");
    assert!(msg.contains("passthrough"), "{msg}");
    assert!(msg.contains("components"), "{msg}");
}

#[test]
fn wat_syntax_error_reports_origin_and_line() {
    let text = "(module\n  (func\n    i32.const oops\n  )\n)\n";
    let err = component_from_wat(text, "broken.wat").unwrap_err();
    assert!(matches!(err, FixtureError::Wat { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("broken.wat"), "{msg}");
    assert!(msg.contains(":3:"), "line number missing: {msg}");
}

#[test]
fn module_without_contract_exports_cannot_infer_a_world() {
    let text = r#"(module (func (export "hello")))"#;
    let err = component_from_wat(text, "hello.wat").unwrap_err();
    assert!(
        matches!(err, FixtureError::CannotInferWorld { .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("hello.wat"), "{msg}");
    assert!(msg.contains("hello"), "{msg}");
    assert!(msg.contains(";; world:"), "{msg}");
}

#[test]
fn unknown_world_lists_the_available_ones() {
    let core = wat::parse_str(fixture_text("passthrough")).unwrap();
    let err = componentize(&core, Some("no-such-world")).unwrap_err();
    assert!(matches!(err, FixtureError::UnknownWorld { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("no-such-world"), "{msg}");
    assert!(msg.contains("torvyn:streaming/transform@0.1.0"), "{msg}");

    // The same through a `;; world:` directive.
    let text = format!(";; world: torvyn:nope/nothing\n{}", fixture_text("trap"));
    let err = component_from_wat(&text, "directive.wat").unwrap_err();
    assert!(matches!(err, FixtureError::UnknownWorld { .. }), "{err}");
}

#[test]
fn wrong_signature_is_a_componentize_error() {
    let text = r#"(module
        (memory (export "memory") 1)
        (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
        (func (export "torvyn:streaming/processor@0.1.0#process") (param i32) (result i32)
          i32.const 0))"#;
    let err = component_from_wat(text, "bad-sig.wat").unwrap_err();
    assert!(matches!(err, FixtureError::Componentize { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("bad-sig.wat"), "{msg}");
    assert!(msg.contains("transform"), "{msg}");
}
