//! The mock backend through the 0.1 API: 0.1.1's canned component for
//! bytes that name no model, 0.2's models for bytes that name one.
#![cfg(feature = "mock")]

use torvyn_engine::mock::{MockEngine, MockInvoker};
use torvyn_engine::{
    ComponentInstance, ComponentInvoker, OutputElement, ProcessResult, StreamElement, WasmEngine,
};
use torvyn_types::{
    BackpressureSignal, BufferHandle, ComponentId, ElementMeta, ProcessError, ResourceId,
};

/// Runs a test's future on a current-thread runtime (no tokio macros: the
/// crate's tokio features stay the main build's).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

async fn instance(engine: &MockEngine, bytes: &[u8], id: u64) -> ComponentInstance {
    let compiled = engine.compile_component(bytes).expect("the mock compiles");
    engine
        .instantiate(&compiled, MockEngine::mock_imports(), ComponentId::new(id))
        .await
        .expect("the mock instantiates")
}

#[test]
fn bytes_that_name_no_model_behave_as_0_1_1s_mock() {
    block_on(async {
        let engine = MockEngine::new();
        let invoker = MockInvoker::new();
        let id = ComponentId::new(1);
        let mut canned = instance(&engine, b"test", 1).await;
        assert!(canned.has_source() && canned.has_processor() && canned.has_sink());
        assert!(canned.has_lifecycle());
        assert_eq!(canned.component_id(), id);
        assert_eq!(engine.fuel_remaining(&canned), Some(1_000_000));
        engine.set_fuel(&mut canned, 500).expect("set");
        assert_eq!(engine.fuel_remaining(&canned), Some(500));
        assert_eq!(engine.memory_usage(&canned), 0);

        // pull: elements numbered 0, 1, 2... with 0.1.1's metadata.
        for seq in 0..3 {
            let out = invoker
                .invoke_pull(&mut canned, id)
                .await
                .expect("pull")
                .expect("never exhausted");
            assert_eq!(
                out.meta,
                ElementMeta::new(seq, seq * 1000, "application/octet-stream".into())
            );
            assert_eq!(
                invoker.payloads().get(out.payload).as_deref(),
                Some(&b""[..])
            );
        }
        // process: the element back unchanged, a made-up handle included.
        let made_up = StreamElement {
            meta: ElementMeta::new(42, 1000, "text/plain".into()),
            payload: BufferHandle::new(ResourceId::new(5, 0)),
        };
        let result = invoker
            .invoke_process(&mut canned, id, made_up.clone())
            .await
            .expect("process");
        let ProcessResult::Output(OutputElement { meta, payload }) = result else {
            panic!("the canned processor passes through");
        };
        assert_eq!((meta, payload), (made_up.meta.clone(), made_up.payload));
        // push: Ready.
        assert_eq!(
            invoker.invoke_push(&mut canned, id, made_up).await,
            Ok(BackpressureSignal::Ready)
        );
        assert_eq!(invoker.invoke_init(&mut canned, id, "{}").await, Ok(()));
        invoker.invoke_teardown(&mut canned, id).await;
        assert_eq!(invoker.invocation_count(), 7);
        assert_eq!(
            engine.fuel_remaining(&canned),
            Some(500),
            "calls cost nothing"
        );

        // 0.1.1's serialized form.
        let compiled = engine.compile_component(b"test").expect("compiles");
        let bytes = engine.serialize_component(&compiled).expect("serializes");
        assert_eq!(bytes, [0xCA, 0xFE]);
        // SAFETY: the mock's artifacts hold no code.
        unsafe {
            assert!(engine.deserialize_component(&bytes).expect("ok").is_some());
            assert!(
                engine
                    .deserialize_component(b"invalid")
                    .expect("ok")
                    .is_none()
            );
        }
    });
}

