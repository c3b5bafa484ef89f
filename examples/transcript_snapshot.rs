//! Captures the transcript of a scenario and prints its snapshot form: the
//! YAML that the snapshot suite stores with insta (see
//! `tests/all/snapshots.rs`).
//!
//! ```sh
//! cargo run --example transcript_snapshot -- fixtures/scenarios/uppercase.yaml
//! ```

use torvyn_harness::scenario::Scenario;
use torvyn_harness::scenario::run_scenario;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fixtures/scenarios/uppercase.yaml".into());
    let scenario = Scenario::load(&path)?;
    let first = run_scenario(&scenario)?.snapshot_form();
    let again = run_scenario(&scenario)?.snapshot_form();
    let yaml = first.to_yaml()?;
    assert_eq!(
        yaml,
        again.to_yaml()?,
        "the same scenario replays bit for bit"
    );
    println!("{yaml}");
    // In a test: insta::assert_yaml_snapshot!("uppercase", first);
    Ok(())
}
