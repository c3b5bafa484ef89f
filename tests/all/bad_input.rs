//! Bad input at the host API: each gets a clear error (naming what failed and
//! what to do) or is handled correctly, and nothing panics.
//!
//! Covered elsewhere, not repeated here: empty bytes and one noise sample,
//! a core module passed to `compile`/`compile_wat`, a WAT syntax error in
//! `compile_wat`, a component importing a foreign interface, a component
//! with no contract export, a config with six problems, garbage and
//! foreign compiled artifacts (`cold_path.rs`); `set_fuel` with 0 and
//! `u64::MAX` or with fuel off, a deadline already past on `process`, a
//! payload over 16 MiB and a 16 MiB payload through `passthrough`
//! (`limits.rs`); a virtual clock without fuel (`virtual_time.rs`).
//! Invalid UTF-8 where the contract expects a string cannot be produced
//! from the host side (the API takes `&str`/`String`), so it is not tested.

use std::time::Duration;

use torvyn_engine::wasmtime::PoolingConfig;
use torvyn_engine::wasmtime::{UnknownImports, WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    BackpressureSignal, CompilationStrategy, ComponentId, ComponentInvoker, EngineError, FaultKind,
    FlowContext, InvokeError, Limits, ProcessResult, StreamElement, TrapCode, WasmEngine,
};
use torvyn_harness::sim::{ReplayGuard, SimRng, seed_from_env};

use crate::support::{STRATEGIES, compile_on, compiled, engine, fault, instance, ok};

const MIB: usize = 1024 * 1024;
const CRANELIFT: CompilationStrategy = CompilationStrategy::Cranelift;

fn emitted(result: ProcessResult) -> torvyn_engine::OutputElement {
    match result {
        ProcessResult::Emit(out) => out,
        ProcessResult::Drop => panic!("expected an emitted element"),
    }
}

#[test]
fn random_bytes_are_compile_errors_for_every_seed() {
    let seed = seed_from_env();
    let _guard = ReplayGuard::new(seed).with_label("random component bytes");
    let mut rng = SimRng::new(seed);
    let e = engine(CRANELIFT);
    let uppercase = torvyn_harness::fixtures::load_fixture("uppercase").unwrap();
    for round in 0..32 {
        let len = rng.range(1, 4096) as usize;
        let noise = rng.bytes(len);
        // Pure noise, noise behind a component header (so the parser goes
        // further), and a real component cut short or with a byte flipped.
        let mut headed = b"\0asm\x0d\0\x01\0".to_vec();
        headed.extend_from_slice(&noise);
        let cut = uppercase[..rng.range(8, uppercase.len() as u64 - 1) as usize].to_vec();
        let mut flipped = uppercase.clone();
        let at = rng.range(8, uppercase.len() as u64) as usize;
        flipped[at] ^= 1 << rng.below(8);
        for (what, bytes) in [("noise", noise), ("headed", headed), ("cut", cut)] {
            let origin = format!("{what}-{round}.wasm");
            let err = e
                .compile_named(&bytes, &origin)
                .err()
                .unwrap_or_else(|| panic!("{origin}: random bytes compiled"));
            let text = err.to_string();
            match err {
                EngineError::Compile { .. } => assert!(
                    text.starts_with(&format!("cannot compile {origin}: ")),
                    "{text}"
                ),
                // A cut at a section boundary is a valid component that
                // lost its exports.
                EngineError::NoRoles { .. } if what == "cut" => {
                    assert!(text.contains(&format!("`{origin}`")), "{text}")
                }
                _ => panic!("{origin}: {text}"),
            }
        }
        // A flipped bit may land in a name or a constant and still give a
        // valid component; either way there is an answer and no panic.
        if let Err(err) = e.compile_named(&flipped, "flipped.wasm") {
            assert!(err.to_string().contains("flipped.wasm"), "{err}");
        }
    }
}

