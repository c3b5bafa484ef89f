//! One conformance suite, the same test bodies, run against the Wasmtime
//! backend and the mock backend: roles, lifecycle order, error kinds,
//! poisoning, missing roles, teardown best effort, resource accounting;
//! and for the extension contracts: `evaluate` lends its input, the bounds
//! on `route` and `flush` answers and the buffers a refused flush leaves,
//! missing roles of the new functions, a trapping filter, grants, and the
//! unversioned spelling of the streaming package.

use crate::support::too_large;
use bytes::Bytes;
use torvyn_engine::mock::{MockBuilder, MockEngineConfig, MockError, PendingOutput};
use torvyn_engine::wasmtime::WasmtimeEngineConfig;
use torvyn_engine::{
    AnswerLimit, BackpressureSignal, ComponentId, ComponentInvoker, ElementMeta, FaultKind,
    FlowContext, Function, Grants, InstanceOptions, Invocation, InvocationMetrics, InvokeError,
    Limits, ProcessError, ProcessResult, Role, Roles, StreamElement, TrapCode, WasmEngine,
};
use torvyn_harness::backend::{EngineSettings, MockBackend, SimBackend, WasmtimeBackend};
use torvyn_harness::source::ComponentSource;
use torvyn_harness::source::mock_spec_from_yaml;
use torvyn_harness::spec::BackendKind;
use torvyn_harness::spec::ClockSetting;

type Instance<B> = <<B as SimBackend>::Engine as WasmEngine>::Instance;
type Compiled<B> = <<B as SimBackend>::Engine as WasmEngine>::Compiled;

/// What the suite needs of a backend beyond [`SimBackend`]: a backend with
/// given limits, and on the mock stand-ins for the hostile extension
/// fixtures it has no model of.
trait Conformance: SimBackend {
    /// A fresh backend with `limits` instead of the defaults.
    fn with_limits(limits: Limits, settings: &EngineSettings) -> Self;

    /// Registers what [`compile`] needs beyond the backend's own fixtures.
    fn register_stand_ins(&self) {}
}

impl Conformance for WasmtimeBackend {
    fn with_limits(limits: Limits, settings: &EngineSettings) -> Self {
        let config = WasmtimeEngineConfig {
            limits,
            ..WasmtimeEngineConfig::default()
        };
        WasmtimeBackend::with_config(config, settings).unwrap()
    }
}

impl Conformance for MockBackend {
    fn with_limits(limits: Limits, settings: &EngineSettings) -> Self {
        let config = MockEngineConfig {
            limits,
            ..MockEngineConfig::seeded(settings.seed)
        };
        MockBackend::with_config(config, settings).unwrap()
    }

    /// Models of the hostile extension fixtures, as their `.wat` headers
    /// describe them: `filter-trap` traps in `evaluate`; `route-flood`
    /// names the port `flood` 5000 times; `flush-flood` flushes 5000
    /// one-byte buffers; `flush-leak` keeps two fresh buffers per `ingest`
    /// and flushes nothing. Each also exports lifecycle (`init` is ok).
    fn register_stand_ins(&self) {
        let lifecycle = |name: &str| MockBuilder::new(name).on_init(|_, _| Ok(()));
        for stand_in in [
            lifecycle("filter-trap")
                .on_evaluate(|_, _| Err(MockError::Trap(TrapCode::Unreachable))),
            lifecycle("route-flood").on_route(|_, _| Ok(vec!["flood".to_string(); 5000])),
            lifecycle("flush-flood")
                .on_ingest(|_, _| Ok(None))
                .on_flush(|ctx| {
                    (0..5000)
                        .map(|i| {
                            Ok(PendingOutput {
                                meta: ElementMeta::new(i, "text/plain"),
                                buf: ctx.frozen_bytes(b"x", "text/plain")?,
                            })
                        })
                        .collect()
                }),
            lifecycle("flush-leak")
                .on_ingest(|ctx, _| {
                    ctx.allocate(16)?;
                    ctx.allocate(16)?;
                    Ok(None)
                })
                .on_flush(|_| Ok(Vec::new())),
        ] {
            self.mock().register(stand_in.build());
        }
    }
}

