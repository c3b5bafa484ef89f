//! The mock backend's own features: scripts, cost model, simulated memory,
//! cold-path faults, the journal and expectations.

use torvyn_engine::clock::VirtualTime;
use torvyn_engine::mock::{
    ColdFaults, CostModel, DeserializeFailure, Expectations, FailOn, JournalMode, JournalOutcome,
    MemoryModel, MockComponent, MockEngine, MockEngineConfig, Response, Script, Scripts,
};
use torvyn_engine::{
    BackpressureSignal, Clock, ComponentId, ComponentInvoker, EngineError, FaultKind, FlowContext,
    Function, InvokeError, Limits, ProcessError, ProcessResult, Role, StreamElement, WasmEngine,
};

fn el(seq: u64) -> StreamElement {
    StreamElement::new(seq, format!("payload {seq}"), "text/plain")
}

fn scripted(
    engine: &MockEngine,
    name: &str,
    roles: &[Role],
    scripts: Scripts,
) -> torvyn_engine::mock::MockInvoker {
    engine.register(MockComponent::scripted(
        name,
        roles.iter().copied(),
        scripts,
    ));
    let compiled = engine.compile(&MockEngine::component_bytes(name)).unwrap();
    engine
        .instantiate(&compiled, ComponentId::new(name))
        .unwrap()
}

fn outcome_name<T: std::fmt::Debug>(r: &Result<T, InvokeError>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(InvokeError::Guest(e)) => e.kind().to_owned(),
        Err(InvokeError::Fault(f)) => f.kind.name().to_owned(),
    }
}

#[test]
fn scripts_play_in_order_in_a_cycle_and_by_sequence() {
    let engine = MockEngine::new(MockEngineConfig::default()).unwrap();
    let mut ordered = scripted(
        &engine,
        "ordered",
        &[Role::Processor],
        Scripts {
            process: Some(Script::in_order([
                Response::EmitInput,
                Response::Drop,
                Response::Error(ProcessError::Internal("boom".into())),
            ])),
            ..Scripts::default()
        },
    );
    let got: Vec<String> = (0..4)
        .map(|n| outcome_name(&ordered.process_sync(el(n)).outcome))
        .collect();
    assert!(got[0].starts_with("Emit("), "{got:?}");
    assert_eq!(got[1..], ["Drop", "internal", "Drop"]);

    let mut cycling = scripted(
        &engine,
        "cycling",
        &[Role::Sink],
        Scripts {
            push: Some(Script::cycle([
                Response::Signal(BackpressureSignal::Ready),
                Response::Signal(BackpressureSignal::Pause),
            ])),
            ..Scripts::default()
        },
    );
    let signals: Vec<_> = (0..4)
        .map(|n| cycling.push_sync(el(n)).outcome.unwrap())
        .collect();
    use BackpressureSignal::{Pause, Ready};
    assert_eq!(signals, [Ready, Pause, Ready, Pause]);

    let mut keyed = scripted(
        &engine,
        "keyed",
        &[Role::Processor],
        Scripts {
            process: Some(Script::by_sequence(
                [(2, Response::Error(ProcessError::InvalidInput("bad".into())))],
                Response::Emit(b"ok".to_vec()),
            )),
            ..Scripts::default()
        },
    );
    for seq in [5, 2, 0] {
        let call = keyed.process_sync(el(seq));
        if seq == 2 {
            assert_eq!(
                call.guest_error(),
                Some(&ProcessError::InvalidInput("bad".into()))
            );
        } else {
            match call.outcome.unwrap() {
                ProcessResult::Emit(out) => assert_eq!(&out.payload[..], b"ok"),
                ProcessResult::Drop => panic!("expected an emit"),
            }
            assert_eq!(call.metrics.buffers_allocated, 1);
            assert_eq!(call.metrics.bytes_out_of_guest, 2);
        }
        assert_eq!(keyed.live_resources(), 0);
    }
}

#[test]
fn scripted_faults_poison_like_the_real_backend() {
    for (response, kind) in [
        (Response::Trap, "trap"),
        (Response::FuelExhaustion, "fuel-exhausted"),
        (Response::Deadline, "deadline-exceeded"),
        (Response::MemoryLimit, "memory-limit-exceeded"),
    ] {
        let engine = MockEngine::new(MockEngineConfig::default()).unwrap();
        let mut i = scripted(
            &engine,
            "faulty",
            &[Role::Processor],
            Scripts {
                process: Some(Script::in_order([response])),
                ..Scripts::default()
            },
        );
        let call = i.process_sync(el(0));
        assert_eq!(call.fault().map(|f| f.kind.name()), Some(kind));
        let again = i.process_sync(el(1));
        assert_eq!(
            again.fault().map(|f| f.kind.name()),
            Some("poisoned"),
            "{kind}"
        );
    }
}