#[test]
fn files_name_their_path_in_every_error() {
    let e = engine(CRANELIFT);
    let dir = tempfile::tempdir().unwrap();

    let missing = dir.path().join("missing.wasm");
    let err = e.compile_file(&missing).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("missing.wasm") && text.contains("cannot read the file"),
        "{text}"
    );

    let core = dir.path().join("core.wasm");
    std::fs::write(&core, wat::parse_str("(module)").unwrap()).unwrap();
    let err = e.compile_file(&core).unwrap_err();
    assert!(matches!(err, EngineError::NotAComponent { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("core.wasm") && text.contains("wasm-tools component new"),
        "{text}"
    );

    let broken = dir.path().join("broken.wat");
    std::fs::write(
        &broken,
        "(component\n  (core module\n    (func (oops)))\n)\n",
    )
    .unwrap();
    let err = e.compile_file(&broken).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("invalid WAT in {}:", broken.display())),
        "{err}"
    );
    match &err {
        EngineError::InvalidWat { origin, message } => {
            assert!(origin.ends_with("broken.wat"), "{origin}");
            assert!(message.contains(":3:12"), "line and column: {message}");
        }
        other => panic!("{other}"),
    }

    let latin1 = dir.path().join("latin1.wat");
    std::fs::write(&latin1, b"(component) ;; caf\xe9\n").unwrap();
    let err = e.compile_file(&latin1).unwrap_err();
    assert!(matches!(err, EngineError::InvalidWat { .. }), "{err}");
    assert!(err.to_string().contains("not UTF-8"), "{err}");
}

