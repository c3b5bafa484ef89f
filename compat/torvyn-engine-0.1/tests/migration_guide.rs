//! The worked port of docs/src/migrating-from-0.1.md, compiled and run: a
//! FlowDriver-like loop on the 0.1 traits (`driver_0_1`) and the same loop
//! ported to the 0.2 traits (`driver_0_2`), over the same components. The
//! guide shows the text between each `// guide:` marker pair verbatim; a
//! test checks that it still does.
#![cfg(feature = "wasmtime-backend")]

/// Runs a test's future on a current-thread runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

mod driver_0_1 {
    use torvyn_engine::{ComponentInstance, ComponentInvoker, ProcessResult, StreamElement};
    use torvyn_types::{BackpressureSignal, ElementMeta, ProcessError, current_timestamp_ns};

    // guide: driver 0.1
    /// Pulls the source dry and sends every element through the processor
    /// into the sink; returns how many elements reached the sink.
    pub async fn run_flow<I: ComponentInvoker>(
        invoker: &I,
        source: &mut ComponentInstance,
        processor: &mut ComponentInstance,
        sink: &mut ComponentInstance,
    ) -> Result<u64, ProcessError> {
        let mut sequence = 0;
        let mut delivered = 0;
        let (source_id, processor_id, sink_id) = (
            source.component_id(),
            processor.component_id(),
            sink.component_id(),
        );
        while let Some(out) = invoker.invoke_pull(source, source_id).await? {
            // The runtime numbers elements; the payload is a handle.
            let meta = ElementMeta::new(sequence, current_timestamp_ns(), out.meta.content_type);
            sequence += 1;
            let element = StreamElement {
                meta,
                payload: out.payload,
            };
            let outputs = match invoker
                .invoke_process(processor, processor_id, element)
                .await?
            {
                ProcessResult::Output(out) => vec![out],
                ProcessResult::Filtered => continue,
                ProcessResult::Multiple(outs) => outs,
            };
            for out in outputs {
                let element = StreamElement {
                    meta: out.meta,
                    payload: out.payload,
                };
                // 0.1 has no way to tell the source to pause.
                let _: BackpressureSignal = invoker.invoke_push(sink, sink_id, element).await?;
                delivered += 1;
            }
        }
        Ok(delivered)
    }
    // guide: end
}

mod driver_0_2 {
    use std::time::Duration;

    use torvyn_engine::v2::{
        BackpressureSignal, Bytes, ComponentInvoker, FlowContext, InvokeError, ProcessResult,
    };

    // guide: driver 0.2
    /// What a flow delivered and what it cost.
    #[derive(Debug, Default)]
    pub struct FlowReport {
        pub delivered: Vec<Bytes>,
        pub fuel: u64,
        pub time: Duration,
        pub pauses: u32,
    }

    /// Pulls the source dry and sends every element through the processor
    /// into the sink, then tells the sink the stream is complete.
    pub async fn run_flow(
        flow: &FlowContext,
        source: &mut impl ComponentInvoker,
        processor: &mut impl ComponentInvoker,
        sink: &mut impl ComponentInvoker,
    ) -> Result<FlowReport, InvokeError> {
        let mut report = FlowReport::default();
        let mut sequence = 0;
        loop {
            // Every call reports its cost, whatever its outcome.
            let call = source.pull().await;
            report.fuel += call.metrics.fuel_consumed;
            report.time += call.metrics.duration;
            let Some(out) = call.outcome? else { break };
            // The payload is the bytes; moving it on copies nothing.
            let mut element = out.into_stream_element(flow.clone());
            element.meta.sequence = sequence;
            sequence += 1;
            let call = processor.process(element).await;
            report.fuel += call.metrics.fuel_consumed;
            report.time += call.metrics.duration;
            let ProcessResult::Emit(out) = call.outcome? else {
                continue; // dropped
            };
            report.delivered.push(out.payload.clone());
            let call = sink.push(out.into_stream_element(flow.clone())).await;
            report.fuel += call.metrics.fuel_consumed;
            report.time += call.metrics.duration;
            if call.outcome? == BackpressureSignal::Pause {
                // The source hears about the sink's backpressure.
                report.pauses += 1;
                source
                    .notify_backpressure(BackpressureSignal::Pause)
                    .await
                    .outcome?;
                source
                    .notify_backpressure(BackpressureSignal::Ready)
                    .await
                    .outcome?;
            }
        }
        sink.complete().await.outcome?;
        Ok(report)
    }
    // guide: end
}

