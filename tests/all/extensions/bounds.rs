//! The bounds on answers and the hostile fixtures: floods, aliasing, hoarding.

use super::*;

#[test]
fn a_route_flood_is_refused_without_poisoning_until_the_bounds_allow_it() {
    for strategy in STRATEGIES {
        let mut flood = instance(strategy, "route-flood");
        for _ in 0..2 {
            let m = too_large(
                flood.route_sync(text(0, "go")),
                &flood,
                AnswerLimit::RoutePorts,
                64,
                5000,
            );
            assert_eq!(m.resources_reclaimed, 0);
        }
        ok(flood.init_sync(""), &flood);
    }
    // More ports allowed: the names' bytes are the next bound.
    let limits = Limits {
        max_route_ports: 5000,
        ..Limits::default()
    };
    let e = engine_with(limits);
    let c = compile_on(&e, "route-flood");
    let mut flood = e.instantiate(&c, ComponentId::new("flood")).unwrap();
    too_large(
        flood.route_sync(text(0, "go")),
        &flood,
        AnswerLimit::RouteBytes,
        4096,
        25_000,
    );
    // Both raised: the same answer goes through.
    let e = engine_with(Limits {
        max_route_bytes: 25_000,
        ..limits
    });
    let c = compile_on(&e, "route-flood");
    let mut flood = e.instantiate(&c, ComponentId::new("flood")).unwrap();
    let ports = ok(flood.route_sync(text(0, "go")), &flood);
    assert_eq!(ports.len(), 5000);
    assert!(ports.iter().all(|p| p == "flood"));
}

#[test]
fn a_flush_flood_is_refused_with_every_buffer_reclaimed() {
    for strategy in STRATEGIES {
        let mut flood = instance(strategy, "flush-flood");
        assert_eq!(ok(flood.ingest_sync(text(0, "absorbed")), &flood), None);
        for _ in 0..2 {
            let m = too_large(
                flood.flush_sync(),
                &flood,
                AnswerLimit::FlushOutputs,
                1024,
                5000,
            );
            assert_eq!(m.buffers_allocated, 5000);
            assert_eq!(m.resources_reclaimed, 5000, "none of the buffers was taken");
            assert_eq!(flood.live_resources(), 0);
        }
    }
    let e = engine_with(Limits {
        max_flush_outputs: 5000,
        ..Limits::default()
    });
    let c = compile_on(&e, "flush-flood");
    let mut flood = e.instantiate(&c, ComponentId::new("flood")).unwrap();
    let call = flood.flush_sync();
    assert_eq!(call.metrics.resources_reclaimed, 0);
    let outs = ok(call, &flood);
    assert_eq!(outs.len(), 5000);
    assert!(outs.iter().all(|o| &o.payload[..] == b"x"));
    assert_eq!(outs[4999].meta, ElementMeta::new(4999, "text/plain"));
}

#[test]
fn refused_flush_floods_do_not_fill_the_stores_handle_table() {
    // Regression (fuzz/regressions/api_sequence/flush-flood-handles): a
    // refused answer left its 5000 buffer handles in the guest's table, so
    // the 21st flush reached Wasmtime's store-wide limit of 100 000 live
    // handles and trapped ("cannot lend resource: store handle limit
    // exceeded") instead of being refused again.
    let mut flood = instance(CompilationStrategy::Cranelift, "flush-flood");
    for _ in 0..24 {
        too_large(
            flood.flush_sync(),
            &flood,
            AnswerLimit::FlushOutputs,
            1024,
            5000,
        );
        assert_eq!(flood.live_resources(), 0);
        assert!(flood.poisoned().is_none());
    }
}

