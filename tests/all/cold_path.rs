//! Compile, link, serialize, deserialize, instantiate and configure: each
//! bad input gets a clear error.

use torvyn_engine::wasmtime::PoolingConfig;
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    CompilationStrategy, ComponentId, ComponentInvoker, EngineError, Limits, ProcessResult,
    StreamElement, WasmEngine,
};

use crate::support::{STRATEGIES, compile_on, engine, ok};

#[test]
fn empty_and_random_bytes_are_compile_errors() {
    let e = engine(CompilationStrategy::Cranelift);
    let err = e.compile(&[]).unwrap_err();
    assert!(matches!(err, EngineError::Compile { .. }), "{err}");
    assert!(err.to_string().contains("empty"), "{err}");
    let noise: Vec<u8> = (0..256u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let err = e.compile(&noise).unwrap_err();
    assert!(matches!(err, EngineError::Compile { .. }), "{err}");
}

#[test]
fn a_core_module_is_not_a_component() {
    let e = engine(CompilationStrategy::Cranelift);
    let core = wat::parse_str("(module (func (export \"f\")))").unwrap();
    let err = e.compile(&core).unwrap_err();
    assert!(matches!(err, EngineError::NotAComponent { .. }), "{err}");
    assert!(err.to_string().contains("componentize"), "{err}");
    let err = e.compile_wat("(module)").unwrap_err();
    assert!(matches!(err, EngineError::NotAComponent { .. }), "{err}");
}

#[test]
fn wat_syntax_errors_give_the_line() {
    let e = engine(CompilationStrategy::Cranelift);
    let err = e
        .compile_wat("(component\n  (core module\n    (func (oops)))\n)")
        .unwrap_err();
    match &err {
        EngineError::InvalidWat { message, .. } => assert!(message.contains(":3:"), "{message}"),
        other => panic!("{other}"),
    }
}

#[test]
fn a_component_without_contract_exports_is_refused() {
    let e = engine(CompilationStrategy::Cranelift);
    let err = e.compile_wat("(component)").unwrap_err();
    assert!(matches!(err, EngineError::NoRoles { .. }), "{err}");
    assert!(err.to_string().contains("it exports: nothing"), "{err}");
}

#[test]
fn a_component_for_another_world_is_refused_at_link_time() {
    let e = engine(CompilationStrategy::Cranelift);
    let other_world = r#"(component
        (import "acme:db/query@1.0.0" (instance (export "run" (func))))
    )"#;
    let err = e.compile_wat(other_world).unwrap_err();
    assert!(matches!(err, EngineError::Link { .. }), "{err}");
    assert!(err.to_string().contains("acme:db/query@1.0.0"), "{err}");
}

#[test]
fn compile_wat_accepts_component_text() {
    let e = engine(CompilationStrategy::Cranelift);
    let path = torvyn_harness::fixtures::fixtures_dir().join("components/component-text.wat");
    let compiled = e.compile_file(&path).unwrap();
    let mut i = e.instantiate(&compiled, ComponentId::new("text")).unwrap();
    assert_eq!(ok(i.pull_sync(), &i), None);
}

#[test]
fn serialized_components_round_trip() {
    for s in STRATEGIES {
        let e = engine(s);
        let compiled = crate::support::compiled(s, "uppercase");
        let bytes = e.serialize(&compiled).unwrap();
        // SAFETY: the bytes come from `serialize` on this very engine.
        let back = unsafe { e.deserialize(&bytes) }.unwrap();
        assert_eq!(back.roles(), compiled.roles());
        let mut i = e.instantiate(&back, ComponentId::new("u")).unwrap();
        match ok(i.process_sync(StreamElement::new(0, "abc", "t")), &i) {
            ProcessResult::Emit(out) => assert_eq!(&out.payload[..], b"ABC"),
            ProcessResult::Drop => panic!("uppercase emits"),
        }
    }
}

#[test]
fn garbage_and_foreign_artifacts_are_refused() {
    let cranelift = engine(CompilationStrategy::Cranelift);
    // SAFETY: these bytes are refused before anything is loaded.
    let err = unsafe { cranelift.deserialize(b"not an artifact at all") }.unwrap_err();
    assert!(matches!(err, EngineError::CorruptArtifact(_)), "{err}");

    // An artifact of an engine with other settings is incompatible.
    let no_fuel = WasmtimeEngine::new(WasmtimeEngineConfig {
        limits: Limits {
            fuel_enabled: false,
            ..Limits::default()
        },
        ..WasmtimeEngineConfig::default()
    })
    .unwrap();
    let foreign = no_fuel
        .serialize(&compile_on(&no_fuel, "passthrough"))
        .unwrap();
    // SAFETY: a real artifact from a Wasmtime engine of this version.
    let err = unsafe { cranelift.deserialize(&foreign) }.unwrap_err();
    assert!(matches!(err, EngineError::IncompatibleArtifact(_)), "{err}");
}

