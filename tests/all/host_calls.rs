//! Host-call traces (`InstanceOptions::trace_host_calls`,
//! `ComponentInvoker::host_call_trace`): the contract host calls of each
//! call, the same on Wasmtime and on the mock, through the synchronous and
//! the async API, and the scenario expectations built on them.

use torvyn_engine::mock::MockInvoker;
use torvyn_engine::wasmtime::WasmtimeInvoker;
use torvyn_engine::{
    ComponentInvoker, FlowContext, HostAnswer, HostArgs, HostCall, HostFaultPlan, HostFunction,
    InstanceOptions, StreamElement,
};
use torvyn_harness::backend::block_on;
use torvyn_harness::scenario::{InputElement, Scenario, run_scenario, run_scenario_with};
use torvyn_harness::spec::BackendKind;

const ID: &str = "traced";

fn real(fixture: &str, trace: bool) -> WasmtimeInvoker {
    let options = InstanceOptions {
        trace_host_calls: trace,
        ..InstanceOptions::default()
    };
    crate::support::instance_with(fixture, ID, &options)
}

fn mock(fixture: &str, trace: bool) -> MockInvoker {
    let mut inst = crate::support::mock_instance(fixture, ID);
    inst.trace_host_calls(trace);
    inst
}

fn element(payload: &str) -> StreamElement {
    StreamElement::new(0, payload.to_owned(), "text/plain").with_context(FlowContext::new("f"))
}

fn call(function: HostFunction, args: HostArgs, answer: HostAnswer) -> HostCall {
    HostCall {
        function,
        args,
        answer,
        injected: false,
    }
}

/// What `uppercase` does through the host for a 5-byte payload, lent as
/// handle 1 (its flow context is 2): one read-all, one allocate.
fn uppercase_trace() -> Vec<HostCall> {
    use HostAnswer as A;
    use HostFunction as F;
    vec![
        call(F::BufferReadAll, HostArgs::Handle(1), A::Bytes(5)),
        call(
            F::Allocate,
            HostArgs::Allocate { capacity: 5 },
            A::Handle(3),
        ),
        call(
            F::MutableAppend,
            HostArgs::Append {
                handle: 3,
                bytes: 5,
            },
            A::Done,
        ),
        call(
            F::MutableSetContentType,
            HostArgs::SetContentType {
                handle: 3,
                content_type: "text/plain".into(),
            },
            A::Done,
        ),
        call(F::MutableFreeze, HostArgs::Handle(3), A::Handle(4)),
        call(F::MutableDrop, HostArgs::Handle(3), A::Done),
    ]
}

/// Each call's trace starts afresh: the second call's is its own (new
/// handles), not the first's with more.
fn process_twice(inst: &mut impl ComponentInvoker) -> Vec<Vec<HostCall>> {
    (0..2)
        .map(|_| {
            let inv = block_on(inst.process(element("hello")));
            assert!(inv.is_ok(), "{:?}", inv.outcome);
            let trace = inst.host_call_trace().to_vec();
            assert_eq!(trace.len() as u32, inv.metrics.host_calls);
            trace
        })
        .collect()
}

#[test]
fn uppercase_reads_once_and_allocates_once_on_both_backends() {
    let on_wasmtime = process_twice(&mut real("uppercase", true));
    assert_eq!(on_wasmtime[0], uppercase_trace());
    assert_eq!(
        on_wasmtime[1][0],
        call(
            HostFunction::BufferReadAll,
            HostArgs::Handle(5),
            HostAnswer::Bytes(5)
        ),
        "the second call's payload is a new handle: reps are not reused"
    );
    assert_eq!(on_wasmtime, process_twice(&mut mock("uppercase", true)));
    assert_eq!(
        uppercase_trace()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "buffer.read-all(#1) -> 5 bytes",
            "buffer-allocator.allocate(capacity 5) -> #3",
            "mutable-buffer.append(#3, 5 bytes) -> ok",
            "mutable-buffer.set-content-type(#3, \"text/plain\") -> ok",
            "mutable-buffer.freeze(#3) -> #4",
            "[resource-drop]mutable-buffer(#3) -> ok",
        ]
    );
}