/// `route-alias` names 64 ports (within the count bound), every one the
/// same 1 MiB of its memory: 64 MiB of names, refused by their bytes before
/// any is copied, with fuel metering on or off.
#[test]
fn a_route_answer_aliasing_one_region_is_refused_by_its_bytes() {
    for strategy in STRATEGIES {
        for fuel_enabled in [true, false] {
            let e = engine_on(
                strategy,
                Limits {
                    fuel_enabled,
                    ..Limits::default()
                },
            );
            let mut alias = instance_on(&e, "route-alias");
            for _ in 0..2 {
                let call = alias.route_sync(text(0, "go"));
                assert_eq!(call.metrics.fuel_consumed > 0, fuel_enabled);
                let m = too_large(call, &alias, AnswerLimit::RouteBytes, 4096, 64 * MIB);
                assert_eq!(m.resources_reclaimed, 0);
                assert_eq!(alias.live_resources(), 0);
            }
            ok(alias.init_sync(""), &alias);
        }
    }
    // The bytes bound is inclusive: one byte short of 64 MiB refuses the
    // answer, 64 MiB takes it, each name its own copy of the region.
    let limits = Limits {
        max_route_bytes: 64 * MIB - 1,
        ..Limits::default()
    };
    let mut alias = instance_on(&engine_with(limits), "route-alias");
    too_large(
        alias.route_sync(text(0, "go")),
        &alias,
        AnswerLimit::RouteBytes,
        64 * MIB - 1,
        64 * MIB,
    );
    let mut alias = instance_on(
        &engine_with(Limits {
            max_route_bytes: 64 * MIB,
            ..limits
        }),
        "route-alias",
    );
    let ports = ok(alias.route_sync(text(0, "go")), &alias);
    assert_eq!(ports.len(), 64);
    for port in &ports {
        assert_eq!(port.len() as u64, MIB);
        assert!(port.bytes().all(|b| b == b'a'));
    }
}

/// `flush-alias` flushes 1000 fresh buffers (within the count bound) whose
/// content types are all the same 64 KiB of its memory: 1000 x 64 KiB of
/// content types, over the guest's 16 MiB memory limit, refused before any
/// is copied and every buffer reclaimed, with fuel metering on or off.
#[test]
fn a_flush_answer_aliasing_one_content_type_is_refused_with_every_buffer_reclaimed() {
    for strategy in STRATEGIES {
        for fuel_enabled in [true, false] {
            let e = engine_on(
                strategy,
                Limits {
                    fuel_enabled,
                    ..Limits::default()
                },
            );
            let mut alias = instance_on(&e, "flush-alias");
            assert_eq!(ok(alias.ingest_sync(text(0, "absorbed")), &alias), None);
            for _ in 0..2 {
                let call = alias.flush_sync();
                assert_eq!(call.metrics.fuel_consumed > 0, fuel_enabled);
                let m = too_large(
                    call,
                    &alias,
                    AnswerLimit::FlushBytes,
                    16 * MIB,
                    1000 * 65536,
                );
                assert_eq!(m.buffers_allocated, 1000);
                assert_eq!(m.resources_reclaimed, 1000, "none of the buffers was taken");
                assert_eq!(alias.live_resources(), 0);
            }
        }
    }
    // One element fewer allowed: the count bound fires first, before any
    // content type is measured; the buffers are reclaimed all the same.
    let mut alias = instance_on(
        &engine_with(Limits {
            max_flush_outputs: 999,
            ..Limits::default()
        }),
        "flush-alias",
    );
    let m = too_large(
        alias.flush_sync(),
        &alias,
        AnswerLimit::FlushOutputs,
        999,
        1000,
    );
    assert_eq!((m.buffers_allocated, m.resources_reclaimed), (1000, 1000));
    assert_eq!(alias.live_resources(), 0);
    // A 64 MiB memory limit holds the 65536000 bytes: the answer is taken.
    let mut alias = instance_on(
        &engine_with(Limits {
            max_memory_bytes: 64 * MIB,
            ..Limits::default()
        }),
        "flush-alias",
    );
    let call = alias.flush_sync();
    assert_eq!(call.metrics.resources_reclaimed, 0);
    let outs = ok(call, &alias);
    assert_eq!(outs.len(), 1000);
    let content_type = "a".repeat(65536);
    for (i, out) in outs.iter().enumerate() {
        assert_eq!(out.meta, ElementMeta::new(i as u64, content_type.as_str()));
        assert_eq!(&out.payload[..], b"x");
    }
}

#[test]
fn buffers_an_aggregator_hoards_are_reclaimed() {
    for strategy in STRATEGIES {
        let mut leak = instance(strategy, "flush-leak");
        for seq in 0..3 {
            let call = leak.ingest_sync(text(seq, "keep"));
            let m = call.metrics;
            assert_eq!(ok(call, &leak), None);
            assert_eq!((m.buffers_allocated, m.resources_reclaimed), (2, 2));
        }
        let call = leak.flush_sync();
        assert_eq!(call.metrics.resources_reclaimed, 0);
        assert!(ok(call, &leak).is_empty());
        assert!(leak.poisoned().is_none());
    }
}
