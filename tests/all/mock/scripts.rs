//! Scripts: in order, in a cycle, by sequence; scripted faults and emits.

use super::*;

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
