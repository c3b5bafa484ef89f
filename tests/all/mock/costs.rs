//! The cost model: fuel, virtual time, simulated memory, determinism.

use super::*;

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