#[test]
fn components_for_another_contract_or_world_are_refused() {
    let e = engine(CRANELIFT);
    // Another version of the contract: not linked (0.x versions do not
    // match by semver).
    let newer = r#"(component
        (import "torvyn:streaming/types@0.2.0" (instance
            (export "buffer" (type (sub resource)))))
    )"#;
    let err = e.compile_wat_named(newer, "newer.wat").unwrap_err();
    assert!(matches!(err, EngineError::Link { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("torvyn:streaming/types@0.2.0")
            && text.contains("build it against a torvyn:streaming@0.1.0 world"),
        "{text}"
    );

    // A WASI interface outside what the engine links (WASI p2 CLI, I/O,
    // clocks, random, filesystem, sockets).
    let http = r#"(component
        (import "wasi:http/outgoing-handler@0.2.0" (instance
            (export "handle" (func))))
    )"#;
    let err = e.compile_wat_named(http, "http.wat").unwrap_err();
    assert!(matches!(err, EngineError::Link { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("`wasi:http/outgoing-handler@0.2.0`, which this engine does not provide")
            && text.contains("`unknown_imports`")
            && text.contains("UnknownImports::Trap")
            && !text.contains("world"),
        "{text}"
    );

    // Exports of another contract version are no role at all; the error
    // lists what the component does export.
    let other_exports = r#"(component
        (core module $m (func (export "f")))
        (core instance $i (instantiate $m))
        (func $f (canon lift (core func $i "f")))
        (instance $p (export "process" (func $f)))
        (export "torvyn:streaming/processor@0.2.0" (instance $p))
    )"#;
    let err = e.compile_wat_named(other_exports, "v2.wat").unwrap_err();
    assert!(matches!(err, EngineError::NoRoles { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("it exports: torvyn:streaming/processor@0.2.0"),
        "{err}"
    );
}

#[test]
fn an_invalid_config_lists_every_problem_with_what_to_do() {
    let bad = WasmtimeEngineConfig {
        limits: Limits {
            fuel_per_call: u64::MAX,
            call_deadline: Some(Duration::ZERO),
            max_memory_bytes: 8 << 30,
            max_host_resources: 0,
            max_buffer_bytes_per_instance: 0,
            ..Limits::default()
        },
        epoch_tick: Duration::from_secs(5),
        max_wasm_stack: 1 << 30,
        max_core_instances: 0,
        max_tables: 0,
        max_memories: 0,
        max_table_elements: 0,
        pooling: Some(PoolingConfig {
            total_component_instances: 10,
            total_core_instances: 5,
            total_memories: 0,
            ..PoolingConfig::default()
        }),
        ..WasmtimeEngineConfig::default()
    };
    let Err(err) = WasmtimeEngine::new(bad) else {
        panic!("an invalid config was accepted")
    };
    let EngineError::InvalidConfig(problems) = &err else {
        panic!("{err}")
    };
    let mut fields: Vec<_> = problems.iter().map(|p| p.field).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "epoch_tick",
            "limits.call_deadline",
            "limits.fuel_per_call",
            "limits.max_buffer_bytes_per_instance",
            "limits.max_host_resources",
            "limits.max_memory_bytes",
            "max_core_instances",
            "max_memories",
            "max_table_elements",
            "max_tables",
            "max_wasm_stack",
            "pooling.total_core_instances",
            "pooling.total_memories",
        ]
    );
    let text = err.to_string();
    assert!(
        text.starts_with("invalid engine configuration (13 problem(s)):"),
        "{text}"
    );
    // One line per problem, each naming its field and saying what is wrong.
    assert_eq!(text.lines().count(), 14, "{text}");
    for p in problems {
        assert!(text.contains(&format!("`{}`: ", p.field)), "{text}");
        assert!(!p.problem.is_empty());
    }
    for hint in [
        "use None for no deadline",
        "use 1ms to 100ms",
        "4 GiB",
        "1 MiB is the default",
        "no component could run",
        "every component needs at least one core instance",
    ] {
        assert!(text.contains(hint), "missing {hint:?} in {text}");
    }
}

#[test]
fn fuel_budgets_at_and_past_the_edge() {
    let e = engine(CRANELIFT);
    let mut u = instance(CRANELIFT, "uppercase");
    e.set_fuel(&mut u, 1000).unwrap();
    for bad in [0, i64::MAX as u64 + 1] {
        let err = e.set_fuel(&mut u, bad).unwrap_err();
        assert!(matches!(
            err,
            EngineError::InvalidArgument { name: "fuel", .. }
        ));
        assert!(
            err.to_string().contains("outside 1..=9223372036854775807"),
            "{err}"
        );
    }
    // A refused budget leaves the last good one in place.
    assert_eq!(u.fuel_budget(), 1000);
    e.set_fuel(&mut u, i64::MAX as u64).unwrap();
    let out = emitted(ok(u.process_sync(StreamElement::new(0, "edge", "t")), &u));
    assert_eq!(&out.payload[..], b"EDGE");
    // One unit of fuel: the call fails at once, and says what to do.
    e.set_fuel(&mut u, 1).unwrap();
    let f = fault(
        u.process_sync(StreamElement::new(1, "x", "t")),
        &u,
        "fuel-exhausted",
    );
    assert!(f.to_string().contains("raise the fuel budget"), "{f}");
}

#[test]
fn deadlines_at_the_extremes() {
    let s = CRANELIFT;
    // Zero (the start of the clock) is always past: rejected, not poisoned,
    // for a sink as for a processor.
    let mut sink = instance(s, "sink");
    let past =
        StreamElement::new(0, "x", "t").with_context(FlowContext::new("f").with_deadline_ns(0));
    std::thread::sleep(Duration::from_millis(1));
    let f = fault(sink.push_sync(past), &sink, "rejected");
    assert!(f.to_string().contains("deadline passed"), "{f}");
    assert!(sink.poisoned().is_none());
    assert_eq!(
        ok(sink.push_sync(StreamElement::new(1, "x", "t")), &sink),
        BackpressureSignal::Ready
    );

    // The far end of time: no overflow, the call runs normally, under the
    // config's deadline and without one.
    let far = || {
        StreamElement::new(0, "far", "t")
            .with_context(FlowContext::new("f").with_deadline_ns(u64::MAX))
    };
    let mut u = instance(s, "uppercase");
    assert_eq!(&emitted(ok(u.process_sync(far()), &u)).payload[..], b"FAR");
    let no_deadline = WasmtimeEngine::new(WasmtimeEngineConfig {
        limits: Limits {
            call_deadline: None,
            ..Limits::default()
        },
        ..WasmtimeEngineConfig::default()
    })
    .unwrap();
    let compiled = compile_on(&no_deadline, "uppercase");
    let mut u = no_deadline
        .instantiate(&compiled, ComponentId::new("u"))
        .unwrap();
    assert_eq!(&emitted(ok(u.process_sync(far()), &u)).payload[..], b"FAR");
}

#[test]
fn an_empty_payload_is_processed_normally() {
    for s in STRATEGIES {
        let mut u = instance(s, "uppercase");
        let mut el = StreamElement::new(u64::MAX, "", "");
        el.meta.timestamp_ns = u64::MAX;
        let call = u.process_sync(el);
        assert_eq!(call.metrics.bytes_into_guest, 0);
        let out = emitted(ok(call, &u));
        assert!(out.payload.is_empty());
        assert_eq!(
            (out.meta.sequence, out.meta.timestamp_ns),
            (u64::MAX, u64::MAX)
        );
        assert_eq!(out.meta.content_type, "");

        let mut p = instance(s, "passthrough");
        assert!(
            emitted(ok(p.process_sync(StreamElement::new(0, "", "t")), &p))
                .payload
                .is_empty()
        );
        let mut sink = instance(s, "sink");
        assert_eq!(
            ok(sink.push_sync(StreamElement::new(0, "", "t")), &sink),
            BackpressureSignal::Ready
        );
    }
}

/// A 16 MiB payload is valid. `passthrough` never copies it (`limits.rs`);
/// `uppercase` copies it into guest memory, which the default 16 MiB of
/// linear memory cannot hold on top of the module's own page, so it needs
/// room (and fuel for 16 million bytes).
#[test]
fn a_16_mib_payload_needs_guest_room_only_when_the_guest_copies_it() {
    let s = CRANELIFT;
    let big = || StreamElement::new(0, vec![b'a'; 16 * MIB], "text/plain");
    let mut tight = instance(s, "uppercase");
    let f = fault(tight.process_sync(big()), &tight, "memory-limit-exceeded");
    assert!(
        f.to_string().contains("raise `limits.max_memory_bytes`"),
        "{f}"
    );

    let roomy = WasmtimeEngine::new(WasmtimeEngineConfig {
        limits: Limits {
            max_memory_bytes: 64 * MIB as u64,
            fuel_per_call: 2_000_000_000,
            ..Limits::default()
        },
        ..WasmtimeEngineConfig::default()
    })
    .unwrap();
    let compiled = compile_on(&roomy, "uppercase");
    let mut u = roomy.instantiate(&compiled, ComponentId::new("u")).unwrap();
    let call = u.process_sync(big());
    assert_eq!(call.metrics.bytes_into_guest, 16 * MIB as u64);
    assert_eq!(call.metrics.bytes_out_of_guest, 16 * MIB as u64);
    let out = emitted(ok(call, &u));
    assert_eq!(out.payload.len(), 16 * MIB);
    assert!(out.payload.iter().all(|b| *b == b'A'));
}

/// Decision: the content type is not limited beyond the payload's own
/// limits; a megabyte of it is accepted, lent to the guest and round-trips
/// both in the output's meta and on the buffer the guest built.
#[test]
fn a_megabyte_content_type_is_accepted_and_round_trips() {
    let content_type: String = "x/".to_owned() + &"y".repeat(MIB - 2);
    for s in STRATEGIES {
        let mut u = instance(s, "uppercase");
        let out = emitted(ok(
            u.process_sync(StreamElement::new(0, "abc", content_type.clone())),
            &u,
        ));
        assert_eq!(&out.payload[..], b"ABC");
        assert_eq!(out.meta.content_type, content_type);
        assert_eq!(out.buffer_content_type, content_type);

        let mut p = instance(s, "passthrough");
        let out = emitted(ok(
            p.process_sync(StreamElement::new(0, "abc", content_type.clone())),
            &p,
        ));
        assert_eq!(out.buffer_content_type, content_type);
    }
}

#[test]
fn a_megabyte_init_config_reaches_the_guest() {
    let mut l = instance(CRANELIFT, "lifecycle");
    let config = format!("{{{}}}", " ".repeat(MIB));
    ok(l.init_sync(&config), &l);
    let out = emitted(ok(l.process_sync(StreamElement::new(0, "go", "t")), &l));
    assert_eq!(&out.payload[..], b"go");
}

#[test]
fn a_component_compiled_by_another_engine_is_refused() {
    let other = WasmtimeEngine::new(WasmtimeEngineConfig::default()).unwrap();
    let foreign = compiled(CRANELIFT, "uppercase");
    let err = other
        .instantiate(&foreign, ComponentId::new("foreign"))
        .err()
        .expect("a component from another engine was instantiated");
    let text = err.to_string();
    assert!(text.contains("`foreign`"), "{text}");
    assert!(text.contains("another engine"), "{text}");
    // Both engines keep working.
    let mut mine = other
        .instantiate(&compile_on(&other, "uppercase"), ComponentId::new("mine"))
        .unwrap();
    assert!(mine.process_sync(StreamElement::new(0, "a", "t")).is_ok());
    let mut theirs = instance(CRANELIFT, "uppercase");
    assert!(theirs.process_sync(StreamElement::new(0, "a", "t")).is_ok());
}

#[test]
fn truncated_compiled_artifacts_are_refused() {
    let e = engine(CRANELIFT);
    let bytes = e.serialize(&compiled(CRANELIFT, "uppercase")).unwrap();
    for len in [0, 16, 64, bytes.len() / 2, bytes.len() - 1] {
        // SAFETY: a prefix of an artifact this engine serialized; Wasmtime
        // checks the structure before using any of it.
        let err = unsafe { e.deserialize(&bytes[..len]) }
            .err()
            .unwrap_or_else(|| panic!("a {len}-byte prefix deserialized"));
        assert!(
            matches!(
                err,
                EngineError::CorruptArtifact(_) | EngineError::IncompatibleArtifact(_)
            ),
            "{len}: {err}"
        );
        assert!(err.to_string().contains("recompile"), "{err}");
    }
}

#[test]
fn unknown_imports_are_refused_by_default_and_stubbed_with_trap() {
    // A component importing two interfaces the engine does not provide, and
    // a semver-older WASI interface that it does (which must not be
    // stubbed). It exports no role, so with stubs it fails later, at roles.
    let text = r#"(component
        (import "acme:nope/thing@1.0.0" (instance
            (export "poke" (func (result u32)))))
        (import "wasi:http/outgoing-handler@0.2.0" (instance
            (export "handle" (func))))
        (import "wasi:cli/environment@0.2.0" (instance
            (export "get-arguments" (func (result (list string))))))
    )"#;
    let refuse = engine(CompilationStrategy::Cranelift);
    let err = refuse.compile_wat_named(text, "nope.wat").unwrap_err();
    let EngineError::Link { missing, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(
        missing,
        &["acme:nope/thing@1.0.0", "wasi:http/outgoing-handler@0.2.0"],
        "{err}"
    );
    assert!(err.to_string().contains("nope.wat"), "{err}");

    let trap = WasmtimeEngine::new(WasmtimeEngineConfig {
        unknown_imports: UnknownImports::Trap,
        ..WasmtimeEngineConfig::default()
    })
    .unwrap();
    let err = trap.compile_wat_named(text, "nope.wat").unwrap_err();
    assert!(matches!(err, EngineError::NoRoles { .. }), "{err}");
}

#[test]
fn a_stubbed_import_faults_cleanly_when_called_and_only_then() {
    let bytes = torvyn_harness::fixtures::load_fixture("unlinked-import").unwrap();
    // Refused by default: the message names the import and the option.
    let err = engine(CompilationStrategy::Cranelift)
        .compile_named(&bytes, "unlinked-import")
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("acme:nope/thing@1.0.0") && text.contains("UnknownImports::Trap"),
        "{text}"
    );
    for strategy in [CompilationStrategy::Cranelift, CompilationStrategy::Winch] {
        let trap = WasmtimeEngine::new(WasmtimeEngineConfig {
            unknown_imports: UnknownImports::Trap,
            ..WasmtimeEngineConfig::with_strategy(strategy)
        })
        .unwrap();
        let compiled = trap.compile_named(&bytes, "unlinked-import").unwrap();
        assert_eq!(compiled.stubbed_imports(), ["acme:nope/thing@1.0.0"]);
        let mut inst = trap
            .instantiate(&compiled, ComponentId::new("stubbed"))
            .unwrap();
        // An element that does not reach the import runs as usual.
        let ok = inst.process_sync(StreamElement::new(0, "even", "text/plain"));
        assert!(
            matches!(ok.outcome, Ok(torvyn_engine::ProcessResult::Emit(_))),
            "{strategy:?}: {:?}",
            ok.outcome
        );
        // The one that calls it faults, naming the function, and poisons.
        let call = inst.process_sync(StreamElement::new(1, "odd", "text/plain"));
        let Err(InvokeError::Fault(f)) = &call.outcome else {
            panic!("{strategy:?}: {:?}", call.outcome);
        };
        assert!(
            matches!(
                &f.kind,
                FaultKind::Trap {
                    code: TrapCode::UnlinkedImport,
                    ..
                }
            ),
            "{strategy:?}: {f}"
        );
        assert!(f.to_string().contains("acme:nope/thing@1.0.0#poke"), "{f}");
        assert!(inst.poisoned().is_some(), "{strategy:?}");
        assert_eq!(inst.live_resources(), 0);
        let after = inst.process_sync(StreamElement::new(2, "even", "text/plain"));
        assert!(after.fault().is_some_and(|f| f.kind.name() == "poisoned"));
    }
}

