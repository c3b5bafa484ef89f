//! What a pipeline run reports: per-stage totals, the summary, the transcript.

use serde::{Deserialize, Serialize};
use torvyn_engine::Function;

use crate::error::HarnessError;
use crate::spec::BackendKind;
use crate::spec::ClockSetting;
use crate::transcript::{
    Entry, OutputFormat, Summary, WallStats, mask_times, render_entries, to_json, to_yaml,
};
use torvyn_engine::CompilationStrategy;
use torvyn_engine::Role;

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// A stage's identity and totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageReport {
    /// The stage's name (as in [`Entry::stage`]).
    pub name: String,
    /// The component.
    pub component: String,
    /// Its role.
    pub role: Role,
    /// The capabilities granted to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<String>,
    /// Calls, fuel, bytes, time, errors and elements of this stage.
    pub totals: Summary,
}

/// Totals of a pipeline run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineSummary {
    /// Elements the source produced.
    pub elements_pulled: u64,
    /// Elements the sinks accepted (an element fanned out to two sinks
    /// counts twice).
    pub elements_delivered: u64,
    /// Elements a processor or filter dropped, or a router sent to no port.
    pub elements_dropped: u64,
    /// Elements an aggregator absorbed without emitting (what it emits
    /// later, from `ingest` or `flush`, goes on as new elements).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub elements_absorbed: u64,
    /// Elements aggregators returned from `flush` at the end of the stream.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub elements_flushed: u64,
    /// Lends that shared a buffer with another lend of the same element
    /// (fan-out: a router naming several ports, or a stage with several
    /// `to:` stages): each downstream stage got the same bytes, no copy.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shared_lends: u64,
    /// Port names a router returned that the pipeline does not define:
    /// one line each, naming the element, the router and the port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routing_errors: Vec<String>,
    /// Elements whose journey ended in a `process-error` or fault (pull
    /// failures included).
    pub elements_failed: u64,
    /// Times the sink asked for a pause.
    pub pauses: u64,
    /// Calls, all stages.
    pub calls: u64,
    /// Fuel, all stages.
    pub fuel_total: u64,
    /// Time on the engine clock from the first call to the last, drains
    /// included.
    pub virtual_time_ns: u64,
    /// Elements delivered per second of engine-clock time.
    pub elements_per_virtual_second: u64,
    /// Why the stream ended early: the first stage whose `init` failed or
    /// that answered `fatal`. Absent when it ran to its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Real time; absent in the snapshot form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall: Option<WallStats>,
}

/// The record of a pipeline run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineTranscript {
    /// The pipeline's name.
    pub pipeline: String,
    /// The seed.
    pub seed: u64,
    /// The backend that ran it.
    pub backend: BackendKind,
    /// The compiler (Wasmtime only).
    pub strategy: CompilationStrategy,
    /// The clock.
    pub clock: ClockSetting,
    /// The trace id every element carried.
    pub trace_id: String,
    /// The flow id every element carried.
    pub flow_id: String,
    /// Every stage, source first, with its totals.
    pub stages: Vec<StageReport>,
    /// Every call, in order, tagged with its stage.
    pub entries: Vec<Entry>,
    /// Totals.
    pub summary: PipelineSummary,
}

impl PipelineTranscript {
    /// The form snapshots and equality checks use: no wall-clock figures,
    /// and under the system clock no times at all.
    pub fn snapshot_form(&self) -> Self {
        let mut t = self.clone();
        t.summary.wall = None;
        for s in &mut t.stages {
            s.totals.wall = None;
        }
        if t.clock == ClockSetting::System {
            mask_times(&mut t.entries);
            for s in &mut t.stages {
                s.totals.busy_ns = 0;
                s.totals.virtual_time_ns = 0;
                s.totals.elements_per_virtual_second = 0;
            }
            t.summary.virtual_time_ns = 0;
            t.summary.elements_per_virtual_second = 0;
        }
        t
    }

    /// The snapshot form with fuel and time zeroed too.
    pub fn without_costs(&self) -> Self {
        let mut t = self.snapshot_form();
        mask_times(&mut t.entries);
        for e in &mut t.entries {
            e.fuel = 0;
        }
        for s in &mut t.stages {
            s.totals.clear_costs();
        }
        t.summary.fuel_total = 0;
        t.summary.virtual_time_ns = 0;
        t.summary.elements_per_virtual_second = 0;
        t
    }

    /// What must agree between backends (see
    /// [`crate::transcript::Transcript::backend_neutral`]).
    pub fn backend_neutral(&self) -> Self {
        let mut t = self.without_costs();
        t.backend = BackendKind::Mock;
        t.strategy = CompilationStrategy::default();
        t
    }

    /// Entries of one stage.
    pub fn stage_entries<'a>(&'a self, stage: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.stage.as_deref() == Some(stage))
    }

    /// The transcript in `format`.
    pub fn render(&self, format: OutputFormat) -> Result<String, HarnessError> {
        match format {
            OutputFormat::Yaml => to_yaml(self),
            OutputFormat::Json => to_json(self),
            OutputFormat::Text => Ok(self.render_text()),
        }
    }

    /// A header, one line per call, then per-stage totals and the summary.
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = format!(
            "pipeline {} (seed {}, {})\n{}",
            self.pipeline,
            self.seed,
            self.backend.engine_label(self.strategy),
            render_entries(&self.entries)
        );
        let _ = writeln!(
            s,
            "{:<20} {:>6} {:>12} {:>10} {:>10} {:>12} {:>7}",
            "stage", "calls", "fuel", "bytes in", "bytes out", "busy ns", "errors"
        );
        for st in &self.stages {
            let t = &st.totals;
            let _ = writeln!(
                s,
                "{:<20} {:>6} {:>12} {:>10} {:>10} {:>12} {:>7}",
                st.name,
                t.calls,
                t.fuel_total,
                t.bytes_in,
                t.bytes_out,
                t.busy_ns,
                t.process_errors + t.faults
            );
        }
        let m = &self.summary;
        let _ = writeln!(
            s,
            "elements: {} pulled, {} delivered, {} dropped, {} failed; {} pauses",
            m.elements_pulled,
            m.elements_delivered,
            m.elements_dropped,
            m.elements_failed,
            m.pauses
        );
        if let Some(why) = &m.stopped {
            let _ = writeln!(s, "stopped: {why}");
        }
        let _ = writeln!(
            s,
            "fuel {} in {} calls; {} ns on the engine clock ({} elements/s)",
            m.fuel_total, m.calls, m.virtual_time_ns, m.elements_per_virtual_second
        );
        if let Some(w) = &m.wall {
            let _ = writeln!(
                s,
                "wall: {} ns ({:.0} elements/s)",
                w.wall_ns, w.elements_per_second
            );
        }
        s
    }

    /// Whether any entry is a given call.
    pub fn has_call(&self, call: Function) -> bool {
        self.entries.iter().any(|e| e.call == call)
    }
}
