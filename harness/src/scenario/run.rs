//! Runs a [`Scenario`] against one component and records every call in a
//! [`Transcript`].
//!
//! Each run gets a new engine on the backend the scenario names (by
//! default Wasmtime; `backend: mock` runs a fixture's model or a scripted
//! component), with the virtual clock and WASI randomness seeded from the
//! scenario's seed. It compiles the component, instantiates it, calls
//! `init`, then drives it by role, then calls `teardown`, as the Torvyn
//! runtime does:
//!
//! - **init**: once, before any element, on every component that exports
//!   `lifecycle`, with the scenario's config or `""` when it has none (and
//!   on a component without `lifecycle` when a config is given, which the
//!   engine refuses as a missing export). A component whose `init` fails
//!   (a `process-error` or a fault) takes no elements: the summary's
//!   `stopped` says why and `elements_skipped` how many were not sent.
//! - **processor**: `process` every input. The runner is the runtime: it
//!   assigns sequence numbers (0, 1, ...) and timestamps (the engine clock
//!   when the call starts), gives every element the run's trace and flow ids
//!   and a fresh span id from the [`SimRng`], and sets the deadline to the
//!   call's start plus the element's `deadline_ns`.
//! - **source**: `pull` until `none`, the pull limit, or a fault that
//!   poisons the instance; after the nth pull, the scenario's backpressure
//!   steps for `after_pull: n` are sent with `notify-backpressure`.
//! - **sink**: `push` every input, then `complete`.
//! - **fatal** is terminal for every role: after a `fatal` answer the
//!   component gets no further element or pull (a sink no `complete`),
//!   and the summary's `stopped` records it.
//!
//! **Faults do not abort a run.** They are recorded and the run goes on, so
//! a transcript shows what a runtime would see: after a fault that poisons
//! the instance, every later call of a processor or sink is recorded with
//! the engine's `poisoned` fault (a source stops pulling instead, since
//! pulling a poisoned source can produce nothing), and `teardown` records
//! that it was skipped. Only problems before the first call (a missing
//! file, invalid WAT, a component for the wrong world...) are errors.

use std::time::Instant;

use torvyn_engine::{
    Answer, Call as EngineCall, ComponentInvoker, HostFaultPlan, Role, Roles, WasmEngine,
};

use super::{DEFAULT_PULL_LIMIT, DRIVEN_ROLES, Scenario};
use crate::backend::{EngineSettings, SimBackend};
use crate::drive::{Driver, ends_source, fatal, stage_id};
use crate::error::HarnessError;
use crate::sim::SimRng;
use crate::spec::BackendKind;
use crate::spec::VirtualTimeSpec;
use crate::transcript::{Summary, Transcript};

/// Runs `scenario` on a new engine of the backend it names (compiler,
/// clock, seed as it says).
pub fn run_scenario(scenario: &Scenario) -> Result<Transcript, HarnessError> {
    run_scenario_with(scenario.effective_backend(), scenario)
}

/// Runs `scenario` on a new engine of `backend`, whatever the scenario
/// names (the CLI's `--backend`).
pub fn run_scenario_with(
    backend: BackendKind,
    scenario: &Scenario,
) -> Result<Transcript, HarnessError> {
    run_scenario_using(backend, scenario, &scenario_settings(scenario))
}

/// Runs `scenario` on a new engine of `backend` built from `settings`
/// (usually [`scenario_settings`] changed, as the CLI sets
/// [`EngineSettings::cache_dir`]).
pub fn run_scenario_using(
    backend: BackendKind,
    scenario: &Scenario,
    settings: &EngineSettings,
) -> Result<Transcript, HarnessError> {
    crate::with_backend!(backend, settings, |b| run_scenario_on(b, scenario))?
}

/// The engine settings a scenario asks for.
pub fn scenario_settings(scenario: &Scenario) -> EngineSettings {
    EngineSettings {
        strategy: scenario.strategy,
        clock: scenario.clock,
        virtual_time: VirtualTimeSpec::model(scenario.virtual_time.as_ref()),
        seed: scenario.effective_seed(),
        cache_dir: None,
        cache_max_bytes: None,
        stub_unknown_imports: scenario.stub_unknown_imports,
        max_memory_bytes: scenario.max_memory_bytes,
    }
}

/// The role a component is driven in when the scenario names none:
/// processor if exported, else source, sink, filter, router, aggregator
/// (else processor, so the calls record the missing export).
pub fn infer_role(roles: Roles) -> Role {
    DRIVEN_ROLES
        .into_iter()
        .find(|r| roles.contains(*r))
        .unwrap_or(Role::Processor)
}

