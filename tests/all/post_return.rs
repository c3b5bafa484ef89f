//! Answers are read while Wasmtime lifts them, before the guest's
//! post-return runs. The `scribble` fixture plays every role and, in the
//! post-return of every export that answers through memory, overwrites the
//! answer with 0xff bytes (invalid UTF-8) and frees it: an answer read
//! after the call would be garbage, or a trap blamed on the guest. Every
//! function runs on both compilers and on the fixture's mock model (see
//! `conformance.rs`), each answer checked byte for byte; and the bounds on
//! `route` and `flush` answers still refuse without poisoning, the
//! post-return running after a refused answer as after any other.

use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    AnswerLimit, BackpressureSignal, ComponentId, ComponentInvoker, ElementMeta, InvokeError,
    Limits, ProcessError, ProcessResult, StreamElement, WasmEngine,
};

use crate::support::{STRATEGIES, compile_on, instance, ok, on_tokio, too_large};

/// An element with a timestamp of its own (answers echo it).
fn el(seq: u64, payload: &str, content_type: &str) -> StreamElement {
    let mut e = StreamElement::new(seq, payload.as_bytes().to_vec(), content_type.to_owned());
    e.meta.timestamp_ns = 1_000 + seq;
    e
}

fn refused(text: &str) -> InvokeError {
    InvokeError::Guest(ProcessError::InvalidInput(text.into()))
}

/// Metadata as `scribble` answers it.
fn meta(sequence: u64, timestamp_ns: u64, content_type: &str) -> ElementMeta {
    ElementMeta {
        sequence,
        timestamp_ns,
        content_type: content_type.to_owned().into(),
    }
}

/// Every function of `scribble` (fresh), each answer checked byte for
/// byte, with nothing left live after any call and no fault.
pub async fn every_answer_is_read_whole<I: ComponentInvoker>(inst: &mut I) {
    macro_rules! check {
        ($call:expr) => {{
            let call = $call.await;
            assert_eq!(inst.live_resources(), 0, "{}", stringify!($call));
            assert!(inst.poisoned().is_none(), "{:?}", call.outcome);
            call.outcome
        }};
    }
    // lifecycle: an error string is read whole too.
    check!(inst.init("{}")).unwrap();
    assert_eq!(
        check!(inst.init("!no config")).unwrap_err(),
        refused("!no config")
    );

    // process: an element whose content type is built in the heap.
    let ProcessResult::Emit(out) =
        check!(inst.process(el(7, "héllo wörld", "text/plain; x=1"))).unwrap()
    else {
        panic!("scribble emits")
    };
    assert_eq!(&out.payload[..], "héllo wörld".as_bytes());
    assert_eq!(out.meta, meta(7, 1_007, "processed/text/plain; x=1"));
    assert_eq!(&*out.buffer_content_type, "");
    assert_eq!(
        check!(inst.process(el(8, "!bad é", "text/plain"))).unwrap_err(),
        refused("!bad ??")
    );

    // pull: two elements, then none, then an error.
    for k in 0..2u64 {
        let out = check!(inst.pull()).unwrap().expect("an element");
        assert_eq!(&out.payload[..], format!("pulled-{k}").as_bytes());
        assert_eq!(out.meta, meta(k, 0, "text/pulled"));
    }
    assert_eq!(check!(inst.pull()).unwrap(), None);
    assert_eq!(
        check!(inst.pull()).unwrap_err(),
        InvokeError::Guest(ProcessError::Unavailable("pulled past the end".into()))
    );
    check!(inst.notify_backpressure(BackpressureSignal::Pause)).unwrap();

    // push and evaluate: small answers, error strings through memory.
    assert_eq!(
        check!(inst.push(el(1, "x", "text/plain"))).unwrap(),
        BackpressureSignal::Ready
    );
    assert_eq!(
        check!(inst.push(el(2, "!full", "text/plain"))).unwrap_err(),
        refused("!full")
    );
    assert!(check!(inst.evaluate(el(3, "x", "text/plain"))).unwrap());
    assert!(!check!(inst.evaluate(el(4, "", "text/plain"))).unwrap());
    assert_eq!(
        check!(inst.evaluate(el(5, "!no", "text/plain"))).unwrap_err(),
        refused("!no")
    );

    // route: names pointing into the payload the guest read.
    assert_eq!(
        check!(inst.route(el(6, "  alpha béta  gamma ", "text/plain"))).unwrap(),
        ["alpha", "b??ta", "gamma"]
    );
    assert_eq!(
        check!(inst.route(el(7, "", "text/plain"))).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        check!(inst.route(el(8, "!nowhere", "text/plain"))).unwrap_err(),
        refused("!nowhere")
    );

    // ingest: kept; answered when it ends with '.'.
    assert_eq!(check!(inst.ingest(el(10, "one", "text/a"))).unwrap(), None);
    let out = check!(inst.ingest(el(11, "two.", "text/b")))
        .unwrap()
        .expect("a sentence's end is answered");
    assert_eq!(&out.payload[..], b"two.");
    assert_eq!(out.meta, meta(11, 1_011, "ingested/text/b"));
    assert_eq!(
        check!(inst.ingest(el(12, "!no", "text/c"))).unwrap_err(),
        refused("!no")
    );
    assert_eq!(
        check!(inst.ingest(el(13, "thrée", "text/d"))).unwrap(),
        None
    );

    // flush: a list of elements, each with its own content type.
    let outs = check!(inst.flush()).unwrap();
    let got: Vec<(&[u8], ElementMeta)> = outs
        .iter()
        .map(|o| (&o.payload[..], o.meta.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (&b"one"[..], meta(0, 0, "flushed/one")),
            (b"two.", meta(1, 0, "flushed/two.")),
            ("thrée".as_bytes(), meta(2, 0, "flushed/thr??e")),
        ]
    );
    assert_eq!(check!(inst.flush()).unwrap(), []);

    // complete: ok once, then an error string.
    check!(inst.complete()).unwrap();
    assert_eq!(
        check!(inst.complete()).unwrap_err(),
        InvokeError::Guest(ProcessError::Internal("complete called twice".into()))
    );
    check!(inst.teardown()).unwrap();
}

