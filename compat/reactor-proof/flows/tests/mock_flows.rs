//! The flows of `wasmtime_flows.rs` on the mock backend: torvyn-reactor
//! 0.1.1's FlowDriver over torvyn-engine 0.1.2's `MockEngine` and
//! `MockInvoker`, which run 0.2's mock models (and 0.1.1's canned
//! component for bytes that name no model).
//!
//! The sink of each flow is a model registered by the test that keeps what
//! it was pushed, so the bytes it received are compared with what the
//! source produced.

use std::sync::{Arc, Mutex, PoisonError};

use torvyn_engine::mock::{MockEngine, MockInvoker};
use torvyn_engine::v2::mock::{MockBuilder, MockError};
use torvyn_engine::{ComponentInstance, PayloadStats, WasmEngine, v2};
use torvyn_reactor_proof::{TOKENS, run_flow, stage_id};
use torvyn_types::FlowState;

/// What a recording sink was pushed, in order.
type Received = Arc<Mutex<Vec<String>>>;

/// Registers a sink model named `name` that keeps every payload it is
/// pushed, and returns where it keeps them.
fn recording_sink(engine: &MockEngine, name: &str) -> Received {
    let received = Received::default();
    let keep = Arc::clone(&received);
    engine.v2().register(
        MockBuilder::new(name)
            .on_push(move |ctx, _element| {
                let bytes = ctx.read_payload()?;
                keep.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(String::from_utf8_lossy(&bytes).into_owned());
                Ok(v2::BackpressureSignal::Ready)
            })
            .build(),
    );
    received
}

/// Instances of the components `names` name (stage ids of flow `flow`).
async fn instances(engine: &MockEngine, flow: u64, names: &[&str]) -> Vec<ComponentInstance> {
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let compiled = engine
            .compile_component(name.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let instance = engine
            .instantiate(&compiled, MockEngine::mock_imports(), stage_id(flow, i))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push(instance);
    }
    out
}

fn assert_all_consumed(stats: PayloadStats) {
    assert_eq!(stats.live, 0, "{stats:?}");
    assert_eq!(stats.released, 0, "handles released unread: {stats:?}");
    assert_eq!(stats.created, stats.consumed, "{stats:?}");
}

fn assert_none_left(stats: PayloadStats) {
    assert_eq!(stats.live, 0, "{stats:?}");
    assert_eq!(stats.created, stats.consumed + stats.released, "{stats:?}");
}

fn received(r: &Received) -> Vec<String> {
    r.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

#[tokio::test]
async fn models_token_source_uppercase_sink_deliver_every_token_upper_cased() {
    let engine = MockEngine::new();
    let sink = recording_sink(&engine, "recording-sink");
    let stages = instances(
        &engine,
        11,
        &["token-source", "uppercase", "recording-sink"],
    )
    .await;
    assert!(stages[0].has_source() && stages[1].has_processor() && stages[2].has_sink());
    let invoker = MockInvoker::new();
    let payloads = invoker.payloads().clone();

    let end = run_flow(11, stages, invoker).await;

    assert_eq!(end.state, FlowState::Completed);
    let expected: Vec<String> = TOKENS.iter().map(|t| t.to_ascii_uppercase()).collect();
    assert_eq!(received(&sink), expected);
    assert_eq!(end.stream_elements(0), TOKENS.len() as u64);
    let stats = payloads.stats();
    assert_eq!(stats.created, 2 * TOKENS.len() as u64);
    assert_all_consumed(stats);
}

#[tokio::test]
async fn a_model_that_drops_elements_passes_on_only_the_others() {
    let engine = MockEngine::new();
    let sink = recording_sink(&engine, "recording-sink");
    // The model of `drop-darn`.
    engine.v2().register(
        MockBuilder::new("drop-darn")
            .on_process(|ctx, element| {
                let bytes = ctx.read_payload()?;
                if bytes.windows(4).any(|w| w == b"darn") {
                    return Ok(v2::ProcessResult::Drop);
                }
                Ok(v2::ProcessResult::Emit(
                    ctx.emit_input(element.meta.clone())?,
                ))
            })
            .build(),
    );
    let stages = instances(
        &engine,
        12,
        &["token-source", "drop-darn", "recording-sink"],
    )
    .await;
    let invoker = MockInvoker::new();
    let payloads = invoker.payloads().clone();

    let end = run_flow(12, stages, invoker).await;

    assert_eq!(end.state, FlowState::Completed);
    let kept: Vec<String> = TOKENS
        .iter()
        .filter(|t| !t.contains("darn"))
        .map(|t| t.to_string())
        .collect();
    assert!(kept.len() < TOKENS.len());
    assert_eq!(received(&sink), kept);
    assert_eq!(end.stream_elements(1), kept.len() as u64);
    assert_all_consumed(payloads.stats());
}

#[tokio::test]
async fn a_trapping_model_fails_the_flow_and_the_sink_gets_nothing() {
    let engine = MockEngine::new();
    let sink = recording_sink(&engine, "recording-sink");
    engine.v2().register(
        MockBuilder::new("trap")
            .on_process(|_, _| Err(MockError::Trap(v2::TrapCode::Unreachable)))
            .build(),
    );
    let stages = instances(&engine, 13, &["token-source", "trap", "recording-sink"]).await;
    let invoker = MockInvoker::new();
    let payloads = invoker.payloads().clone();

    let end = run_flow(13, stages, invoker).await;

    assert_eq!(end.state, FlowState::Failed);
    assert!(received(&sink).is_empty());
    assert_none_left(payloads.stats());
}

#[tokio::test]
async fn models_that_run_out_of_fuel_or_time_fail_the_flow() {
    for (flow, name, error) in [
        (14, "burns-fuel", MockError::FuelExhausted),
        (15, "past-deadline", MockError::DeadlineExceeded),
    ] {
        let engine = MockEngine::new();
        let sink = recording_sink(&engine, "recording-sink");
        engine.v2().register(
            MockBuilder::new(name)
                .on_process(move |_, _| Err(error.clone()))
                .build(),
        );
        let stages = instances(&engine, flow, &["token-source", name, "recording-sink"]).await;
        let invoker = MockInvoker::new();
        let payloads = invoker.payloads().clone();

        let end = run_flow(flow, stages, invoker).await;

        assert_eq!(end.state, FlowState::Failed, "{name}");
        assert!(received(&sink).is_empty(), "{name}");
        assert_none_left(payloads.stats());
    }
}

#[tokio::test]
async fn the_canned_component_of_0_1_1_passes_elements_through_a_flow() {
    // Bytes that name no model compile to 0.1.1's canned component, whose
    // `process` returns its input unchanged.
    let engine = MockEngine::new();
    let sink = recording_sink(&engine, "recording-sink");
    let stages = instances(
        &engine,
        16,
        &["token-source", "any bytes: canned", "recording-sink"],
    )
    .await;
    assert!(stages[1].has_source() && stages[1].has_sink() && stages[1].has_lifecycle());
    let invoker = MockInvoker::new();
    let payloads = invoker.payloads().clone();

    let end = run_flow(16, stages, invoker).await;

    assert_eq!(end.state, FlowState::Completed);
    let expected: Vec<String> = TOKENS.iter().map(|t| t.to_string()).collect();
    assert_eq!(received(&sink), expected);
    let stats = payloads.stats();
    assert_eq!(
        stats.created,
        TOKENS.len() as u64,
        "the canned processor makes no new handle"
    );
    assert_all_consumed(stats);
}
