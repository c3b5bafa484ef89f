//! Load: a long soak through one instance, 64 instances at once on a
//! multi-threaded runtime, and a storm of faults with re-instantiation.
//!
//! The memory figures are resident set sizes (`/proc/self/statm`), which the
//! other tests of this binary would disturb, so the soak and the storm run
//! in a child process: the test re-runs this binary with `--exact <its own
//! name>` and [`CHILD_ENV`] set, the child does the work and prints its
//! figures on one line, and the parent checks them. The full-size soak (one
//! million elements) is `cargo run --example soak`.

use std::collections::HashSet;
use std::process::Command;
use std::time::Instant;

use torvyn_engine::wasmtime::WasmtimeInvoker;
use torvyn_engine::{
    CompilationStrategy, ComponentId, ComponentInvoker, FaultKind, InvocationMetrics, InvokeError,
    ProcessResult, StreamElement, TrapCode, WasmEngine,
};
use torvyn_harness::sim::SimRng;

use crate::support::{STRATEGIES, compiled, engine, instance};

/// Set in a child process to the work it must do (`soak`, `storm`).
const CHILD_ENV: &str = "TORVYN_LOAD_CHILD";

/// Resident memory of this process, in bytes.
fn rss_bytes() -> u64 {
    torvyn_harness::sim::resident_bytes().expect("resident memory from /proc/self/statm")
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Runs test `name` of this binary in a child with `CHILD_ENV=role` and
/// returns what it printed.
fn run_child(name: &str, role: &str) -> String {
    let exe = std::env::current_exe().expect("the test binary");
    let out = Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role)
        .output()
        .expect("spawn the child");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the child failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The `key=value` figures after `tag` in a child's output (libtest may
/// print its own words before it on the same line).
fn figures(stdout: &str, tag: &str) -> Vec<(String, f64)> {
    let line = stdout
        .lines()
        .find_map(|l| l.split_once(tag).map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no `{tag}` line from the child:\n{stdout}"));
    println!("{tag}{line}");
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.parse().expect("a number")))
        .collect()
}

fn figure(figures: &[(String, f64)], key: &str) -> f64 {
    figures
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no {key} in {figures:?}"))
        .1
}

fn is_child(role: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|r| r == role)
}

// ---- soak -------------------------------------------------------------------

const SOAK_ELEMENTS: u64 = 50_000;