use torvyn_engine::{ComponentInvoker, WasmEngine, WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_types::ComponentId;

fn fixture(name: &str) -> Vec<u8> {
    torvyn_harness::fixtures::load_fixture(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn both_loops_deliver_the_same_elements_and_0_2_reports_the_cost() {
    block_on(async {
        // 0.1: instances handed to a stateless invoker.
        let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default()).expect("valid");
        let invoker = torvyn_engine::WasmtimeInvoker::new();
        let mut stages = Vec::new();
        for (i, (name, config)) in [
            ("counter-source", r#"{"count": 5}"#),
            ("uppercase", ""),
            ("sink", r#"{"count": 2}"#),
        ]
        .into_iter()
        .enumerate()
        {
            let compiled = engine.compile_component(&fixture(name)).expect(name);
            let id = ComponentId::new(i as u64 + 1);
            let mut instance = engine
                .instantiate(&compiled, engine.imports(), id)
                .await
                .expect(name);
            invoker
                .invoke_init(&mut instance, id, config)
                .await
                .expect(name);
            stages.push(instance);
        }
        let [source, processor, sink] = &mut stages[..] else {
            unreachable!()
        };
        let delivered = driver_0_1::run_flow(&invoker, source, processor, sink)
            .await
            .expect("the 0.1 loop runs");
        assert_eq!(delivered, 5);
        assert_eq!(invoker.payloads().live(), 0, "every handle consumed");

        // 0.2: each instance is its own invoker.
        use torvyn_engine::v2::{self, ComponentInvoker as _, WasmEngine as _};
        let engine =
            v2::wasmtime::WasmtimeEngine::new(v2::wasmtime::WasmtimeEngineConfig::default())
                .expect("valid");
        let instance = |name: &str, config: &str| {
            let compiled = engine.compile(&fixture(name)).expect(name);
            let mut i = engine
                .instantiate(&compiled, v2::ComponentId::new(name))
                .expect(name);
            i.init_sync(config).outcome.expect(name);
            i
        };
        let (mut source, mut processor, mut sink) = (
            instance("counter-source", r#"{"count": 5}"#),
            instance("uppercase", ""),
            instance("sink", r#"{"count": 2}"#),
        );
        let report = driver_0_2::run_flow(
            &v2::FlowContext::new("flow-1"),
            &mut source,
            &mut processor,
            &mut sink,
        )
        .await
        .expect("the 0.2 loop runs");
        let delivered: Vec<&[u8]> = report.delivered.iter().map(|b| &b[..]).collect();
        assert_eq!(delivered, [&b"0"[..], b"1", b"2", b"3", b"4"]);
        assert!(report.fuel > 0);
        assert_eq!(report.pauses, 2, "the sink paused every 2nd element");
        assert_eq!(
            (
                source.live_resources(),
                processor.live_resources(),
                sink.live_resources()
            ),
            (0, 0, 0)
        );
    });
}

#[test]
fn the_guide_shows_both_loops_verbatim() {
    let guide_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/src/migrating-from-0.1.md"
    );
    let guide = std::fs::read_to_string(guide_path).expect("the guide");
    let this = include_str!("migration_guide.rs");
    for name in ["driver 0.1", "driver 0.2"] {
        let begin = format!("// guide: {name}\n");
        let start = this.find(&begin).expect("a begin marker") + begin.len();
        let end = start + this[start..].find("// guide: end").expect("an end marker");
        // As the guide shows it: without the module's indentation.
        let code: String = this[start..end]
            .lines()
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            guide.contains(code.trim_end()),
            "docs/src/migrating-from-0.1.md no longer shows the loop `{name}` of \
             tests/migration_guide.rs as it is; copy it there again:\n{code}"
        );
    }
}