#[test]
fn the_cost_model_consumes_fuel_and_virtual_time() {
    let clock = Clock::virtual_time(VirtualTime {
        ns_per_fuel: 2,
        ns_per_host_call: 10,
        ..VirtualTime::default()
    });
    let engine = MockEngine::with_clock(
        MockEngineConfig {
            cost: CostModel::Linear {
                base: 100,
                per_byte: 3,
            },
            ..MockEngineConfig::default()
        },
        clock.clone(),
    )
    .unwrap();
    let mut up = {
        engine.register(torvyn_engine::mock::models::uppercase_component());
        let c = engine
            .compile(&MockEngine::component_bytes("uppercase"))
            .unwrap();
        engine.instantiate(&c, ComponentId::new("u")).unwrap()
    };
    let before = clock.now_ns();
    let call = up.process_sync(StreamElement::new(0, "abcd", "t"));
    assert_eq!(call.metrics.fuel_consumed, 100 + 3 * 4);
    assert_eq!(call.metrics.host_calls, 6);
    assert_eq!(call.metrics.duration.as_nanos(), (112 * 2 + 6 * 10) as u128);
    assert_eq!(clock.now_ns() - before, 112 * 2 + 6 * 10);
    assert_eq!(
        engine.fuel_remaining(&up),
        Some(engine.config().limits.fuel_per_call - 112)
    );

    // A budget below the cost is exhaustion; a deadline below it, on a
    // virtual clock, is a deadline fault.
    engine.set_fuel(&mut up, 50).unwrap();
    let call = up.process_sync(StreamElement::new(1, "abcd", "t"));
    assert_eq!(
        call.fault().unwrap().kind,
        FaultKind::FuelExhausted { budget: 50 }
    );
    assert_eq!(call.metrics.fuel_consumed, 50);

    let c = engine
        .compile(&MockEngine::component_bytes("uppercase"))
        .unwrap();
    let mut up2 = engine.instantiate(&c, ComponentId::new("u2")).unwrap();
    let deadline = clock.deadline_after(std::time::Duration::from_nanos(100));
    let call = up2.process_sync(
        StreamElement::new(0, "abcd", "t")
            .with_context(FlowContext::new("f").with_deadline_ns(deadline)),
    );
    assert_eq!(call.fault().unwrap().kind.name(), "deadline-exceeded");
}

