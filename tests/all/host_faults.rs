//! Host-call fault injection (`HostFaultPlan`): the host says no, the same
//! way on Wasmtime and on the mock, and nothing is lost or leaked.

use torvyn_engine::mock::MockInvoker;
use torvyn_engine::wasmtime::WasmtimeInvoker;
use torvyn_engine::{
    CompilationStrategy, ComponentId, ComponentInvoker, FaultKind, FlowContext, HostFaultPlan,
    HostFunction, InstanceOptions, Invocation, InvokeError, ProcessResult, StreamElement,
    WasmEngine,
};
use torvyn_harness::fuzz::oracle::Observed;

const ID: &str = "faulty";

fn real(fixture: &str, plan: HostFaultPlan) -> WasmtimeInvoker {
    let options = InstanceOptions {
        host_faults: plan,
        ..InstanceOptions::default()
    };
    crate::support::instance_with(fixture, ID, &options)
}

fn mock(fixture: &str, plan: HostFaultPlan) -> MockInvoker {
    let mut inst = crate::support::mock_instance(fixture, ID);
    inst.set_host_faults(plan);
    inst
}

fn element(seq: u64, payload: &str) -> StreamElement {
    StreamElement::new(seq, payload.to_owned(), "text/plain").with_context(FlowContext::new("f"))
}

/// What a call did, and which host call the plan failed in it.
fn observe<T: std::fmt::Debug>(
    call: &Invocation<T>,
    inst: &impl ComponentInvoker,
) -> (Observed, Option<torvyn_engine::InjectedFault>) {
    (Observed::of(call, inst), inst.injected_fault())
}

fn run(inst: &mut impl ComponentInvoker) -> Vec<(Observed, Option<torvyn_engine::InjectedFault>)> {
    ["hello", "World", "ok"]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let call = torvyn_harness::backend::block_on(inst.process(element(i as u64, p)));
            observe(&call, inst)
        })
        .collect()
}

/// Every host call of `uppercase` (6 per element) fails in turn; both
/// backends answer alike, call by call.
#[test]
fn every_host_call_fails_the_same_way_on_both_backends() {
    let plain = run(&mut real("uppercase", HostFaultPlan::None));
    let host_calls: u64 = plain.iter().map(|(o, _)| u64::from(o.host_calls)).sum();
    assert_eq!(host_calls, 18);
    for k in 0..host_calls {
        let plan = HostFaultPlan::NthOfRun(k);
        let on_wasmtime = run(&mut real("uppercase", plan));
        let on_mock = run(&mut mock("uppercase", plan));
        assert_eq!(on_wasmtime, on_mock, "host call {k}");
        let injected: Vec<_> = on_wasmtime.iter().filter_map(|(_, f)| *f).collect();
        assert_eq!(injected.len(), 1, "one failure in the run: {k}");
        assert_eq!(injected[0].index_in_run, k);
        for (o, _) in &on_wasmtime {
            assert_eq!(o.live_after, 0, "nothing outlives a call: {k}");
        }
    }
}

/// A call that does not reach the guest (`teardown` of a component
/// without the lifecycle role) reports no failed host call of its own, on
/// either backend: not the previous call's.
#[test]
fn a_call_that_skips_the_guest_reports_no_injected_fault() {
    for inst in [
        &mut real("uppercase", HostFaultPlan::NthOfCall(1)) as &mut dyn FnProcess,
        &mut mock("uppercase", HostFaultPlan::NthOfCall(1)),
    ] {
        let (_, injected) = inst.process_one("hello");
        assert!(injected.is_some(), "the allocation failed on purpose");
        assert_eq!(inst.teardown_and_injected(), None);
    }
}