#[test]
fn bytes_that_name_a_model_run_it_on_real_payload_bytes() {
    block_on(async {
        let engine = MockEngine::new();
        let invoker = MockInvoker::new();
        for (i, bytes) in [
            b"uppercase".to_vec(),
            torvyn_engine::v2::mock::MockEngine::component_bytes("uppercase"),
        ]
        .into_iter()
        .enumerate()
        {
            let id = ComponentId::new(10 + i as u64);
            let mut upper = instance(&engine, &bytes, 10 + i as u64).await;
            assert!(upper.has_processor());
            assert!(!upper.has_source() && !upper.has_sink() && !upper.has_lifecycle());
            let input = StreamElement {
                meta: ElementMeta::new(3, 9, "text/plain".into()),
                payload: invoker.payloads().insert("hello"),
            };
            let Ok(ProcessResult::Output(out)) =
                invoker.invoke_process(&mut upper, id, input).await
            else {
                panic!("uppercase emits");
            };
            assert_eq!(out.meta.sequence, 3);
            assert_eq!(
                invoker.payloads().take(out.payload).as_deref(),
                Some(&b"HELLO"[..])
            );
            assert_eq!(invoker.payloads().live(), 0);
            let last = upper.last_invocation().expect("recorded");
            assert!(last.success && last.fuel_consumed > 0, "{last:?}");
            assert_eq!(
                engine.fuel_remaining(&upper),
                Some(1_000_000 - last.fuel_consumed)
            );
            // A model is no source: as on Wasmtime.
            let err = invoker
                .invoke_pull(&mut upper, id)
                .await
                .expect_err("no pull");
            assert!(
                matches!(&err, ProcessError::Internal(m) if m.contains("does not export 'pull'")),
                "{err:?}"
            );
        }
        // A model's compiled form round-trips.
        let compiled = engine.compile_component(b"uppercase").expect("compiles");
        let bytes = engine.serialize_component(&compiled).expect("serializes");
        // SAFETY: the mock's artifacts hold no code.
        let loaded = unsafe { engine.deserialize_component(&bytes) }
            .expect("ok")
            .expect("a model artifact");
        let upper = engine
            .instantiate(&loaded, MockEngine::mock_imports(), ComponentId::new(12))
            .await
            .expect("instantiates");
        assert!(upper.has_processor() && !upper.has_source());
    });
}

#[test]
fn a_models_guest_error_is_the_fixtures() {
    block_on(async {
        // The counter-source model refuses a config without a count with the
        // same error as the WAT fixture (tests/wasmtime.rs).
        let engine = MockEngine::new();
        let invoker = MockInvoker::new();
        let mut counter = instance(&engine, b"counter-source", 20).await;
        assert_eq!(
            invoker
                .invoke_init(&mut counter, ComponentId::new(20), "no digits")
                .await,
            Err(ProcessError::InvalidInput(
                "config needs a count, e.g. {\"count\": 5}".into()
            ))
        );
    });
}

#[cfg(feature = "wasmtime-backend")]
#[test]
fn each_invoker_refuses_the_other_backends_instances() {
    block_on(async {
        use torvyn_engine::{WasmtimeEngine, WasmtimeEngineConfig, WasmtimeInvoker};
        let mock = MockEngine::new();
        let wasmtime = WasmtimeEngine::new(WasmtimeEngineConfig::default()).expect("valid");
        let mut on_mock = instance(&mock, b"uppercase", 30).await;
        let compiled = wasmtime
            .compile_component(
                &torvyn_harness::fixtures::load_fixture("uppercase").expect("fixture"),
            )
            .expect("compiles");
        let mut on_wasmtime = wasmtime
            .instantiate(&compiled, wasmtime.imports(), ComponentId::new(31))
            .await
            .expect("instantiates");
        let err = WasmtimeInvoker::new()
            .invoke_pull(&mut on_mock, ComponentId::new(30))
            .await
            .expect_err("a mock instance");
        assert!(matches!(&err, ProcessError::Internal(m) if m.contains("another backend")));
        let err = MockInvoker::new()
            .invoke_pull(&mut on_wasmtime, ComponentId::new(31))
            .await
            .expect_err("a Wasmtime instance");
        assert!(matches!(&err, ProcessError::Internal(m) if m.contains("another backend")));
        // And each engine the other's compiled components.
        let err = mock
            .instantiate(&compiled, MockEngine::mock_imports(), ComponentId::new(32))
            .await
            .expect_err("compiled by Wasmtime");
        assert_eq!(err.code(), "E0809");
        assert_eq!(wasmtime.fuel_remaining(&on_mock), None);
        assert_eq!(mock.fuel_remaining(&on_wasmtime), None);
    });
}
