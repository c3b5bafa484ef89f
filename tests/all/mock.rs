//! The mock backend's own features: scripts, cost model, simulated memory,
//! cold-path faults, the journal and expectations, validation, determinism.

use std::time::Duration;

use torvyn_engine::host::MAX_BUFFER_BYTES;
use torvyn_engine::mock::{
    ColdFaults, CostModel, DeserializeFailure, Expectations, FailOn, JournalMode, MemoryModel,
    MockBuilder, MockComponent, MockEngine, MockEngineConfig, MockError, PayloadDigest, Response,
    Script, ScriptedOutput, Scripts, models,
};
use torvyn_engine::{
    Answer, BackpressureSignal, Bytes, Clock, ComponentId, ComponentInvoker, ElementMeta,
    EngineError, FaultKind, FaultName, FlowContext, Function, InvokeError, Limits, Outcome,
    ProcessError, ProcessErrorName, ProcessResult, RandomSource, Role, StreamElement, VirtualTime,
    WasmEngine,
};
use torvyn_engine::{SplitMix64, derive_seed};

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
    assert_eq!(kept[1].outcome, Outcome::Answer(Answer::Drop));
    assert!(matches!(
        kept[0].outcome,
        Outcome::Answer(Answer::Emit(PayloadDigest { len: 9, .. }))
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

fn instance_of(engine: &MockEngine, name: &str, id: &str) -> torvyn_engine::mock::MockInvoker {
    let compiled = engine.compile(&MockEngine::component_bytes(name)).unwrap();
    engine.instantiate(&compiled, ComponentId::new(id)).unwrap()
}

#[track_caller]
fn emitted(call: torvyn_engine::Invocation<ProcessResult>) -> torvyn_engine::OutputElement {
    match call.outcome {
        Ok(ProcessResult::Emit(out)) => out,
        other => panic!("expected an emit, got {other:?}"),
    }
}

#[test]
fn valid_work_of_any_size_fits_the_default_fuel_budget() {
    let engine = MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap();
    let budget = Limits::default().fuel_per_call;
    // 5 MiB ran out of the default budget with the old 10 fuel per byte.
    for len in [0, 5 << 20, MAX_BUFFER_BYTES as usize] {
        let payload = Bytes::from(vec![b'p'; len]);
        for name in ["passthrough", "filter", "sink"] {
            let mut i = instance_of(&engine, name, name);
            let element = StreamElement::new(0, payload.clone(), "application/octet-stream");
            let call = if name == "sink" {
                let call = i.push_sync(element);
                (call.metrics, call.outcome.map(|_| ()))
            } else {
                let call = i.process_sync(element);
                (call.metrics, call.outcome.map(|_| ()))
            };
            let (metrics, outcome) = call;
            assert_eq!(outcome, Ok(()), "{name} at {len} bytes");
            assert!(i.poisoned().is_none(), "{name} at {len} bytes");
            assert_eq!(metrics.fuel_consumed, 100 + len as u64, "{name} at {len}");
            assert!(metrics.fuel_consumed < budget / 2, "{name} at {len}");
            assert_eq!(
                engine.fuel_remaining(&i),
                Some(budget - metrics.fuel_consumed)
            );
        }
    }
}

fn scripted_on(engine: &MockEngine, response: Response) -> torvyn_engine::mock::MockInvoker {
    scripted(
        engine,
        "scripted",
        &[Role::Processor],
        Scripts {
            process: Some(Script::cycle([response])),
            ..Scripts::default()
        },
    )
}

#[test]
fn a_scripted_fuel_exhaustion_burns_the_whole_budget() {
    let clock = Clock::virtual_time(VirtualTime::default());
    let engine = MockEngine::with_clock(MockEngineConfig::default(), clock.clone()).unwrap();
    let mut i = scripted_on(&engine, Response::FuelExhaustion);
    engine.set_fuel(&mut i, 10_000).unwrap();
    let before = clock.now_ns();
    let call = i.process_sync(el(0));
    assert_eq!(
        call.fault().unwrap().kind,
        FaultKind::FuelExhausted { budget: 10_000 }
    );
    assert_eq!(call.metrics.fuel_consumed, 10_000);
    assert_eq!(engine.fuel_remaining(&i), Some(0));
    assert_eq!(call.metrics.duration, Duration::from_nanos(10_000));
    assert_eq!(clock.now_ns() - before, 10_000);

    // With the default budget too.
    let mut i = scripted_on(&engine, Response::FuelExhaustion);
    let call = i.process_sync(el(0));
    let budget = Limits::default().fuel_per_call;
    assert_eq!(
        call.fault().unwrap().kind,
        FaultKind::FuelExhausted { budget }
    );
    assert_eq!(call.metrics.fuel_consumed, budget);
    assert_eq!(engine.fuel_remaining(&i), Some(0));
}

#[test]
fn a_scripted_deadline_reports_the_allowance_the_call_had() {
    // The system clock: the call deadline, or the flow's when it is sooner.
    let engine = MockEngine::new(MockEngineConfig::default()).unwrap();
    let mut i = scripted_on(&engine, Response::Deadline);
    assert_eq!(
        i.process_sync(el(0)).fault().unwrap().kind,
        FaultKind::DeadlineExceeded {
            allowed: Duration::from_secs(10)
        }
    );
    let mut i = scripted_on(&engine, Response::Deadline);
    let deadline = engine.clock().deadline_after(Duration::from_millis(5));
    let call = i.process_sync(el(0).with_context(FlowContext::new("f").with_deadline_ns(deadline)));
    match call.fault().unwrap().kind {
        FaultKind::DeadlineExceeded { allowed } => {
            assert!(
                allowed <= Duration::from_millis(5) && !allowed.is_zero(),
                "{allowed:?}"
            )
        }
        ref other => panic!("{other:?}"),
    }

    // A virtual clock: exactly the time to the deadline, and the call burns
    // the fuel up to it, so the clock reaches the deadline.
    let clock = Clock::virtual_time(VirtualTime::default());
    let engine = MockEngine::with_clock(MockEngineConfig::default(), clock.clone()).unwrap();
    let mut i = scripted_on(&engine, Response::Deadline);
    let deadline = clock.deadline_after(Duration::from_millis(1));
    let call = i.process_sync(el(0).with_context(FlowContext::new("f").with_deadline_ns(deadline)));
    assert_eq!(
        call.fault().unwrap().kind,
        FaultKind::DeadlineExceeded {
            allowed: Duration::from_millis(1)
        }
    );
    assert_eq!(call.metrics.fuel_consumed, 1_000_000);
    assert_eq!(call.metrics.duration, Duration::from_millis(1));
    assert_eq!(clock.now_ns(), deadline);

    // No deadline in force (which a real guest cannot exceed): zero allowed.
    let engine = MockEngine::new(MockEngineConfig {
        limits: Limits {
            call_deadline: None,
            ..Limits::default()
        },
        ..MockEngineConfig::default()
    })
    .unwrap();
    let mut i = scripted_on(&engine, Response::Deadline);
    assert_eq!(
        i.process_sync(el(0)).fault().unwrap().kind,
        FaultKind::DeadlineExceeded {
            allowed: Duration::ZERO
        }
    );
}

#[test]
fn a_scripted_memory_fault_reports_the_size_requested() {
    let limit = 1 << 20;
    let engine = MockEngine::new(MockEngineConfig {
        limits: Limits {
            max_memory_bytes: limit,
            ..Limits::default()
        },
        ..MockEngineConfig::default()
    })
    .unwrap();
    let mut i = scripted_on(&engine, Response::MemoryLimit);
    assert_eq!(engine.memory_usage(&i), 65536);
    let call = i.process_sync(el(0));
    // Page by page from one page to the limit; the next page is refused.
    assert_eq!(
        call.fault().unwrap().kind,
        FaultKind::MemoryLimitExceeded {
            limit,
            requested: limit + 65536
        }
    );
    assert_eq!(call.metrics.memory_bytes, limit);
    assert_eq!(engine.memory_usage(&i), limit);

    // A model's own memory error carries what it asked for.
    engine.register(
        MockBuilder::new("asks")
            .on_process(|_, _| Err(MockError::MemoryLimitExceeded { requested: 3 << 20 }))
            .build(),
    );
    let mut asks = instance_of(&engine, "asks", "asks");
    assert_eq!(
        asks.process_sync(el(0)).fault().unwrap().kind,
        FaultKind::MemoryLimitExceeded {
            limit,
            requested: 3 << 20
        }
    );
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

/// A processor that emits 8 bytes of its instance's random stream.
fn random_processor() -> MockComponent {
    MockComponent::processor("random", |ctx, input| {
        let mut bytes = [0u8; 8];
        ctx.fill_random(&mut bytes);
        Ok(ProcessResult::Emit(ctx.emit_bytes(
            input.meta.clone(),
            &bytes,
            "application/octet-stream",
        )?))
    })
}

fn random_run(
    engine: &MockEngine,
    id: &str,
) -> (Vec<Bytes>, Vec<torvyn_engine::mock::JournalEntry>) {
    engine.register(random_processor());
    let mut i = instance_of(engine, "random", id);
    let outputs = (0..3)
        .map(|n| emitted(i.process_sync(el(n))).payload)
        .collect();
    (outputs, engine.journal().entries())
}

#[test]
fn determinism_is_one_call_away() {
    let engine = MockEngine::deterministic(7);
    assert!(engine.clock().is_virtual());
    assert_eq!(engine.config().random, RandomSource::Seeded(7));
    assert_eq!(engine.config().faults.seed, 7);

    let (first, journal) = random_run(&engine, "a");
    let (again, journal_again) = random_run(&MockEngine::deterministic(7), "a");
    assert_eq!(first, again, "the same seed and id give the same stream");
    assert_eq!(
        journal, journal_again,
        "and the same journal, times included"
    );
    assert!(journal.iter().all(|e| e.time_ns > 0));

    // The stream is derived from the seed and the instance id, as a
    // Wasmtime guest's WASI random seed is.
    let mut expected = SplitMix64::new(derive_seed(7, "a"));
    assert_eq!(&first[0][..], &expected.next_u64().to_le_bytes());
    let (other_id, _) = random_run(&MockEngine::deterministic(7), "b");
    let (other_seed, _) = random_run(&MockEngine::deterministic(8), "a");
    assert_ne!(first, other_id);
    assert_ne!(first, other_seed);
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

#[test]
fn a_lifecycle_call_with_nothing_to_do_is_journaled_too() {
    let engine = MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap();
    // `uppercase` has no lifecycle role: `init("")` and `teardown` succeed
    // without reaching it, and are journaled like every call.
    let mut u = instance_of(&engine, "uppercase", "u");
    assert!(u.init_sync("").is_ok());
    let _ = u.process_sync(el(0));
    assert!(u.teardown_sync().is_ok());
    let entries = engine.journal().entries();
    let calls: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e.component.as_str().to_owned(),
                e.function,
                e.outcome.clone(),
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            (
                "u".to_owned(),
                Function::Init,
                Outcome::Answer(Answer::Done)
            ),
            ("u".to_owned(), Function::Process, calls[1].2.clone()),
            (
                "u".to_owned(),
                Function::Teardown,
                Outcome::Answer(Answer::Done)
            ),
        ]
    );
    assert!(
        matches!(calls[1].2, Outcome::Answer(Answer::Emit(_))),
        "{calls:?}"
    );
    assert_eq!(entries[0].fuel, 0, "nothing ran");
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
fn the_journal_keeps_outputs_on_request_and_names_kinds_by_enum() {
    let engine = MockEngine::with_models(
        MockEngineConfig {
            journal: JournalMode::WithOutputs(None),
            ..MockEngineConfig::default()
        },
        Clock::system(),
    )
    .unwrap();
    let mut p = instance_of(&engine, "passthrough", "p");
    let input = el(0);
    let ptr = input.payload.as_ptr();
    let _ = p.process_sync(input);
    let mut src = instance_of(&engine, "counter-source", "src");
    let _ = src.notify_backpressure_sync(BackpressureSignal::Pause);
    let _ = src.pull_sync();
    let mut t = scripted_on(&engine, Response::Trap);
    let _ = t.process_sync(el(1));
    let _ = t.process_sync(el(2));
    let entries = engine.journal().entries();
    let output = entries[0]
        .output
        .as_ref()
        .expect("the emitted payload is kept");
    assert_eq!(&output[..], b"payload 0");
    assert_eq!(output.as_ptr(), ptr, "kept without a copy");
    let kinds: Vec<String> = entries[2..]
        .iter()
        .map(|e| match &e.outcome {
            Outcome::Error { kind, .. } => format!("error {kind}"),
            Outcome::Fault { kind, .. } => format!("fault {kind}"),
            Outcome::Answer(a) => a.variant().to_string(),
        })
        .collect();
    assert_eq!(kinds, ["error unavailable", "fault trap", "fault poisoned"]);
    assert!(
        matches!(
            &entries[2].outcome,
            Outcome::Error {
                kind: ProcessErrorName::Unavailable,
                message: Some(_)
            }
        ),
        "{:?}",
        entries[2].outcome
    );
    assert_eq!(FaultName::Poisoned.name(), "poisoned");
    assert!(entries[1..].iter().all(|e| e.output.is_none()));

    // By default nothing is kept.
    let engine = MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap();
    let mut p = instance_of(&engine, "passthrough", "p");
    let _ = p.process_sync(el(0));
    assert_eq!(engine.journal().entries()[0].output, None);
}

#[test]
fn expectations_name_instances_not_components() {
    let engine = MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap();
    let mut a = instance_of(&engine, "passthrough", "a");
    let mut b = instance_of(&engine, "passthrough", "b");
    let _ = a.process_sync(el(0));
    let _ = a.process_sync(el(1));
    let _ = b.process_sync(el(2));
    let journal = engine.journal();
    journal
        .verify(&Expectations::new().calls("a", Function::Process, 2).calls(
            "b",
            Function::Process,
            1,
        ))
        .unwrap();
    let err = journal
        .verify(&Expectations::new().calls("passthrough", Function::Process, 3))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("expected 3 call(s) to passthrough.process, saw 0"),
        "{err}"
    );
}

#[test]
fn scripted_emits_set_content_type_and_metadata() {
    let engine = MockEngine::new(MockEngineConfig::default()).unwrap();
    let mut i = scripted(
        &engine,
        "emitter",
        &[Role::Processor, Role::Source],
        Scripts {
            process: Some(Script::in_order([
                Response::EmitElement(
                    ScriptedOutput::new("{}")
                        .with_content_type("application/json")
                        .with_sequence(42)
                        .with_timestamp_ns(7),
                ),
                Response::EmitElement(ScriptedOutput::new("same meta")),
            ])),
            pull: Some(Script::in_order([Response::EmitElement(
                ScriptedOutput::new("pulled").with_sequence(9),
            )])),
            ..Scripts::default()
        },
    );
    let input = StreamElement::new(3, "in", "text/plain");
    let out = emitted(i.process_sync(input));
    assert_eq!(
        (out.meta.clone(), &out.payload[..]),
        (
            ElementMeta {
                sequence: 42,
                timestamp_ns: 7,
                content_type: "application/json".into()
            },
            &b"{}"[..]
        )
    );
    assert_eq!(out.buffer_content_type, "application/json");
    let out = emitted(i.process_sync(StreamElement::new(4, "in", "text/plain")));
    assert_eq!(
        (out.meta.sequence, out.meta.content_type.as_str()),
        (4, "text/plain")
    );
    assert_eq!(out.buffer_content_type, "text/plain");
    let pulled = i.pull_sync().outcome.unwrap().unwrap();
    assert_eq!(
        (
            pulled.meta.sequence,
            pulled.meta.timestamp_ns,
            pulled.meta.content_type.as_str()
        ),
        (9, 0, "application/octet-stream")
    );
    assert_eq!(i.live_resources(), 0);
}
