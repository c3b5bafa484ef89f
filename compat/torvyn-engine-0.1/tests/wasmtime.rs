//! The Wasmtime backend through the 0.1 API: components of the WAT fixtures
//! compiled, instantiated and called with `WasmtimeEngine` and
//! `WasmtimeInvoker`, payloads through handles, outcomes mapped onto
//! `torvyn_types::ProcessError`.
#![cfg(feature = "wasmtime-backend")]

use torvyn_engine::{
    CompiledComponentCache, ComponentInstance, ComponentInvoker, EngineError, OutputElement,
    ProcessResult, StreamElement, WasmEngine, WasmtimeEngine, WasmtimeEngineConfig,
    WasmtimeInvoker,
};
use torvyn_types::{
    BackpressureSignal, BufferHandle, ComponentId, ElementMeta, ProcessError, ResourceId,
};

fn fixture(name: &str) -> Vec<u8> {
    torvyn_harness::fixtures::load_fixture(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn engine() -> WasmtimeEngine {
    WasmtimeEngine::new(WasmtimeEngineConfig::default()).expect("the default config is valid")
}

/// Runs a test's future on a current-thread runtime (no tokio macros: the
/// crate's tokio features stay the main build's).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

async fn instance(engine: &WasmtimeEngine, name: &str, id: u64) -> ComponentInstance {
    let compiled = engine
        .compile_component(&fixture(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    engine
        .instantiate(&compiled, engine.imports(), ComponentId::new(id))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn element(invoker: &WasmtimeInvoker, sequence: u64, bytes: &str) -> StreamElement {
    StreamElement {
        meta: ElementMeta::new(sequence, 77, "text/plain".into()),
        payload: invoker.payloads().insert(bytes.to_owned()),
    }
}

/// The bytes of an output, taken out of the table.
fn take(invoker: &WasmtimeInvoker, out: &OutputElement) -> String {
    let bytes = invoker
        .payloads()
        .take(out.payload)
        .expect("an output names bytes in the table");
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

#[test]
fn a_processor_transforms_the_bytes_its_handle_names_into_a_fresh_handle() {
    block_on(async {
        let engine = engine();
        let mut upper = instance(&engine, "uppercase", 1).await;
        assert!(upper.has_processor());
        assert!(!upper.has_source() && !upper.has_sink() && !upper.has_lifecycle());
        let invoker = WasmtimeInvoker::new();
        let input = element(&invoker, 4, "hello");
        let handle = input.payload;

        let result = invoker
            .invoke_process(&mut upper, ComponentId::new(1), input)
            .await
            .expect("uppercase emits");

        let ProcessResult::Output(out) = result else {
            panic!("expected an output, got {result:?}");
        };
        assert!(
            !invoker.payloads().contains(handle),
            "the input handle is consumed"
        );
        assert_ne!(out.payload, handle);
        assert_eq!((out.meta.sequence, out.meta.timestamp_ns), (4, 77));
        assert_eq!(out.meta.content_type, "text/plain");
        assert_eq!(take(&invoker, &out), "HELLO");
        assert_eq!(invoker.payloads().live(), 0);
        let last = upper.last_invocation().expect("the call is recorded");
        assert_eq!(last.function_name, "process");
        assert_eq!(last.component_id, ComponentId::new(1));
        assert!(last.success && last.fuel_consumed > 0, "{last:?}");
        let budget = WasmtimeEngineConfig::default().default_fuel;
        assert_eq!(
            engine.fuel_remaining(&upper),
            Some(budget - last.fuel_consumed)
        );
    });
}

#[test]
fn a_source_is_pulled_until_exhausted_and_a_sink_answers_backpressure() {
    block_on(async {
        let engine = engine();
        let invoker = WasmtimeInvoker::new();
        let id = ComponentId::new(2);
        let mut counter = instance(&engine, "counter-source", 2).await;
        assert!(counter.has_source() && counter.has_lifecycle());
        invoker
            .invoke_init(&mut counter, id, r#"{"count": 3}"#)
            .await
            .expect("a count is a valid config");
        let mut pulled = Vec::new();
        while let Some(out) = invoker.invoke_pull(&mut counter, id).await.expect("pull") {
            pulled.push(take(&invoker, &out));
        }
        assert_eq!(pulled, ["0", "1", "2"]);

        // `sink` asks for a pause every Nth element.
        let mut sink = instance(&engine, "sink", 3).await;
        invoker
            .invoke_init(&mut sink, ComponentId::new(3), r#"{"count": 2}"#)
            .await
            .expect("init");
        let mut signals = Vec::new();
        for i in 0..4 {
            let e = element(&invoker, i, "x");
            signals.push(
                invoker
                    .invoke_push(&mut sink, ComponentId::new(3), e)
                    .await
                    .expect("push"),
            );
        }
        use BackpressureSignal::{Pause, Ready};
        assert_eq!(signals, [Ready, Pause, Ready, Pause]);
        assert_eq!(invoker.payloads().live(), 0, "pushed handles are consumed");
    });
}

#[test]
fn guest_errors_keep_their_kind_and_message() {
    block_on(async {
        let engine = engine();
        let invoker = WasmtimeInvoker::new();
        let mut counter = instance(&engine, "counter-source", 4).await;
        let err = invoker
            .invoke_init(&mut counter, ComponentId::new(4), "no digits")
            .await
            .expect_err("a config without a count is refused");
        assert_eq!(
            err,
            ProcessError::InvalidInput("config needs a count, e.g. {\"count\": 5}".into())
        );

        let mut broken = instance(&engine, "fatal-sink", 5).await;
        let e = element(&invoker, 0, "x");
        let err = invoker
            .invoke_push(&mut broken, ComponentId::new(5), e)
            .await
            .expect_err("fatal-sink refuses");
        assert_eq!(err, ProcessError::Fatal("sink is broken".into()));
        // A guest error leaves the instance usable: it answers again.
        let e = element(&invoker, 1, "y");
        let again = invoker
            .invoke_push(&mut broken, ComponentId::new(5), e)
            .await;
        assert_eq!(again, Err(ProcessError::Fatal("sink is broken".into())));
    });
}

#[test]
fn a_trap_is_fatal_with_0_2s_message_and_poisons_the_instance() {
    block_on(async {
        let engine = engine();
        let invoker = WasmtimeInvoker::new();
        let id = ComponentId::new(6);
        let mut trap = instance(&engine, "trap", 6).await;
        let e = element(&invoker, 0, "x");
        let Err(ProcessError::Fatal(first)) = invoker.invoke_process(&mut trap, id, e).await else {
            panic!("a trap is fatal");
        };
        assert!(first.contains("component-6"), "{first}");
        assert!(first.contains("`process`"), "{first}");
        assert!(first.contains("unreachable"), "{first}");
        let e = element(&invoker, 1, "x");
        let Err(ProcessError::Fatal(second)) = invoker.invoke_process(&mut trap, id, e).await
        else {
            panic!("a poisoned instance refuses calls");
        };
        assert!(second.contains("poisoned"), "{second}");
        assert_eq!(invoker.payloads().live(), 0);
    });
}

#[test]
fn a_missing_role_is_internal_and_init_without_lifecycle_accepts_any_config() {
    block_on(async {
        let engine = engine();
        let invoker = WasmtimeInvoker::new();
        let id = ComponentId::new(7);
        let mut upper = instance(&engine, "uppercase", 7).await;
        let err = invoker
            .invoke_pull(&mut upper, id)
            .await
            .expect_err("uppercase is no source");
        let ProcessError::Internal(message) = &err else {
            panic!("expected Internal, got {err:?}");
        };
        assert!(
            message.contains("component-7 does not export 'pull'"),
            "{message}"
        );
        assert!(message.contains("torvyn:streaming/source"), "{message}");
        // As 0.1.1: without `lifecycle`, init is a no-op whatever the config.
        assert_eq!(
            invoker.invoke_init(&mut upper, id, "{\"x\": 1}").await,
            Ok(())
        );
        invoker.invoke_teardown(&mut upper, id).await;
        assert!(
            upper
                .last_invocation()
                .is_some_and(|l| l.function_name == "pull")
        );
    });
}

#[test]
fn a_handle_that_names_no_bytes_is_invalid_input() {
    block_on(async {
        let engine = engine();
        let invoker = WasmtimeInvoker::new();
        let id = ComponentId::new(8);
        let mut upper = instance(&engine, "uppercase", 8).await;
        let made_up = StreamElement {
            meta: ElementMeta::new(0, 0, String::new()),
            payload: BufferHandle::new(ResourceId::new(7, 0)),
        };
        let Err(ProcessError::InvalidInput(message)) =
            invoker.invoke_process(&mut upper, id, made_up).await
        else {
            panic!("a made-up handle is refused");
        };
        assert!(message.contains("payloads().insert"), "{message}");
        // A handle names its bytes once.
        let e = element(&invoker, 0, "once");
        let twice = e.clone();
        assert!(invoker.invoke_process(&mut upper, id, e).await.is_ok());
        assert!(matches!(
            invoker.invoke_process(&mut upper, id, twice).await,
            Err(ProcessError::InvalidInput(_))
        ));
        assert!(
            upper.last_invocation().is_some_and(|l| l.success),
            "the refused call never reached the guest"
        );
    });
}

#[test]
fn import_bindings_of_another_engine_are_refused() {
    block_on(async {
        let (a, b) = (engine(), engine());
        let compiled = a
            .compile_component(&fixture("uppercase"))
            .expect("compiles");
        let err = a
            .instantiate(&compiled, b.imports(), ComponentId::new(9))
            .await
            .expect_err("b's bindings");
        assert_eq!(err.code(), "E0809");
        assert!(err.to_string().contains("imports()"), "{err}");
        let err = b
            .instantiate(&compiled, b.imports(), ComponentId::new(9))
            .await
            .expect_err("compiled by a");
        assert!(err.to_string().contains("another engine"), "{err}");
        #[cfg(feature = "mock")]
        {
            let err = a
                .instantiate(
                    &compiled,
                    torvyn_engine::mock::MockEngine::mock_imports(),
                    ComponentId::new(9),
                )
                .await
                .expect_err("the mock's bindings");
            assert!(err.to_string().contains("imports()"), "{err}");
        }
    });
}

#[test]
fn compiled_code_round_trips_and_foreign_bytes_are_told_apart() {
    block_on(async {
        let engine = engine();
        let compiled = engine
            .compile_component(&fixture("uppercase"))
            .expect("compiles");
        let bytes = engine.serialize_component(&compiled).expect("serializes");
        // SAFETY: the bytes were just made by this engine.
        let loaded = unsafe { engine.deserialize_component(&bytes) }
            .expect("loads")
            .expect("compatible");
        let mut upper = engine
            .instantiate(&loaded, engine.imports(), ComponentId::new(10))
            .await
            .expect("instantiates");
        assert!(upper.has_processor());
        let invoker = WasmtimeInvoker::new();
        let e = element(&invoker, 0, "abc");
        let Ok(ProcessResult::Output(out)) = invoker
            .invoke_process(&mut upper, ComponentId::new(10), e)
            .await
        else {
            panic!("the loaded component runs");
        };
        assert_eq!(take(&invoker, &out), "ABC");

        // Another configuration's code: not compatible, not an error.
        let other = WasmtimeEngine::new(WasmtimeEngineConfig {
            fuel_enabled: false,
            ..WasmtimeEngineConfig::default()
        })
        .expect("valid");
        // SAFETY: made by a Wasmtime engine of this crate, untampered.
        assert!(
            unsafe { other.deserialize_component(&bytes) }
                .expect("no error")
                .is_none()
        );
        // Not compiled code at all.
        // SAFETY: Wasmtime checks the header before loading anything.
        let err = unsafe { engine.deserialize_component(b"not compiled code") }
            .expect_err("garbage is an error");
        assert_eq!(err.code(), "E0801");
    });
}

#[test]
fn fuel_is_set_per_call_and_absent_without_metering() {
    block_on(async {
        let engine = engine();
        let mut upper = instance(&engine, "uppercase", 11).await;
        engine.set_fuel(&mut upper, 500_000).expect("fuel is on");
        assert_eq!(engine.fuel_remaining(&upper), Some(500_000));
        let invoker = WasmtimeInvoker::new();
        let e = element(&invoker, 0, "abc");
        assert!(
            invoker
                .invoke_process(&mut upper, ComponentId::new(11), e)
                .await
                .is_ok()
        );
        let used = upper.last_invocation().expect("recorded").fuel_consumed;
        assert_eq!(engine.fuel_remaining(&upper), Some(500_000 - used));
        // The next call starts from the budget again.
        let e = element(&invoker, 1, "abc");
        assert!(
            invoker
                .invoke_process(&mut upper, ComponentId::new(11), e)
                .await
                .is_ok()
        );
        assert_eq!(engine.fuel_remaining(&upper), Some(500_000 - used));
        assert!(
            engine.memory_usage(&upper) >= 64 * 1024,
            "at least one page"
        );

        let unmetered = WasmtimeEngine::new(WasmtimeEngineConfig {
            fuel_enabled: false,
            ..WasmtimeEngineConfig::default()
        })
        .expect("valid");
        let mut upper = instance(&unmetered, "uppercase", 12).await;
        assert_eq!(unmetered.fuel_remaining(&upper), None);
        let err = unmetered
            .set_fuel(&mut upper, 5)
            .expect_err("no fuel to set");
        assert_eq!(err.code(), "E0809");
    });
}

#[test]
fn invalid_configurations_are_refused_with_every_problem() {
    let err = WasmtimeEngine::new(WasmtimeEngineConfig {
        default_fuel: 0,
        stack_size: 1024,
        ..WasmtimeEngineConfig::default()
    })
    .expect_err("invalid");
    let EngineError::Internal { reason } = &err else {
        panic!("expected Internal, got {err:?}");
    };
    assert!(
        reason.contains("default_fuel") && reason.contains("stack_size"),
        "{reason}"
    );
    // Valid for 0.1's checks, not for 0.2's: 0.2's reasons come back.
    let err = WasmtimeEngine::new(WasmtimeEngineConfig {
        max_memory_bytes: 1000,
        ..WasmtimeEngineConfig::default()
    })
    .expect_err("under 64 KiB of memory");
    assert!(err.to_string().contains("limits.max_memory_bytes"), "{err}");
}

#[test]
fn what_a_guest_prints_is_kept_per_instance() {
    block_on(async {
        let engine = engine();
        let invoker = WasmtimeInvoker::new();
        let mut hello = instance(&engine, "wasi-hello", 13).await;
        let quiet = instance(&engine, "uppercase", 14).await;
        for (i, text) in ["first", "second"].into_iter().enumerate() {
            let e = element(&invoker, i as u64, text);
            let out = invoker
                .invoke_process(&mut hello, ComponentId::new(13), e)
                .await
                .expect("wasi-hello emits");
            if let ProcessResult::Output(out) = out {
                invoker.payloads().release(out.payload);
            }
        }
        let outputs = engine.guest_output();
        assert_eq!(outputs.stdout(ComponentId::new(13)), b"first\nsecond\n");
        assert!(outputs.stderr(ComponentId::new(13)).is_empty());
        assert!(outputs.stdout(quiet.component_id()).is_empty());
        assert_eq!(outputs.discarded(ComponentId::new(13)), 0);
    });
}

#[test]
fn the_cache_reloads_from_disk_and_drops_a_tampered_entry() {
    block_on(async {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let engine = engine();
        let bytes = fixture("uppercase");
        let first = CompiledComponentCache::new(Some(dir.path().to_owned()));
        let (id, _) = first.compile_or_get(&bytes, &engine).expect("compiles");
        assert_eq!(first.len(), 1);
        assert_eq!(id, CompiledComponentCache::compute_type_id(&bytes));

        // A second cache (a second run) loads it from disk.
        let second = CompiledComponentCache::new(Some(dir.path().to_owned()));
        let loaded = second
            .get(&id, &engine)
            .expect("no error")
            .expect("on disk");
        let mut upper = engine
            .instantiate(&loaded, engine.imports(), ComponentId::new(15))
            .await
            .expect("instantiates");
        assert!(upper.has_processor());
        let invoker = WasmtimeInvoker::new();
        let e = element(&invoker, 0, "disk");
        assert!(
            invoker
                .invoke_process(&mut upper, ComponentId::new(15), e)
                .await
                .is_ok()
        );

        // One changed byte: the entry is refused and deleted.
        let files: Vec<_> = walk(dir.path());
        assert_eq!(files.len(), 1, "{files:?}");
        let mut sealed = std::fs::read(&files[0]).expect("read");
        let last = sealed.len() - 1;
        sealed[last] ^= 0xff;
        std::fs::write(&files[0], &sealed).expect("write");
        let third = CompiledComponentCache::new(Some(dir.path().to_owned()));
        assert!(third.get(&id, &engine).expect("no error").is_none());
        assert!(!files[0].exists(), "the tampered entry is deleted");
    });
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn inner_is_the_engine_that_runs_the_components() {
    block_on(async {
        let engine = engine();
        let component = wasmtime::component::Component::new(
            engine.inner(),
            torvyn_harness::fixtures::load_fixture("uppercase").expect("fixture"),
        )
        .expect("compiles on inner()");
        let bytes = component.serialize().expect("serializes");
        // SAFETY: compiled on this engine's own Wasmtime engine just now.
        let loaded = unsafe { engine.deserialize_component(&bytes) }
            .expect("loads")
            .expect("compatible");
        let upper = engine
            .instantiate(&loaded, engine.imports(), ComponentId::new(16))
            .await
            .expect("instantiates");
        assert!(upper.has_processor());
    });
}
