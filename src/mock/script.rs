//! Scripted mock components: a list of responses played in order, in a
//! cycle, or by sequence number.
//!
//! Hot path of the mock. A scripted response goes through the same host
//! operations as a model would (an `Emit` allocates, appends and freezes), so
//! its metrics are realistic.

use std::collections::BTreeMap;

use super::model::{MockCtx, MockError, MockModel, MockResult, ModelElement};
use crate::error::TrapCode;
use crate::types::{
    BackpressureSignal, ContentType, ElementMeta, OutputElement, ProcessError, ProcessResult,
};

/// The content type of what a scripted source produces unless its
/// response names one.
const PULL_CONTENT_TYPE: &str = "application/octet-stream";

/// One scripted answer.
///
/// The failures are reported as the Wasmtime backend reports a guest that
/// does the same: [`Response::FuelExhaustion`] burns the call's whole fuel
/// (`fuel_consumed` is the budget, nothing remains); [`Response::Deadline`]
/// reports the time the call was allowed, and on a virtual clock burns the
/// fuel up to the deadline (zero allowed when no deadline was in force,
/// which a real guest cannot hit); [`Response::MemoryLimit`] grows the
/// simulated memory page by page until refused and reports the refused
/// size ([`MockCtx::grow_memory_until_refused`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// Emit these bytes (`process`: with the input's metadata and content
    /// type), or produce them (`pull`: the call count as the sequence
    /// number, timestamp 0, `application/octet-stream`).
    Emit(Vec<u8>),
    /// Emit an element with these bytes and, where given, this content
    /// type and metadata (the rest as for [`Response::Emit`]).
    EmitElement(ScriptedOutput),
    /// Emit the input payload unchanged (zero-copy clone).
    EmitInput,
    /// `process`: drop the element. `pull`: the source is exhausted.
    Drop,
    /// Succeed with nothing to return (`init`, `complete`, `notify`...).
    Ok,
    /// `push`: answer with this signal.
    Signal(BackpressureSignal),
    /// Return this contract error.
    Error(ProcessError),
    /// Trap (`unreachable`).
    Trap,
    /// Run out of fuel.
    FuelExhaustion,
    /// Run past the deadline.
    Deadline,
    /// Grow memory past the limit and trap.
    MemoryLimit,
}

/// An element a script emits: its payload and, optionally, its content
/// type (of the element and of its buffer), sequence number and timestamp.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptedOutput {
    /// The payload.
    pub payload: Vec<u8>,
    /// The content type; `None`: the input's (`process`) or
    /// `application/octet-stream` (`pull`).
    pub content_type: Option<String>,
    /// The sequence number; `None`: the input's (`process`) or the call
    /// count (`pull`).
    pub sequence: Option<u64>,
    /// The timestamp; `None`: the input's (`process`) or 0 (`pull`).
    pub timestamp_ns: Option<u64>,
}

impl ScriptedOutput {
    /// An element with `payload` and everything else as for
    /// [`Response::Emit`].
    pub fn new(payload: impl Into<Vec<u8>>) -> Self {
        Self {
            payload: payload.into(),
            ..Self::default()
        }
    }

    /// The same element with this content type.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The same element with this sequence number.
    pub fn with_sequence(mut self, sequence: u64) -> Self {
        self.sequence = Some(sequence);
        self
    }

    /// The same element with this timestamp.
    pub fn with_timestamp_ns(mut self, timestamp_ns: u64) -> Self {
        self.timestamp_ns = Some(timestamp_ns);
        self
    }