#[test]
fn every_answer_is_read_before_post_return_scribbles_it() {
    for strategy in STRATEGIES {
        let mut inst = instance(strategy, "scribble");
        on_tokio(every_answer_is_read_whole(&mut inst));
        // The sync API reads the same answers.
        let out = ok(inst.flush_sync(), &inst);
        assert!(out.is_empty());
        ok(inst.ingest_sync(el(0, "last", "text/plain")), &inst);
        let outs = ok(inst.flush_sync(), &inst);
        assert_eq!(outs.len(), 1, "{strategy:?}");
        assert_eq!(outs[0].meta, meta(0, 0, "flushed/last"));
        assert_eq!(
            ok(inst.route_sync(el(1, "a bb", "text/plain")), &inst),
            ["a", "bb"]
        );
    }
}

/// Answers over a bound are refused while they are lifted; the guest's
/// post-return still runs (the call completes normally), so the instance
/// is not poisoned and its next answers are whole.
#[test]
fn answers_over_a_bound_are_refused_and_post_return_still_runs() {
    let limits = Limits {
        max_route_ports: 2,
        max_route_bytes: 5,
        max_flush_outputs: 2,
        ..Limits::default()
    };
    for strategy in STRATEGIES {
        let engine = WasmtimeEngine::new(WasmtimeEngineConfig {
            limits,
            ..WasmtimeEngineConfig::with_strategy(strategy)
        })
        .unwrap();
        let compiled = compile_on(&engine, "scribble");
        let mut inst = engine
            .instantiate(&compiled, ComponentId::new("scribble"))
            .unwrap();
        too_large(
            inst.route_sync(el(0, "a b c", "text/plain")),
            &inst,
            AnswerLimit::RoutePorts,
            2,
            3,
        );
        too_large(
            inst.route_sync(el(1, "abc def", "text/plain")),
            &inst,
            AnswerLimit::RouteBytes,
            5,
            6,
        );
        assert_eq!(
            ok(inst.route_sync(el(2, "ab cde", "text/plain")), &inst),
            ["ab", "cde"]
        );
        for (seq, token) in ["x", "y", "z"].into_iter().enumerate() {
            ok(inst.ingest_sync(el(seq as u64, token, "text/plain")), &inst);
        }
        let m = too_large(inst.flush_sync(), &inst, AnswerLimit::FlushOutputs, 2, 3);
        assert_eq!(m.buffers_allocated, 3);
        assert_eq!(m.resources_reclaimed, 3, "none of the buffers was taken");
        // The guest emptied its store when it answered: one more is kept
        // and flushed whole.
        ok(inst.ingest_sync(el(3, "w", "text/plain")), &inst);
        let outs = ok(inst.flush_sync(), &inst);
        assert_eq!(outs.len(), 1);
        assert_eq!(&outs[0].payload[..], b"w");
        assert_eq!(outs[0].meta, meta(0, 0, "flushed/w"));
    }
}
