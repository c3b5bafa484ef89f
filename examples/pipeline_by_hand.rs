//! Drives a source → processor → sink loop by hand on the traits, the way
//! a streaming host would: demand-driven pulls, backpressure, completion
//! and teardown.
//!
//! ```sh
//! cargo run --example pipeline_by_hand
//! ```

use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    BackpressureSignal, ComponentId, ComponentInvoker, FlowContext, ProcessResult, WasmEngine,
};

/// The host loop, generic over any backend's invokers.
async fn run(
    source: &mut impl ComponentInvoker,
    processor: &mut impl ComponentInvoker,
    sink: &mut impl ComponentInvoker,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut delivered = Vec::new();
    while let Some(out) = source.pull().await.outcome? {
        let element = out.into_stream_element(FlowContext::new("flow-1"));
        let ProcessResult::Emit(out) = processor.process(element).await.outcome? else {
            continue; // dropped by the processor
        };
        delivered.push(String::from_utf8_lossy(&out.payload).into_owned());
        let signal = sink
            .push(out.into_stream_element(FlowContext::new("flow-1")))
            .await
            .outcome?;
        if signal == BackpressureSignal::Pause {
            source
                .notify_backpressure(BackpressureSignal::Pause)
                .await
                .outcome?;
            // A real host would wait for the sink to drain here.
            source
                .notify_backpressure(BackpressureSignal::Ready)
                .await
                .outcome?;
        }
    }
    sink.complete().await.outcome?;
    // Teardown is best effort: report, never stop.
    let teardowns = [
        source.teardown().await,
        processor.teardown().await,
        sink.teardown().await,
    ];
    for call in teardowns {
        if let Err(e) = call.outcome {
            eprintln!("teardown failed: {e}");
        }
    }
    Ok(delivered)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default())?;
    let instance = |name: &str| -> Result<_, Box<dyn std::error::Error>> {
        let compiled = engine.compile(&torvyn_harness::fixtures::load_fixture(name)?)?;
        Ok(engine.instantiate(&compiled, ComponentId::new(name))?)
    };
    let (mut source, mut upper, mut sink) = (
        instance("counter-source")?,
        instance("uppercase")?,
        instance("sink")?,
    );
    source.init_sync(r#"{"count": 5}"#).outcome?;
    sink.init_sync(r#"{"pause_every": 2}"#).outcome?;
    let delivered = torvyn_harness::backend::block_on(run(&mut source, &mut upper, &mut sink))?;
    println!("delivered {delivered:?}");
    assert_eq!(delivered, ["0", "1", "2", "3", "4"]);
    Ok(())
}
