//! Scripted mock components: a list of responses played in order, in a
//! cycle, or by sequence number, for any function of the contract and its
//! extensions (`evaluate`, `route`, `ingest`, `flush`).
//!
//! Hot path of the mock. A scripted response goes through the same host
//! operations as a model would (an `Emit` allocates, appends and freezes; a
//! `Flush` builds frozen buffers the invoker then moves to the host), so
//! its metrics are realistic.

use std::collections::BTreeMap;

use super::model::{MockCtx, MockError, MockModel, MockResult, ModelElement, PendingOutput};
use crate::error::TrapCode;
use crate::types::{
    BackpressureSignal, ContentType, ElementMeta, Function, OutputElement, ProcessError,
    ProcessResult, Role,
};

/// The content type of what a scripted `pull` or `flush` produces unless
/// its response names one.
const PRODUCED_CONTENT_TYPE: &str = "application/octet-stream";

/// One scripted answer.
///
/// What each function makes of a response: `process` and `ingest` emit
/// ([`Response::Emit`], [`Response::EmitElement`], [`Response::EmitInput`])
/// or drop; `pull` produces or is exhausted; `push` answers a
/// [`Response::Signal`]; `evaluate` answers [`Response::Pass`] or
/// [`Response::Reject`]; `route` a [`Response::Route`]; `flush` a
/// [`Response::Flush`]; [`Response::Drop`] is each one's "nothing goes on"
/// (drop, exhausted, reject, no port, nothing ready, nothing buffered). A
/// response that is not one of the function's answers gives the function's
/// default answer (what it gives when the script has run out; see
/// [`ScriptMode::InOrder`]), except [`Response::EmitInput`] for `pull`,
/// which has no input: it traps.
///
/// The failures work for every function and are reported as the Wasmtime
/// backend reports a guest that does the same: [`Response::FuelExhaustion`]
/// burns the call's whole fuel (`fuel_consumed` is the budget, nothing
/// remains); [`Response::Deadline`] reports the time the call was allowed,
/// and on a virtual clock burns the fuel up to the deadline (zero allowed
/// when no deadline was in force, which a real guest cannot hit);
/// [`Response::MemoryLimit`] grows the simulated memory page by page until
/// refused and reports the refused size
/// ([`MockCtx::grow_memory_until_refused`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// Emit these bytes (`process`, `ingest`: with the input's metadata and
    /// content type), or produce them (`pull`: the call count as the
    /// sequence number, timestamp 0, `application/octet-stream`).
    Emit(Vec<u8>),
    /// Emit an element with these bytes and, where given, this content
    /// type and metadata (the rest as for [`Response::Emit`]).
    EmitElement(ScriptedOutput),
    /// Emit the input payload unchanged (zero-copy clone).
    EmitInput,
    /// Nothing goes on. `process`: drop the element; `pull`: the source is
    /// exhausted; `evaluate`: reject; `route`: no port; `ingest`: no result
    /// ready yet; `flush`: nothing buffered.
    Drop,
    /// Succeed with nothing to return (`init`, `complete`, `notify`...).
    Ok,
    /// `push`: answer with this signal.
    Signal(BackpressureSignal),
    /// `evaluate`: pass the element on (`true`).
    Pass,
    /// `evaluate`: drop the element (`false`).
    Reject,
    /// `route`: the names of the ports that receive the element (empty:
    /// it is dropped). The invoker bounds the answer
    /// ([`crate::Limits::max_route_ports`], [`crate::Limits::max_route_bytes`]).
    Route(Vec<String>),
    /// `flush`: these elements, built as frozen buffers the component
    /// holds ([`PendingOutput`]s) that the invoker moves to the host after
    /// checking [`crate::Limits::max_flush_outputs`]. Each element's
    /// default sequence number is its position in the answer, its
    /// timestamp 0, its content type `application/octet-stream`.
    Flush(Vec<ScriptedOutput>),
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
    /// The content type; `None`: the input's (`process`, `ingest`) or
    /// `application/octet-stream` (`pull`, `flush`).
    pub content_type: Option<String>,
    /// The sequence number; `None`: the input's (`process`, `ingest`), the
    /// call count (`pull`) or the position in the answer (`flush`).
    pub sequence: Option<u64>,
    /// The timestamp; `None`: the input's (`process`, `ingest`) or 0
    /// (`pull`, `flush`).
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

    /// `meta` with this output's sequence number and timestamp applied.
    fn apply(&self, mut meta: ElementMeta) -> ElementMeta {
        if let Some(sequence) = self.sequence {
            meta.sequence = sequence;
        }
        if let Some(timestamp_ns) = self.timestamp_ns {
            meta.timestamp_ns = timestamp_ns;
        }
        meta
    }

    /// Allocates, appends, sets the content type, freezes and returns the
    /// element, from `meta` with this output's parts applied.
    fn emit(
        &self,
        ctx: &mut MockCtx<'_>,
        meta: ElementMeta,
        default_content_type: &str,
    ) -> MockResult<OutputElement> {
        let content_type = self.content_type.as_deref();
        let mut out = ctx.emit_bytes(
            self.apply(meta),
            &self.payload,
            content_type.unwrap_or(default_content_type),
        )?;
        if content_type.is_some() {
            out.meta.content_type = out.buffer_content_type.clone();
        }
        Ok(out)
    }

    /// The same host calls as [`ScriptedOutput::emit`], the frozen buffer
    /// kept by the component: a `flush` answer's element.
    fn pending(
        &self,
        ctx: &mut MockCtx<'_>,
        meta: ElementMeta,
        default_content_type: &str,
    ) -> MockResult<PendingOutput> {
        let mut meta = self.apply(meta);
        let content_type = self.content_type.as_deref();
        let buf = ctx.frozen_bytes(&self.payload, content_type.unwrap_or(default_content_type))?;
        if let Some(content_type) = content_type {
            meta.content_type = ContentType::from(content_type);
        }
        Ok(PendingOutput { meta, buf })
    }
}