#[test]
fn a_stubbed_interface_may_re_export_a_resource_the_engine_provides() {
    // As componentize-js's default `wasi:http/types` re-exports
    // `wasi:io/streams`'s `input-stream`: the stub must name the linker's
    // own resource, or the component does not link.
    let text = r#"(component
        (import "wasi:io/streams@0.2.0" (instance $streams
            (export "input-stream" (type (sub resource)))))
        (alias export $streams "input-stream" (type $is))
        (import "acme:nope/reader@1.0.0" (instance
            (alias outer 1 $is (type $outer-is))
            (export "input-stream" (type (eq $outer-is)))
            (export "poke" (func))))
    )"#;
    let trap = WasmtimeEngine::new(WasmtimeEngineConfig {
        unknown_imports: UnknownImports::Trap,
        ..WasmtimeEngineConfig::default()
    })
    .unwrap();
    // It links (and then has no role to export, which is the next check).
    let err = trap.compile_wat_named(text, "reader.wat").unwrap_err();
    assert!(matches!(err, EngineError::NoRoles { .. }), "{err}");
    let refuse = engine(CompilationStrategy::Cranelift);
    let err = refuse.compile_wat_named(text, "reader.wat").unwrap_err();
    let EngineError::Link { missing, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(missing, &["acme:nope/reader@1.0.0"], "{err}");
}