/// `elements` 1 KiB elements through one `uppercase` instance; prints the
/// resident memory after the first 10% and at the end.
fn soak(elements: u64) {
    let s = CompilationStrategy::Cranelift;
    let mut u = instance(s, "uppercase");
    let payload = torvyn_engine::Bytes::from(
        (0..1024u32)
            .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[i as usize % 36])
            .collect::<Vec<u8>>(),
    );
    let expected: Vec<u8> = payload.to_ascii_uppercase();
    let started = Instant::now();
    let mut rss_10 = 0;
    for n in 0..elements {
        if n == elements / 10 {
            rss_10 = rss_bytes();
        }
        let call = u.process_sync(StreamElement::new(n, payload.clone(), "text/plain"));
        match call.outcome {
            Ok(ProcessResult::Emit(out)) if out.payload[..] == expected[..] => {}
            other => panic!("element {n}: {other:?}"),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let rss_end = rss_bytes();
    assert_eq!(u.live_resources(), 0);
    println!(
        "SOAK elements={elements} rss_10_mib={:.2} rss_end_mib={:.2} growth_pct={:.2} \
         elements_per_sec={:.0} secs={secs:.2}",
        mib(rss_10),
        mib(rss_end),
        (rss_end as f64 - rss_10 as f64) * 100.0 / rss_10 as f64,
        elements as f64 / secs,
    );
}

#[test]
fn soak_keeps_resident_memory_flat() {
    if is_child("soak") {
        return soak(SOAK_ELEMENTS);
    }
    let stdout = run_child("load::soak_keeps_resident_memory_flat", "soak");
    let figures = figures(&stdout, "SOAK ");
    let growth = figure(&figures, "growth_pct");
    assert!(
        growth < 10.0,
        "resident memory grew {growth:.2}% after the first 10%: {figures:?}"
    );
    assert_eq!(figure(&figures, "elements"), SOAK_ELEMENTS as f64);
}

// ---- fault storm --------------------------------------------------------------

const STORM_FAULTS: u32 = 10_000;
const STORM_WARM_UP: u32 = 1_000;
/// What the resident memory may grow by across the storm: 2 MiB plus 5%
/// (allocator noise), far below what one leaked instance per fault would
/// cost (its 64 KiB page and tables alone: 600+ MiB over 10 000 faults).
const STORM_SLACK_BYTES: u64 = 2 * 1024 * 1024;

/// `faults` faults in a row, alternating a trap and a fuel exhaustion, each
/// on a fresh instance from the same compiled component.
fn fault_storm(strategy: CompilationStrategy, faults: u32) {
    let e = engine(strategy);
    let trap = compiled(strategy, "trap");
    let spin = compiled(strategy, "spin");
    for n in 0..faults {
        let (compiled, name) = if n % 2 == 0 {
            (&trap, "trap")
        } else {
            (&spin, "spin")
        };
        let mut i = e
            .instantiate(compiled, ComponentId::new(name))
            .unwrap_or_else(|err| panic!("fault {n}: instantiate {name}: {err}"));
        if n % 2 == 1 {
            e.set_fuel(&mut i, 10_000).unwrap();
        }
        let call = i.process_sync(StreamElement::new(u64::from(n), "x", "t"));
        let kind = call.fault().map(|f| &f.kind);
        match (n % 2, kind) {
            (
                0,
                Some(FaultKind::Trap {
                    code: TrapCode::Unreachable,
                    ..
                }),
            )
            | (1, Some(FaultKind::FuelExhausted { budget: 10_000 })) => {}
            (_, other) => panic!("fault {n} ({name}): {other:?}"),
        }
        assert_eq!(i.live_resources(), 0);
    }
}

#[test]
fn a_storm_of_faults_leaks_nothing_and_the_engine_keeps_serving() {
    if is_child("storm") {
        for s in STRATEGIES {
            fault_storm(s, STORM_WARM_UP);
            let before = rss_bytes();
            let started = Instant::now();
            fault_storm(s, STORM_FAULTS);
            let secs = started.elapsed().as_secs_f64();
            let after = rss_bytes();
            let mut u = instance(s, "uppercase");
            match u.process_sync(StreamElement::new(0, "after", "t")).outcome {
                Ok(ProcessResult::Emit(out)) => assert_eq!(&out.payload[..], b"AFTER"),
                other => panic!("uppercase after the storm: {other:?}"),
            }
            println!(
                "STORM-{} faults={STORM_FAULTS} rss_before={before} rss_after={after} \
                 secs={secs:.2}",
                s.name()
            );
        }
        return;
    }
    let stdout = run_child(
        "load::a_storm_of_faults_leaks_nothing_and_the_engine_keeps_serving",
        "storm",
    );
    for s in STRATEGIES {
        let figures = figures(&stdout, &format!("STORM-{} ", s.name()));
        let (before, after) = (
            figure(&figures, "rss_before"),
            figure(&figures, "rss_after"),
        );
        let allowed = before * 1.05 + STORM_SLACK_BYTES as f64;
        assert!(
            after <= allowed,
            "{s:?}: resident memory grew from {:.2} MiB to {:.2} MiB over {STORM_FAULTS} faults",
            mib(before as u64),
            mib(after as u64)
        );
    }
}

// ---- concurrency --------------------------------------------------------------

/// The fixtures the 64 instances run (8 of each), and how each is fed.
const KINDS: [&str; 8] = [
    "uppercase",
    "filter",
    "passthrough",
    "lifecycle",
    "sink",
    "counter-source",
    "trap",
    "huge-offsets",
];
const INSTANCES: usize = 64;
const ELEMENTS: u64 = 60;

/// One call as seen by the caller, minus the only clock-dependent field.
#[derive(Debug, PartialEq, Eq)]
struct Record {
    outcome: String,
    metrics: InvocationMetrics,
}

fn record<T: std::fmt::Debug>(
    outcome: Result<T, InvokeError>,
    mut metrics: InvocationMetrics,
) -> Record {
    metrics.duration = Default::default();
    Record {
        outcome: format!("{outcome:?}"),
        metrics,
    }
}

/// Instance `index`'s own stream of calls, through the async API, with a
/// yield after each call so that instances interleave. Returns the records
/// and the threads the calls ran on.
async fn drive(
    index: usize,
    mut inst: WasmtimeInvoker,
) -> (Vec<Record>, HashSet<std::thread::ThreadId>) {
    let kind = KINDS[index % KINDS.len()];
    let mut rng = SimRng::new(index as u64);
    let mut records = Vec::new();
    let mut threads = HashSet::new();
    if kind == "counter-source" {
        let call = inst.init(&format!("{{\"count\": {}}}", ELEMENTS / 2)).await;
        records.push(record(call.outcome, call.metrics));
    }
    for n in 0..ELEMENTS {
        let len = rng.range(0, 300) as usize;
        let element = StreamElement::new(n, rng.text(len), format!("text/i{index}"));
        threads.insert(std::thread::current().id());
        let rec = match kind {
            "sink" => {
                let call = inst.push(element).await;
                record(call.outcome, call.metrics)
            }
            "counter-source" => {
                let call = inst.pull().await;
                record(call.outcome, call.metrics)
            }
            _ => {
                // `lifecycle` answers `unavailable` until it is initialized
                // halfway through.
                if kind == "lifecycle" && n == ELEMENTS / 2 {
                    let call = inst.init("{}").await;
                    records.push(record(call.outcome, call.metrics));
                }
                let call = inst.process(element).await;
                record(call.outcome, call.metrics)
            }
        };
        assert_eq!(inst.live_resources(), 0);
        records.push(rec);
        tokio::task::yield_now().await;
    }
    (records, threads)
}

fn fresh(strategy: CompilationStrategy, index: usize) -> WasmtimeInvoker {
    let kind = KINDS[index % KINDS.len()];
    engine(strategy)
        .instantiate(
            &compiled(strategy, kind),
            ComponentId::new(format!("{kind}-{index}")),
        )
        .unwrap()
}

/// Every instance sees exactly what it would alone. All instances share one
/// engine on the system clock, as a runtime would; nothing they compute
/// reads the clock, and no deadline is near, so every field but
/// `metrics.duration` is independent of the interleaving and is compared.
/// (A virtual clock shared by the instances would make times depend on the
/// interleaving; one engine and virtual clock per instance would compare
/// times too, at the cost of 64 engines.)
#[test]
fn sixty_four_instances_at_once_behave_as_alone() {
    for s in STRATEGIES {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        let together: Vec<(Vec<Record>, HashSet<_>)> = runtime.block_on(async {
            let tasks: Vec<_> = (0..INSTANCES)
                .map(|i| tokio::spawn(drive(i, fresh(s, i))))
                .collect();
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.expect("no task panicked"));
            }
            out
        });
        let threads: HashSet<_> = together.iter().flat_map(|(_, t)| t.iter()).collect();
        assert!(
            threads.len() > 1,
            "{s:?}: all calls ran on one thread; the test proves nothing"
        );

        let alone = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for (i, (records, _)) in together.iter().enumerate() {
            let (solo, _) = alone.block_on(drive(i, fresh(s, i)));
            assert_eq!(records.len(), solo.len());
            for (n, (a, b)) in records.iter().zip(&solo).enumerate() {
                assert_eq!(a, b, "{s:?}: instance {i} ({}), call {n}", KINDS[i % 8]);
            }
        }
        // The streams really exercised values, guest errors and faults.
        let all: Vec<&Record> = together.iter().flat_map(|(r, _)| r).collect();
        assert!(all.iter().any(|r| r.outcome.starts_with("Ok(Emit")));
        assert!(all.iter().any(|r| r.outcome.contains("Guest(Unavailable")));
        assert!(all.iter().any(|r| r.outcome.contains("Poisoned")));
    }
}