/// How a script picks the response for a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptMode {
    /// One response per call, in order; after the last, the function's
    /// default answer: `process` drops, `pull` is exhausted, `push` is
    /// ready, `evaluate` passes, `route` names no port, `ingest` has
    /// nothing ready, `flush` returns nothing, the rest succeed.
    InOrder,
    /// One response per call, starting again after the last.
    Cycle,
    /// The response keyed by the input's sequence number (for the calls
    /// with an input: `process`, `push`, `evaluate`, `route`, `ingest`;
    /// the others count calls as the key); a missing key answers with the
    /// fallback.
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
/// a script succeeds with its default answer (see [`ScriptMode::InOrder`]).
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
    /// For `evaluate` (filter).
    pub evaluate: Option<Script>,
    /// For `route` (router).
    pub route: Option<Script>,
    /// For `ingest` (aggregator).
    pub ingest: Option<Script>,
    /// For `flush` (aggregator).
    pub flush: Option<Script>,
}

impl Scripts {
    /// The script for `function` (`None` for `instantiate`, which no
    /// script answers).
    pub fn get(&self, function: Function) -> Option<&Script> {
        match function {
            Function::Instantiate => None,
            Function::Init => self.init.as_ref(),
            Function::Process => self.process.as_ref(),
            Function::Pull => self.pull.as_ref(),
            Function::NotifyBackpressure => self.notify_backpressure.as_ref(),
            Function::Push => self.push.as_ref(),
            Function::Complete => self.complete.as_ref(),
            Function::Teardown => self.teardown.as_ref(),
            Function::Evaluate => self.evaluate.as_ref(),
            Function::Route => self.route.as_ref(),
            Function::Ingest => self.ingest.as_ref(),
            Function::Flush => self.flush.as_ref(),
        }
    }

    /// The roles that export the functions scripted, by
    /// [`Scripts::roles_of`]. For
    /// [`MockComponent::scripted`](super::model::MockComponent::scripted)
    /// when the roles are not given otherwise.
    pub fn roles(&self) -> Vec<Role> {
        Self::roles_of(
            Function::CALLS
                .into_iter()
                .filter(|&f| self.get(f).is_some()),
        )
    }

    /// The roles that export `functions` ([`Function::role`]), in
    /// [`Role::ALL`]'s order: `process` → processor, `pull` or
    /// `notify-backpressure` → source, `push` or `complete` → sink, `init`
    /// or `teardown` → lifecycle, `evaluate` → filter, `route` → router,
    /// `ingest` or `flush` → aggregator (the rule
    /// [`MockBuilder`](crate::mock::MockBuilder) follows too).
    pub fn roles_of(functions: impl IntoIterator<Item = Function>) -> Vec<Role> {
        let roles: crate::Roles = functions.into_iter().filter_map(Function::role).collect();
        roles.iter().collect()
    }
}