/// Runs `scenario` on `backend` (which should be fresh: its clock is read
/// as the run's timeline).
///
/// A scenario with `fail_host_call: all` is a sweep, many runs: see
/// [`crate::faults::sweep`].
pub fn run_scenario_on<B: SimBackend>(
    backend: &B,
    scenario: &Scenario,
) -> Result<Transcript, HarnessError> {
    scenario.validate()?;
    let plan = match scenario.fail_host_call {
        Some(f) if f.is_sweep() => {
            return Err(HarnessError::InvalidScenario {
                scenario: scenario.name.clone(),
                problem: "`fail_host_call: all` asks for a sweep (a run per host call): run it \
                          with `torvyn_harness::faults::sweep`, `torvyn-sim run \
                          --fail-host-call all` or `torvyn-sim check`"
                    .into(),
            });
        }
        Some(f) => f.plan(scenario.effective_seed()).unwrap_or_default(),
        None => HostFaultPlan::None,
    };
    let compiled = compile_scenario(backend, scenario)?;
    run_compiled(backend, scenario, &compiled, plan)
}

/// The scenario's component, compiled on `backend`.
pub(crate) fn compile_scenario<B: SimBackend>(
    backend: &B,
    scenario: &Scenario,
) -> Result<<B::Engine as WasmEngine>::Compiled, HarnessError> {
    backend.compile(&scenario.component_source(), &scenario.component)
}

/// Runs `scenario` on a new instance of `compiled`, failing host calls as
/// `plan` says.
pub(crate) fn run_compiled<B: SimBackend>(
    backend: &B,
    scenario: &Scenario,
    compiled: &<B::Engine as WasmEngine>::Compiled,
    plan: HostFaultPlan,
) -> Result<Transcript, HarnessError> {
    let seed = scenario.effective_seed();
    let rng = SimRng::new(seed);
    let mut ids = rng.fork("ids");
    let inputs = scenario.resolve_inputs(&mut rng.fork("inputs"))?;
    let trace_id = ids.trace_id();
    let flow_id = ids.flow_id();

    let id = stage_id(&scenario.component);
    let mut inst = backend.instantiate_granting(compiled, &id, &scenario.grants)?;
    if let Some(fuel) = scenario.fuel {
        backend.set_fuel(&mut inst, fuel, &id)?;
    }
    inst.set_host_faults(plan);
    let expectations =
        scenario
            .host_call_expectations()
            .map_err(|problem| HarnessError::InvalidScenario {
                scenario: scenario.name.clone(),
                problem,
            })?;
    let traced = scenario.trace_host_calls || !expectations.is_empty();
    inst.trace_host_calls(traced);
    let role = scenario.role.unwrap_or_else(|| infer_role(inst.roles()));

    let wall = Instant::now();
    let start_ns = backend.clock().now_ns();
    let mut d = Driver::new(backend, scenario.preview_cap());
    d.trace_host_calls = traced;
    let mut stopped = d.init_if_needed(&mut inst, None, scenario.config.as_deref());
    let mut skipped = 0u64;
    if role == Role::Source {
        let limit = scenario.pull_limit.unwrap_or(DEFAULT_PULL_LIMIT);
        for pulls in 1..=limit {
            // A source is pulled, not sent elements: nothing counts as
            // skipped when it stops (the pull limit is only a bound).
            if stopped.is_some() {
                break;
            }
            let stop = match d.call(&mut inst, None, EngineCall::Pull) {
                Ok(Answer::Nothing) => true,
                Ok(_) => false,
                Err(e) => {
                    stopped = fatal(&e, pulls - 1);
                    stopped.is_some() || ends_source(&e)
                }
            };
            if stop {
                break;
            }
            for step in scenario
                .backpressure
                .iter()
                .filter(|b| b.after_pull == pulls)
            {
                let _ = d.call(&mut inst, None, EngineCall::NotifyBackpressure(step.signal));
            }
        }
    } else {
        let total = inputs.len() as u64;
        for (seq, input) in inputs.into_iter().enumerate() {
            if stopped.is_some() {
                skipped = total - seq as u64;
                break;
            }
            let el = d.element(
                seq as u64,
                input.payload,
                input.content_type,
                &trace_id,
                &flow_id,
                &mut ids,
                input.deadline_ns,
            );
            let call = match role {
                Role::Processor => EngineCall::Process(el),
                Role::Sink => EngineCall::Push(el),
                Role::Filter => EngineCall::Evaluate(el),
                Role::Router => EngineCall::Route(el),
                Role::Aggregator => EngineCall::Ingest(el),
                Role::Source => unreachable!("a source is pulled"),
                Role::Lifecycle => unreachable!("`Scenario::validate` refuses `role: lifecycle`"),
            };
            if let Err(e) = &d.call(&mut inst, None, call) {
                stopped = fatal(e, seq as u64);
            }
        }
        if stopped.is_none() {
            let end = match role {
                Role::Sink => Some(EngineCall::Complete),
                Role::Aggregator => Some(EngineCall::Flush),
                _ => None,
            };
            if let Some(call) = end {
                let _ = d.call(&mut inst, None, call);
            }
        }
    }
    let _ = d.call(&mut inst, None, EngineCall::Teardown);

    let virtual_ns = backend.clock().now_ns().saturating_sub(start_ns);
    let unexpected_host_calls = expectations.problems(&d.entries);
    if !scenario.trace_host_calls {
        // Traced only to check the expectations: the transcript stays as
        // it is without them.
        for e in &mut d.entries {
            e.host_call_trace = None;
        }
    }
    let mut summary = Summary::of(&d.entries, virtual_ns);
    summary.stopped = stopped;
    summary.elements_skipped = skipped;
    summary.set_wall(wall.elapsed());
    Ok(Transcript {
        scenario: scenario.name.clone(),
        component: scenario.component.clone(),
        role: role.name().into(),
        seed,
        backend: B::KIND,
        grants: inst.grants().iter().map(str::to_string).collect(),
        strategy: scenario.strategy,
        clock: scenario.clock,
        trace_id,
        flow_id,
        entries: d.entries,
        summary,
        unexpected_host_calls,
    })
}

