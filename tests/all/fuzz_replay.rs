//! Every fuzz target, replayed on stable in every test run: its committed
//! seed corpus (`fuzz/corpus/<target>/`), every crash a fuzzing run found
//! (`fuzz/regressions/<target>/`), and a fixed number of seeded random
//! inputs (`TORVYN_SIM_SEED` changes them; a failure prints the seed).

use torvyn_harness::fuzz::{self, TARGETS};
use torvyn_harness::sim::{ReplayGuard, seed_from_env};

fn replay(name: &str) {
    let target = fuzz::target(name).expect("a target of that name");
    let seed = seed_from_env();
    let _guard = ReplayGuard::new(seed).with_label(format!("fuzz target {name}"));
    let committed = fuzz::committed_inputs(name);
    assert!(
        !committed.is_empty(),
        "fuzz/corpus/{name}/ holds the target's seed corpus; it is empty"
    );
    let report = fuzz::replay(target, seed);
    assert_eq!(report.ran, committed.len() + target.random_inputs);
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|(origin, message)| format!("{origin}:\n  {message}"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} inputs of {name} failed an oracle:\n{}",
        failures.len(),
        report.ran,
        failures.join("\n")
    );
    assert!(
        report.discarded < report.ran,
        "{name} discarded every input: the replay checks nothing"
    );
}

#[test]
fn invoke_elements() {
    replay("invoke_elements");
}

#[test]
fn differential() {
    replay("differential");
}

#[test]
fn api_sequence() {
    replay("api_sequence");
}

#[test]
fn component_bytes() {
    replay("component_bytes");
}

#[test]
fn cache_entry() {
    replay("cache_entry");
}

/// One input gives one result: every target's committed inputs (seed
/// corpus and regressions), run twice in one process (the second time in
/// reverse order, so no input runs after the same neighbour), give the
/// same verdict, the same oracle message and the same observations (each
/// call's outcome, accounting, fuel, duration on the engine clock and
/// memory; each cache case's tier and counters; where every fuzz clock
/// ended). A target that read a real clock would differ in its durations
/// and clocks; one that carried state from input to input, in what it saw.
#[test]
fn every_target_replays_the_same_way_twice() {
    for target in &TARGETS {
        let inputs: Vec<(String, Vec<u8>)> = fuzz::committed_inputs(target.name)
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                (p.display().to_string(), bytes)
            })
            .collect();
        let first: Vec<_> = inputs
            .iter()
            .map(|(_, bytes)| fuzz::run_observed(target, bytes))
            .collect();
        let mut second: Vec<_> = inputs
            .iter()
            .rev()
            .map(|(_, bytes)| fuzz::run_observed(target, bytes))
            .collect();
        second.reverse();
        for (((origin, _), a), b) in inputs.iter().zip(&first).zip(&second) {
            assert_eq!(a.0, b.0, "{}: {origin} gave two verdicts", target.name);
            if let Some((i, (x, y))) = a.1.iter().zip(&b.1).enumerate().find(|(_, (x, y))| x != y) {
                panic!(
                    "{}: {origin} replayed differently at observation {i}:\n  first:  {x}\n  second: {y}",
                    target.name
                );
            }
            assert_eq!(
                a.1.len(),
                b.1.len(),
                "{}: {origin} made another number of observations the second time",
                target.name
            );
        }
        // What was compared is not nothing: every input observed its
        // clocks at least, and some input's calls took virtual time.
        let observed: usize = first.iter().map(|(_, lines)| lines.len()).sum();
        assert!(
            first.iter().all(|(_, lines)| !lines.is_empty()),
            "{}: an input observed nothing",
            target.name
        );
        assert!(
            observed > inputs.len(),
            "{}: {observed} observations over {} inputs",
            target.name,
            inputs.len()
        );
    }
}

#[test]
fn recording() {
    replay("recording");
}

#[test]
fn every_target_is_replayed_here() {
    let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        [
            "invoke_elements",
            "differential",
            "api_sequence",
            "component_bytes",
            "cache_entry",
            "recording"
        ]
    );
}

