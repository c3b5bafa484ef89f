//! Our mock `process` (the `passthrough` model, journal off and on) against
//! the published torvyn-engine 0.1.1 mock's `invoke_process` (its default
//! passthrough), in one process.
//!
//! Both are driven the way a runtime drives them: through the async trait
//! method, inside one long-lived task on a current-thread executor, with
//! the element built inside the loop. Ours is also measured through its
//! synchronous method.
//!
//! What each does per call:
//! - 0.1.1: `#[async_trait]` boxes the future; the mock bumps two counters
//!   and moves the element's metadata and payload *handle* (a `u32` pair: no
//!   bytes exist) into the output.
//! - ours: admission (poisoning, role, payload cap, deadline), the cost
//!   model, simulated memory, the payload lent through the host buffer store
//!   (the same one the Wasmtime backend uses), the model's
//!   `clone-into-mutable` + `freeze` + output, reclaiming, metrics, and with
//!   the journal on a journal entry (with an FNV digest of the payload).
//!
//! Benchmark ids: `published_mock/<side>/<bytes>` with side
//! `published-0.1.1`, `ours-journal-off`, `ours-journal-on`,
//! `ours-journal-off-static-type`, `ours-journal-on-static-type` (a `const`
//! content type instead of one built per element), `ours-journal-off-sync`.

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use ours::ComponentInvoker as _;
use ours::mock::JournalMode;
use torvyn_engine::ComponentInvoker as _;
use torvyn_engine::WasmEngine as _;
use torvyn_published_mock_compare::{CONTENT_TYPE, STATIC_TYPE, our_instance, payload};
use torvyn_types::{BufferHandle, ComponentId, ElementMeta, ResourceId};

/// Polls a future to completion on this thread (the futures here are
/// always ready: no waiting ever happens).
fn block_on<F: Future>(future: F) -> F::Output {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

fn compare(c: &mut Criterion) {
    let mut group = c.benchmark_group("published_mock");
    group.throughput(Throughput::Elements(1));
    for size in [64usize, 1024] {
        let bytes = payload(size);

        // Published 0.1.1: payloads are handles, the size does not matter
        // to it; measured at each size to keep the table aligned.
        let engine = torvyn_engine::mock::MockEngine::new();
        let invoker = torvyn_engine::mock::MockInvoker::new();
        let compiled = engine.compile_component(b"passthrough").unwrap();
        let id = ComponentId::new(1);
        let mut instance = block_on(engine.instantiate(
            &compiled,
            torvyn_engine::mock::MockEngine::mock_imports(),
            id,
        ))
        .unwrap();
        group.bench_function(BenchmarkId::new("published-0.1.1", size), |b| {
            b.iter_custom(|iters| {
                block_on(async {
                    let start = Instant::now();
                    for seq in 0..iters {
                        let element = torvyn_engine::StreamElement {
                            meta: ElementMeta::new(seq, 0, CONTENT_TYPE.into()),
                            payload: BufferHandle::new(ResourceId::new(seq as u32, 0)),
                        };
                        black_box(invoker.invoke_process(&mut instance, id, element).await)
                            .unwrap();
                    }
                    start.elapsed()
                })
            })
        });

        // Ours, with the content type built per element as the published
        // API must (a `String` there, an `Arc<str>` here), and with a
        // `const` one (as a host with a fixed content type would write it:
        // no allocation per element at all).
        let per_element: fn() -> ours::ContentType = || CONTENT_TYPE.into();
        let fixed: fn() -> ours::ContentType = || STATIC_TYPE;
        for (name, journal, content_type) in [
            ("ours-journal-off", JournalMode::Off, per_element),
            ("ours-journal-on", JournalMode::Unbounded, per_element),
            ("ours-journal-off-static-type", JournalMode::Off, fixed),
            ("ours-journal-on-static-type", JournalMode::Unbounded, fixed),
        ] {
            let (engine, mut inv) = our_instance(journal);
            group.bench_function(BenchmarkId::new(name, size), |b| {
                b.iter_custom(|iters| {
                    // Emptied outside the timing, so memory stays flat.
                    engine.journal().reset();
                    block_on(async {
                        let start = Instant::now();
                        for seq in 0..iters {
                            let element =
                                ours::StreamElement::new(seq, bytes.clone(), content_type());
                            black_box(inv.process(element).await).outcome.unwrap();
                        }
                        start.elapsed()
                    })
                })
            });
        }
        let (_engine, mut inv) = our_instance(JournalMode::Off);
        group.bench_function(BenchmarkId::new("ours-journal-off-sync", size), |b| {
            b.iter(|| {
                let element = ours::StreamElement::new(0, bytes.clone(), CONTENT_TYPE);
                black_box(inv.process_sync(element))
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .without_plots()
        .configure_from_args();
    targets = compare
}
criterion_main!(benches);