#[cfg(all(test, feature = "wasmtime-backend"))]
mod tests {
    use super::*;
    use crate::scenario::InputElement;

    /// A scratch file under the system temp directory, removed on drop.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(name: &str, bytes: &[u8]) -> Self {
            let dir = std::env::temp_dir().join(format!("torvyn-runner-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            Self(path)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn error_of(component: &str) -> String {
        run_scenario(&Scenario::new("t", component))
            .map(|_| ())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_say_what_failed_and_where() {
        let e = error_of("no-such-fixture");
        assert!(
            e.contains("no-such-fixture") && e.contains("uppercase"),
            "{e}"
        );

        let e = error_of("/nonexistent/dir/x.wat");
        assert!(
            e.contains("/nonexistent/dir/x.wat") && e.contains("read"),
            "{e}"
        );

        let bad = Scratch::new("bad.wat", b"(module\n  (func (result i32) oops))\n");
        let e = error_of(bad.0.to_str().unwrap());
        assert!(e.contains("bad.wat:2:"), "the line is named: {e}");

        let core = Scratch::new("core.wasm", &wat::parse_str("(module)").unwrap());
        let e = error_of(core.0.to_str().unwrap());
        assert!(e.contains("core WebAssembly module"), "{e}");

        let wrong = Scratch::new(
            "wrong.wat",
            b"(component (import \"acme:nope/thing@1.0.0\" (instance (export \"f\" (func)))))",
        );
        let e = error_of(wrong.0.to_str().unwrap());
        assert!(
            e.contains("acme:nope/thing") && e.contains("UnknownImports::Trap"),
            "the missing import and the option are named: {e}"
        );
    }

    #[test]
    fn a_scenario_runs_from_code_and_every_call_is_recorded() {
        let s = Scenario {
            config: Some("{}".into()),
            inputs: vec![InputElement::text("a"), InputElement::text("b")],
            ..Scenario::new("lifecycle", "lifecycle")
        };
        let t = run_scenario(&s).unwrap();
        let calls: Vec<&str> = t.entries.iter().map(|e| e.call.name()).collect();
        assert_eq!(calls, ["init", "process", "process", "teardown"]);
        assert_eq!(t.summary.elements_out, 2);
        assert!(t.summary.wall.is_some());
        assert!(t.snapshot_form().summary.wall.is_none());
        let text = t.render_text();
        assert!(text.contains("process") && text.contains("\"a\""), "{text}");
        let json: serde_json::Value = serde_json::from_str(&t.to_json().unwrap()).unwrap();
        assert_eq!(
            json["entries"][1]["outcome"]["emit"]["payload"]["text"],
            "a"
        );
        let back: Transcript = serde_yaml_ng::from_str(&t.to_yaml().unwrap()).unwrap();
        assert_eq!(back, t);
    }
}