fn settings() -> EngineSettings {
    EngineSettings {
        clock: ClockSetting::System,
        ..EngineSettings::deterministic(0)
    }
}

/// A fresh backend under test (the harness's one backend abstraction):
/// default limits, the system clock.
fn backend<B: Conformance>() -> B {
    let b = B::new(&settings()).unwrap();
    b.register_stand_ins();
    b
}

/// A fresh backend with `limits`.
fn backend_with<B: Conformance>(limits: Limits) -> B {
    let b = B::with_limits(limits, &settings());
    b.register_stand_ins();
    b
}

/// A conformance component: the fixture, or on the mock a scripted
/// stand-in for the two fixtures it has no model of (`trap` traps on every
/// `process`; `source-only` is a lifecycle source whose `pull` is `none`),
/// or one registered by [`Conformance::register_stand_ins`].
fn compile<B: SimBackend>(b: &B, name: &str) -> Compiled<B> {
    let scripted = |yaml: &str| {
        let spec = mock_spec_from_yaml(yaml, name).unwrap();
        ComponentSource::Scripted(Box::new(spec))
    };
    let source = match (B::KIND, name) {
        (BackendKind::Mock, "trap") => scripted("process: {cycle: [trap]}"),
        (BackendKind::Mock, "source-only") => scripted("roles: [source, lifecycle]"),
        _ => ComponentSource::Fixture(name.into()),
    };
    b.compile(&source, name).unwrap_or_else(|e| panic!("{e}"))
}

async fn instance<B: Conformance>(name: &str) -> (B, Instance<B>) {
    let b = backend::<B>();
    let compiled = compile(&b, name);
    let inst = b.instantiate(&compiled, name).unwrap();
    (b, inst)
}

fn el(seq: u64, payload: &str) -> StreamElement {
    StreamElement::new(seq, payload.to_owned(), "text/plain")
}

#[track_caller]
fn fault_kind<T: std::fmt::Debug>(outcome: &Result<T, InvokeError>) -> &FaultKind {
    match outcome {
        Err(InvokeError::Fault(f)) => &f.kind,
        other => panic!("expected a fault, got {other:?}"),
    }
}

async fn roles_are_read<B: Conformance>() {
    use Role::{Aggregator, Filter, Lifecycle, Processor, Router, Sink, Source};
    for (name, roles) in [
        ("passthrough", vec![Processor]),
        ("uppercase", vec![Processor]),
        ("counter-source", vec![Source, Lifecycle]),
        ("sink", vec![Sink, Lifecycle]),
        ("source-only", vec![Source, Lifecycle]),
        ("token-source", vec![Source, Lifecycle]),
        ("token-filter", vec![Lifecycle, Filter]),
        ("content-filter", vec![Lifecycle, Filter]),
        ("router", vec![Lifecycle, Router]),
        ("sentence-aggregator", vec![Lifecycle, Aggregator]),
        ("capability-probe", vec![Processor, Lifecycle]),
        ("filter-trap", vec![Lifecycle, Filter]),
        ("route-flood", vec![Lifecycle, Router]),
        ("flush-flood", vec![Lifecycle, Aggregator]),
        ("flush-leak", vec![Lifecycle, Aggregator]),
        (
            "scribble",
            vec![
                Processor, Source, Sink, Lifecycle, Filter, Router, Aggregator,
            ],
        ),
    ] {
        let (_, i) = instance::<B>(name).await;
        assert_eq!(i.roles().iter().collect::<Vec<_>>(), roles, "{name}");
        assert_eq!(i.component_id().as_str(), name);
    }
}

