//! The six fuzz targets, one module each. A target takes the fuzzer's
//! bytes, builds a case with the generators, runs it and checks the
//! oracles, panicking when one fails. `fuzz/fuzz_targets/*.rs` call these,
//! and so does the replay test. This module holds what they share: the
//! setup, the element streams and the checked instance.

use arbitrary::Unstructured;
use torvyn_engine::{
    Answer, BackpressureSignal, Call, ComponentId, ComponentInvoker, Function, Grants,
    InstanceOptions, Invocation, Limits, OutputElement, Role, WasmEngine,
};

use super::generate::{self, ElementLimits, ElementSpec};
use crate::fuzz::oracle::{CallCheck, Observed};
mod recording;
use super::world::{self, Setup};
use crate::backend::{SimBackend, block_on};
pub use recording::recording;

mod api_sequence;
mod cache_entry;
mod component_bytes;
mod differential;
mod invoke_elements;

pub use api_sequence::{ApiBackend, ApiCase, api_case, api_sequence};
pub use cache_entry::cache_entry;
pub use component_bytes::{
    EXTENSION_SHAPE_BYTES, Reach, SHAPES, component_bytes, component_bytes_case,
    component_bytes_reach,
};
pub use differential::differential;
pub use invoke_elements::{invoke_elements, invoke_elements_fixture};

fn setup(u: &mut Unstructured<'_>) -> arbitrary::Result<Setup> {
    Ok(Setup::ALL[u.choose_index(Setup::ALL.len())?])
}

/// One step of an element stream: the element (processors get it through
/// `process`, sinks through `push`, filters through `evaluate`, routers
/// through `route`, aggregators through `ingest`; sources `pull` instead),
/// maybe a new fuel budget first, maybe a backpressure signal (sources) or
/// `complete` (sinks; `flush` for aggregators) after.
#[derive(Clone, Debug)]
struct Step {
    element: ElementSpec,
    fuel: Option<u64>,
    signal: Option<BackpressureSignal>,
    complete: bool,
}

#[derive(Clone, Debug)]
struct Stream {
    setup: Setup,
    /// Also run the fixtures in [`HEAVY`].
    heavy: bool,
    init: Option<String>,
    steps: Vec<Step>,
    teardown: bool,
}

fn stream(
    u: &mut Unstructured<'_>,
    limits: ElementLimits,
    max: usize,
) -> arbitrary::Result<Stream> {
    let setup = setup(u)?;
    let heavy = generate::one_in(u, 8)?;
    let init = if u.arbitrary()? {
        Some(generate::config_text(u)?)
    } else {
        None
    };
    let n = u.int_in_range(1..=max)?;
    let mut steps = Vec::with_capacity(n);
    for _ in 0..n {
        steps.push(Step {
            fuel: generate::fuel_budget(u)?,
            element: generate::element_spec(u, limits)?,
            signal: if generate::one_in(u, 4)? {
                Some(generate::signal(u)?)
            } else {
                None
            },
            complete: generate::one_in(u, 8)?,
        });
        if u.is_empty() {
            break;
        }
    }
    Ok(Stream {
        setup,
        heavy,
        init,
        steps,
        teardown: u.arbitrary()?,
    })
}

type Instance<B> = <<B as SimBackend>::Engine as WasmEngine>::Instance;
type Compiled<B> = <<B as SimBackend>::Engine as WasmEngine>::Compiled;

/// Calls on one instance of a backend with the oracle checked after each.
struct Checked<'e, B: SimBackend> {
    backend: &'e B,
    fixture: Option<&'e str>,
    inst: Instance<B>,
    /// The engine's limits (the bounds on answers among them).
    limits: Limits,
    budget: u64,
    /// Whether calls return what they did ([`Observed`]) for a comparison:
    /// only `differential` compares, and making one formats the outcome.
    compare: bool,
}

