//! Transcripts as YAML, JSON and text, and the forms snapshots compare.

use std::fmt::Write as _;
use torvyn_engine::Function;

use serde::Serialize;

use crate::error::HarnessError;
use crate::spec::BackendKind;
use crate::spec::ClockSetting;
use torvyn_engine::CompilationStrategy;

use super::{Entry, Outcome, Transcript};

/// How to write a transcript.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// YAML (serde_yaml_ng).
    #[default]
    Yaml,
    /// Pretty-printed JSON.
    Json,
    /// One line per call, then the summary.
    Text,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Ok(Self::Yaml),
            "json" => Ok(Self::Json),
            "text" | "txt" => Ok(Self::Text),
            other => Err(format!("unknown format `{other}`; use yaml, json or text")),
        }
    }
}

/// Serializes any transcript-like value as YAML.
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String, HarnessError> {
    serde_yaml_ng::to_string(value).map_err(|e| HarnessError::Serialize {
        format: "YAML",
        message: e.to_string(),
    })
}

/// Serializes any transcript-like value as pretty JSON.
pub fn to_json<T: Serialize>(value: &T) -> Result<String, HarnessError> {
    serde_json::to_string_pretty(value).map_err(|e| HarnessError::Serialize {
        format: "JSON",
        message: e.to_string(),
    })
}

/// Entries as text, one line per call.
pub fn render_entries(entries: &[Entry]) -> String {
    let mut s = String::new();
    for e in entries {
        let stage = e
            .stage
            .as_deref()
            .map(|st| format!("[{st}] "))
            .unwrap_or_default();
        let arg = match (&e.argument, &e.input) {
            (_, Some(i)) => format!("seq={} {}", i.sequence, i.payload.short()),
            (Some(a), None) => format!("{a:?}"),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            s,
            "#{:<3} {stage}{:<19} {:<28} -> {:<40} fuel={} t={}ns",
            e.index,
            e.call.name(),
            arg,
            e.outcome.short(),
            e.fuel,
            e.now_ns
        );
        if let Outcome::Fault { message, .. } = &e.outcome {
            let _ = writeln!(s, "       {message}");
        }
        if let Some(f) = &e.failed_host_call {
            let _ = writeln!(
                s,
                "       failed host call {} ({} of the call): {} answered {}",
                f.index, f.in_call, f.function, f.answer
            );
        }
        if let Some(out) = &e.stdout {
            let _ = writeln!(s, "       stdout: {}", out.short());
        }
        if let Some(err) = &e.stderr {
            let _ = writeln!(s, "       stderr: {}", err.short());
        }
        for (i, call) in e.host_call_trace.iter().flatten().enumerate() {
            let _ = writeln!(s, "       host call {i}: {call}");
        }
    }
    s
}

impl Transcript {
    /// The form snapshots and equality checks use: no wall-clock figures,
    /// and under the system clock no times at all.
    pub fn snapshot_form(&self) -> Self {
        let mut t = self.clone();
        t.summary.wall = None;
        t.unexpected_host_calls.clear();
        if t.clock == ClockSetting::System {
            mask_times(&mut t.entries);
            t.summary.busy_ns = 0;
            t.summary.virtual_time_ns = 0;
            t.summary.elements_per_virtual_second = 0;
        }
        t
    }

    /// The snapshot form with fuel and time zeroed too: what must agree
    /// between compilers (outputs, errors, fault kinds), and not the cost.
    pub fn without_costs(&self) -> Self {
        let mut t = self.snapshot_form();
        mask_times(&mut t.entries);
        for e in &mut t.entries {
            e.fuel = 0;
        }
        t.summary.clear_costs();
        t
    }

    /// What must agree between backends: [`Transcript::without_costs`]
    /// (no fuel, no time) with the backend and compiler labels masked too.
    /// Outputs, errors, fault kinds, copies, allocations, host calls,
    /// reclaimed resources and linear memory stay.
    pub fn backend_neutral(&self) -> Self {
        let mut t = self.without_costs();
        t.backend = BackendKind::Mock;
        t.strategy = CompilationStrategy::default();
        t
    }

    /// The one-line outcomes ([`Outcome::short`]) of every `call` call, in
    /// order: what a test asserts a component answered.
    pub fn outcomes(&self, call: Function) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.call == call)
            .map(|e| e.outcome.short())
            .collect()
    }

    /// The transcript in `format`.
    pub fn render(&self, format: OutputFormat) -> Result<String, HarnessError> {
        match format {
            OutputFormat::Yaml => to_yaml(self),
            OutputFormat::Json => to_json(self),
            OutputFormat::Text => Ok(self.render_text()),
        }
    }

    /// The transcript as YAML.
    pub fn to_yaml(&self) -> Result<String, HarnessError> {
        to_yaml(self)
    }

    /// The transcript as pretty JSON.
    pub fn to_json(&self) -> Result<String, HarnessError> {
        to_json(self)
    }

    /// A header line, one line per call, then the summary.
    pub fn render_text(&self) -> String {
        format!(
            "scenario {} ({} as {}, seed {}, {}, {} clock{})\n{}{}",
            self.scenario,
            self.component,
            self.role,
            self.seed,
            self.backend.engine_label(self.strategy),
            match self.clock {
                ClockSetting::Virtual => "virtual",
                ClockSetting::System => "system",
            },
            if self.grants.is_empty() {
                String::new()
            } else {
                format!(", granted {}", self.grants.join(", "))
            },
            render_entries(&self.entries),
            self.summary.render_text()
        )
    }
}

/// Zeroes the clock readings and durations of `entries`.
pub(crate) fn mask_times(entries: &mut [Entry]) {
    for e in entries {
        e.now_ns = 0;
        e.duration_ns = 0;
        if let Some(i) = &mut e.input {
            i.timestamp_ns = 0;
            i.deadline_ns = i.deadline_ns.map(|_| 0);
        }
    }
}
