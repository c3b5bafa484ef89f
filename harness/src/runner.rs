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
    Answer, Call as EngineCall, ComponentInvoker, ElementMeta, FlowContext, HostFaultPlan,
    InvokeError, Role, Roles, StreamElement, WasmEngine,
};

use crate::backend::{EngineSettings, SimBackend, block_on};
use crate::error::HarnessError;
use crate::scenario::{DEFAULT_PULL_LIMIT, DRIVEN_ROLES, Scenario};
use crate::sim::SimRng;
use crate::spec::BackendKind;
use crate::spec::VirtualTimeSpec;
use crate::transcript::{Entry, InputSummary, Outcome, PayloadPreview, Summary, Transcript};

type Instance<B> = <<B as SimBackend>::Engine as WasmEngine>::Instance;

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

/// Whether a failed pull ends a source: a `fatal` error, or a fault that
/// poisoned the instance (or found it poisoned: `Poisoned` poisons too).
pub(crate) fn ends_source(e: &InvokeError) -> bool {
    match e {
        InvokeError::Guest(g) => g.is_fatal(),
        InvokeError::Fault(f) => f.poisons(),
    }
}

/// Why a component stops taking elements after `e` on element `n` (0-based):
/// `Some` for the contract's terminal `fatal`, `None` otherwise.
pub(crate) fn fatal(e: &InvokeError, n: u64) -> Option<String> {
    match e {
        InvokeError::Guest(g) if g.is_fatal() => Some(format!(
            "fatal at element {n} ({}): the contract's terminal error",
            Outcome::error(e).short()
        )),
        _ => None,
    }
}

/// The instance id for a component reference: the file stem of a path, or
/// the fixture name.
pub(crate) fn stage_id(component: &str) -> String {
    let p = std::path::Path::new(component);
    match p.extension().and_then(|e| e.to_str()) {
        Some("wat" | "wasm") => p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(component)
            .to_string(),
        _ => component.to_string(),
    }
}

/// Makes calls through the engine traits and records each as an [`Entry`].
pub(crate) struct Driver<'b, B: SimBackend> {
    backend: &'b B,
    /// Bytes of each payload and guest output preview (`0`: no cap).
    preview: usize,
    /// Every call so far.
    pub entries: Vec<Entry>,
    /// Whether each entry lists the host calls of its call (the instances
    /// trace them).
    pub trace_host_calls: bool,
}

impl<'b, B: SimBackend> Driver<'b, B> {
    /// A driver on `backend` whose previews show `preview` bytes (`0`:
    /// every byte).
    pub fn new(backend: &'b B, preview: usize) -> Self {
        Self {
            backend,
            preview,
            entries: Vec::new(),
            trace_host_calls: false,
        }
    }

    /// An element as the runtime stamps it: `sequence`, the clock now as
    /// timestamp, the run's trace and flow, a fresh span, and the deadline
    /// `deadline_ns` from now.
    #[allow(clippy::too_many_arguments)]
    pub fn element(
        &self,
        sequence: u64,
        payload: impl Into<torvyn_engine::Bytes>,
        content_type: impl Into<torvyn_engine::ContentType>,
        trace_id: &str,
        flow_id: &str,
        ids: &mut SimRng,
        deadline_ns: Option<u64>,
    ) -> StreamElement {
        let now = self.backend.clock().now_ns();
        let mut context = FlowContext::new(flow_id).with_trace(trace_id, ids.span_id());
        if let Some(d) = deadline_ns {
            context = context.with_deadline_ns(now.saturating_add(d));
        }
        StreamElement {
            meta: ElementMeta {
                sequence,
                timestamp_ns: now,
                content_type: content_type.into(),
            },
            payload: payload.into(),
            context,
        }
    }

    /// Makes `call` on `inst` (of `stage`, in a pipeline) and records it
    /// as an [`Entry`]: its argument or input, its outcome, what it cost,
    /// the clock after it, the resources left, the guest's output and the
    /// host call the fault plan failed, if one did.
    pub fn call(
        &mut self,
        inst: &mut Instance<B>,
        stage: Option<&str>,
        call: EngineCall,
    ) -> Result<Answer, InvokeError> {
        let function = call.function();
        let entry_call = call.function();
        let argument = match &call {
            EngineCall::Init(config) => Some(config.clone()),
            EngineCall::NotifyBackpressure(s) => Some(s.name().to_string()),
            _ => None,
        };
        let input = call.element().map(|el| summarize(el, self.preview));
        let inv = block_on(inst.call(call));
        let outcome = match &inv.outcome {
            Ok(answer) => Outcome::of_answer(answer, function, self.preview),
            Err(e) => Outcome::error(e),
        };
        let mut entry = Entry::new(self.entries.len(), entry_call, outcome, &inv.metrics);
        entry.stage = stage.map(str::to_string);
        entry.argument = argument;
        entry.input = input;
        entry.now_ns = self.backend.clock().now_ns();
        entry.live_resources = inst.live_resources();
        let (stdout, stderr) = self.backend.take_output(inst);
        entry.stdout = PayloadPreview::of_guest_output_with_cap(&stdout, self.preview);
        entry.stderr = PayloadPreview::of_guest_output_with_cap(&stderr, self.preview);
        if entry.failed() {
            entry.stderr_error = crate::transcript::guest_error_lines(&stderr.bytes);
        }
        entry.failed_host_call = inst.injected_fault().map(Into::into);
        if self.trace_host_calls {
            entry.host_call_trace = Some(crate::host_calls::trace_lines(inst.host_call_trace()));
        }
        self.entries.push(entry);
        inv.outcome
    }

    /// `init` as the runtime calls it: on a component that exports
    /// `lifecycle` (with `""` when there is no config), or on any when a
    /// config is given (the engine refuses it without `lifecycle`). Returns
    /// why the component must take no elements, if its `init` failed.
    pub fn init_if_needed(
        &mut self,
        inst: &mut Instance<B>,
        stage: Option<&str>,
        config: Option<&str>,
    ) -> Option<String> {
        if config.is_none() && !inst.roles().contains(Role::Lifecycle) {
            return None;
        }
        let call = EngineCall::Init(config.unwrap_or("").to_string());
        let e = self.call(inst, stage, call).err()?;
        Some(format!(
            "init failed ({}): the component took no elements",
            Outcome::error(&e).short()
        ))
    }
}

fn summarize(el: &StreamElement, preview: usize) -> InputSummary {
    InputSummary {
        sequence: el.meta.sequence,
        timestamp_ns: el.meta.timestamp_ns,
        content_type: el.meta.content_type.to_string(),
        deadline_ns: el.context.deadline_ns(),
        payload: PayloadPreview::with_cap(&el.payload, preview),
    }
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