impl<B: SimBackend> Checked<'_, B> {
    fn set_fuel(&mut self, fuel: u64) {
        let result = self.backend.engine().set_fuel(&mut self.inst, fuel);
        if fuel == 0 {
            assert!(result.is_err(), "a zero fuel budget must be refused");
        } else {
            result.unwrap_or_else(|e| panic!("set_fuel({fuel}): {e}"));
            self.budget = fuel;
        }
    }

    /// Checks a finished call with the oracle and returns what it did when
    /// the instance is compared ([`Checked::compare`]).
    fn checked<T: std::fmt::Debug>(
        &self,
        call: Invocation<T>,
        function: Function,
        was_poisoned: bool,
        element: Option<&ElementSpec>,
        config_empty: bool,
    ) -> Option<Observed> {
        let ran = CallCheck {
            fixture: self.fixture,
            function,
            config_empty,
            roles: self.inst.roles(),
            was_poisoned,
            must_reject: element.is_some_and(ElementSpec::must_be_rejected),
            fuel_budget: Some(self.budget),
        }
        .check(&call, &self.inst);
        if ran {
            assert_eq!(
                self.backend.engine().fuel_remaining(&self.inst),
                Some(self.budget.saturating_sub(call.metrics.fuel_consumed)),
                "fuel left after a call is its budget less what it consumed"
            );
            assert_eq!(
                self.backend.engine().memory_usage(&self.inst),
                call.metrics.memory_bytes,
                "the engine reports the memory the call's metrics do"
            );
        }
        crate::fuzz::observe(|| {
            format!(
                "{:?} {function:?}: {:?}, fuel {}, {} ns, memory {}",
                self.fixture,
                Observed::of(&call, &self.inst),
                call.metrics.fuel_consumed,
                call.metrics.duration.as_nanos(),
                call.metrics.memory_bytes
            )
        });
        self.compare.then(|| Observed::of(&call, &self.inst))
    }

    fn poisoned(&self) -> bool {
        self.inst.poisoned().is_some()
    }

    /// Makes `call` (its element built now, stamped by the backend's
    /// clock), checks what the engine bounds in its answer, and checks the
    /// call with the oracle.
    fn call(&mut self, call: &Call<ElementSpec>) -> Option<Observed> {
        let p = self.poisoned();
        let function = call.function();
        let config_empty = matches!(call, Call::Init(config) if config.is_empty());
        let clock = self.backend.clock();
        let made = call.clone().map_element(|e| e.build(clock));
        let inv = block_on(self.inst.call(made));
        match (&inv.outcome, call) {
            (Ok(Answer::Emit(out)), Call::Process(e))
                if self.fixture == Some("capability-probe") =>
            {
                self.check_probe(out, e)
            }
            (Ok(Answer::Ports(ports)), _) => {
                let bytes: u64 = ports.iter().map(|p| p.len() as u64).sum();
                assert!(
                    ports.len() <= self.limits.max_route_ports as usize
                        && bytes <= self.limits.max_route_bytes,
                    "a route answer of {} ports and {bytes} bytes passed the bounds ({} ports, \
                     {} bytes)",
                    ports.len(),
                    self.limits.max_route_ports,
                    self.limits.max_route_bytes
                );
            }
            (Ok(Answer::Flushed(outs)), _) => assert!(
                outs.len() <= self.limits.max_flush_outputs as usize,
                "a flush answer of {} elements passed the bound ({})",
                outs.len(),
                self.limits.max_flush_outputs
            ),
            _ => {}
        }
        self.checked(inv, function, p, call.element(), config_empty)
    }

    /// `capability-probe` answers `granted` exactly when the name in the
    /// payload was granted to the instance.
    fn check_probe(&self, out: &OutputElement, e: &ElementSpec) {
        let name = std::str::from_utf8(&e.payload)
            .unwrap_or_else(|_| panic!("the probe answered a name that is not UTF-8: {e:?}"));
        let granted = self.inst.grants().contains(name);
        assert_eq!(
            &out.payload[..],
            if granted { &b"granted"[..] } else { b"denied" },
            "has-capability({name:?}) with grants {:?}",
            self.inst.grants()
        );
    }

    /// Runs one stream step the way the instance's roles take it.
    /// What each call did when the instance is compared (empty, and no
    /// allocation, otherwise).
    fn step(&mut self, step: &Step) -> Vec<Observed> {
        if let Some(fuel) = step.fuel {
            self.set_fuel(fuel);
        }
        let roles = self.inst.roles();
        let el = || step.element.clone();
        let calls: Vec<Call<ElementSpec>> = if roles.contains(Role::Processor) {
            vec![Call::Process(el())]
        } else if roles.contains(Role::Sink) {
            let push = Call::Push(el());
            if step.complete {
                vec![push, Call::Complete]
            } else {
                vec![push]
            }
        } else if roles.contains(Role::Source) {
            match step.signal {
                Some(signal) => vec![Call::NotifyBackpressure(signal), Call::Pull],
                None => vec![Call::Pull],
            }
        } else if roles.contains(Role::Filter) {
            vec![Call::Evaluate(el())]
        } else if roles.contains(Role::Router) {
            vec![Call::Route(el())]
        } else if roles.contains(Role::Aggregator) {
            let ingest = Call::Ingest(el());
            if step.complete {
                vec![ingest, Call::Flush]
            } else {
                vec![ingest]
            }
        } else {
            Vec::new()
        };
        calls.iter().filter_map(|c| self.call(c)).collect()
    }
}

/// A checked instance of `compiled` on an engine with `limits`, granted
/// `grants` (through `instantiate` when there are none, so both paths are
/// driven).
fn instantiate<'e, B: SimBackend>(
    backend: &'e B,
    compiled: &Compiled<B>,
    fixture: Option<&'e str>,
    limits: Limits,
    grants: &Grants,
) -> Result<Checked<'e, B>, torvyn_engine::EngineError> {
    let id = ComponentId::new(fixture.unwrap_or("generated"));
    let engine = backend.engine();
    let inst = if grants.is_empty() {
        engine.instantiate(compiled, id)?
    } else {
        engine.instantiate_with(compiled, id, &InstanceOptions::with_grants(grants.clone()))?
    };
    assert_eq!(
        inst.live_resources(),
        0,
        "a new instance holds no resources"
    );
    assert!(inst.poisoned().is_none(), "a new instance is not poisoned");
    assert_eq!(
        inst.grants(),
        grants,
        "the instance has the grants it was given"
    );
    Ok(Checked {
        backend,
        fixture,
        inst,
        limits,
        budget: limits.fuel_per_call,
        compare: false,
    })
}

/// Fixtures whose first call costs far more than the rest (`stdout-flood`
/// writes 4 MiB through WASI, which coverage instrumentation makes slow):
/// `invoke_elements` runs one only when the input also asks for the heavy
/// fixtures (one input in eight), and the next fixture otherwise.
const HEAVY: [&str; 1] = ["stdout-flood"];
