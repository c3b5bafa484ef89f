//! A recording as a scenario file (`torvyn-sim record to-scenario`).

use torvyn_engine::record::{Payload, PayloadMode, Recording};
use torvyn_engine::{BackpressureSignal, Function, Role};

use crate::error::HarnessError;
use crate::scenario::{BackpressureStep, InputElement, Scenario};
use crate::spec::BackendKind;

/// The scenario that drives the recorded component as the recording did:
/// its role (from the calls made), init config, grants, the recorded input
/// elements (text as `payload`, other bytes as `payload_hex`, content
/// types, deadlines relative to each element's timestamp), and for a
/// source its pulls and backpressure steps. The runner stamps sequence
/// numbers, timestamps and flow ids afresh from the scenario's seed, so
/// `torvyn-sim check` on it snapshots the recorded traffic from then on.
pub fn to_scenario(recording: &Recording) -> Result<Scenario, HarnessError> {
    let header = &recording.header;
    let name = header.component.id.clone();
    if header.payloads == PayloadMode::Digest && recording.calls.iter().any(|c| c.input.is_some()) {
        return Err(HarnessError::InvalidScenario {
            scenario: name,
            problem: "the recording keeps digests of its payloads, not the payloads: no \
                      scenario can send them; record with payloads stored"
                .into(),
        });
    }
    let role = recording.calls.iter().find_map(|c| match c.function {
        Function::Process => Some(Role::Processor),
        Function::Pull | Function::NotifyBackpressure => Some(Role::Source),
        Function::Push | Function::Complete => Some(Role::Sink),
        Function::Evaluate => Some(Role::Filter),
        Function::Route => Some(Role::Router),
        Function::Ingest | Function::Flush => Some(Role::Aggregator),
        _ => None,
    });
    let config = recording
        .calls
        .iter()
        .find(|c| c.function == Function::Init)
        .and_then(|c| c.argument.clone());
    let mut inputs = Vec::new();
    let mut pulls = 0u64;
    let mut backpressure = Vec::new();
    for call in &recording.calls {
        match call.function {
            Function::Pull => pulls += 1,
            Function::NotifyBackpressure => backpressure.push(BackpressureStep {
                after_pull: pulls,
                signal: if call.argument.as_deref() == Some("pause") {
                    BackpressureSignal::Pause
                } else {
                    BackpressureSignal::Ready
                },
            }),
            _ => {}
        }
        let Some(input) = &call.input else { continue };
        let bytes = match &input.payload {
            Payload::Stored(b) => b.clone(),
            Payload::Digest { .. } => continue,
        };
        let (payload, payload_hex) = match std::str::from_utf8(&bytes) {
            Ok(text) => (Some(text.to_string()), None),
            Err(_) => (None, Some(torvyn_engine::record::hex(&bytes))),
        };
        inputs.push(InputElement {
            payload,
            payload_hex,
            content_type: Some(input.content_type.clone()),
            deadline_ns: input
                .context
                .deadline_ns
                .map(|d| d.saturating_sub(input.timestamp_ns)),
        });
    }
    let component = header
        .component
        .source
        .clone()
        .unwrap_or_else(|| header.component.id.clone());
    let backend = match header.component.backend.as_deref() {
        Some("mock") => Some(BackendKind::Mock),
        Some("wasmtime") => Some(BackendKind::Wasmtime),
        _ => None,
    };
    Ok(Scenario {
        description: Some(format!(
            "recorded traffic of `{}` ({} calls, {}), made by `torvyn-sim record to-scenario`",
            header.component.id,
            recording.calls.len(),
            header.engine
        )),
        role,
        config,
        grants: header.component.grants.clone(),
        inputs,
        pull_limit: (role == Some(Role::Source)).then_some(pulls.max(1)),
        backpressure,
        backend,
        ..Scenario::new(name, component)
    })
}