#[test]
fn winch_really_compiles_differently() {
    let c = engine(CompilationStrategy::Cranelift);
    let w = engine(CompilationStrategy::Winch);
    let from_c = c
        .serialize(&crate::support::compiled(
            CompilationStrategy::Cranelift,
            "uppercase",
        ))
        .unwrap();
    let from_w = w
        .serialize(&crate::support::compiled(
            CompilationStrategy::Winch,
            "uppercase",
        ))
        .unwrap();
    assert_ne!(from_c, from_w, "Winch produced Cranelift's code");
    // SAFETY: a real artifact from a Wasmtime engine of this version.
    let err = unsafe { w.deserialize(&from_c) }.unwrap_err();
    assert!(matches!(err, EngineError::IncompatibleArtifact(_)), "{err}");
}

#[test]
fn an_invalid_config_lists_every_problem() {
    let bad = WasmtimeEngineConfig {
        limits: Limits {
            fuel_per_call: 0,
            max_memory_bytes: 10,
            max_host_resources: 0,
            ..Limits::default()
        },
        epoch_tick: std::time::Duration::ZERO,
        max_wasm_stack: 0,
        pooling: Some(PoolingConfig {
            total_component_instances: 0,
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
    let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        [
            "limits.fuel_per_call",
            "limits.max_memory_bytes",
            "limits.max_host_resources",
            "epoch_tick",
            "max_wasm_stack",
            "pooling.total_component_instances"
        ]
    );
    let text = err.to_string();
    assert!(
        text.starts_with("invalid engine configuration (6 problem(s))"),
        "{text}"
    );
    assert!(WasmtimeEngineConfig::default().validate().is_ok());
}

#[test]
fn the_pooling_allocator_instantiates_from_the_linked_component() {
    for s in STRATEGIES {
        let e = WasmtimeEngine::new(WasmtimeEngineConfig {
            pooling: Some(PoolingConfig::default()),
            ..WasmtimeEngineConfig::with_strategy(s)
        })
        .unwrap();
        let compiled = compile_on(&e, "uppercase");
        let mut instances: Vec<_> = (0..4)
            .map(|n| {
                e.instantiate(&compiled, ComponentId::new(format!("u{n}")))
                    .unwrap()
            })
            .collect();
        for (n, i) in instances.iter_mut().enumerate() {
            let call = i.process_sync(StreamElement::new(n as u64, "pool", "t"));
            match ok(call, i) {
                ProcessResult::Emit(out) => assert_eq!(&out.payload[..], b"POOL"),
                ProcessResult::Drop => panic!("uppercase emits"),
            }
        }
    }
}

#[test]
fn memory_usage_is_reported() {
    let s = CompilationStrategy::Cranelift;
    let e = engine(s);
    let i = crate::support::instance(s, "uppercase");
    let before = e.memory_usage(&i);
    assert!((65536..=16 * 1024 * 1024).contains(&before), "{before}");
    assert!(i.poisoned().is_none());
}

#[test]
fn code_compiled_on_the_wasmtime_engine_underneath_loads_and_runs() {
    let e = engine(CompilationStrategy::Cranelift);
    let bytes = torvyn_harness::fixtures::load_fixture("uppercase").unwrap();
    let component = wasmtime::component::Component::new(e.wasmtime_engine(), &bytes).unwrap();
    let serialized = component.serialize().unwrap();
    // SAFETY: compiled just now on this engine's own Wasmtime engine.
    let compiled = unsafe { e.deserialize(&serialized) }.unwrap();
    let mut inst = e
        .instantiate(&compiled, ComponentId::new("outside"))
        .unwrap();
    let out = ok(
        inst.process_sync(StreamElement::new(0, "abc", "text/plain")),
        &inst,
    );
    let ProcessResult::Emit(out) = out else {
        panic!("uppercase emits");
    };
    assert_eq!(&out.payload[..], b"ABC");
    // Another engine's Wasmtime engine is not this one: its code does not
    // instantiate here.
    let other = WasmtimeEngine::new(WasmtimeEngineConfig::default()).unwrap();
    let foreign = wasmtime::component::Component::new(other.wasmtime_engine(), &bytes).unwrap();
    assert!(!wasmtime::Engine::same(
        foreign.engine(),
        e.wasmtime_engine()
    ));
    assert!(wasmtime::Engine::same(
        component.engine(),
        e.wasmtime_engine()
    ));
}