#[test]
fn simulated_memory_grows_to_its_limit() {
    let engine = MockEngine::new(MockEngineConfig {
        limits: Limits {
            max_memory_bytes: 1 << 20,
            ..Limits::default()
        },
        ..MockEngineConfig::default()
    })
    .unwrap();
    engine.register(
        torvyn_engine::mock::models::passthrough_component().with_memory(MemoryModel {
            initial: 1 << 19,
            growth_per_call: 1 << 18,
        }),
    );
    let c = engine
        .compile(&MockEngine::component_bytes("passthrough"))
        .unwrap();
    let mut p = engine.instantiate(&c, ComponentId::new("p")).unwrap();
    assert_eq!(engine.memory_usage(&p), 1 << 19);
    assert!(p.process_sync(el(0)).is_ok());
    assert!(p.process_sync(el(1)).is_ok());
    assert_eq!(engine.memory_usage(&p), 1 << 20);
    let call = p.process_sync(el(2));
    assert_eq!(
        call.fault().unwrap().kind,
        FaultKind::MemoryLimitExceeded {
            limit: 1 << 20,
            requested: (1 << 20) + (1 << 18)
        }
    );
}

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
fn the_journal_records_queries_bounds_and_resets() {
    let engine = MockEngine::new(MockEngineConfig {
        journal: JournalMode::Bounded(3),
        ..MockEngineConfig::default()
    })
    .unwrap();
    engine.register(torvyn_engine::mock::models::filter_component());
    let c = engine
        .compile(&MockEngine::component_bytes("filter"))
        .unwrap();
    let mut f = engine.instantiate(&c, ComponentId::new("f")).unwrap();
    for n in 0..5 {
        let _ = f.process_sync(el(n));
    }
    let journal = engine.journal();
    assert_eq!(journal.recorded(), 5);
    let kept = journal.entries();
    assert_eq!(kept.iter().map(|e| e.index).collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(kept[1].outcome, JournalOutcome::Drop);
    assert!(matches!(
        kept[0].outcome,
        JournalOutcome::Element { len: 9, .. }
    ));
    assert_eq!(kept[0].meta.as_ref().unwrap().sequence, 2);
    assert_eq!(journal.calls(Function::Process).len(), 3);
    journal.reset();
    assert!(journal.entries().is_empty());

    let off = MockEngine::new(MockEngineConfig {
        journal: JournalMode::Off,
        ..MockEngineConfig::default()
    })
    .unwrap();
    off.register(torvyn_engine::mock::models::filter_component());
    let c = off.compile(&MockEngine::component_bytes("filter")).unwrap();
    let mut f = off.instantiate(&c, ComponentId::new("f")).unwrap();
    let _ = f.process_sync(el(0));
    assert_eq!(off.journal().recorded(), 0);
}

#[test]
fn expectations_report_a_readable_diff() {
    let engine = MockEngine::new(MockEngineConfig::default()).unwrap();
    engine.register(torvyn_engine::mock::models::passthrough_component());
    let c = engine
        .compile(&MockEngine::component_bytes("passthrough"))
        .unwrap();
    let mut p = engine.instantiate(&c, ComponentId::new("p")).unwrap();
    let _ = p.process_sync(el(0));
    let _ = p.teardown_sync();
    let _ = p.process_sync(el(1));
    let journal = engine.journal();
    journal
        .verify(
            &Expectations::new()
                .calls("p", Function::Process, 2)
                .payload("p", Function::Process, 1, "payload 1")
                .in_order([("p", Function::Process), ("p", Function::Process)]),
        )
        .unwrap();
    let err = journal
        .verify(
            &Expectations::new()
                .calls("p", Function::Process, 3)
                .payload("p", Function::Process, 0, "other")
                .in_order([("p", Function::Process), ("p", Function::Pull)]),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("3 expectation(s) failed:"), "{text}");
    assert!(
        text.contains("expected 3 call(s) to p.process, saw 2"),
        "{text}"
    );
    assert!(text.contains("expected a payload of 5 bytes"), "{text}");
    assert!(text.contains("  - p.pull\n  + p.process"), "{text}");
}

#[test]
fn closures_define_every_function_and_imply_the_roles() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use torvyn_engine::mock::MockBuilder;
    use torvyn_engine::{ElementMeta, Roles};

    let engine = MockEngine::new(MockEngineConfig::default()).unwrap();
    let pulled = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&pulled);
    engine.register(
        MockBuilder::new("closure-source")
            .on_init(|_, config| {
                if config.is_empty() {
                    Err(ProcessError::InvalidInput("empty config".into()).into())
                } else {
                    Ok(())
                }
            })
            .on_pull(move |ctx| {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if n == 2 {
                    return Ok(None);
                }
                Ok(Some(ctx.emit_bytes(
                    ElementMeta::new(n, "t"),
                    format!("item {n}").as_bytes(),
                    "t",
                )?))
            })
            .build(),
    );
    engine.register(
        MockBuilder::new("closure-sink")
            .on_push(|ctx, input| {
                let bytes = ctx.read_payload()?;
                Ok(if bytes.len() as u64 > input.meta.sequence + 5 {
                    BackpressureSignal::Pause
                } else {
                    BackpressureSignal::Ready
                })
            })
            .on_teardown(|_| {
                Err(torvyn_engine::mock::MockError::Trap(
                    torvyn_engine::TrapCode::Unreachable,
                ))
            })
            .build(),
    );
    let instance = |name: &str| {
        let c = engine.compile(&MockEngine::component_bytes(name)).unwrap();
        engine.instantiate(&c, ComponentId::new(name)).unwrap()
    };
    let mut src = instance("closure-source");
    let mut sink = instance("closure-sink");
    assert_eq!(
        src.roles(),
        [Role::Source, Role::Lifecycle]
            .into_iter()
            .collect::<Roles>()
    );
    assert_eq!(
        sink.roles(),
        [Role::Sink, Role::Lifecycle].into_iter().collect::<Roles>()
    );
    assert_eq!(
        src.init_sync("").guest_error().map(|e| e.kind()),
        Some("invalid-input")
    );
    let mut signals = Vec::new();
    while let Some(out) = src.pull_sync().outcome.unwrap() {
        assert_eq!(out.buffer_content_type, "t");
        signals.push(
            sink.push_sync(out.into_stream_element(FlowContext::default()))
                .outcome
                .unwrap(),
        );
    }
    assert_eq!(
        signals,
        [BackpressureSignal::Pause, BackpressureSignal::Ready]
    );
    assert_eq!(pulled.load(Ordering::Relaxed), 3);
    assert_eq!(
        sink.teardown_sync().fault().map(|f| f.kind.name()),
        Some("trap")
    );
    assert_eq!((src.live_resources(), sink.live_resources()), (0, 0));
}
