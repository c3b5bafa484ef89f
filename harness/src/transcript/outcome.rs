//! What a call returned, as a transcript records it: the snapshot file's
//! form of an engine [`torvyn_engine::Outcome`].

use serde::{Deserialize, Serialize};
use torvyn_engine::{Answer, BackpressureSignal, Function, InvokeError, OutputElement};

use super::{PREVIEW_BYTES, PayloadPreview};

/// What a call returned, in the form snapshot files keep: an engine
/// [`torvyn_engine::Outcome`] (built from one by [`Outcome::of_answer`] and
/// [`Outcome::error`]) with each payload shown as a [`PayloadPreview`] and
/// the names a reader of the file expects, which depend on the function
/// called: `none` is `pulled-none` for `pull` and `absorbed` for `ingest`,
/// a verdict is `pass` or `reject`, a signal `backpressure`, and a fault
/// says whether it poisons. It is not a second model of outcomes: nothing
/// but a transcript builds one, and its names are the snapshot format's,
/// kept stable so that snapshot files stay valid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// `process` emitted, or `pull` produced, an element.
    Emit {
        /// The sequence number the component put in the meta (advisory).
        sequence: u64,
        /// The content type of the meta: the element's, the one the next
        /// stage gets.
        content_type: String,
        /// The content type set on the buffer itself
        /// (`set-content-type`), when it differs from the meta's (empty
        /// when the guest set none). The meta's counts; see
        /// [`torvyn_engine::OutputElement`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        buffer_content_type: Option<String>,
        /// The payload.
        payload: PayloadPreview,
    },
    /// `process` consumed the element and emitted nothing.
    Drop,
    /// `pull` said the source is exhausted.
    PulledNone,
    /// `push` answered with a backpressure signal.
    Backpressure(BackpressureSignal),
    /// `evaluate` passed the element on.
    Pass,
    /// `evaluate` dropped the element.
    Reject,
    /// `route` named these output ports (none: dropped).
    Routed {
        /// The port names, as the router returned them.
        ports: Vec<String>,
    },
    /// `ingest` absorbed the element with nothing ready yet.
    Absorbed,
    /// `flush` returned these elements (each an [`Outcome::Emit`]).
    Flushed {
        /// The elements, in order.
        elements: Vec<Outcome>,
    },
    /// The call succeeded with no value (`init`, `complete`, ...).
    Ok,
    /// The guest returned a `process-error`.
    ProcessError {
        /// `invalid-input`, `unavailable`, `internal`, `deadline-exceeded`
        /// or `fatal`.
        kind: String,
        /// The guest's message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// The engine stopped the call.
    Fault {
        /// [`torvyn_engine::FaultKind::name`] (`trap`, `fuel-exhausted`...).
        kind: String,
        /// The engine's message.
        message: String,
        /// Whether the fault poisoned the instance.
        poisons: bool,
    },
}

impl Outcome {
    /// The outcome of an emitted or pulled element, its payload previewed
    /// up to [`PREVIEW_BYTES`].
    pub fn emit(out: &OutputElement) -> Self {
        Self::emit_with_cap(out, PREVIEW_BYTES)
    }

    /// The outcome of an emitted or pulled element, its payload previewed
    /// up to `cap` bytes (`0`: no cap).
    pub fn emit_with_cap(out: &OutputElement, cap: usize) -> Self {
        Self::Emit {
            sequence: out.meta.sequence,
            content_type: out.meta.content_type.to_string(),
            buffer_content_type: (out.buffer_content_type != out.meta.content_type)
                .then(|| out.buffer_content_type.to_string()),
            payload: PayloadPreview::with_cap(&out.payload, cap),
        }
    }

    /// The outcome of a call of `function` that answered `answer`,
    /// payloads previewed up to `cap` bytes (`0`: no cap).
    pub fn of_answer(answer: &Answer, function: Function, cap: usize) -> Self {
        match answer {
            Answer::Done => Self::Ok,
            Answer::Emit(out) => Self::emit_with_cap(out, cap),
            Answer::Drop => Self::Drop,
            Answer::Nothing if function == Function::Ingest => Self::Absorbed,
            Answer::Nothing => Self::PulledNone,
            Answer::Signal(s) => Self::backpressure(*s),
            Answer::Verdict(pass) => Self::verdict(*pass),
            Answer::Ports(ports) => Self::Routed {
                ports: ports.clone(),
            },
            Answer::Flushed(outs) => Self::flushed_with_cap(outs, cap),
        }
    }

    /// The outcome of a failed call.
    pub fn error(e: &InvokeError) -> Self {
        match e {
            InvokeError::Guest(g) => Self::ProcessError {
                kind: g.kind().into(),
                message: g.message().map(str::to_string),
            },
            InvokeError::Fault(f) => Self::Fault {
                kind: f.kind.name().into(),
                message: f.kind.to_string(),
                poisons: f.poisons(),
            },
        }
    }

    /// The outcome of a `push`.
    pub fn backpressure(s: BackpressureSignal) -> Self {
        Self::Backpressure(s)
    }

    /// The outcome of an `evaluate`.
    pub fn verdict(pass: bool) -> Self {
        if pass { Self::Pass } else { Self::Reject }
    }

    /// The outcome of a `flush`, payloads previewed up to [`PREVIEW_BYTES`].
    pub fn flushed(outs: &[OutputElement]) -> Self {
        Self::flushed_with_cap(outs, PREVIEW_BYTES)
    }

    /// The outcome of a `flush`, payloads previewed up to `cap` bytes (`0`:
    /// no cap).
    pub fn flushed_with_cap(outs: &[OutputElement], cap: usize) -> Self {
        Self::Flushed {
            elements: outs.iter().map(|o| Self::emit_with_cap(o, cap)).collect(),
        }
    }

    /// The outcome on one line.
    pub fn short(&self) -> String {
        match self {
            Self::Emit {
                sequence,
                content_type,
                payload,
                ..
            } => format!("emit seq={sequence} {content_type} {}", payload.short()),
            Self::Drop => "drop".into(),
            Self::PulledNone => "none".into(),
            Self::Backpressure(s) => s.name().into(),
            Self::Pass => "pass".into(),
            Self::Reject => "reject".into(),
            Self::Routed { ports } if ports.is_empty() => "routed to no port (dropped)".into(),
            Self::Routed { ports } => format!("routed to {}", ports.join(", ")),
            Self::Absorbed => "absorbed".into(),
            Self::Flushed { elements } => {
                let payloads: Vec<String> = elements
                    .iter()
                    .map(|e| match e {
                        Self::Emit { payload, .. } => payload.short(),
                        other => other.short(),
                    })
                    .collect();
                format!("flushed [{}]", payloads.join(", "))
            }
            Self::Ok => "ok".into(),
            Self::ProcessError {
                kind,
                message: Some(m),
            } => format!("process-error {kind}: {m}"),
            Self::ProcessError {
                kind,
                message: None,
            } => format!("process-error {kind}"),
            Self::Fault { kind, .. } => format!("FAULT {kind}"),
        }
    }
}
