//! The `invoke_elements` target: streams of generated elements into every
//! fixture, checked call by call against the oracles.

use arbitrary::Unstructured;
use torvyn_engine::{Call, ComponentInvoker, Grants};

use crate::fuzz::Verdict;
use crate::fuzz::generate::{self, ElementLimits};
use crate::fuzz::oracle::FIXTURE_OUTCOMES;
use crate::fuzz::world::{self};

use super::{HEAVY, Stream, instantiate, stream};

/// The fixture an `invoke_elements` input drives: the first byte picks a
/// row of [`FIXTURE_OUTCOMES`](crate::fuzz::oracle::FIXTURE_OUTCOMES); a heavy one (`HEAVY`) only when the
/// stream asks for heavy fixtures, else the row after it.
pub fn invoke_elements_fixture(data: &[u8]) -> Option<&'static str> {
    let (_, data) = generate::split_host_fault_plan(data);
    invoke_elements_case(&mut Unstructured::new(data))
        .ok()
        .map(|(fixture, _)| fixture)
}

fn invoke_elements_case(u: &mut Unstructured<'_>) -> arbitrary::Result<(&'static str, Stream)> {
    let mut index = u.choose_index(FIXTURE_OUTCOMES.len())?;
    let stream = stream(u, ElementLimits::ANY, 12)?;
    if !stream.heavy && HEAVY.contains(&FIXTURE_OUTCOMES[index].0) {
        index = (index + 1) % FIXTURE_OUTCOMES.len();
    }
    Ok((FIXTURE_OUTCOMES[index].0, stream))
}

/// Target `invoke_elements`: an arbitrary element stream (payloads, content
/// types, sequence numbers, deadlines, fuel budgets, signals) through one
/// fixture of [`FIXTURE_OUTCOMES`](crate::fuzz::oracle::FIXTURE_OUTCOMES) the input picks, hostile ones included
/// (the heavy ones when the stream asks for them:
/// [`invoke_elements_fixture`]), on one of the engine setups. Oracle:
/// [`CallCheck`](crate::fuzz::oracle::CallCheck) after every call.
///
/// One fixture per input, not every fixture: a case costs one
/// instantiation and its calls, and which fixture it drove is part of what
/// the fuzzer's coverage feedback sees, so each fixture's corpus grows on
/// its own.
pub fn invoke_elements(data: &[u8]) -> Verdict {
    let _case = world::case();
    let (plan, data) = generate::split_host_fault_plan(data);
    let mut u = Unstructured::new(data);
    let Ok((fixture, stream)) = invoke_elements_case(&mut u) else {
        return Verdict::Discarded;
    };
    let backend = world::backend(stream.setup);
    let limits = backend.wasmtime().config().limits;
    let compiled = world::compiled(stream.setup, fixture);
    let mut c = instantiate(
        backend,
        &compiled,
        Some(fixture),
        limits,
        &Grants::default(),
    )
    .unwrap_or_else(|e| panic!("instantiate {fixture}: {e}"));
    c.inst.set_host_faults(plan);
    if let Some(config) = &stream.init {
        c.call(&Call::Init(config.clone()));
    }
    for step in &stream.steps {
        c.step(step);
    }
    if stream.teardown {
        c.call(&Call::Teardown);
    }
    Verdict::Checked
}