async fn lifecycle_runs_in_order<B: Conformance>() {
    let (_, mut src) = instance::<B>("counter-source").await;
    assert_eq!(
        src.init("no count").await.outcome.unwrap_err(),
        InvokeError::Guest(ProcessError::InvalidInput(
            "config needs a count, e.g. {\"count\": 5}".into()
        ))
    );
    src.init("{\"count\": 2}").await.outcome.unwrap();
    let mut seen = Vec::new();
    while let Some(out) = src.pull().await.outcome.unwrap() {
        seen.push(String::from_utf8(out.payload.to_vec()).unwrap());
    }
    assert_eq!(seen, ["0", "1"]);
    src.teardown().await.outcome.unwrap();

    let (_, mut sink) = instance::<B>("sink").await;
    sink.init("{\"every\": 2}").await.outcome.unwrap();
    let mut signals = Vec::new();
    for n in 0..4 {
        signals.push(sink.push(el(n, "x")).await.outcome.unwrap());
    }
    use BackpressureSignal::{Pause, Ready};
    assert_eq!(signals, [Ready, Pause, Ready, Pause]);
    sink.complete().await.outcome.unwrap();
    assert!(matches!(
        sink.push(el(4, "late")).await.outcome,
        Err(InvokeError::Guest(ProcessError::Fatal(_)))
    ));
    sink.teardown().await.outcome.unwrap();
}

async fn errors_have_the_same_kinds<B: Conformance>() {
    let (_, mut t) = instance::<B>("trap").await;
    let call = t.process(el(0, "x")).await;
    assert!(
        matches!(
            fault_kind(&call.outcome),
            FaultKind::Trap {
                code: TrapCode::Unreachable,
                ..
            }
        ),
        "{:?}",
        call.outcome
    );

    let (b, mut u) = instance::<B>("uppercase").await;
    b.engine().set_fuel(&mut u, 1).unwrap();
    let call = u.process(el(0, "x")).await;
    assert_eq!(
        fault_kind(&call.outcome),
        &FaultKind::FuelExhausted { budget: 1 }
    );
    assert!(b.engine().set_fuel(&mut u, 0).is_err());

    let (_, mut src) = instance::<B>("counter-source").await;
    src.notify_backpressure(BackpressureSignal::Pause)
        .await
        .outcome
        .unwrap();
    assert_eq!(
        src.pull().await.outcome.unwrap_err(),
        InvokeError::Guest(ProcessError::Unavailable("paused".into()))
    );
    assert!(src.poisoned().is_none(), "a guest error does not poison");
}

async fn a_fault_poisons_only_its_instance<B: Conformance>() {
    let b = backend::<B>();
    let trap = compile(&b, "trap");
    let mut t = b.instantiate(&trap, "t1").unwrap();
    let _ = t.process(el(0, "x")).await;
    assert!(t.poisoned().is_some());
    let again = t.process(el(1, "x")).await;
    assert!(matches!(
        fault_kind(&again.outcome),
        FaultKind::Poisoned { .. }
    ));
    assert!(
        again
            .outcome
            .unwrap_err()
            .to_string()
            .contains("re-instantiate")
    );
    let mut fresh = b.instantiate(&trap, "t2").unwrap();
    assert!(fresh.poisoned().is_none());
    let pass = compile(&b, "passthrough");
    let mut p = b.instantiate(&pass, "p").unwrap();
    assert!(p.process(el(0, "ok")).await.is_ok());
    let _ = fresh.process(el(0, "x")).await;
}

async fn missing_roles_fail_clearly<B: Conformance>() {
    let (_, mut src) = instance::<B>("source-only").await;
    let call = src.process(el(0, "x")).await;
    assert_eq!(
        fault_kind(&call.outcome),
        &FaultKind::MissingExport {
            role: Role::Processor
        }
    );
    let f = call.fault().unwrap();
    assert_eq!(f.function, Function::Process);
    assert!(f.to_string().contains("torvyn:streaming/processor@0.1.0"));
    assert!(matches!(
        fault_kind(&src.push(el(0, "x")).await.outcome),
        FaultKind::MissingExport { role: Role::Sink }
    ));
    assert!(src.poisoned().is_none());
    assert_eq!(src.pull().await.outcome.unwrap(), None);

    let (_, mut p) = instance::<B>("passthrough").await;
    assert!(
        p.init("").await.is_ok(),
        "an empty config without lifecycle is a no-op"
    );
    assert!(matches!(
        fault_kind(&p.init("{}").await.outcome),
        FaultKind::MissingExport {
            role: Role::Lifecycle
        }
    ));
}

