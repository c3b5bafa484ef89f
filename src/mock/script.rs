//! Scripted mock components: a list of responses played in order, in a
//! cycle, or by sequence number.
//!
//! Hot path of the mock. A scripted response goes through the same host
//! operations as a model would (an `Emit` allocates, appends and freezes), so
//! its metrics are realistic.

use std::collections::BTreeMap;

use super::model::{MockCtx, MockError, MockModel, MockResult, ModelElement};
use crate::error::TrapCode;
use crate::types::{BackpressureSignal, ElementMeta, ProcessError, ProcessResult};

/// One scripted answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// Emit these bytes (`process`), or produce them (`pull`).
    Emit(Vec<u8>),
    /// Emit these bytes with this content type.
    EmitTyped {
        /// The payload.
        payload: Vec<u8>,
        /// The output's content type.
        content_type: String,
    },
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

fn fail(r: &Response) -> Option<MockError> {
    Some(match r {
        Response::Error(e) => MockError::Guest(e.clone()),
        Response::Trap => MockError::Trap(TrapCode::Unreachable),
        Response::FuelExhaustion => MockError::FuelExhausted,
        Response::Deadline => MockError::DeadlineExceeded,
        Response::MemoryLimit => MockError::MemoryLimitExceeded,
        _ => return None,
    })
}

fn unit(r: Option<Response>) -> MockResult<()> {
    match r.as_ref().and_then(fail) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl MockModel for ScriptedModel {
    fn init(&mut self, _ctx: &mut MockCtx<'_>, _config: &str) -> MockResult<()> {
        unit(self.next(3, None))
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
            Some(Response::EmitTyped {
                payload,
                content_type,
            }) => {
                let mut meta = input.meta.clone();
                meta.content_type = content_type.as_str().into();
                Ok(ProcessResult::Emit(ctx.emit_bytes(
                    meta,
                    &payload,
                    &content_type,
                )?))
            }
            Some(other) => Err(fail(&other).expect("the remaining responses are failures")),
        }
    }

    fn pull(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Option<crate::OutputElement>> {
        let n = self.calls[1];
        match self.next(1, None) {
            None | Some(Response::Drop | Response::Ok | Response::Signal(_)) => Ok(None),
            Some(Response::Emit(bytes)) => {
                let meta = ElementMeta::new(n, "application/octet-stream");
                Ok(Some(ctx.emit_bytes(
                    meta,
                    &bytes,
                    "application/octet-stream",
                )?))
            }
            Some(Response::EmitTyped {
                payload,
                content_type,
            }) => {
                let meta = ElementMeta::new(n, content_type.as_str());
                Ok(Some(ctx.emit_bytes(meta, &payload, &content_type)?))
            }
            Some(Response::EmitInput) => Err(MockError::Trap(TrapCode::Unreachable)),
            Some(other) => Err(fail(&other).expect("the remaining responses are failures")),
        }
    }

    fn notify_backpressure(
        &mut self,
        _ctx: &mut MockCtx<'_>,
        _signal: BackpressureSignal,
    ) -> MockResult<()> {
        unit(self.next(4, None))
    }

    fn push(
        &mut self,
        _ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<BackpressureSignal> {
        match self.next(2, Some(input.meta.sequence)) {
            Some(Response::Signal(s)) => Ok(s),
            Some(other) => match fail(&other) {
                Some(e) => Err(e),
                None => Ok(BackpressureSignal::Ready),
            },
            None => Ok(BackpressureSignal::Ready),
        }
    }

    fn complete(&mut self, _ctx: &mut MockCtx<'_>) -> MockResult<()> {
        unit(self.next(5, None))
    }

    fn teardown(&mut self, _ctx: &mut MockCtx<'_>) -> MockResult<()> {
        unit(self.next(6, None))
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