/// The model a scripted component's instances run.
pub(crate) struct ScriptedModel {
    scripts: Scripts,
    /// Calls so far, per function (indexed by `Function as usize`).
    calls: [u64; 12],
}

impl ScriptedModel {
    pub fn new(scripts: Scripts) -> Self {
        Self {
            scripts,
            calls: [0; 12],
        }
    }

    /// Calls of `function` so far.
    fn calls(&self, function: Function) -> u64 {
        self.calls[function as usize]
    }

    /// The response for this call of `function` (keyed by `key`, else by
    /// the call count), and counts the call.
    fn next(&mut self, function: Function, key: Option<u64>) -> Option<Response> {
        let slot = function as usize;
        let call = self.calls[slot];
        self.calls[slot] += 1;
        self.scripts
            .get(function)?
            .pick(call, key.unwrap_or(call))
            .cloned()
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

/// The answer `r` gives: its failure, else `default` (no response, or one
/// that is not one of the function's answers).
fn or_default<T>(r: Option<Response>, ctx: &mut MockCtx<'_>, default: T) -> MockResult<T> {
    match r.and_then(|r| fail(&r, ctx)) {
        Some(e) => Err(e),
        None => Ok(default),
    }
}

/// The element `process` or `ingest` answers with (`None`: drop, or
/// nothing ready).
fn emit_for(
    r: Option<Response>,
    ctx: &mut MockCtx<'_>,
    input: &ModelElement,
) -> MockResult<Option<OutputElement>> {
    match r {
        Some(Response::EmitInput) => Ok(Some(ctx.emit_input(input.meta.clone())?)),
        Some(Response::Emit(bytes)) => Ok(Some(ctx.emit_bytes(
            input.meta.clone(),
            &bytes,
            &input.meta.content_type,
        )?)),
        Some(Response::EmitElement(out)) => Ok(Some(out.emit(
            ctx,
            input.meta.clone(),
            &input.meta.content_type,
        )?)),
        other => or_default(other, ctx, None),
    }
}

impl MockModel for ScriptedModel {
    fn init(&mut self, ctx: &mut MockCtx<'_>, _config: &str) -> MockResult<()> {
        or_default(self.next(Function::Init, None), ctx, ())
    }

    fn process(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<ProcessResult> {
        let r = self.next(Function::Process, Some(input.meta.sequence));
        Ok(match emit_for(r, ctx, input)? {
            Some(out) => ProcessResult::Emit(out),
            None => ProcessResult::Drop,
        })
    }

    fn pull(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Option<OutputElement>> {
        let n = self.calls(Function::Pull);
        let meta = || ElementMeta::new(n, ContentType::from_static(PRODUCED_CONTENT_TYPE));
        match self.next(Function::Pull, None) {
            Some(Response::Emit(bytes)) => Ok(Some(ctx.emit_bytes(
                meta(),
                &bytes,
                PRODUCED_CONTENT_TYPE,
            )?)),
            Some(Response::EmitElement(out)) => {
                Ok(Some(out.emit(ctx, meta(), PRODUCED_CONTENT_TYPE)?))
            }
            Some(Response::EmitInput) => Err(MockError::Trap(TrapCode::Unreachable)),
            other => or_default(other, ctx, None),
        }
    }

    fn notify_backpressure(
        &mut self,
        ctx: &mut MockCtx<'_>,
        _signal: BackpressureSignal,
    ) -> MockResult<()> {
        or_default(self.next(Function::NotifyBackpressure, None), ctx, ())
    }

    fn push(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<BackpressureSignal> {
        match self.next(Function::Push, Some(input.meta.sequence)) {
            Some(Response::Signal(s)) => Ok(s),
            other => or_default(other, ctx, BackpressureSignal::Ready),
        }
    }

    fn complete(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<()> {
        or_default(self.next(Function::Complete, None), ctx, ())
    }

    fn teardown(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<()> {
        or_default(self.next(Function::Teardown, None), ctx, ())
    }

    fn evaluate(&mut self, ctx: &mut MockCtx<'_>, input: &ModelElement) -> MockResult<bool> {
        match self.next(Function::Evaluate, Some(input.meta.sequence)) {
            Some(Response::Reject | Response::Drop) => Ok(false),
            other => or_default(other, ctx, true),
        }
    }

    fn route(&mut self, ctx: &mut MockCtx<'_>, input: &ModelElement) -> MockResult<Vec<String>> {
        match self.next(Function::Route, Some(input.meta.sequence)) {
            Some(Response::Route(ports)) => Ok(ports),
            other => or_default(other, ctx, Vec::new()),
        }
    }

    fn ingest(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<Option<OutputElement>> {
        let r = self.next(Function::Ingest, Some(input.meta.sequence));
        emit_for(r, ctx, input)
    }

    fn flush(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Vec<PendingOutput>> {
        match self.next(Function::Flush, None) {
            Some(Response::Flush(outs)) => (0u64..)
                .zip(&outs)
                .map(|(i, out)| {
                    let meta = ElementMeta::new(i, ContentType::from_static(PRODUCED_CONTENT_TYPE));
                    out.pending(ctx, meta, PRODUCED_CONTENT_TYPE)
                })
                .collect(),
            other => or_default(other, ctx, Vec::new()),
        }
    }
}

impl super::model::MockComponent {
    /// A component that answers from `scripts`; each instance starts the
    /// scripts from the beginning. `roles` are the roles it exports; pass
    /// [`Scripts::roles`] for those of the functions scripted.
    pub fn scripted(
        name: impl AsRef<str>,
        roles: impl IntoIterator<Item = crate::Role>,
        scripts: Scripts,
    ) -> Self {
        Self::new(name, roles, move || ScriptedModel::new(scripts.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{MockComponent, MockEngine, MockEngineConfig, MockInvoker};
    use crate::{
        AnswerLimit, ComponentId, ComponentInvoker, FaultKind, Limits, StreamElement, WasmEngine,
    };

    fn el(seq: u64) -> StreamElement {
        StreamElement::new(seq, format!("payload {seq}"), "text/plain")
    }

    /// An instance of a component scripted with `scripts`, its roles
    /// inferred from them.
    fn instance_with(limits: Limits, scripts: Scripts) -> MockInvoker {
        let engine = MockEngine::new(MockEngineConfig {
            limits,
            ..MockEngineConfig::default()
        })
        .unwrap();
        engine.register(MockComponent::scripted("s", scripts.roles(), scripts));
        let compiled = engine.compile(&MockEngine::component_bytes("s")).unwrap();
        engine
            .instantiate(&compiled, ComponentId::new("s"))
            .unwrap()
    }

    fn instance(scripts: Scripts) -> MockInvoker {
        instance_with(Limits::default(), scripts)
    }

    fn ports(names: &[&str]) -> Response {
        Response::Route(names.iter().map(|n| n.to_string()).collect())
    }

    #[test]
    fn roles_follow_the_functions_scripted() {
        let s = || Some(Script::in_order([]));
        let roles = |scripts: Scripts| scripts.roles();
        assert_eq!(roles(Scripts::default()), []);
        assert_eq!(
            roles(Scripts {
                evaluate: s(),
                ..Scripts::default()
            }),
            [Role::Filter]
        );
        assert_eq!(
            roles(Scripts {
                route: s(),
                ..Scripts::default()
            }),
            [Role::Router]
        );
        assert_eq!(
            roles(Scripts {
                ingest: s(),
                ..Scripts::default()
            }),
            [Role::Aggregator]
        );
        assert_eq!(
            roles(Scripts {
                flush: s(),
                teardown: s(),
                process: s(),
                ..Scripts::default()
            }),
            [Role::Processor, Role::Lifecycle, Role::Aggregator]
        );
        assert_eq!(
            roles(Scripts {
                pull: s(),
                complete: s(),
                ..Scripts::default()
            }),
            [Role::Source, Role::Sink]
        );
    }

    #[test]
    fn evaluate_passes_rejects_and_falls_back_to_pass() {
        let mut i = instance(Scripts {
            evaluate: Some(Script::in_order([
                Response::Pass,
                Response::Reject,
                Response::Drop,
                Response::Emit(b"not a verdict".to_vec()),
            ])),
            ..Scripts::default()
        });
        let verdicts: Vec<bool> = (0..6)
            .map(|n| {
                let call = i.evaluate_sync(el(n));
                assert_eq!(
                    call.metrics.buffers_allocated, 0,
                    "a filter allocates nothing"
                );
                call.outcome.unwrap()
            })
            .collect();
        // The emit is no verdict: the default (pass), as when the script ends.
        assert_eq!(verdicts, [true, false, false, true, true, true]);
        assert_eq!(i.live_resources(), 0);
    }

    #[test]
    fn route_answers_ports_by_sequence_and_is_bounded() {
        let mut i = instance(Scripts {
            route: Some(Script::by_sequence(
                [
                    (1, ports(&["left", "right"])),
                    (2, ports(&[])),
                    (3, Response::Drop),
                ],
                ports(&["default"]),
            )),
            ..Scripts::default()
        });
        let got: Vec<Vec<String>> = [1, 2, 3, 9]
            .into_iter()
            .map(|n| i.route_sync(el(n)).outcome.unwrap())
            .collect();
        assert_eq!(
            got,
            [vec!["left", "right"], vec![], vec![], vec!["default"]]
        );

        let flood: Vec<String> = (0..100).map(|n| format!("p{n}")).collect();
        let mut i = instance(Scripts {
            route: Some(Script::in_order([Response::Route(flood), ports(&["ok"])])),
            ..Scripts::default()
        });
        let call = i.route_sync(el(0));
        assert_eq!(
            call.fault().map(|f| &f.kind),
            Some(&FaultKind::AnswerTooLarge {
                limit: AnswerLimit::RoutePorts,
                allowed: 64,
                got: 100,
            })
        );
        assert!(
            i.poisoned().is_none(),
            "an answer too large does not poison"
        );
        assert_eq!(i.route_sync(el(1)).outcome.unwrap(), ["ok"]);
        assert_eq!(i.live_resources(), 0);
    }

    #[test]
    fn ingest_emits_through_host_operations_or_holds_on() {
        let mut i = instance(Scripts {
            ingest: Some(Script::cycle([
                Response::Drop,
                Response::Emit(b"sum".to_vec()),
                Response::EmitInput,
                Response::EmitElement(
                    ScriptedOutput::new("total")
                        .with_content_type("text/x-total")
                        .with_sequence(90),
                ),
            ])),
            ..Scripts::default()
        });
        let held = i.ingest_sync(el(0));
        assert_eq!(held.outcome.unwrap(), None);
        assert_eq!(held.metrics.buffers_allocated, 0);

        let call = i.ingest_sync(el(1));
        let out = call.outcome.unwrap().expect("an aggregate");
        assert_eq!(&out.payload[..], b"sum");
        assert_eq!(
            (out.meta.sequence, out.meta.content_type.as_str()),
            (1, "text/plain")
        );
        assert_eq!(call.metrics.buffers_allocated, 1);
        assert_eq!(call.metrics.bytes_out_of_guest, 3);

        let input = el(2);
        let sent = input.payload.clone();
        let out = i.ingest_sync(input).outcome.unwrap().unwrap();
        assert_eq!(
            out.payload.as_ptr(),
            sent.as_ptr(),
            "emit-input is zero copy"
        );

        let out = i.ingest_sync(el(3)).outcome.unwrap().unwrap();
        assert_eq!(&out.payload[..], b"total");
        assert_eq!(out.meta.sequence, 90);
        assert_eq!(out.meta.content_type.as_str(), "text/x-total");
        assert_eq!(out.buffer_content_type.as_str(), "text/x-total");
        assert_eq!(i.live_resources(), 0);
    }

    #[test]
    fn flush_moves_its_elements_to_the_host_and_is_bounded() {
        let mut i = instance(Scripts {
            flush: Some(Script::in_order([
                Response::Flush(vec![
                    ScriptedOutput::new("a"),
                    ScriptedOutput::new("bb")
                        .with_content_type("text/plain")
                        .with_sequence(7)
                        .with_timestamp_ns(5),
                ]),
                Response::Flush(Vec::new()),
                Response::Drop,
            ])),
            ..Scripts::default()
        });
        let call = i.flush_sync();
        assert_eq!(call.metrics.buffers_allocated, 2);
        assert_eq!(call.metrics.resources_reclaimed, 0);
        let outs = call.outcome.unwrap();
        let seen: Vec<_> = outs
            .iter()
            .map(|o| {
                (
                    &o.payload[..],
                    o.meta.sequence,
                    o.meta.timestamp_ns,
                    o.meta.content_type.as_str(),
                    o.buffer_content_type.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    &b"a"[..],
                    0,
                    0,
                    PRODUCED_CONTENT_TYPE,
                    PRODUCED_CONTENT_TYPE
                ),
                (&b"bb"[..], 7, 5, "text/plain", "text/plain"),
            ]
        );
        // `flush: []`, `drop`, then the script has run out: nothing.
        for _ in 0..3 {
            assert_eq!(i.flush_sync().outcome.unwrap(), []);
        }
        assert_eq!(i.live_resources(), 0);

        let limits = Limits {
            max_flush_outputs: 2,
            ..Limits::default()
        };
        let three = (0..3).map(|n| ScriptedOutput::new(vec![n; 4])).collect();
        let mut i = instance_with(
            limits,
            Scripts {
                flush: Some(Script::in_order([Response::Flush(three)])),
                ..Scripts::default()
            },
        );
        let call = i.flush_sync();
        assert_eq!(
            call.fault().map(|f| &f.kind),
            Some(&FaultKind::AnswerTooLarge {
                limit: AnswerLimit::FlushOutputs,
                allowed: 2,
                got: 3,
            })
        );
        assert_eq!(call.metrics.buffers_allocated, 3);
        assert_eq!(
            call.metrics.resources_reclaimed, 3,
            "every buffer reclaimed"
        );
        assert_eq!(i.live_resources(), 0);
    }

    #[test]
    fn failures_work_for_every_extension_function() {
        let failures = [
            (
                Response::Error(ProcessError::Unavailable("later".into())),
                "unavailable",
            ),
            (Response::Trap, "trap"),
            (Response::FuelExhaustion, "fuel-exhausted"),
            (Response::Deadline, "deadline-exceeded"),
            (Response::MemoryLimit, "memory-limit-exceeded"),
        ];
        for function in [
            Function::Evaluate,
            Function::Route,
            Function::Ingest,
            Function::Flush,
        ] {
            for (response, want) in failures.clone() {
                let script = Some(Script::in_order([response]));
                let mut scripts = Scripts::default();
                match function {
                    Function::Evaluate => scripts.evaluate = script,
                    Function::Route => scripts.route = script,
                    Function::Ingest => scripts.ingest = script,
                    _ => scripts.flush = script,
                }
                let mut i = instance(scripts);
                let name = |e: Option<&crate::InvokeError>| match e {
                    Some(crate::InvokeError::Guest(e)) => e.kind().to_owned(),
                    Some(crate::InvokeError::Fault(f)) => f.kind.name().to_owned(),
                    None => "ok".to_owned(),
                };
                let got = match function {
                    Function::Evaluate => name(i.evaluate_sync(el(0)).outcome.err().as_ref()),
                    Function::Route => name(i.route_sync(el(0)).outcome.err().as_ref()),
                    Function::Ingest => name(i.ingest_sync(el(0)).outcome.err().as_ref()),
                    _ => name(i.flush_sync().outcome.err().as_ref()),
                };
                assert_eq!(got, want, "{function}");
                // A contract error leaves the instance usable; a fault
                // poisons it.
                assert_eq!(i.poisoned().is_some(), want != "unavailable", "{function}");
                assert_eq!(i.live_resources(), 0, "{function}");
            }
        }
    }

    #[test]
    fn responses_of_other_functions_give_the_default_answer() {
        let all_wrong = |rs: &[Response]| Some(Script::in_order(rs.to_vec()));
        let mut i = instance(Scripts {
            process: all_wrong(&[Response::Pass, ports(&["a"]), Response::Flush(Vec::new())]),
            ..Scripts::default()
        });
        for n in 0..3 {
            assert!(matches!(
                i.process_sync(el(n)).outcome,
                Ok(ProcessResult::Drop)
            ));
        }
        let mut i = instance(Scripts {
            pull: all_wrong(&[Response::Reject]),
            push: all_wrong(&[ports(&["a"])]),
            init: all_wrong(&[Response::Pass]),
            ..Scripts::default()
        });
        assert_eq!(i.init_sync("").outcome, Ok(()));
        assert_eq!(i.pull_sync().outcome.unwrap(), None);
        assert_eq!(
            i.push_sync(el(0)).outcome.unwrap(),
            BackpressureSignal::Ready
        );
        let mut i = instance(Scripts {
            evaluate: all_wrong(&[Response::Emit(b"x".to_vec())]),
            route: all_wrong(&[Response::Pass]),
            ingest: all_wrong(&[Response::Pass]),
            flush: all_wrong(&[Response::EmitInput]),
            ..Scripts::default()
        });
        assert!(i.evaluate_sync(el(0)).outcome.unwrap());
        assert_eq!(i.route_sync(el(0)).outcome.unwrap(), Vec::<String>::new());
        assert_eq!(i.ingest_sync(el(0)).outcome.unwrap(), None);
        assert_eq!(i.flush_sync().outcome.unwrap(), []);
        assert_eq!(i.live_resources(), 0);
    }
}
