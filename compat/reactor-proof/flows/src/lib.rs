//! What the flow tests share: a linear flow of torvyn-reactor 0.1.1's
//! [`FlowDriver`] over any 0.1 invoker, the fixtures, and the guests built
//! by `fixtures/guests/build.sh`.
//!
//! The flow is built exactly as torvyn-reactor's own tests build theirs
//! (the same stream capacity, policy and watermark, the default
//! [`FlowConfig`]), with the instances and invoker of torvyn-engine 0.1.2.

use std::path::{Path, PathBuf};

use tokio::sync::mpsc;
use torvyn_engine::{ComponentInstance, ComponentInvoker};
use torvyn_reactor::{
    FlowCancellation, FlowCompletionStats, FlowConfig, FlowDriver, FlowTopology, StageDefinition,
    StreamConfig, StreamConnection, StreamState,
};
use torvyn_types::{
    BackpressurePolicy, ComponentId, ComponentRole, FlowId, FlowState, NoopEventSink, StreamId,
};

/// The tokens `token-source` produces, in order.
pub const TOKENS: [&str; 13] = [
    "the", "quick", "fox", "jumps.", "is", "it", "darn", "late?", "oh", "darn", "well", "see",
    "you",
];

/// How a flow ended.
#[derive(Debug)]
pub struct FlowEnd {
    /// Its terminal state.
    pub state: FlowState,
    /// The driver's statistics.
    pub stats: FlowCompletionStats,
}

impl FlowEnd {
    /// Elements that went through stream `i` (stream `i` connects stage `i`
    /// to stage `i + 1`).
    pub fn stream_elements(&self, i: u64) -> u64 {
        self.stats
            .stream_stats
            .get(&StreamId::new(i))
            .map_or(0, |m| m.elements_total)
    }
}

/// The id of stage `i` of flow `flow`: `flow * 100 + i + 1`, so every
/// instance of a test binary has its own (the engine keeps guest output
/// per id). The instance of stage `i` must be created with it.
pub fn stage_id(flow: u64, i: usize) -> ComponentId {
    ComponentId::new(flow * 100 + i as u64 + 1)
}

/// Runs `instances` as one linear flow (the first is the source, the last
/// the sink, those between processors) with `invoker`, to its end.
pub async fn run_flow<I: ComponentInvoker>(
    flow: u64,
    instances: Vec<ComponentInstance>,
    invoker: I,
) -> FlowEnd {
    assert!(instances.len() >= 2, "a flow needs a source and a sink");
    let last = instances.len() - 1;
    let stages = (0..instances.len())
        .map(|i| StageDefinition {
            component_id: stage_id(flow, i),
            role: match i {
                0 => ComponentRole::Source,
                i if i == last => ComponentRole::Sink,
                _ => ComponentRole::Processor,
            },
            fuel_budget: None,
            config: String::new(),
        })
        .collect();
    let connections = (0..last)
        .map(|i| StreamConnection {
            from_stage: i,
            to_stage: i + 1,
            config: StreamConfig::default(),
        })
        .collect();
    let topology = FlowTopology {
        stages,
        connections,
    };
    topology.validate().expect("a linear topology is valid");
    let flow_id = FlowId::new(flow);
    let streams = (0..last)
        .map(|i| {
            StreamState::new(
                StreamId::new(i as u64),
                flow_id,
                stage_id(flow, i),
                stage_id(flow, i + 1),
                64,
                BackpressurePolicy::BlockProducer,
                0.5,
            )
        })
        .collect();
    let (event_tx, _event_rx) = mpsc::channel(1024);
    let driver = FlowDriver::new(
        flow_id,
        FlowConfig::default_with_topology(topology),
        instances,
        streams,
        invoker,
        NoopEventSink,
        FlowCancellation::new(),
        event_tx,
    );
    let (id, state, stats) = driver.run().await;
    assert_eq!(id, flow_id);
    FlowEnd { state, stats }
}

/// A WAT fixture of `fixtures/components/`, componentized.
pub fn fixture(name: &str) -> Vec<u8> {
    torvyn_harness::fixtures::load_fixture(name).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// `drop-darn`, this crate's fixture: a processor that drops the payloads
/// containing "darn" and emits the others unchanged.
pub fn drop_darn() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/drop-darn.wat");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    torvyn_harness::fixtures::component_from_wat(&text, &path.display().to_string())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Where `fixtures/guests/build.sh` put the guests: `$TORVYN_GUESTS`, else
/// `guests/` in the target directory (`$CARGO_TARGET_DIR`, else the
/// repository's `target/`).
pub fn guests_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TORVYN_GUESTS") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../target"),
        PathBuf::from,
    );
    target.join("guests")
}

/// The bytes of guest `name` (`py-uppercase`...), or `None` with the reason
/// printed when it is not built and this is not CI (`$CI` set): in CI a
/// missing guest fails the test.
pub fn guest(name: &str) -> Option<Vec<u8>> {
    let path = guests_dir().join(format!("{name}.wasm"));
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            let why = format!(
                "{} cannot be read ({e}): run fixtures/guests/build.sh (needs python3, node, \
                 npm and the network the first time)",
                path.display()
            );
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// What a `py-sink` printed, as the payload of each line, in order (its
/// lines read `<label> <sequence>: <payload>`).
pub fn printed_payloads(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| match line.split_once(": ") {
            Some((_, payload)) => payload.to_owned(),
            None => panic!("a py-sink line without `: `: {line:?}"),
        })
        .collect()
}
