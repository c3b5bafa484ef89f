//! Our mock's `process` (the `passthrough` model, 64 B) in a plain loop, for
//! profilers: `valgrind --tool=callgrind` counts its instructions per call,
//! `perf record` shows where the time goes.
//!
//! ```sh
//! cargo build --release --manifest-path compare/published-mock/Cargo.toml --example mock_loop
//! valgrind --tool=callgrind compare/published-mock/target/release/examples/mock_loop 100000
//! perf record -g compare/published-mock/target/release/examples/mock_loop 3000000
//! ```
//!
//! Arguments: the number of calls (default 1 000 000), then `on` for the
//! journal on, `static` for a `const` content type instead of one built
//! per element, and `bytes=N` for N-byte payloads (default 64). Prints ns
//! per call (wall time; use a quiet machine).

use std::hint::black_box;
use std::time::Instant;

use ours::mock::JournalMode;
use ours::{ProcessResult, StreamElement};
use torvyn_published_mock_compare::{CONTENT_TYPE, STATIC_TYPE, our_instance, payload};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let calls: u64 = args.first().map_or(1_000_000, |s| {
        s.parse().expect("the first argument is a number of calls")
    });
    let journal = if args.iter().any(|a| a == "on") {
        JournalMode::Unbounded
    } else {
        JournalMode::Off
    };
    let fixed = args.iter().any(|a| a == "static");
    let (engine, mut inv) = our_instance(journal);
    let bytes = args
        .iter()
        .find_map(|a| a.strip_prefix("bytes="))
        .map_or(64, |n| n.parse().expect("bytes=N takes a number of bytes"));
    let payload = payload(bytes);
    let start = Instant::now();
    for seq in 0..calls {
        let element = if fixed {
            StreamElement::new(seq, payload.clone(), STATIC_TYPE)
        } else {
            StreamElement::new(seq, payload.clone(), CONTENT_TYPE)
        };
        match black_box(inv.process_sync(element)).outcome {
            Ok(ProcessResult::Emit(_)) => {}
            other => panic!("passthrough emits: {other:?}"),
        }
        if seq % 10_000 == 0 {
            engine.journal().reset();
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / calls.max(1) as f64;
    println!("{ns:.1} ns/call");
}