#[test]
fn a_failed_allocation_is_the_guests_to_handle_and_poisons_nothing() {
    for inst in [
        &mut real("uppercase", HostFaultPlan::NthOfCall(1)) as &mut dyn FnProcess,
        &mut mock("uppercase", HostFaultPlan::NthOfCall(1)),
    ] {
        // uppercase: read-all, allocate (fails), ...: its own process-error.
        let call = inst.process_one("hello");
        match call.0 {
            Err(InvokeError::Guest(e)) => assert_eq!(e.kind(), "internal"),
            other => panic!("{other:?}"),
        }
        let f = call.1.expect("the allocation failed on purpose");
        assert_eq!(
            (f.function, f.index_in_call, f.answer()),
            (HostFunction::Allocate, 1, "allocation-failed")
        );
        assert!(inst.is_poisoned().is_none());
        inst.clear();
        assert!(matches!(
            inst.process_one("again").0,
            Ok(ProcessResult::Emit(_))
        ));
        assert_eq!(inst.process_one("again").1, None);
    }
}

#[test]
fn a_failed_host_call_without_an_error_case_is_a_host_fault_naming_it() {
    for inst in [
        &mut real("uppercase", HostFaultPlan::NthOfRun(0)) as &mut dyn FnProcess,
        &mut mock("uppercase", HostFaultPlan::NthOfRun(0)),
    ] {
        let (outcome, injected) = inst.process_one("hello");
        let Err(InvokeError::Fault(fault)) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(fault.poisons());
        let FaultKind::Host { detail } = &fault.kind else {
            panic!("{fault}")
        };
        assert!(detail.contains("`buffer.read-all`"), "{detail}");
        assert!(detail.contains("fault injection"), "{detail}");
        assert_eq!(injected.unwrap().function, HostFunction::BufferReadAll);
        assert_eq!(inst.live(), 0);
        // The poisoned instance refuses the next call, which reports no
        // injected fault of its own.
        let (outcome, injected) = inst.process_one("next");
        assert!(
            matches!(&outcome, Err(InvokeError::Fault(f)) if f.kind.name() == "poisoned"),
            "{outcome:?}"
        );
        assert_eq!(injected, None);
    }
}