async fn teardown_is_best_effort<B: Conformance>() {
    let (_, mut p) = instance::<B>("passthrough").await;
    assert!(p.teardown().await.is_ok(), "no lifecycle: a no-op");
    let (b, mut src) = instance::<B>("counter-source").await;
    b.engine().set_fuel(&mut src, 1).unwrap();
    let _ = src.pull().await;
    assert!(src.poisoned().is_some());
    let call = src.teardown().await;
    assert!(matches!(
        fault_kind(&call.outcome),
        FaultKind::Poisoned { .. }
    ));
}

async fn resources_are_accounted<B: Conformance>() {
    let (_, mut u) = instance::<B>("uppercase").await;
    let call = u.process(el(0, "abcdef")).await;
    assert_eq!(u.live_resources(), 0);
    let m = call.metrics;
    assert_eq!(
        (
            m.bytes_into_guest,
            m.bytes_out_of_guest,
            m.buffers_allocated,
            m.host_calls
        ),
        (6, 6, 1, 6),
        "read-all, allocate, append, set-content-type, freeze, drop"
    );
    match call.outcome.unwrap() {
        ProcessResult::Emit(out) => assert_eq!(&out.payload[..], b"ABCDEF"),
        ProcessResult::Drop => panic!("uppercase emits"),
    }
    let (_, mut p) = instance::<B>("passthrough").await;
    let input = el(0, "zero-copy");
    let ptr = input.payload.as_ptr();
    let call = p.process(input).await;
    assert_eq!(p.live_resources(), 0);
    assert_eq!(
        (
            call.metrics.bytes_into_guest,
            call.metrics.bytes_out_of_guest
        ),
        (0, 0)
    );
    match call.outcome.unwrap() {
        ProcessResult::Emit(out) => assert_eq!(out.payload.as_ptr(), ptr),
        ProcessResult::Drop => panic!("passthrough emits"),
    }
}

// ---- the extension contracts ---------------------------------------------

/// `evaluate` lends the element: the guest copies in only what it reads,
/// nothing is allocated or reclaimed, and when the call ends the host holds
/// no reference to the payload (the caller forwards the same buffer).
async fn evaluate_lends_its_input<B: Conformance>() {
    let (_, mut reader) = instance::<B>("token-filter").await;
    for (word, passes) in [("hello", true), ("darn it", false), ("", true)] {
        let call = reader.evaluate(el(0, word)).await;
        let m = call.metrics;
        assert_eq!(call.outcome.unwrap(), passes, "{word:?}");
        assert_eq!(reader.live_resources(), 0);
        assert_eq!(
            (
                m.bytes_into_guest,
                m.bytes_out_of_guest,
                m.buffers_allocated,
                m.resources_reclaimed
            ),
            (word.len() as u64, 0, 0, 0),
            "read-all copies the payload in, and nothing else moves: {word:?}"
        );
    }

    let (_, mut sizer) = instance::<B>("content-filter").await;
    let payload = Bytes::from(vec![b'x'; 1 << 20]);
    let call = sizer
        .evaluate(StreamElement::new(
            1,
            payload.clone(),
            "application/octet-stream",
        ))
        .await;
    let m = call.metrics;
    assert!(call.outcome.unwrap(), "a non-empty payload passes");
    assert_eq!(
        (
            m.bytes_into_guest,
            m.bytes_out_of_guest,
            m.buffers_allocated,
            m.host_calls
        ),
        (0, 0, 0, 1),
        "one size call: the megabyte stays in the host"
    );
    assert!(
        m.memory_bytes < 1 << 20,
        "the guest's memory did not take the payload: {} bytes",
        m.memory_bytes
    );
    assert_eq!(sizer.live_resources(), 0);
    assert!(
        payload.is_unique(),
        "the host released its lend of the payload when the call ended"
    );
    assert!(!sizer.evaluate(el(2, "")).await.outcome.unwrap());
}

