//! The `api_sequence` target: arbitrary sequences of the engine's API calls.

use arbitrary::Unstructured;
use torvyn_engine::{ComponentInvoker, Grants, Limits};

use crate::backend::SimBackend;
use crate::fuzz::Verdict;
use crate::fuzz::generate::{self, ApiOp};
use crate::fuzz::world::{self, MODELLED, Setup};

use super::{Checked, Compiled, instantiate};

/// The backend an `api_sequence` case drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiBackend {
    /// A Wasmtime setup, with every fixture of [`FIXTURE_OUTCOMES`](crate::fuzz::oracle::FIXTURE_OUTCOMES).
    Wasmtime(Setup),
    /// The mock, with the modelled fixtures ([`MODELLED`]).
    Mock,
}

impl ApiBackend {
    /// The fixtures an [`ApiOp::Instantiate`] index picks from.
    pub fn fixtures(self) -> Vec<&'static str> {
        match self {
            Self::Wasmtime(_) => crate::fuzz::oracle::fuzzed_fixtures().collect(),
            Self::Mock => MODELLED.to_vec(),
        }
    }
}

/// What `api_sequence` makes of an input: a backend and the calls on it.
#[derive(Clone, Debug)]
pub struct ApiCase {
    /// The backend.
    pub backend: ApiBackend,
    /// The calls, in order ([`generate::api_ops`]).
    pub ops: Vec<ApiOp>,
    /// The host calls every instance fails
    /// ([`generate::split_host_fault_plan`]).
    pub host_faults: torvyn_engine::HostFaultPlan,
}

/// Decodes an `api_sequence` input; `None` when the target discards it.
pub fn api_case(data: &[u8]) -> Option<ApiCase> {
    let (host_faults, data) = generate::split_host_fault_plan(data);
    let mut u = Unstructured::new(data);
    let backend = match u.int_in_range(0..=3u8).ok()? {
        3 => ApiBackend::Mock,
        i => ApiBackend::Wasmtime(Setup::ALL[usize::from(i)]),
    };
    let ops = generate::api_ops(&mut u, backend.fixtures().len(), 48).ok()?;
    Some(ApiCase {
        backend,
        ops,
        host_faults,
    })
}

/// Target `api_sequence`: arbitrary sequences of engine and invoker calls
/// (instantiate, instantiate with grants, set fuel, process, pull, push,
/// notify, complete, init, teardown, evaluate, route, ingest, flush, drop)
/// over several live instances, on a Wasmtime setup (every fixture) or the
/// mock (the modelled ones) ([`api_case`]). The generator names only live
/// instances; the oracle ([`CallCheck`](crate::fuzz::oracle::CallCheck)) runs after every call, so
/// poisoning, missing exports, resource accounting and the bounds on
/// answers are checked at every step; an instance has the grants it was
/// given, and `capability-probe` answers by them; every other live
/// instance (its poisoning, resources and grants) must be untouched by a
/// call on one.
pub fn api_sequence(data: &[u8]) -> Verdict {
    let _case = world::case();
    let Some(case) = api_case(data) else {
        return Verdict::Discarded;
    };
    let fixtures = case.backend.fixtures();
    match case.backend {
        ApiBackend::Wasmtime(setup) => {
            let backend = world::backend(setup);
            run_api(
                backend,
                &fixtures,
                &case,
                backend.wasmtime().config().limits,
                |f| world::compiled(setup, f),
            );
        }
        ApiBackend::Mock => {
            let backend = world::mock();
            run_api(
                backend,
                &fixtures,
                &case,
                backend.mock().config().limits,
                world::mock_compiled,
            );
        }
    }
    Verdict::Checked
}

fn run_api<'e, B: SimBackend>(
    backend: &'e B,
    fixtures: &[&'static str],
    case: &ApiCase,
    limits: Limits,
    compile: impl Fn(&'static str) -> Compiled<B>,
) {
    let mut live: Vec<Checked<'e, B>> = Vec::new();
    for op in &case.ops {
        // What every other instance looks like before the call.
        let others = |live: &[Checked<'e, B>], skip: usize| -> Vec<(bool, usize, Grants)> {
            live.iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| {
                    (
                        c.poisoned(),
                        c.inst.live_resources(),
                        c.inst.grants().clone(),
                    )
                })
                .collect()
        };
        let index = op.instance().unwrap_or(usize::MAX);
        let before = others(&live, index);
        let spawn = |f: usize, grants: &Grants| {
            let fixture = fixtures[f];
            let compiled = compile(fixture);
            let mut c = instantiate(backend, &compiled, Some(fixture), limits, grants)
                .unwrap_or_else(|e| panic!("instantiate {fixture} granted {grants:?}: {e}"));
            c.inst.set_host_faults(case.host_faults);
            c
        };
        match op {
            ApiOp::Instantiate(f) => live.push(spawn(*f, &Grants::default())),
            ApiOp::InstantiateWith(f, names) => live.push(spawn(*f, &Grants::new(names))),
            ApiOp::Drop(i) => {
                live.remove(*i);
            }
            ApiOp::SetFuel(i, fuel) => live[*i].set_fuel(*fuel),
            ApiOp::Call(i, call) => {
                live[*i].call(call);
            }
        }
        let after = match op {
            ApiOp::Instantiate(_) | ApiOp::InstantiateWith(..) => others(&live, live.len() - 1),
            ApiOp::Drop(_) => others(&live, usize::MAX),
            _ => others(&live, index),
        };
        assert_eq!(after, before, "{op:?} changed another instance");
    }
}
