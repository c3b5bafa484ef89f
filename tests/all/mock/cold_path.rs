//! The cold path: compile and instantiate faults, artifacts, config validation, registration.

use super::*;

#[test]
fn cold_path_operations_fail_on_schedule() {
    let engine = MockEngine::new(MockEngineConfig {
        faults: ColdFaults {
            compile: FailOn::Nth(2),
            instantiate: FailOn::From(3),
            deserialize: FailOn::Nth(1),
            deserialize_failure: DeserializeFailure::Corrupt,
            init: FailOn::Nth(1),
            seed: 0,
        },
        ..MockEngineConfig::default()
    })
    .unwrap();
    engine.register(torvyn_engine::mock::models::counter_source_component());
    let bytes = MockEngine::component_bytes("counter-source");
    let compiled = engine.compile(&bytes).unwrap();
    assert!(
        engine
            .compile(&bytes)
            .unwrap_err()
            .to_string()
            .contains("injected")
    );
    assert!(engine.compile(&bytes).is_ok());

    let artifact = engine.serialize(&compiled).unwrap();
    // SAFETY: mock artifacts are plain data.
    assert!(matches!(
        unsafe { engine.deserialize(&artifact) },
        Err(EngineError::CorruptArtifact(_))
    ));
    // SAFETY: as above.
    let back = unsafe { engine.deserialize(&artifact) }.unwrap();
    assert_eq!(back.roles(), compiled.roles());

    let mut first = engine
        .instantiate(&compiled, ComponentId::new("a"))
        .unwrap();
    let _second = engine
        .instantiate(&compiled, ComponentId::new("b"))
        .unwrap();
    assert!(matches!(
        engine.instantiate(&compiled, ComponentId::new("c")),
        Err(EngineError::Instantiate { .. })
    ));
    let init = first.init_sync("{\"count\": 1}");
    assert_eq!(init.fault().map(|f| f.kind.name()), Some("trap"));
    assert!(first.poisoned().is_some());
}

#[test]
fn a_generated_fault_schedule_replays_from_its_seed() {
    let pattern = |seed| {
        let engine = MockEngine::new(MockEngineConfig {
            faults: ColdFaults::generate(seed, 0.5),
            ..MockEngineConfig::default()
        })
        .unwrap();
        engine.register(torvyn_engine::mock::models::passthrough_component());
        let bytes = MockEngine::component_bytes("passthrough");
        (0..64)
            .map(|_| engine.compile(&bytes).is_ok())
            .collect::<Vec<_>>()
    };
    assert_eq!(pattern(42), pattern(42));
    assert_ne!(pattern(42), pattern(43));
    assert_eq!(
        ColdFaults::generate(9, 0.0).compile,
        FailOn::Probability(0.0)
    );
}

#[test]
fn artifacts_of_other_engines_and_garbage_are_refused() {
    let engine = MockEngine::new(MockEngineConfig::default()).unwrap();
    engine.register(torvyn_engine::mock::models::sink_component());
    let c = engine
        .compile(&MockEngine::component_bytes("sink"))
        .unwrap();
    let artifact = engine.serialize(&c).unwrap();
    let other = MockEngine::new(MockEngineConfig {
        limits: Limits {
            fuel_enabled: false,
            ..Limits::default()
        },
        ..MockEngineConfig::default()
    })
    .unwrap();
    other.register(torvyn_engine::mock::models::sink_component());
    // SAFETY: mock artifacts are plain data.
    unsafe {
        assert!(matches!(
            other.deserialize(&artifact),
            Err(EngineError::IncompatibleArtifact(_))
        ));
        assert!(matches!(
            engine.deserialize(b"junk"),
            Err(EngineError::CorruptArtifact(_))
        ));
        assert!(matches!(
            engine.deserialize(&artifact[..artifact.len() - 4]),
            Err(EngineError::CorruptArtifact(_))
        ));
    }
    assert!(
        engine
            .compile(b"\0asm\x01\0\0\0")
            .unwrap_err()
            .to_string()
            .contains("not a mock component")
    );
    let unknown = engine
        .compile(&MockEngine::component_bytes("nope"))
        .unwrap_err();
    assert!(
        unknown.to_string().contains("registered: sink"),
        "{unknown}"
    );
    assert!(engine.compile_wat("sink").is_ok());
}

#[test]
fn an_artifact_of_an_unregistered_component_is_not_corrupt() {
    let maker = MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap();
    let artifact = maker
        .serialize(&maker.compile_wat("sink").unwrap())
        .unwrap();
    let stranger = MockEngine::new(MockEngineConfig::default()).unwrap();
    // SAFETY: mock artifacts are plain data.
    let err = unsafe { stranger.deserialize(&artifact) }.unwrap_err();
    match &err {
        EngineError::NotRegistered { name, registered } => {
            assert_eq!((name.as_str(), registered.as_str()), ("sink", "none"))
        }
        other => panic!("{other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("`sink`") && text.contains("MockEngine::register"),
        "{text}"
    );
    // Compiling an unknown name says the same.
    assert!(matches!(
        stranger.compile(&MockEngine::component_bytes("sink")),
        Err(EngineError::NotRegistered { .. })
    ));

    // A damaged name is corrupt, not unknown.
    let mut damaged = artifact.clone();
    let at = damaged.len() - 17;
    damaged[at] ^= 0x20;
    // SAFETY: as above.
    assert!(matches!(
        unsafe { maker.deserialize(&damaged) },
        Err(EngineError::CorruptArtifact(_))
    ));
    // SAFETY: as above.
    assert!(unsafe { maker.deserialize(&artifact) }.is_ok());
}

#[test]
fn a_mock_config_is_validated_and_every_problem_listed() {
    let bad = MockEngineConfig {
        limits: Limits {
            fuel_per_call: 0,
            max_host_resources: 0,
            ..Limits::default()
        },
        faults: ColdFaults {
            instantiate: FailOn::Probability(1.5),
            ..ColdFaults::default()
        },
        journal: JournalMode::Bounded(0),
        ..MockEngineConfig::default()
    };
    assert!(bad.validate().is_err());
    let Err(EngineError::InvalidConfig(problems)) = MockEngine::new(bad) else {
        panic!("an invalid mock config was accepted")
    };
    let fields: Vec<&str> = problems.iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        [
            "limits.fuel_per_call",
            "limits.max_host_resources",
            "faults.instantiate",
            "journal"
        ]
    );
    assert!(MockEngineConfig::default().validate().is_ok());
    assert!(MockEngineConfig::seeded(3).validate().is_ok());
}

#[test]
fn with_models_registers_every_fixture_model() {
    let engine = MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap();
    for c in models::all() {
        let compiled = engine
            .compile(&MockEngine::component_bytes(c.name()))
            .unwrap();
        assert_eq!(compiled.roles(), c.roles(), "{}", c.name());
    }
    let bare = MockEngine::deterministic(1);
    assert!(bare.compile_wat("uppercase").is_err());
    bare.register_models();
    assert!(bare.compile_wat("uppercase").is_ok());
}

#[test]
fn compile_wat_on_the_mock_says_it_runs_models_not_wat() {
    let engine = MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap();
    for text in ["(component)", "  (module (func))", ";; a fixture\n(module)"] {
        let err = engine.compile_wat(text).unwrap_err().to_string();
        assert!(
            err.contains("runs registered models, not WebAssembly")
                && err.contains("Wasmtime backend")
                && !err.contains("no mock component named"),
            "{text}: {err}"
        );
    }
}