/// The oracles catch what they are meant to: a target fed a case that
/// breaks an invariant panics. A leaked resource cannot be produced through
/// the public API, so this checks the weakest link instead: the fixture
/// table names the allowed outcomes, and a fixture answering outside them
/// fails.
#[test]
fn an_outcome_outside_the_table_fails_the_oracle() {
    use torvyn_engine::{ComponentInvoker, Function, StreamElement, WasmEngine};
    use torvyn_harness::fuzz::oracle::CallCheck;
    use torvyn_harness::fuzz::world::{self, Setup};

    // The fuzz engines are shared: no target's case runs meanwhile.
    let _case = world::case();
    let engine = world::engine(Setup::Cranelift);
    let mut inst = engine
        .instantiate(
            &world::compiled(Setup::Cranelift, "trap"),
            torvyn_engine::ComponentId::new("trap"),
        )
        .unwrap();
    let call = inst.process_sync(StreamElement::new(0, "x", "text/plain"));
    let check = |fixture| CallCheck {
        fixture: Some(fixture),
        function: Function::Process,
        config_empty: false,
        roles: inst.roles(),
        was_poisoned: false,
        must_reject: false,
        fuel_budget: Some(engine.config().limits.fuel_per_call),
    };
    // `trap` may trap...
    check("trap").check(&call, &inst);
    // ...`passthrough` may not.
    // The replay turns an oracle's panic into a failure with its message.
    let caught = fuzz::run_caught(
        &fuzz::Target {
            name: "probe",
            run: |input| panic!("probe oracle failed on {} bytes", input.len()),
            random_inputs: 0,
        },
        b"abc",
    );
    assert_eq!(caught, Err("probe oracle failed on 3 bytes".to_string()));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        check("passthrough").check(&call, &inst)
    }));
    let message = caught.expect_err("a trap is not an outcome of passthrough");
    let message = message.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("passthrough's process may answer"),
        "{message}"
    );
    // A budget smaller than what was consumed fails too.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        CallCheck {
            fuel_budget: Some(call.metrics.fuel_consumed - 1),
            ..check("trap")
        }
        .check(&call, &inst)
    }));
    assert!(caught.is_err(), "fuel over the budget is caught");
}

/// The generated and mutated candidates of `component_bytes` get past
/// compile and instantiate often enough for their calls to be fuzzed: a
/// generator whose output the engine always refused would fuzz nothing but
/// the parser.
#[test]
fn component_bytes_candidates_reach_the_guest() {
    use std::collections::HashMap;
    use torvyn_harness::fuzz::targets::{Reach, component_bytes_case};

    let mut seen: HashMap<(&str, Reach), usize> = HashMap::new();
    for input in fuzz::random_inputs(seed_from_env(), "reach", 160, 4096) {
        let (reach, kind, _) = component_bytes_case(&input);
        *seen.entry((kind, reach)).or_default() += 1;
    }
    eprintln!("component_bytes, how far 160 seeded candidates got: {seen:?}");
    let count = |kind, reach| seen.get(&(kind, reach)).copied().unwrap_or(0);
    let generated: usize = seen
        .iter()
        .filter(|((kind, _), _)| *kind == "generated")
        .map(|(_, n)| n)
        .sum();
    assert!(
        count("generated", Reach::Called) * 4 >= generated && generated > 0,
        "most wasm-smith modules must reach their calls: {seen:?}"
    );
    assert!(
        count("mutated", Reach::Called) + count("mutated", Reach::Instantiate) > 0,
        "no mutated fixture got past compile: {seen:?}"
    );
    assert!(
        count("raw", Reach::Called) == 0,
        "random bytes are not a component: {seen:?}"
    );
}

/// What every committed `api_sequence` input decodes to, one op a line
/// (instantiations by fixture name), under a header naming the file and
/// the backend.
fn decoded_api_inputs() -> String {
    use std::fmt::Write;
    use torvyn_harness::fuzz::generate::ApiOp;
    use torvyn_harness::fuzz::targets::api_case;

    let dir = fuzz::fuzz_dir();
    let mut out = String::new();
    for path in fuzz::committed_inputs("api_sequence") {
        let name = path.strip_prefix(&dir).unwrap_or(&path).display();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {name}: {e}"));
        let Some(case) = api_case(&bytes) else {
            writeln!(out, "# {name}: discarded").unwrap();
            continue;
        };
        writeln!(out, "# {name}: {:?}", case.backend).unwrap();
        let fixtures = case.backend.fixtures();
        for op in &case.ops {
            match op {
                ApiOp::Instantiate(f) => writeln!(out, "Instantiate({:?})", fixtures[*f]),
                ApiOp::InstantiateWith(f, grants) => {
                    writeln!(out, "InstantiateWith({:?}, {grants:?})", fixtures[*f])
                }
                other => writeln!(out, "{other:?}"),
            }
            .unwrap();
        }
    }
    out
}

/// Every committed `api_sequence` input (seed corpus and regressions)
/// decodes to the ops recorded in `fuzz/decoded/api_sequence.txt`: a
/// generator change that gives an old input another meaning fails here
/// instead of silently testing something else. After a deliberate change
/// (or a new committed input), `BLESS=1` rewrites the file; review its
/// diff.
#[test]
fn committed_api_sequence_inputs_decode_as_recorded() {
    let path = fuzz::fuzz_dir().join("decoded").join("api_sequence.txt");
    let decoded = decoded_api_inputs();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &decoded).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let recorded = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with BLESS=1 to write it", path.display()));
    if let Some((i, (got, want))) = decoded
        .lines()
        .zip(recorded.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
    {
        panic!(
            "line {} of {} differs:\n  decoded:  {got}\n  recorded: {want}\n\
             (BLESS=1 rewrites the file after a deliberate change)",
            i + 1,
            path.display()
        );
    }
    assert_eq!(
        decoded.lines().count(),
        recorded.lines().count(),
        "{} has another number of lines than the inputs decode to \
         (BLESS=1 rewrites it after a deliberate change)",
        path.display()
    );
}

