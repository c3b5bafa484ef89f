//! Engine against the minimal `bindgen!` baseline in interleaved rounds
//! (`torvyn_harness::bench::compare_with`): each round runs the engine and
//! the baseline back to back, alternating which goes first, and the
//! figures are the medians over the rounds. Slower drifts of a shared
//! machine (other builds starting and stopping) hit both sides alike, which
//! criterion's one-benchmark-after-the-other runs cannot promise.
//!
//! Prints a Markdown table; `benches/report.sh` shows it under the
//! criterion table. Not a criterion bench: no filter, no baseline saved.

use torvyn_engine::wasmtime::WasmtimeEngineConfig;
use torvyn_engine::{CompilationStrategy, Limits};
use torvyn_harness::bench::{CompareOptions, compare_with};

fn main() {
    // `cargo bench` passes `--bench`; a filter argument skips this file
    // unless it names it.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| "interleaved".contains(f.as_str())) {
        return;
    }
    println!(
        "| component | payload | compiler | fuel | engine ns/element | baseline ns/element | engine ÷ baseline |"
    );
    println!("|---|---:|---|---|---:|---:|---:|");
    let configs = [
        (CompilationStrategy::Cranelift, true),
        (CompilationStrategy::Cranelift, false),
        (CompilationStrategy::Winch, true),
    ];
    for (strategy, fuel) in configs {
        for component in ["passthrough", "uppercase", "sink", "counter-source"] {
            for payload in [64usize, 1024, 64 * 1024] {
                if component == "counter-source" && payload != 64 {
                    continue;
                }
                // About 0.2 s per side, whatever the payload.
                let elements = match payload {
                    64 => 60_000,
                    1024 => 30_000,
                    _ => 1_000,
                };
                let options = CompareOptions {
                    payload_bytes: payload,
                    elements,
                    rounds: 15,
                    config: WasmtimeEngineConfig {
                        limits: Limits {
                            fuel_enabled: fuel,
                            ..Limits::default()
                        },
                        ..WasmtimeEngineConfig::with_strategy(strategy)
                    },
                    ..CompareOptions::new(component)
                };
                let r = compare_with(&options).unwrap_or_else(|e| panic!("{e}"));
                println!(
                    "| {} ({}) | {} | {} | {} | {:.0} | {:.0} | {:.3} |",
                    r.component,
                    r.function,
                    if r.function == "pull" {
                        "—".to_string()
                    } else {
                        format!("{} B", r.payload_bytes)
                    },
                    strategy.name(),
                    if fuel { "on" } else { "off" },
                    r.engine_ns,
                    r.baseline_ns,
                    r.ratio
                );
            }
        }
    }
}
