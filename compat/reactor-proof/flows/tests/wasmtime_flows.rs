//! torvyn-reactor 0.1.1's FlowDriver over real WebAssembly: the WAT
//! fixtures and the guests built by componentize-py and componentize-js,
//! on torvyn-engine 0.1.2's `WasmtimeEngine` and `WasmtimeInvoker`.
//!
//! Each flow ends on its own (completed, or failed by a fault), and every
//! test checks the payload table when it has: no handle left, and in a
//! completed flow every handle consumed by a call (none released unread).

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use torvyn_engine::{
    CompiledComponent, CompiledComponentCache, ComponentInstance, ComponentInvoker, PayloadStats,
    WasmEngine, WasmtimeEngine, WasmtimeEngineConfig, WasmtimeInvoker, v2,
};
use torvyn_reactor_proof::{
    TOKENS, drop_darn, fixture, guest, guests_dir, printed_payloads, run_flow, stage_id,
};
use torvyn_types::{FlowState, ProcessError};

/// The 0.1 configuration the flows run with: 0.1.1's defaults but for the
/// fuel budget and the core-instance count toolchain-built guests need
/// (`js-exclaim`'s first `process` costs more than the default 1 000 000
/// fuel units; a componentize-py component creates more than the default
/// 10 core instances: see `default_limits_are_too_small_for_toolchain_guests`),
/// and unknown imports linked to stubs that trap when called
/// (componentize-js imports `wasi:http`, which the engine does not provide).
fn config() -> v2::wasmtime::WasmtimeEngineConfig {
    let mut config = WasmtimeEngineConfig {
        default_fuel: 10_000_000,
        max_instances: 16,
        ..WasmtimeEngineConfig::default()
    }
    .to_v2();
    config.unknown_imports = v2::wasmtime::UnknownImports::Trap;
    config
}

/// One engine for the whole file (so each guest is compiled once), and a
/// cache of compiled code on disk beside the guests.
fn engine() -> &'static WasmtimeEngine {
    static ENGINE: OnceLock<WasmtimeEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        WasmtimeEngine::from_v2(
            v2::wasmtime::WasmtimeEngine::new(config()).expect("a valid configuration"),
        )
    })
}

/// `bytes` compiled by [`engine`], through the 0.1 cache (one compile at a
/// time: the guests are 11 to 36 MB).
fn compile(bytes: &[u8]) -> CompiledComponent {
    static CACHE: OnceLock<CompiledComponentCache> = OnceLock::new();
    static TURN: Mutex<()> = Mutex::new(());
    let cache =
        CACHE.get_or_init(|| CompiledComponentCache::new(Some(guests_dir().join("compiled-0.1"))));
    let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    cache
        .compile_or_get(bytes, engine())
        .unwrap_or_else(|e| panic!("compile: {e}"))
        .1
}

/// Instances of `components` for a flow (stage ids 1, 2, 3...), each
/// `init`ialized with its config.
async fn instances(
    flow: u64,
    engine: &WasmtimeEngine,
    invoker: &WasmtimeInvoker,
    components: &[(&CompiledComponent, &str)],
) -> Vec<ComponentInstance> {
    let mut out = Vec::new();
    for (i, (compiled, config)) in components.iter().enumerate() {
        let id = stage_id(flow, i);
        let mut instance = engine
            .instantiate(compiled, engine.imports(), id)
            .await
            .unwrap_or_else(|e| panic!("instantiate stage {i}: {e}"));
        invoker
            .invoke_init(&mut instance, id, config)
            .await
            .unwrap_or_else(|e| panic!("init stage {i}: {e}"));
        out.push(instance);
    }
    out
}

/// A completed flow's payload table: every handle a call or the host made
/// was consumed by a call, none left, none released unread.
fn assert_all_consumed(stats: PayloadStats) {
    assert_eq!(stats.live, 0, "{stats:?}");
    assert_eq!(stats.released, 0, "handles released unread: {stats:?}");
    assert_eq!(stats.created, stats.consumed, "{stats:?}");
}

