//! Determinism: a scenario or pipeline run twice in fresh engines gives the
//! same transcript, bit for bit (snapshot form: everything but wall-clock
//! figures), and Winch gives the same results as Cranelift.
//!
//! Across compilers the outputs, guest errors and fault kinds must agree,
//! and they do. Fuel counts Wasm operators as the engine executes them, so
//! it usually agrees too, and with it virtual time (a function of fuel and
//! host calls) and even where a fuel budget or a virtual deadline stops an
//! endless loop (`spin-fuel`, `spin-deadline`). The exception under
//! Wasmtime 48 is `wasi-hello`, the only fixture calling WASI imports:
//! 354 units per `process` under Cranelift, 341 under Winch; the compilers
//! account for some operators on that path differently. So the test
//! compares every scenario with fuel and time masked, and the full entries
//! (fuel and time included) for every scenario not in [`FUEL_DIFFERS`]. A
//! Wasmtime upgrade may change either list; fuel figures are only promised
//! to be stable for one Wasmtime version and one compiler.

use torvyn_engine::CompilationStrategy;
use torvyn_engine::Function;
use torvyn_harness::pipeline::{Pipeline, pipelines_dir, run_pipeline};
use torvyn_harness::scenario::run_scenario;
use torvyn_harness::scenario::{
    GeneratedInputs, GeneratedKind, Scenario, scenario_files, scenarios_dir,
};
use torvyn_harness::sim::{ReplayGuard, seed_from_env};
use torvyn_harness::transcript::{Outcome, Transcript};

fn scenarios() -> Vec<Scenario> {
    scenario_files(scenarios_dir())
        .unwrap()
        .iter()
        .map(|p| Scenario::load(p).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn run(s: &Scenario) -> Transcript {
    run_scenario(s).unwrap_or_else(|e| panic!("{}: {e}", s.name))
}

#[test]
fn every_scenario_replays_exactly_in_a_fresh_engine() {
    for s in scenarios() {
        for strategy in [CompilationStrategy::Cranelift, CompilationStrategy::Winch] {
            let s = s.clone().with_strategy(strategy);
            assert_eq!(
                run(&s).snapshot_form(),
                run(&s).snapshot_form(),
                "{} under {strategy:?}",
                s.name
            );
        }
    }
}

#[test]
fn every_pipeline_replays_exactly_in_a_fresh_engine() {
    for path in scenario_files(pipelines_dir()).unwrap() {
        let p = Pipeline::load(&path).unwrap();
        let a = run_pipeline(&p).unwrap().snapshot_form();
        let b = run_pipeline(&p).unwrap().snapshot_form();
        assert_eq!(a, b, "{}", p.name);
    }
}

/// Scenarios whose fuel (and so virtual time) differs between Cranelift
/// and Winch under Wasmtime 48 (see the module docs).
const FUEL_DIFFERS: &[&str] = &["wasi-hello", "sentence-aggregator"];

#[test]
fn winch_gives_the_same_results_as_cranelift() {
    for s in scenarios() {
        let c = run(&s.clone().with_strategy(CompilationStrategy::Cranelift));
        let w = run(&s.clone().with_strategy(CompilationStrategy::Winch));
        let mut masked_w = w.without_costs();
        masked_w.strategy = CompilationStrategy::Cranelift;
        assert_eq!(c.without_costs(), masked_w, "{}: results differ", s.name);
        if !FUEL_DIFFERS.contains(&s.name.as_str()) {
            let fuel = |t: &Transcript| t.entries.iter().map(|e| e.fuel).collect::<Vec<_>>();
            assert_eq!(fuel(&c), fuel(&w), "{}: fuel differs", s.name);
            assert_eq!(
                c.snapshot_form().entries,
                w.snapshot_form().entries,
                "{}",
                s.name
            );
        }
    }
}

#[test]
fn generated_inputs_follow_the_seed() {
    let seed = seed_from_env();
    let _guard = ReplayGuard::new(seed).with_label("generated uppercase");
    let s = Scenario {
        generate: Some(GeneratedInputs {
            count: 20,
            min_len: 0,
            max_len: 100,
            kind: GeneratedKind::Text,
            content_type: None,
        }),
        ..Scenario::new("generated", "uppercase").with_seed(seed)
    };
    let t = run(&s);
    assert_eq!(t.snapshot_form(), run(&s).snapshot_form());
    let emitted = t
        .entries
        .iter()
        .filter(|e| e.call == Function::Process)
        .inspect(|e| assert_eq!(e.live_resources, 0))
        .filter(|e| matches!(e.outcome, Outcome::Emit { .. }))
        .count();
    assert_eq!(emitted, 20);
    let other = run(&s.clone().with_seed(seed.wrapping_add(1)));
    let inputs = |t: &Transcript| {
        t.entries
            .iter()
            .map(|e| e.input.clone())
            .collect::<Vec<_>>()
    };
    assert_ne!(
        inputs(&t),
        inputs(&other),
        "another seed draws other inputs"
    );
}
