//! Tests a host's driver loop against the mock backend: no Wasm compiled,
//! scripted backpressure, an error on the third element, a journal check.
//! The host is async and awaits the invokers on a tokio runtime, as a
//! streaming host does. It needs only the mock: the mock-only build
//! compiles no Wasmtime.
//!
//! ```sh
//! cargo run -p torvyn-harness --example mock_driver --no-default-features --features mock
//! ```

use torvyn_engine::mock::{
    Expectations, MockComponent, MockEngine, MockEngineConfig, Response, Script, Scripts,
};
use torvyn_engine::{
    BackpressureSignal, ComponentId, ComponentInvoker, FlowContext, Function, ProcessError, Role,
    WasmEngine,
};

async fn drive(source: &mut impl ComponentInvoker, sink: &mut impl ComponentInvoker) -> (u32, u32) {
    let (mut delivered, mut rejected) = (0, 0);
    while let Ok(Some(out)) = source.pull().await.outcome {
        match sink
            .push(out.into_stream_element(FlowContext::new("f")))
            .await
            .outcome
        {
            Ok(BackpressureSignal::Ready) => delivered += 1,
            Ok(BackpressureSignal::Pause) => {
                delivered += 1;
                let _ = source.notify_backpressure(BackpressureSignal::Pause).await;
                let _ = source.notify_backpressure(BackpressureSignal::Ready).await;
            }
            Err(_) => rejected += 1,
        }
    }
    let _ = sink.complete().await;
    (delivered, rejected)
}

fn main() {
    let engine = MockEngine::new(MockEngineConfig::default()).unwrap();
    engine.register(MockComponent::scripted(
        "numbers",
        [Role::Source],
        Scripts {
            pull: Some(Script::in_order(
                (0..5u8).map(|n| Response::Emit(vec![b'0' + n])),
            )),
            ..Scripts::default()
        },
    ));
    engine.register(MockComponent::scripted(
        "store",
        [Role::Sink],
        Scripts {
            push: Some(Script::by_sequence(
                [
                    (1, Response::Signal(BackpressureSignal::Pause)),
                    (
                        2,
                        Response::Error(ProcessError::Unavailable("disk full".into())),
                    ),
                ],
                Response::Signal(BackpressureSignal::Ready),
            )),
            ..Scripts::default()
        },
    ));
    let instance = |name: &str| {
        let compiled = engine.compile(&MockEngine::component_bytes(name)).unwrap();
        engine
            .instantiate(&compiled, ComponentId::new(name))
            .unwrap()
    };
    let (mut source, mut sink) = (instance("numbers"), instance("store"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let (delivered, rejected) = runtime.block_on(drive(&mut source, &mut sink));
    println!("delivered {delivered}, rejected {rejected}");
    engine
        .journal()
        .verify(
            &Expectations::new()
                .calls("store", Function::Push, 5)
                .calls("numbers", Function::NotifyBackpressure, 2)
                .payload("store", Function::Push, 2, "2"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    for entry in engine.journal().entries() {
        println!("{entry}");
    }
}