/// A failed flow's payload table: nothing left; whatever was not consumed
/// was released when the flow dropped its invoker.
fn assert_none_left(stats: PayloadStats) {
    assert_eq!(stats.live, 0, "{stats:?}");
    assert_eq!(stats.created, stats.consumed + stats.released, "{stats:?}");
}

fn upper(s: &str) -> String {
    s.to_ascii_uppercase()
}

#[tokio::test]
async fn wat_fixtures_token_source_uppercase_sink_complete_with_every_handle_consumed() {
    let engine = engine();
    let (source, upper_c, sink) = (
        compile(&fixture("token-source")),
        compile(&fixture("uppercase")),
        compile(&fixture("sink")),
    );
    let invoker = WasmtimeInvoker::new();
    let payloads = invoker.payloads().clone();
    let stages = instances(
        1,
        engine,
        &invoker,
        &[(&source, ""), (&upper_c, ""), (&sink, "")],
    )
    .await;
    assert!(stages[0].has_source() && stages[1].has_processor() && stages[2].has_sink());

    let end = run_flow(1, stages, invoker).await;

    assert_eq!(end.state, FlowState::Completed);
    assert_eq!(end.stream_elements(0), TOKENS.len() as u64);
    assert_eq!(end.stream_elements(1), TOKENS.len() as u64);
    let stats = payloads.stats();
    assert_eq!(stats.created, 2 * TOKENS.len() as u64, "{stats:?}");
    assert_all_consumed(stats);
}

