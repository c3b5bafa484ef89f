//! The `differential` target: the same calls on Wasmtime and on the mock's
//! model of a fixture, compared.

use arbitrary::Unstructured;
use torvyn_engine::{Call, ComponentInvoker, FaultKind, Grants, TrapCode};

use crate::fuzz::Verdict;
use crate::fuzz::generate::ElementLimits;
use crate::fuzz::oracle::Observed;
use crate::fuzz::world::{self, MODELLED, Setup};

use super::{instantiate, stream};

/// Whether a Wasmtime outcome depends on the host rather than the input
/// (stack depth, memory, host failures): such cases are discarded by the
/// differential target instead of compared.
fn host_dependent(kind: &FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::Trap {
            code: TrapCode::StackOverflow,
            ..
        } | FaultKind::MemoryLimitExceeded { .. }
            | FaultKind::Host { .. }
    )
}

/// Target `differential`: an arbitrary element stream through a benign
/// fixture and through its mock model ([`torvyn_engine::mock::models`]);
/// both must agree on every call's outcome and accounting ([`Observed`]),
/// fuel and time aside. Cases where the fixture's outcome depends on the
/// host (stack overflow, out of memory, host failures) are discarded.
pub fn differential(data: &[u8]) -> Verdict {
    let _case = world::case();
    let mut u = Unstructured::new(data);
    let case = (|| -> arbitrary::Result<_> {
        let fixture = MODELLED[u.choose_index(MODELLED.len())?];
        let mut s = stream(&mut u, ElementLimits::COMPARABLE, 16)?;
        // Budgets are the defaults: modelled fuel is not real fuel.
        for step in &mut s.steps {
            step.fuel = None;
        }
        if s.setup == Setup::Pooled {
            s.setup = Setup::Cranelift;
        }
        Ok((fixture, s))
    })();
    let Ok((fixture, stream)) = case else {
        return Verdict::Discarded;
    };

    let real_backend = world::backend(stream.setup);
    let compiled = world::compiled(stream.setup, fixture);
    let limits = real_backend.wasmtime().config().limits;
    let mut real = instantiate(
        real_backend,
        &compiled,
        Some(fixture),
        limits,
        &Grants::default(),
    )
    .unwrap_or_else(|e| panic!("instantiate {fixture}: {e}"));
    let mock_backend = world::mock();
    let mut mock = instantiate(
        mock_backend,
        &world::mock_compiled(fixture),
        Some(fixture),
        mock_backend.mock().config().limits,
        &Grants::default(),
    )
    .unwrap_or_else(|e| panic!("instantiate the mock {fixture}: {e}"));
    real.compare = true;
    mock.compare = true;

    let compare = |r: Vec<Observed>, m: Vec<Observed>, what: &dyn std::fmt::Debug| {
        let (r, m) = (comparable(r), comparable(m));
        assert_eq!(
            m, r,
            "{fixture}: the mock differs from the fixture ({:?}) at {what:?}",
            stream.setup
        );
    };
    if let Some(config) = &stream.init {
        let init = Call::Init(config.clone());
        let r = real.call(&init);
        let m = mock.call(&init);
        compare(
            Vec::from_iter(r),
            Vec::from_iter(m),
            &format!("init({config:?})"),
        );
    }
    for step in &stream.steps {
        // Run the real step first: a host-dependent outcome discards the
        // case before the mock is compared.
        let before = real.inst.poisoned().is_some();
        let r = real.step(step);
        if !before
            && real
                .inst
                .poisoned()
                .is_some_and(|f| host_dependent(&f.kind))
        {
            return Verdict::Discarded;
        }
        let m = mock.step(step);
        compare(r, m, step);
    }
    if stream.teardown {
        let r = real.call(&Call::Teardown);
        let m = mock.call(&Call::Teardown);
        compare(Vec::from_iter(r), Vec::from_iter(m), &"teardown");
    }
    Verdict::Checked
}

/// Observations with the clock-dependent part of a refusal removed: how
/// long ago a deadline passed depends on each engine's clock history.
fn comparable(mut seen: Vec<Observed>) -> Vec<Observed> {
    for o in &mut seen {
        if let Some(at) = o.outcome.find("the flow's deadline passed ") {
            o.outcome.truncate(at + "the flow's deadline passed".len());
        }
    }
    seen
}