#[test]
fn off_by_default_and_switched_at_will() {
    let mut inst = real("uppercase", false);
    let inv = block_on(inst.process(element("hello")));
    assert_eq!(inv.metrics.host_calls, 6);
    assert!(inst.host_call_trace().is_empty());
    inst.trace_host_calls(true);
    let _ = block_on(inst.process(element("hello")));
    assert_eq!(inst.host_call_trace().len(), 6);
    inst.trace_host_calls(false);
    let _ = block_on(inst.process(element("hello")));
    assert!(inst.host_call_trace().is_empty());
}

#[test]
fn injected_failures_are_marked_and_a_trace_works_beside_a_fault_plan() {
    let mut inst = real("uppercase", true);
    inst.set_host_faults(HostFaultPlan::NthOfCall(1));
    let inv = block_on(inst.process(element("hello")));
    assert!(inv.guest_error().is_some(), "{:?}", inv.outcome);
    let trace = inst.host_call_trace();
    assert_eq!(
        trace[1].to_string(),
        "buffer-allocator.allocate(capacity 5) -> error allocation-failed (injected)"
    );
    assert!(!trace[0].injected);
    // The plan gone, the trace stays on.
    inst.set_host_faults(HostFaultPlan::None);
    let _ = block_on(inst.process(element("hello")));
    assert_eq!(inst.host_call_trace().len(), 6);
    assert!(inst.host_call_trace().iter().all(|c| !c.injected));
}

#[test]
fn a_contract_violation_is_traced_as_a_trap() {
    let mut inst = real("use-after-freeze", true);
    let inv = block_on(inst.process(element("hello")));
    assert!(inv.fault().is_some(), "{:?}", inv.outcome);
    let last = inst.host_call_trace().last().expect("host calls").clone();
    assert_eq!(last.answer, HostAnswer::Trap, "{last}");
}

#[test]
fn the_async_api_in_a_tokio_runtime_gives_the_same_trace() {
    let mut inst = real("uppercase", true);
    let trace = crate::support::on_tokio(async {
        let inv = inst.process(element("hello")).await;
        assert!(inv.is_ok(), "{:?}", inv.outcome);
        inst.host_call_trace().to_vec()
    });
    assert_eq!(trace, uppercase_trace());
}

fn forbidding(forbid: &str) -> Scenario {
    Scenario {
        forbid_host_calls: vec![forbid.into()],
        inputs: vec![InputElement::text("hi")],
        ..Scenario::new("forbid", "uppercase")
    }
}

#[test]
fn a_scenario_that_forbids_a_host_call_the_component_makes_fails_alike_on_both_backends() {
    let s = forbidding("allocate");
    let t = run_scenario(&s).unwrap();
    assert_eq!(
        t.unexpected_host_calls,
        [
            "entry #0 (process): host call 1 is `buffer-allocator.allocate`, which \
          `forbid_host_calls` forbids (buffer-allocator.allocate(capacity 2) -> #3)"
        ]
    );
    // Checked, not shown: the transcript is as it is without the setting.
    assert!(t.entries.iter().all(|e| e.host_call_trace.is_none()));
    let on_mock = run_scenario_with(BackendKind::Mock, &s).unwrap();
    assert_eq!(on_mock.unexpected_host_calls, t.unexpected_host_calls);

    let t = run_scenario(&forbidding("clone-into-mutable")).unwrap();
    assert!(t.unexpected_host_calls.is_empty());
    let e = run_scenario(&forbidding("size")).unwrap_err().to_string();
    assert!(e.contains("`buffer.size` or `mutable-buffer.size`"), "{e}");
}

#[test]
fn a_traced_scenario_lists_the_same_host_calls_on_both_backends() {
    let s = Scenario {
        trace_host_calls: true,
        inputs: vec![InputElement::text("hello")],
        ..Scenario::new("traced", "uppercase")
    };
    let t = run_scenario(&s).unwrap();
    let process = t
        .entries
        .iter()
        .find(|e| e.call.name() == "process")
        .unwrap();
    let lines: Vec<String> = uppercase_trace().iter().map(ToString::to_string).collect();
    assert_eq!(process.host_call_trace.as_deref(), Some(&lines[..]));
    let on_mock = run_scenario_with(BackendKind::Mock, &s).unwrap();
    let traces = |t: &torvyn_harness::transcript::Transcript| {
        t.entries
            .iter()
            .map(|e| e.host_call_trace.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(traces(&on_mock), traces(&t));
}
