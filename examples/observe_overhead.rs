//! What seeing inside the guest costs (the figures in `benches/RESULTS.md`):
//! compile, instantiate and call times of one component on an engine that
//! observes nothing, one that records coverage, an instance that traces
//! its host calls, and one attached to a guest profile.
//!
//! ```sh
//! cargo run --release --features coverage,profiling --example observe_overhead -- \
//!   uppercase 2000
//! cargo run --release --features coverage,profiling --example observe_overhead -- \
//!   target/guests/py-uppercase.wasm 200
//! cargo run --release --features coverage,profiling --example observe_overhead -- \
//!   target/guests/c-filter.wasm 2000
//! ```
//!
//! The first argument is a fixture name (`fixtures/components/NAME.wat`,
//! compiled with line tables when coverage is on) or the path of a
//! component binary; the second the number of `process` calls (1 KiB
//! elements) on one instance. Each figure is one run's: the first call
//! apart (with coverage it meets most breakpoints), then the mean of the
//! others. A third argument, `off`, `coverage`, `trace` or `profile`, runs
//! that mode only (for callgrind).

use std::time::{Duration, Instant};

use torvyn_engine::wasmtime::{ProfileRecorder, WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{ComponentId, ComponentInvoker, StreamElement, WasmEngine};

/// What the run observes.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Off,
    Coverage,
    Trace,
    Profile,
}

impl Mode {
    const ALL: [Mode; 4] = [Mode::Off, Mode::Coverage, Mode::Trace, Mode::Profile];

    fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Coverage => "coverage",
            Mode::Trace => "trace",
            Mode::Profile => "profile",
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "uppercase".into());
    let calls: u64 = args.next().map_or(2000, |n| n.parse().expect("a count"));
    let only = args.next();
    let modes = Mode::ALL
        .into_iter()
        .filter(|m| only.as_deref().is_none_or(|o| o == m.name()));
    for mode in modes {
        let coverage = mode == Mode::Coverage;
        let engine = WasmtimeEngine::new(WasmtimeEngineConfig {
            coverage,
            ..WasmtimeEngineConfig::default()
        })
        .expect("a valid config");
        let (bytes, origin) = load(&what, coverage);
        let t = Instant::now();
        let compiled = engine.compile_named(&bytes, &origin).expect("compiles");
        let compile = t.elapsed();
        let t = Instant::now();
        let mut inst = engine
            .instantiate(&compiled, ComponentId::new("measured"))
            .expect("instantiates");
        let instantiate = t.elapsed();
        let profile = ProfileRecorder::new("observe_overhead");
        match mode {
            Mode::Trace => inst.trace_host_calls(true),
            Mode::Profile => profile.attach(&mut inst, "measured"),
            Mode::Off | Mode::Coverage => {}
        }
        let payload = "a".repeat(1024);
        let t = Instant::now();
        inst.process_sync(StreamElement::new(0, payload.clone(), "text/plain"))
            .outcome
            .expect("the first call succeeds");
        let first = t.elapsed();
        let mut host_calls = 0;
        let t = Instant::now();
        for seq in 1..calls {
            inst.process_sync(StreamElement::new(seq, payload.clone(), "text/plain"))
                .outcome
                .expect("calls succeed");
            host_calls += inst.host_call_trace().len();
        }
        let rest = t.elapsed() / u32::try_from(calls.saturating_sub(1).max(1)).unwrap_or(1);
        let seen = match mode {
            Mode::Off => String::new(),
            Mode::Coverage => inst
                .coverage()
                .map(|c| format!(", covered {}", c.summary()))
                .unwrap_or_default(),
            Mode::Trace => format!(", {host_calls} host calls traced"),
            Mode::Profile => format!(", profile of {} bytes", profile.to_json().len()),
        };
        println!(
            "{:<8}: compile {}, instantiate {}, first call {}, then {} a call{seen}",
            mode.name(),
            show(compile),
            show(instantiate),
            show(first),
            show(rest),
        );
    }
}

fn load(what: &str, lines: bool) -> (Vec<u8>, String) {
    if what.ends_with(".wasm") {
        let bytes = std::fs::read(what).unwrap_or_else(|e| panic!("cannot read {what}: {e}"));
        return (bytes, what.to_owned());
    }
    let path = torvyn_harness::fixtures::fixture_path(what);
    let origin = path.display().to_string();
    if !lines {
        let bytes = torvyn_harness::fixtures::load_fixture(what).expect("a fixture");
        return (bytes, origin);
    }
    let text = std::fs::read_to_string(&path).expect("a fixture");
    let core = wat::Parser::new()
        .generate_dwarf(wat::GenerateDwarf::Lines)
        .parse_str(Some(&path), &text)
        .expect("valid WAT");
    let world = torvyn_harness::fixtures::world_directive(&text);
    let bytes =
        torvyn_harness::fixtures::componentize(&core, world.as_deref()).expect("componentizes");
    (bytes, origin)
}

fn show(d: Duration) -> String {
    if d >= Duration::from_millis(10) {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    }
}