/// A `route` answer over the bounds on ports, then on their bytes, is
/// refused without poisoning; a `flush` answer over its bound takes none of
/// its buffers, which are all reclaimed; buffers an aggregator keeps are
/// reclaimed after every call; raised bounds let the same answers through.
async fn route_and_flush_answers_are_bounded<B: Conformance>() {
    let (_, mut flood) = instance::<B>("route-flood").await;
    for _ in 0..2 {
        let m = too_large(
            flood.route(el(0, "go")).await,
            &flood,
            AnswerLimit::RoutePorts,
            64,
            5000,
        );
        assert_eq!(m.resources_reclaimed, 0);
    }
    flood.init("").await.outcome.unwrap();

    let (_, mut flood) = instance::<B>("flush-flood").await;
    assert_eq!(flood.ingest(el(0, "absorbed")).await.outcome.unwrap(), None);
    for _ in 0..2 {
        let m = too_large(
            flood.flush().await,
            &flood,
            AnswerLimit::FlushOutputs,
            1024,
            5000,
        );
        assert_eq!(
            (m.buffers_allocated, m.resources_reclaimed),
            (5000, 5000),
            "none of the refused answer's buffers was taken"
        );
    }

    let (_, mut leak) = instance::<B>("flush-leak").await;
    for seq in 0..3 {
        let call = leak.ingest(el(seq, "keep")).await;
        let m = call.metrics;
        assert_eq!(call.outcome.unwrap(), None);
        assert_eq!((m.buffers_allocated, m.resources_reclaimed), (2, 2));
        assert_eq!(leak.live_resources(), 0);
    }
    let call = leak.flush().await;
    assert_eq!(call.metrics.resources_reclaimed, 0);
    assert!(call.outcome.unwrap().is_empty());
    assert!(leak.poisoned().is_none());

    // More ports allowed: the bytes of the names are the next bound.
    let ports = Limits {
        max_route_ports: 5000,
        ..Limits::default()
    };
    let b = backend_with::<B>(ports);
    let mut flood = b.instantiate(&compile(&b, "route-flood"), "flood").unwrap();
    too_large(
        flood.route(el(0, "go")).await,
        &flood,
        AnswerLimit::RouteBytes,
        4096,
        25_000,
    );
    let b = backend_with::<B>(Limits {
        max_route_bytes: 25_000,
        max_flush_outputs: 5000,
        ..ports
    });
    let mut flood = b.instantiate(&compile(&b, "route-flood"), "flood").unwrap();
    let answer = flood.route(el(0, "go")).await.outcome.unwrap();
    assert_eq!(answer.len(), 5000);
    assert!(answer.iter().all(|p| p == "flood"));
    let mut flood = b.instantiate(&compile(&b, "flush-flood"), "flood").unwrap();
    let call = flood.flush().await;
    assert_eq!(
        call.metrics.resources_reclaimed, 0,
        "every buffer was taken"
    );
    let outs = call.outcome.unwrap();
    assert_eq!(outs.len(), 5000);
    assert!(outs.iter().all(|o| &o.payload[..] == b"x"));
    assert_eq!(outs[4999].meta, ElementMeta::new(4999, "text/plain"));
    assert_eq!(flood.live_resources(), 0);
}

/// Checks `call` is a `MissingExport` of `role` from `function`, at no
/// cost.
#[track_caller]
fn missing<T: std::fmt::Debug>(call: Invocation<T>, role: Role, function: Function) {
    assert_eq!(
        call.metrics,
        InvocationMetrics::default(),
        "a refusal costs nothing"
    );
    assert_eq!(
        fault_kind(&call.outcome),
        &FaultKind::MissingExport { role }
    );
    let f = call.fault().unwrap();
    assert_eq!(f.function, function);
    assert!(f.to_string().contains(role.interface()), "{f}");
}