    /// Allocates, appends, sets the content type, freezes and returns the
    /// element, from `meta` with this output's parts applied.
    fn emit(
        &self,
        ctx: &mut MockCtx<'_>,
        mut meta: ElementMeta,
        default_content_type: &str,
    ) -> MockResult<OutputElement> {
        if let Some(sequence) = self.sequence {
            meta.sequence = sequence;
        }
        if let Some(timestamp_ns) = self.timestamp_ns {
            meta.timestamp_ns = timestamp_ns;
        }
        let content_type = self.content_type.as_deref();
        let mut out = ctx.emit_bytes(
            meta,
            &self.payload,
            content_type.unwrap_or(default_content_type),
        )?;
        if content_type.is_some() {
            out.meta.content_type = out.buffer_content_type.clone();
        }
        Ok(out)
    }
}

/// How a script picks the response for a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptMode {
    /// One response per call, in order; after the last, `Response::Drop`
    /// for `process`/`pull` and `Response::Ok` (or `Ready`) otherwise.
    InOrder,
    /// One response per call, starting again after the last.
    Cycle,
    /// The response keyed by the input's sequence number (for `process` and
    /// `push`; other calls count calls as the key); a missing key answers
    /// with the fallback.
    BySequence {
        /// The answer for sequence numbers not in the script.
        fallback: Box<Response>,
    },
}

/// A script of responses for one function of a mock component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    mode: ScriptMode,
    responses: Vec<Response>,
    keyed: BTreeMap<u64, Response>,
}

impl Script {
    /// Responses played in order.
    pub fn in_order(responses: impl IntoIterator<Item = Response>) -> Self {
        Self {
            mode: ScriptMode::InOrder,
            responses: responses.into_iter().collect(),
            keyed: BTreeMap::new(),
        }
    }

    /// Responses played in a cycle.
    pub fn cycle(responses: impl IntoIterator<Item = Response>) -> Self {
        Self {
            mode: ScriptMode::Cycle,
            ..Self::in_order(responses)
        }
    }

    /// Responses keyed by sequence number, with a fallback.
    pub fn by_sequence(
        responses: impl IntoIterator<Item = (u64, Response)>,
        fallback: Response,
    ) -> Self {
        Self {
            mode: ScriptMode::BySequence {
                fallback: Box::new(fallback),
            },
            responses: Vec::new(),
            keyed: responses.into_iter().collect(),
        }
    }

    fn pick(&self, call: u64, key: u64) -> Option<&Response> {
        match &self.mode {
            ScriptMode::InOrder => usize::try_from(call)
                .ok()
                .and_then(|i| self.responses.get(i)),
            ScriptMode::Cycle if self.responses.is_empty() => None,
            ScriptMode::Cycle => {
                let i = call % self.responses.len() as u64;
                self.responses.get(i as usize)
            }
            ScriptMode::BySequence { fallback } => Some(self.keyed.get(&key).unwrap_or(fallback)),
        }
    }
}

/// Scripts for each function of a scripted component; a function without
/// a script succeeds with its default answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scripts {
    /// For `process`.
    pub process: Option<Script>,
    /// For `pull`.
    pub pull: Option<Script>,
    /// For `push`.
    pub push: Option<Script>,
    /// For `init`.
    pub init: Option<Script>,
    /// For `notify-backpressure`.
    pub notify_backpressure: Option<Script>,
    /// For `complete`.
    pub complete: Option<Script>,
    /// For `teardown`.
    pub teardown: Option<Script>,
}

/// The model a scripted component's instances run.
pub(crate) struct ScriptedModel {
    scripts: Scripts,
    calls: [u64; 7],
}

impl ScriptedModel {
    pub fn new(scripts: Scripts) -> Self {
        Self {
            scripts,
            calls: [0; 7],
        }
    }

    fn next(&mut self, slot: usize, key: Option<u64>) -> Option<Response> {
        let script = match slot {
            0 => &self.scripts.process,
            1 => &self.scripts.pull,
            2 => &self.scripts.push,
            3 => &self.scripts.init,
            4 => &self.scripts.notify_backpressure,
            5 => &self.scripts.complete,
            _ => &self.scripts.teardown,
        };
        let call = self.calls[slot];
        self.calls[slot] += 1;
        script.as_ref()?.pick(call, key.unwrap_or(call)).cloned()
    }
}