/// Every wasm-smith shape, the extension worlds' included, gives modules
/// that wit-component takes and the engine compiles, instantiates and
/// calls: inputs that pick a shape (setup byte, candidate byte, shape
/// byte), each followed by fixed seeded bytes for wasm-smith and the rest
/// of the case.
#[test]
fn every_component_bytes_shape_reaches_the_guest() {
    use torvyn_harness::fuzz::targets::{
        EXTENSION_SHAPE_BYTES, Reach, SHAPES, component_bytes_case,
    };

    let tails = fuzz::random_inputs(0x5_4A9E, "shapes", 12, 4096);
    for (i, fixture) in SHAPES.iter().enumerate() {
        // Shape bytes as the generator reads them: below 32 the extension
        // shapes, from 32 the contract's.
        let byte = if i < 4 { 32 + i } else { i - 4 } as u8;
        assert_eq!(EXTENSION_SHAPE_BYTES.contains(&byte), i >= 4);
        let mut reached = Vec::new();
        for tail in &tails {
            // Cranelift; candidate byte 5: a generated module.
            let input = [&[0u8, 5, byte][..], tail].concat();
            let (reach, kind, shape) = component_bytes_case(&input);
            assert_eq!((kind, shape), ("generated", Some(*fixture)));
            reached.push(reach);
        }
        let called = reached.iter().filter(|r| **r == Reach::Called).count();
        eprintln!("{fixture}-shaped: {called} of {} called", tails.len());
        assert!(
            called * 2 >= tails.len(),
            "most {fixture}-shaped modules must reach their calls: {reached:?}"
        );
    }
}

/// `invoke_elements` drives one fixture per input, chosen by its first
/// byte: every fixture of the oracle's table is reachable that way, the
/// heavy one included when the stream asks for it.
#[test]
fn every_fixture_is_reachable_by_invoke_elements() {
    use std::collections::BTreeSet;
    use torvyn_harness::fuzz::oracle::fuzzed_fixtures;
    use torvyn_harness::fuzz::targets::invoke_elements_fixture;

    let tails = fuzz::random_inputs(0x1E_F1C5, "fixtures", 16, 256);
    let mut reached = BTreeSet::new();
    for first in 0..=u8::MAX {
        for tail in &tails {
            let input = [&[first][..], tail].concat();
            if let Some(fixture) = invoke_elements_fixture(&input) {
                reached.insert(fixture);
            }
        }
    }
    let all: BTreeSet<&str> = fuzzed_fixtures().collect();
    assert_eq!(reached, all, "fixtures invoke_elements never drives");
    // The seed corpus drives each one too, so every replay (and every
    // fuzzing run's first pass) calls every fixture.
    let seeded: BTreeSet<&str> = fuzz::committed_inputs("invoke_elements")
        .iter()
        .filter_map(|p| invoke_elements_fixture(&std::fs::read(p).unwrap()))
        .collect();
    let missing: Vec<&&str> = all.difference(&seeded).collect();
    assert!(
        missing.is_empty(),
        "no input of fuzz/corpus/invoke_elements/ drives {missing:?}"
    );
}

/// The committed inputs of the targets that fail host calls on purpose
/// (`invoke_elements`, `api_sequence`), each with a plan appended
/// (`generate::split_host_fault_plan`: host calls 0, 2 and 5 of the run,
/// host call 1 of every call, a seeded 1 in 20): every oracle holds while
/// the host says no, and the plans do fail host calls.
#[test]
fn committed_inputs_hold_their_oracles_with_host_calls_failing() {
    for name in ["invoke_elements", "api_sequence"] {
        let target = fuzz::target(name).expect("a target of that name");
        let mut failed_on_purpose = 0;
        for path in fuzz::committed_inputs(name) {
            let data = std::fs::read(&path).unwrap();
            for plan in [1u8, 3, 6, 129, 200] {
                let mut input = data.clone();
                input.extend([fuzz::generate::HOST_FAULT_MARKER, plan]);
                let (verdict, observed) = fuzz::run_observed(target, &input);
                if let Err(e) = verdict {
                    panic!("{} with plan byte {plan}: {e}", path.display());
                }
                failed_on_purpose += observed
                    .iter()
                    .filter(|l| l.contains("failed on purpose"))
                    .count();
            }
        }
        assert!(
            failed_on_purpose > 0,
            "{name}: no host call failed on purpose; the plans test nothing"
        );
    }
}