/// Each new function on a component without its role is a missing export
/// that names the role's interface, costs nothing and poisons nothing.
async fn missing_roles_of_the_new_functions<B: Conformance>() {
    use Function::{Evaluate, Flush, Ingest, Process, Pull, Route};
    use Role::{Aggregator, Filter, Processor, Router, Source};
    let (_, mut p) = instance::<B>("passthrough").await;
    missing(p.evaluate(el(0, "x")).await, Filter, Evaluate);
    missing(p.route(el(0, "x")).await, Router, Route);
    missing(p.ingest(el(0, "x")).await, Aggregator, Ingest);
    missing(p.flush().await, Aggregator, Flush);
    let (_, mut filter) = instance::<B>("token-filter").await;
    missing(filter.route(el(0, "x")).await, Router, Route);
    missing(filter.flush().await, Aggregator, Flush);
    missing(filter.process(el(0, "x")).await, Processor, Process);
    let (_, mut router) = instance::<B>("router").await;
    missing(router.evaluate(el(0, "x")).await, Filter, Evaluate);
    missing(router.ingest(el(0, "x")).await, Aggregator, Ingest);
    let (_, mut agg) = instance::<B>("sentence-aggregator").await;
    missing(agg.evaluate(el(0, "x")).await, Filter, Evaluate);
    missing(agg.route(el(0, "x")).await, Router, Route);
    missing(agg.pull().await, Source, Pull);
    assert!(
        [
            p.poisoned(),
            filter.poisoned(),
            router.poisoned(),
            agg.poisoned()
        ]
        .iter()
        .all(Option::is_none)
    );
    // Each still answers for the roles it has.
    assert!(p.process(el(0, "ok")).await.is_ok());
    assert!(filter.evaluate(el(0, "ok")).await.outcome.unwrap());
    assert_eq!(router.route(el(0, "1")).await.outcome.unwrap(), ["digits"]);
    assert_eq!(agg.flush().await.outcome.unwrap().len(), 0);
}

/// A filter that traps poisons its instance: every later call, of any
/// role, is refused as poisoned at no cost; a new instance works.
async fn a_trapping_filter_poisons_its_instance<B: Conformance>() {
    let b = backend::<B>();
    let c = compile(&b, "filter-trap");
    let mut t = b.instantiate(&c, "t1").unwrap();
    t.init("").await.outcome.unwrap();
    let call = t.evaluate(el(0, "x")).await;
    assert!(
        matches!(
            fault_kind(&call.outcome),
            FaultKind::Trap {
                code: TrapCode::Unreachable,
                ..
            }
        ),
        "{:?}",
        call.outcome
    );
    assert!(t.poisoned().is_some());
    assert_eq!(t.live_resources(), 0);
    let poisoned = |kind: &FaultKind| matches!(kind, FaultKind::Poisoned { .. });
    let again = t.evaluate(el(1, "x")).await;
    assert_eq!(again.metrics, InvocationMetrics::default());
    assert!(poisoned(fault_kind(&again.outcome)));
    assert!(
        again
            .outcome
            .unwrap_err()
            .to_string()
            .contains("re-instantiate")
    );
    // Poisoning comes before the missing role.
    assert!(poisoned(fault_kind(&t.route(el(2, "x")).await.outcome)));
    assert!(poisoned(fault_kind(&t.init("{}").await.outcome)));
    assert!(poisoned(fault_kind(&t.teardown().await.outcome)));
    let mut fresh = b.instantiate(&c, "t2").unwrap();
    assert!(fresh.poisoned().is_none());
    fresh.init("").await.outcome.unwrap();
}

/// Asks `capability-probe` about `name`: `granted` or `denied`.
async fn ask<I: ComponentInvoker>(probe: &mut I, name: &str) -> String {
    let call = probe.process(el(3, name)).await;
    // read-all, has-capability, allocate, append, set-content-type,
    // freeze, drop
    assert_eq!(call.metrics.host_calls, 7);
    assert_eq!(probe.live_resources(), 0);
    match call.outcome.unwrap() {
        ProcessResult::Emit(out) => String::from_utf8(out.payload.to_vec()).unwrap(),
        ProcessResult::Drop => panic!("the probe emits"),
    }
}

/// An instance is granted nothing by default; `instantiate_with` grants
/// are what `has-capability` answers true for, by exact name, per
/// instance.
async fn grants_answer_has_capability<B: Conformance>() {
    let b = backend::<B>();
    let c = compile(&b, "capability-probe");
    let mut none = b.instantiate(&c, "none").unwrap();
    assert!(none.grants().is_empty());
    let grants = Grants::new(["wasi-random", "wasi-filesystem-read"]);
    let mut some = b
        .engine()
        .instantiate_with(
            &c,
            ComponentId::new("some"),
            &InstanceOptions::with_grants(grants.clone()),
        )
        .unwrap();
    assert_eq!(some.grants(), &grants);
    for (name, answer) in [
        ("wasi-random", "granted"),
        ("wasi-filesystem-read", "granted"),
        ("wasi-network-egress", "denied"),
        ("wasi-random ", "denied"),
        ("", "denied"),
    ] {
        assert_eq!(ask(&mut some, name).await, answer, "{name:?}");
        assert_eq!(ask(&mut none, name).await, "denied", "{name:?}");
    }
    // The harness grants through the same options.
    let mut egress = b
        .instantiate_granting(&c, "egress", &["wasi-network-egress".to_string()])
        .unwrap();
    assert_eq!(ask(&mut egress, "wasi-network-egress").await, "granted");
    assert_eq!(ask(&mut egress, "wasi-random").await, "denied");
    assert_eq!(ask(&mut some, "wasi-network-egress").await, "denied");
}