#[tokio::test]
async fn wat_source_and_processor_into_the_python_sink_deliver_every_token_upper_cased() {
    let Some(py_sink) = guest("py-sink") else {
        return;
    };
    let engine = engine();
    let (source, upper_c, sink) = (
        compile(&fixture("token-source")),
        compile(&fixture("uppercase")),
        compile(&py_sink),
    );
    let invoker = WasmtimeInvoker::new();
    let payloads = invoker.payloads().clone();
    let stages = instances(
        2,
        engine,
        &invoker,
        &[
            (&source, ""),
            (&upper_c, ""),
            (&sink, r#"{"label": "wat"}"#),
        ],
    )
    .await;
    let sink_id = stages[2].component_id();

    let end = run_flow(2, stages, invoker).await;

    assert_eq!(end.state, FlowState::Completed);
    let stdout = engine.guest_output().stdout(sink_id);
    let expected: Vec<String> = TOKENS.iter().map(|t| upper(t)).collect();
    assert_eq!(printed_payloads(&stdout), expected);
    assert!(String::from_utf8_lossy(&stdout).starts_with("wat "));
    assert_all_consumed(payloads.stats());
}

#[tokio::test]
async fn python_and_javascript_guests_between_wat_source_and_python_sink() {
    let (Some(py_upper), Some(js_exclaim), Some(py_sink)) =
        (guest("py-uppercase"), guest("js-exclaim"), guest("py-sink"))
    else {
        return;
    };
    let engine = engine();
    let (source, py_upper, js_exclaim, sink) = (
        compile(&fixture("token-source")),
        compile(&py_upper),
        compile(&js_exclaim),
        compile(&py_sink),
    );
    let invoker = WasmtimeInvoker::new();
    let payloads = invoker.payloads().clone();
    let stages = instances(
        3,
        engine,
        &invoker,
        &[
            (&source, ""),
            (&py_upper, ""),
            (&js_exclaim, ""),
            (&sink, ""),
        ],
    )
    .await;
    let sink_id = stages[3].component_id();

    let end = run_flow(3, stages, invoker).await;

    assert_eq!(end.state, FlowState::Completed);
    let expected: Vec<String> = TOKENS.iter().map(|t| format!("{}!", upper(t))).collect();
    assert_eq!(
        printed_payloads(&engine.guest_output().stdout(sink_id)),
        expected
    );
    for stream in 0..3 {
        assert_eq!(end.stream_elements(stream), TOKENS.len() as u64);
    }
    assert_all_consumed(payloads.stats());
}

#[tokio::test]
async fn a_processor_that_drops_elements_passes_on_only_the_others() {
    let Some(py_sink) = guest("py-sink") else {
        return;
    };
    let engine = engine();
    let (source, dropper, sink) = (
        compile(&fixture("token-source")),
        compile(&drop_darn()),
        compile(&py_sink),
    );
    let invoker = WasmtimeInvoker::new();
    let payloads = invoker.payloads().clone();
    let stages = instances(
        4,
        engine,
        &invoker,
        &[(&source, ""), (&dropper, ""), (&sink, "")],
    )
    .await;
    let sink_id = stages[2].component_id();

    let end = run_flow(4, stages, invoker).await;

    assert_eq!(end.state, FlowState::Completed);
    let kept: Vec<String> = TOKENS
        .iter()
        .filter(|t| !t.contains("darn"))
        .map(|t| t.to_string())
        .collect();
    assert!(kept.len() < TOKENS.len(), "the source has tokens to drop");
    assert_eq!(
        printed_payloads(&engine.guest_output().stdout(sink_id)),
        kept
    );
    assert_eq!(end.stream_elements(0), TOKENS.len() as u64);
    assert_eq!(end.stream_elements(1), kept.len() as u64);
    let stats = payloads.stats();
    assert_eq!(stats.created, (TOKENS.len() + kept.len()) as u64);
    assert_all_consumed(stats);
}

#[tokio::test]
async fn a_trapping_processor_fails_the_flow_and_the_sink_gets_nothing() {
    let Some(py_sink) = guest("py-sink") else {
        return;
    };
    let engine = engine();
    let (source, trap, sink) = (
        compile(&fixture("token-source")),
        compile(&fixture("trap")),
        compile(&py_sink),
    );
    let invoker = WasmtimeInvoker::new();
    let payloads = invoker.payloads().clone();
    let stages = instances(
        5,
        engine,
        &invoker,
        &[(&source, ""), (&trap, ""), (&sink, "")],
    )
    .await;
    let sink_id = stages[2].component_id();

    let end = run_flow(5, stages, invoker).await;

    assert_eq!(end.state, FlowState::Failed);
    assert_eq!(end.stream_elements(1), 0);
    assert!(engine.guest_output().stdout(sink_id).is_empty());
    assert_none_left(payloads.stats());
}

/// `spin` never returns from `process`: `config` decides what stops it.
async fn spin_flow(engine: &WasmtimeEngine, flow: u64) -> (FlowState, PayloadStats) {
    let compile_here = |name: &str| {
        engine
            .compile_component(&fixture(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let (source, spin, sink) = (
        compile_here("token-source"),
        compile_here("spin"),
        compile_here("sink"),
    );
    let invoker = WasmtimeInvoker::new();
    let payloads = invoker.payloads().clone();
    let stages = instances(
        flow,
        engine,
        &invoker,
        &[(&source, ""), (&spin, ""), (&sink, "")],
    )
    .await;
    let end = run_flow(flow, stages, invoker).await;
    (end.state, payloads.stats())
}

#[tokio::test]
async fn a_processor_that_spins_until_its_fuel_runs_out_fails_the_flow() {
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig {
        default_fuel: 2_000_000,
        ..WasmtimeEngineConfig::default()
    })
    .expect("a valid configuration");
    let (state, stats) = spin_flow(&engine, 6).await;
    assert_eq!(state, FlowState::Failed);
    assert_none_left(stats);
}

#[tokio::test]
async fn a_processor_that_spins_until_its_deadline_passes_fails_the_flow() {
    // No fuel: only the call's deadline stops the guest.
    let mut config = WasmtimeEngineConfig {
        fuel_enabled: false,
        ..WasmtimeEngineConfig::default()
    }
    .to_v2();
    config.limits.call_deadline = Some(Duration::from_millis(100));
    let engine = WasmtimeEngine::from_v2(v2::wasmtime::WasmtimeEngine::new(config).expect("valid"));
    let (state, stats) = spin_flow(&engine, 7).await;
    assert_eq!(state, FlowState::Failed);
    assert_none_left(stats);
}

#[tokio::test]
async fn the_spinning_processor_reports_deadline_exceeded_and_the_trap_a_fatal_error() {
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig {
        default_fuel: 2_000_000,
        ..WasmtimeEngineConfig::default()
    })
    .expect("a valid configuration");
    let invoker = WasmtimeInvoker::new();
    let payloads = invoker.payloads().clone();
    for (name, expect_deadline) in [("spin", true), ("trap", false)] {
        let compiled = engine.compile_component(&fixture(name)).expect(name);
        let id = torvyn_types::ComponentId::new(9);
        let mut instance = engine
            .instantiate(&compiled, engine.imports(), id)
            .await
            .expect(name);
        let element = torvyn_engine::StreamElement {
            meta: torvyn_types::ElementMeta::new(0, 0, "text/plain".into()),
            payload: payloads.insert("x"),
        };
        let err = invoker
            .invoke_process(&mut instance, id, element)
            .await
            .expect_err(name);
        if expect_deadline {
            assert_eq!(err, ProcessError::DeadlineExceeded);
        } else {
            let ProcessError::Fatal(message) = &err else {
                panic!("{name}: expected Fatal, got {err:?}");
            };
            assert!(message.contains("unreachable"), "{message}");
            assert!(message.contains("component-9"), "{message}");
        }
        assert_eq!(payloads.live(), 0, "{name}: the input handle was consumed");
    }
}

#[tokio::test]
async fn default_limits_are_too_small_for_toolchain_guests() {
    // 0.1.1's defaults, kept in 0.1.2: 1 000 000 fuel units per call and 10
    // core instances per component instance.
    let (Some(py_sink), Some(js_exclaim)) = (guest("py-sink"), guest("js-exclaim")) else {
        return;
    };
    let mut defaults = WasmtimeEngineConfig::default().to_v2();
    defaults.unknown_imports = v2::wasmtime::UnknownImports::Trap;
    let engine =
        WasmtimeEngine::from_v2(v2::wasmtime::WasmtimeEngine::new(defaults).expect("valid"));
    let id = torvyn_types::ComponentId::new(1);
    // The same disk cache: these limits do not change the compiled code.
    let cache = CompiledComponentCache::new(Some(guests_dir().join("compiled-0.1")));

    let (_, compiled) = cache
        .compile_or_get(&py_sink, &engine)
        .expect("py-sink compiles");
    let err = engine
        .instantiate(&compiled, engine.imports(), id)
        .await
        .expect_err("py-sink needs more than 10 core instances");
    assert_eq!(err.code(), "E0802");
    assert!(err.to_string().contains("instance count"), "{err}");

    let (_, compiled) = cache
        .compile_or_get(&js_exclaim, &engine)
        .expect("js-exclaim compiles");
    let mut exclaim = engine
        .instantiate(&compiled, engine.imports(), id)
        .await
        .expect("js-exclaim instantiates");
    let invoker = WasmtimeInvoker::new();
    let element = torvyn_engine::StreamElement {
        meta: torvyn_types::ElementMeta::new(0, 0, "text/plain".into()),
        payload: invoker.payloads().insert("hey"),
    };
    let err = invoker
        .invoke_process(&mut exclaim, id, element)
        .await
        .expect_err("js-exclaim needs more than 1 000 000 fuel units");
    assert_eq!(err, ProcessError::DeadlineExceeded);
    let last = exclaim.last_invocation().expect("the call is recorded");
    assert!(!last.success);
    assert_eq!(last.fuel_consumed, 1_000_000, "the whole budget was burned");
}
