//! Coverage on Wasmtime: one-shot breakpoints record which functions and
//! WAT lines ran.

use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{ComponentId, ComponentInvoker, StreamElement, WasmEngine};

use super::support::ok;

fn coverage_engine() -> WasmtimeEngine {
    WasmtimeEngine::new(WasmtimeEngineConfig {
        coverage: true,
        ..WasmtimeEngineConfig::default()
    })
    .expect("coverage config is valid")
}

/// `fixtures/components/NAME.wat`, compiled with line tables on `engine`.
fn compiled_with_lines(
    engine: &WasmtimeEngine,
    name: &str,
) -> (torvyn_engine::wasmtime::WasmtimeCompiled, String) {
    let path = torvyn_harness::fixtures::fixture_path(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let origin = path.display().to_string();
    let core = wat::Parser::new()
        .generate_dwarf(wat::GenerateDwarf::Lines)
        .parse_str(Some(&path), &text)
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"));
    let world = torvyn_harness::fixtures::world_directive(&text);
    let bytes = torvyn_harness::fixtures::componentize(&core, world.as_deref())
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"));
    let compiled = engine
        .compile_named(&bytes, &origin)
        .unwrap_or_else(|e| panic!("compile {name}: {e}"));
    (compiled, text)
}

/// The 1-based line of `text` containing `needle` (exactly one must).
fn line_of(text: &str, needle: &str) -> u32 {
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "`{needle}` is on lines {lines:?}");
    lines[0] as u32
}

#[test]
fn taking_one_branch_covers_its_lines_and_not_the_others() {
    let engine = coverage_engine();
    let (compiled, text) = compiled_with_lines(&engine, "filter");
    let mut inst = engine
        .instantiate(&compiled, ComponentId::new("filter"))
        .unwrap();
    // Odd sequence numbers only: the drop branch.
    for seq in [1, 3, 5] {
        ok(
            inst.process_sync(StreamElement::new(seq, "x", "text/plain")),
            &inst,
        );
    }
    let coverage = inst.coverage().expect("the engine records coverage");
    let lcov = coverage.to_lcov();
    let file = coverage
        .file_ending_with("filter.wat")
        .unwrap_or_else(|| panic!("no record for filter.wat in\n{lcov}"));
    let drop_line = line_of(&text, "(return (call $ok-drop))");
    let clone_line = line_of(
        &text,
        "(call $clone-into-mutable (local.get $payload) (i32.const 0))",
    );
    assert_eq!(file.line(drop_line), Some(1), "{lcov}");
    assert_eq!(file.line(clone_line), Some(0), "{lcov}");
    assert!(lcov.contains(&format!("DA:{drop_line},1\n")), "{lcov}");
    assert!(lcov.contains(&format!("DA:{clone_line},0\n")), "{lcov}");
    assert_eq!(file.function("ok-drop").map(|f| f.hits), Some(1), "{lcov}");
    assert_eq!(file.function("ok-emit").map(|f| f.hits), Some(0), "{lcov}");
    // An unnamed function goes by its export name.
    let process = file.function("torvyn:streaming/processor@0.1.0#process");
    assert_eq!(process.map(|f| f.hits), Some(1), "{lcov}");
}

#[test]
fn the_async_api_inside_tokio_records_the_same() {
    let engine = coverage_engine();
    let (compiled, text) = compiled_with_lines(&engine, "filter");
    let mut inst = engine
        .instantiate(&compiled, ComponentId::new("filter"))
        .unwrap();
    super::support::on_tokio(async {
        // Sequence 2, even: the emit branch only.
        let call = inst.process(StreamElement::new(2, "x", "text/plain")).await;
        assert!(call.outcome.is_ok(), "{:?}", call.outcome);
    });
    let coverage = inst.coverage().unwrap();
    let file = coverage.file_ending_with("filter.wat").unwrap();
    let drop_line = line_of(&text, "(return (call $ok-drop))");
    let clone_line = line_of(
        &text,
        "(call $clone-into-mutable (local.get $payload) (i32.const 0))",
    );
    assert_eq!(file.line(clone_line), Some(1), "{}", coverage.to_lcov());
    assert_eq!(file.line(drop_line), Some(0), "{}", coverage.to_lcov());
}

#[test]
fn the_engine_adds_up_its_instances_even_dropped_ones() {
    let engine = coverage_engine();
    let (compiled, text) = compiled_with_lines(&engine, "filter");
    let drop_line = line_of(&text, "(return (call $ok-drop))");
    for seq in [1, 3] {
        let mut inst = engine
            .instantiate(&compiled, ComponentId::new("filter"))
            .unwrap();
        ok(
            inst.process_sync(StreamElement::new(seq, "x", "text/plain")),
            &inst,
        );
    }
    let coverage = engine.coverage().expect("the engine records coverage");
    let file = coverage.file_ending_with("filter.wat").unwrap();
    assert_eq!(file.line(drop_line), Some(2), "{}", coverage.to_lcov());
    assert_eq!(file.function("ok-drop").unwrap().hits, 2);
}

#[test]
fn an_engine_without_coverage_records_none_and_winch_is_refused() {
    let engine = super::support::engine(torvyn_engine::CompilationStrategy::Cranelift);
    assert!(engine.coverage().is_none());
    let mut inst =
        super::support::instance(torvyn_engine::CompilationStrategy::Cranelift, "filter");
    ok(
        inst.process_sync(StreamElement::new(1, "x", "text/plain")),
        &inst,
    );
    assert!(inst.coverage().is_none());

    let e = WasmtimeEngine::new(WasmtimeEngineConfig {
        coverage: true,
        ..WasmtimeEngineConfig::with_strategy(torvyn_engine::CompilationStrategy::Winch)
    })
    .err()
    .expect("Winch with coverage is refused");
    let message = e.to_string();
    assert!(message.contains("`coverage`"), "{message}");
    assert!(message.contains("compile with Cranelift"), "{message}");
}

#[test]
fn a_trap_is_still_a_trap_with_coverage_on() {
    let engine = coverage_engine();
    let (compiled, _) = compiled_with_lines(&engine, "trap");
    let mut inst = engine
        .instantiate(&compiled, ComponentId::new("trap"))
        .unwrap();
    let call = inst.process_sync(StreamElement::new(0, "x", "text/plain"));
    let fault = call.outcome.expect_err("the fixture traps");
    assert!(format!("{fault:?}").contains("Trap"), "{fault:?}");
    let coverage = inst.coverage().unwrap();
    assert!(
        coverage.summary().functions_hit > 0,
        "{}",
        coverage.to_lcov()
    );
}