/// The filter and aggregator built against the unversioned copy of the
/// streaming package link and run, and their buffers flow into a
/// component built against the versioned one.
async fn the_unversioned_spelling_links_and_runs<B: Conformance>() {
    let b = backend::<B>();
    let start = |name: &str| b.instantiate(&compile(&b, name), name).unwrap();
    let (mut filter, mut agg, mut upper) = (
        start("token-filter"),
        start("sentence-aggregator"),
        start("uppercase"),
    );
    filter.init("").await.outcome.unwrap();
    agg.init("").await.outcome.unwrap();
    let mut sentences = Vec::new();
    for (seq, token) in ["loud", "darn", "words.", "tail"].into_iter().enumerate() {
        let element = el(seq as u64, token);
        if filter.evaluate(element.clone()).await.outcome.unwrap() {
            sentences.extend(agg.ingest(element).await.outcome.unwrap());
        }
    }
    sentences.extend(agg.flush().await.outcome.unwrap());
    let texts: Vec<&[u8]> = sentences.iter().map(|s| &s.payload[..]).collect();
    assert_eq!(texts, [&b"loud words."[..], b"tail"]);
    assert_eq!(
        sentences
            .iter()
            .map(|s| s.meta.sequence)
            .collect::<Vec<_>>(),
        [0, 1]
    );
    let first = sentences.remove(0);
    let call = upper
        .process(first.into_stream_element(FlowContext::new("f")))
        .await;
    match call.outcome.unwrap() {
        ProcessResult::Emit(out) => assert_eq!(&out.payload[..], b"LOUD WORDS."),
        ProcessResult::Drop => panic!("uppercase emits"),
    }
    filter.teardown().await.outcome.unwrap();
    agg.teardown().await.outcome.unwrap();
    assert_eq!(
        (
            filter.live_resources(),
            agg.live_resources(),
            upper.live_resources()
        ),
        (0, 0, 0)
    );
    let roles = |i: &Instance<B>| i.roles();
    assert_eq!(
        roles(&filter),
        Roles::from_iter([Role::Filter, Role::Lifecycle])
    );
    assert_eq!(
        roles(&agg),
        Roles::from_iter([Role::Aggregator, Role::Lifecycle])
    );
}

/// `scribble` answers every function the same on both backends; on
/// Wasmtime each answer is overwritten by the guest's post-return, so it
/// must be read while it is lifted (`post_return.rs`).
async fn every_answer_is_read_whole<B: Conformance>() {
    let (_, mut inst) = instance::<B>("scribble").await;
    crate::post_return::every_answer_is_read_whole(&mut inst).await;
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod real {
            $( #[test] fn $name() { crate::support::on_tokio(super::$name::<super::WasmtimeBackend>()) } )*
        }
        mod mock {
            $( #[test] fn $name() { crate::support::on_tokio(super::$name::<super::MockBackend>()) } )*
        }
    };
}

conformance!(
    roles_are_read,
    lifecycle_runs_in_order,
    errors_have_the_same_kinds,
    a_fault_poisons_only_its_instance,
    missing_roles_fail_clearly,
    teardown_is_best_effort,
    resources_are_accounted,
    evaluate_lends_its_input,
    route_and_flush_answers_are_bounded,
    missing_roles_of_the_new_functions,
    a_trapping_filter_poisons_its_instance,
    grants_answer_has_capability,
    the_unversioned_spelling_links_and_runs,
    every_answer_is_read_whole,
);