#[test]
fn random_plans_replay_from_their_seed() {
    let plan = HostFaultPlan::Random {
        seed: 42,
        per_million: 200_000,
    };
    let runs: Vec<_> = (0..2)
        .map(|_| {
            (0..12)
                .map(|i| {
                    let mut inst = mock("passthrough", HostFaultPlan::None);
                    inst.set_host_faults(HostFaultPlan::Random {
                        seed: i,
                        per_million: 200_000,
                    });
                    inst.process_one("x").1
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].iter().any(Option::is_some));
    assert!(runs[0].iter().any(Option::is_none));
    // The same plan on Wasmtime fails the same host calls (set through
    // `InstanceOptions`, it draws from the seed derived for the instance).
    let mut a = real("passthrough", plan);
    let mut b = mock("passthrough", plan.for_instance(ID));
    for i in 0..12 {
        let p = format!("payload {i}");
        assert_eq!(a.process_one(&p).1, b.process_one(&p).1, "call {i}");
    }
}

/// A random plan set through `InstanceOptions` draws per instance: a
/// restart under a new id gets past a failure the first instance hit,
/// the same id draws the same again, and a pinned plan draws the same in
/// every instance.
#[test]
fn a_random_plan_draws_per_instance_unless_pinned() {
    let plan = HostFaultPlan::Random {
        seed: 9,
        per_million: 300_000,
    };
    let strategy = CompilationStrategy::Cranelift;
    let draws = |id: &str, pin: bool| {
        let mut inst = crate::support::engine(strategy)
            .instantiate_with(
                &crate::support::compiled(strategy, "passthrough"),
                ComponentId::new(id),
                &InstanceOptions {
                    host_faults: plan,
                    pin_host_faults: pin,
                    ..InstanceOptions::default()
                },
            )
            .unwrap();
        (0..16)
            .map(|i| {
                let (_, injected) = inst.process_one(&format!("p{i}"));
                injected.map(|f| (f.index_in_run, f.function))
            })
            .collect::<Vec<_>>()
    };
    let first = draws("stage", false);
    assert_eq!(first, draws("stage", false), "the same instance replays");
    let restarts: Vec<_> = (2..6)
        .map(|n| draws(&format!("stage#{n}"), false))
        .collect();
    assert!(
        restarts.iter().any(|r| *r != first),
        "every restart drew what the first instance drew: {first:?}"
    );
    assert_eq!(
        draws("a", true),
        draws("b", true),
        "a pinned plan draws alike"
    );
    assert_ne!(draws("a", true), draws("a", false));
}

/// The calls the tests above make, on either invoker.
trait FnProcess {
    fn process_one(
        &mut self,
        payload: &str,
    ) -> (
        Result<ProcessResult, InvokeError>,
        Option<torvyn_engine::InjectedFault>,
    );
    fn is_poisoned(&self) -> Option<&torvyn_engine::Fault>;
    fn live(&self) -> usize;
    fn clear(&mut self);
    /// `teardown`, then the host call the plan failed in it.
    fn teardown_and_injected(&mut self) -> Option<torvyn_engine::InjectedFault>;
}

impl<I: ComponentInvoker> FnProcess for I {
    fn process_one(
        &mut self,
        payload: &str,
    ) -> (
        Result<ProcessResult, InvokeError>,
        Option<torvyn_engine::InjectedFault>,
    ) {
        let call = torvyn_harness::backend::block_on(self.process(element(0, payload)));
        (call.outcome, self.injected_fault())
    }

    fn is_poisoned(&self) -> Option<&torvyn_engine::Fault> {
        self.poisoned()
    }

    fn live(&self) -> usize {
        self.live_resources()
    }

    fn clear(&mut self) {
        self.set_host_faults(HostFaultPlan::None);
    }

    fn teardown_and_injected(&mut self) -> Option<torvyn_engine::InjectedFault> {
        let call = torvyn_harness::backend::block_on(self.teardown());
        assert!(call.outcome.is_ok(), "{:?}", call.outcome);
        self.injected_fault()
    }
}

mod sweeps {
    use torvyn_harness::faults::{Sweep, sweep};
    use torvyn_harness::scenario::scenario_settings;
    use torvyn_harness::scenario::{Scenario, scenario_files, scenarios_dir};
    use torvyn_harness::spec::BackendKind;
    use torvyn_harness::spec::FailHostCall;

    fn sweep_of(path: &std::path::Path, backend: BackendKind, limit: u64) -> Sweep {
        let mut s = Scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
        s.fail_host_call = Some("all".parse::<FailHostCall>().unwrap());
        sweep(backend, &s, &scenario_settings(&s), Some(limit))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The sweep works on every fixture's scenario (the first 16 host
    /// calls of each; the hostile ones make thousands), and every case
    /// ends cleanly: no leak, and a run without failures afterwards
    /// answers as the first.
    #[test]
    fn every_fixture_survives_the_failure_of_any_host_call() {
        let mut swept = 0;
        for path in scenario_files(scenarios_dir()).unwrap() {
            let s = Scenario::load(&path).unwrap();
            let backend = s.effective_backend();
            let report = sweep_of(&path, backend, 16);
            assert!(report.clean, "{}", report.render_text());
            assert_eq!(report.swept, report.host_calls.min(16));
            for case in &report.cases {
                assert_eq!(case.leaked, 0);
                assert!(case.serves);
                assert!(case.entry.is_some(), "{}: {case:?}", path.display());
            }
            swept += report.swept;
        }
        assert!(swept > 100, "{swept} cases in all");
    }

    /// The mock models fail the same host calls the same way as the
    /// fixtures on Wasmtime.
    #[test]
    fn sweeps_agree_on_both_backends() {
        for fixture in [
            "uppercase",
            "passthrough",
            "sink",
            "filter",
            "counter-source",
        ] {
            let path = scenarios_dir().join(format!("{fixture}.yaml"));
            let real = sweep_of(&path, BackendKind::Wasmtime, 64);
            let mock = sweep_of(&path, BackendKind::Mock, 64);
            assert!(real.swept > 0, "{fixture}");
            assert_eq!(real.host_calls, mock.host_calls, "{fixture}");
            assert_eq!(real.cases, mock.cases, "{fixture}");
        }
    }
}