/// The error a failure response answers with (`None`: not a failure).
fn fail(r: &Response, ctx: &mut MockCtx<'_>) -> Option<MockError> {
    Some(match r {
        Response::Error(e) => MockError::Guest(e.clone()),
        Response::Trap => MockError::Trap(TrapCode::Unreachable),
        Response::FuelExhaustion => MockError::FuelExhausted,
        Response::Deadline => MockError::DeadlineExceeded,
        Response::MemoryLimit => ctx.grow_memory_until_refused(),
        _ => return None,
    })
}

fn unit(r: Option<Response>, ctx: &mut MockCtx<'_>) -> MockResult<()> {
    match r.and_then(|r| fail(&r, ctx)) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl MockModel for ScriptedModel {
    fn init(&mut self, ctx: &mut MockCtx<'_>, _config: &str) -> MockResult<()> {
        unit(self.next(3, None), ctx)
    }

    fn process(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<ProcessResult> {
        let r = self.next(0, Some(input.meta.sequence));
        match r {
            None | Some(Response::Drop | Response::Ok | Response::Signal(_)) => {
                Ok(ProcessResult::Drop)
            }
            Some(Response::EmitInput) => {
                Ok(ProcessResult::Emit(ctx.emit_input(input.meta.clone())?))
            }
            Some(Response::Emit(bytes)) => Ok(ProcessResult::Emit(ctx.emit_bytes(
                input.meta.clone(),
                &bytes,
                &input.meta.content_type,
            )?)),
            Some(Response::EmitElement(out)) => Ok(ProcessResult::Emit(out.emit(
                ctx,
                input.meta.clone(),
                &input.meta.content_type,
            )?)),
            Some(other) => Err(fail(&other, ctx).expect("the remaining responses are failures")),
        }
    }

    fn pull(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Option<crate::OutputElement>> {
        let n = self.calls[1];
        match self.next(1, None) {
            None | Some(Response::Drop | Response::Ok | Response::Signal(_)) => Ok(None),
            Some(Response::Emit(bytes)) => {
                let meta = ElementMeta::new(n, ContentType::from_static(PULL_CONTENT_TYPE));
                Ok(Some(ctx.emit_bytes(meta, &bytes, PULL_CONTENT_TYPE)?))
            }
            Some(Response::EmitElement(out)) => {
                let meta = ElementMeta::new(n, ContentType::from_static(PULL_CONTENT_TYPE));
                Ok(Some(out.emit(ctx, meta, PULL_CONTENT_TYPE)?))
            }
            Some(Response::EmitInput) => Err(MockError::Trap(TrapCode::Unreachable)),
            Some(other) => Err(fail(&other, ctx).expect("the remaining responses are failures")),
        }
    }

    fn notify_backpressure(
        &mut self,
        ctx: &mut MockCtx<'_>,
        _signal: BackpressureSignal,
    ) -> MockResult<()> {
        unit(self.next(4, None), ctx)
    }

    fn push(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<BackpressureSignal> {
        match self.next(2, Some(input.meta.sequence)) {
            Some(Response::Signal(s)) => Ok(s),
            Some(other) => match fail(&other, ctx) {
                Some(e) => Err(e),
                None => Ok(BackpressureSignal::Ready),
            },
            None => Ok(BackpressureSignal::Ready),
        }
    }

    fn complete(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<()> {
        unit(self.next(5, None), ctx)
    }

    fn teardown(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<()> {
        unit(self.next(6, None), ctx)
    }
}

impl super::model::MockComponent {
    /// A component that answers from `scripts`; each instance starts the
    /// scripts from the beginning.
    pub fn scripted(
        name: impl AsRef<str>,
        roles: impl IntoIterator<Item = crate::Role>,
        scripts: Scripts,
    ) -> Self {
        Self::new(name, roles, move || ScriptedModel::new(scripts.clone()))
    }
}
