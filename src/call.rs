//! A call of the contract as a value, and its answer as a value.
//!
//! The hot path has one typed method per function
//! ([`ComponentInvoker::process`], [`ComponentInvoker::pull`], ...): each is
//! monomorphized and returns exactly its function's type. Code that handles
//! calls generically (a runner that logs every call, a recorder, a replay,
//! a fuzzer that picks the next call) needs one shape for all of them
//! instead: a [`Call`] names the function with its argument, an [`Answer`]
//! holds what any function can answer, and
//! [`ComponentInvoker::call`] dispatches one to the typed method.
//!
//! ```
//! use torvyn_engine::mock::{MockEngine, MockEngineConfig, models};
//! use torvyn_engine::{Answer, Call, ComponentId, ComponentInvoker, StreamElement, WasmEngine};
//!
//! let engine = MockEngine::new(MockEngineConfig::default()).unwrap();
//! engine.register(models::uppercase_component());
//! let compiled = engine.compile(&MockEngine::component_bytes("uppercase")).unwrap();
//! let mut upper = engine.instantiate(&compiled, ComponentId::new("upper")).unwrap();
//!
//! let call = Call::Process(StreamElement::new(0, "hi", "text/plain"));
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let answer = runtime.block_on(upper.call(call)).outcome.unwrap();
//! assert_eq!(answer.emitted().map(|out| &out.payload[..]), Some(&b"HI"[..]));
//! //! ```

use crate::error::{FaultName, InvokeError};
use crate::traits::ComponentInvoker;
use crate::types::{
    BackpressureSignal, Function, Invocation, OutputElement, ProcessErrorName, ProcessResult,
    StreamElement,
};

/// One call of the contract: the function and what it is given. The
/// element it lends is `E`: a [`StreamElement`] to make the call, or
/// however a generator or a recording describes one until it is built
/// ([`Call::map_element`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call<E = StreamElement> {
    /// `lifecycle.init(config)`.
    Init(String),
    /// `processor.process(element)`.
    Process(E),
    /// `source.pull()`.
    Pull,
    /// `source.notify-backpressure(signal)`.
    NotifyBackpressure(BackpressureSignal),
    /// `sink.push(element)`.
    Push(E),
    /// `sink.complete()`.
    Complete,
    /// `lifecycle.teardown()`.
    Teardown,
    /// `filter.evaluate(element)`.
    Evaluate(E),
    /// `router.route(element)`.
    Route(E),
    /// `aggregator.ingest(element)`.
    Ingest(E),
    /// `aggregator.flush()`.
    Flush,
}

impl<E> Call<E> {
    /// The function called.
    pub fn function(&self) -> Function {
        match self {
            Self::Init(_) => Function::Init,
            Self::Process(_) => Function::Process,
            Self::Pull => Function::Pull,
            Self::NotifyBackpressure(_) => Function::NotifyBackpressure,
            Self::Push(_) => Function::Push,
            Self::Complete => Function::Complete,
            Self::Teardown => Function::Teardown,
            Self::Evaluate(_) => Function::Evaluate,
            Self::Route(_) => Function::Route,
            Self::Ingest(_) => Function::Ingest,
            Self::Flush => Function::Flush,
        }
    }

    /// The same call with its element, if it takes one, made by `f`
    /// (built from a description, or shown another way).
    pub fn map_element<F>(self, f: impl FnOnce(E) -> F) -> Call<F> {
        match self {
            Self::Init(config) => Call::Init(config),
            Self::Process(e) => Call::Process(f(e)),
            Self::Pull => Call::Pull,
            Self::NotifyBackpressure(s) => Call::NotifyBackpressure(s),
            Self::Push(e) => Call::Push(f(e)),
            Self::Complete => Call::Complete,
            Self::Teardown => Call::Teardown,
            Self::Evaluate(e) => Call::Evaluate(f(e)),
            Self::Route(e) => Call::Route(f(e)),
            Self::Ingest(e) => Call::Ingest(f(e)),
            Self::Flush => Call::Flush,
        }
    }

    /// The element the call lends the component, if it takes one.
    pub fn element(&self) -> Option<&E> {
        match self {
            Self::Process(e)
            | Self::Push(e)
            | Self::Evaluate(e)
            | Self::Route(e)
            | Self::Ingest(e) => Some(e),
            _ => None,
        }
    }
}

/// What a call answered, when it answered (its errors are the
/// [`Invocation`]'s `Err`; [`Outcome`] keeps both as data). The elements it
/// hands on are `O`: the [`OutputElement`]s themselves by default, or
/// however a journal, a recording or a transcript shows them
/// ([`Answer::map_outputs`]). Each function has its own answers:
///
/// | function | answers |
/// |---|---|
/// | `init`, `notify-backpressure`, `complete`, `teardown` | [`Answer::Done`] |
/// | `process` | [`Answer::Emit`], [`Answer::Drop`] |
/// | `pull` | [`Answer::Emit`], [`Answer::Nothing`] (the source is exhausted) |
/// | `push` | [`Answer::Signal`] |
/// | `evaluate` | [`Answer::Verdict`] |
/// | `route` | [`Answer::Ports`] |
/// | `ingest` | [`Answer::Emit`], [`Answer::Nothing`] (absorbed, nothing ready) |
/// | `flush` | [`Answer::Flushed`] |
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer<O = OutputElement> {
    /// The call succeeded with no value.
    Done,
    /// An element: emitted by `process`, pulled from a source, or an
    /// aggregate `ingest` made ready.
    Emit(O),
    /// `process` consumed the element and emitted nothing.
    Drop,
    /// `pull`: the source is exhausted; `ingest`: nothing is ready yet.
    Nothing,
    /// `push`'s backpressure signal.
    Signal(BackpressureSignal),
    /// `evaluate`: `true` passes the element on.
    Verdict(bool),
    /// `route`: the output ports that receive the element (none: dropped).
    Ports(Vec<String>),
    /// `flush`: the elements still buffered.
    Flushed(Vec<O>),
}

impl<O> Answer<O> {
    /// The same answer with every element it hands on shown as `f` shows
    /// it (a digest, a preview, a recorded payload...).
    pub fn map_outputs<P>(self, mut f: impl FnMut(O) -> P) -> Answer<P> {
        match self {
            Self::Done => Answer::Done,
            Self::Emit(out) => Answer::Emit(f(out)),
            Self::Drop => Answer::Drop,
            Self::Nothing => Answer::Nothing,
            Self::Signal(s) => Answer::Signal(s),
            Self::Verdict(pass) => Answer::Verdict(pass),
            Self::Ports(ports) => Answer::Ports(ports),
            Self::Flushed(outs) => Answer::Flushed(outs.into_iter().map(f).collect()),
        }
    }

    /// The answer with its elements borrowed.
    pub fn as_ref(&self) -> Answer<&O> {
        match self {
            Self::Done => Answer::Done,
            Self::Emit(out) => Answer::Emit(out),
            Self::Drop => Answer::Drop,
            Self::Nothing => Answer::Nothing,
            Self::Signal(s) => Answer::Signal(*s),
            Self::Verdict(pass) => Answer::Verdict(*pass),
            Self::Ports(ports) => Answer::Ports(ports.clone()),
            Self::Flushed(outs) => Answer::Flushed(outs.iter().collect()),
        }
    }

    /// The answer's name in recordings and messages: `ok`, `emit`, `drop`,
    /// `none`, `signal`, `pass`, `ports`, `flushed`.
    pub fn variant(&self) -> &'static str {
        match self {
            Self::Done => "ok",
            Self::Emit(_) => "emit",
            Self::Drop => "drop",
            Self::Nothing => "none",
            Self::Signal(_) => "signal",
            Self::Verdict(_) => "pass",
            Self::Ports(_) => "ports",
            Self::Flushed(_) => "flushed",
        }
    }

    /// The emitted element, for [`Answer::Emit`].
    pub fn emitted(&self) -> Option<&O> {
        match self {
            Self::Emit(out) => Some(out),
            _ => None,
        }
    }

    /// The elements the answer hands on to the next stage: the emitted one,
    /// or every flushed one.
    pub fn outputs(&self) -> &[O] {
        match self {
            Self::Emit(out) => std::slice::from_ref(out),
            Self::Flushed(outs) => outs,
            _ => &[],
        }
    }

    /// Whether `function` can give this answer (the table above).
    pub fn fits(&self, function: Function) -> bool {
        use Function as F;
        match self {
            Self::Done => matches!(
                function,
                F::Init | F::NotifyBackpressure | F::Complete | F::Teardown
            ),
            Self::Emit(_) => matches!(function, F::Process | F::Pull | F::Ingest),
            Self::Drop => function == F::Process,
            Self::Nothing => matches!(function, F::Pull | F::Ingest),
            Self::Signal(_) => function == F::Push,
            Self::Verdict(_) => function == F::Evaluate,
            Self::Ports(_) => function == F::Route,
            Self::Flushed(_) => function == F::Flush,
        }
    }
}

impl From<()> for Answer {
    fn from((): ()) -> Self {
        Self::Done
    }
}

impl From<ProcessResult> for Answer {
    fn from(r: ProcessResult) -> Self {
        match r {
            ProcessResult::Emit(out) => Self::Emit(out),
            ProcessResult::Drop => Self::Drop,
        }
    }
}

impl From<Option<OutputElement>> for Answer {
    fn from(r: Option<OutputElement>) -> Self {
        match r {
            Some(out) => Self::Emit(out),
            None => Self::Nothing,
        }
    }
}

impl From<BackpressureSignal> for Answer {
    fn from(s: BackpressureSignal) -> Self {
        Self::Signal(s)
    }
}

impl From<bool> for Answer {
    fn from(pass: bool) -> Self {
        Self::Verdict(pass)
    }
}

impl From<Vec<String>> for Answer {
    fn from(ports: Vec<String>) -> Self {
        Self::Ports(ports)
    }
}

impl From<Vec<OutputElement>> for Answer {
    fn from(outs: Vec<OutputElement>) -> Self {
        Self::Flushed(outs)
    }
}

/// How a call ended, kept as data: what journals, recordings and replays
/// compare. The answer's elements are `O`, as in [`Answer`]; a guest error
/// and a fault keep their kind and message (the fault's kind says whether
/// it poisoned the instance: [`FaultName::poisons`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<O = OutputElement> {
    /// The call answered.
    Answer(Answer<O>),
    /// The guest returned a `process-error`.
    Error {
        /// Which one.
        kind: ProcessErrorName,
        /// Its message, for the variants that have one.
        message: Option<String>,
    },
    /// The engine stopped the call.
    Fault {
        /// Which kind of fault.
        kind: FaultName,
        /// The fault as the engine describes it ([`FaultKind`]'s
        /// `Display`: with a trap's backtrace, and advice).
        ///
        /// [`FaultKind`]: crate::FaultKind
        message: String,
    },
}

impl Outcome {
    /// The outcome of a call that ended with `result`.
    pub fn of(result: Result<Answer, InvokeError>) -> Self {
        match result {
            Ok(answer) => Self::Answer(answer),
            Err(e) => Self::error(&e),
        }
    }
}

impl<O> Outcome<O> {
    /// The outcome of a failed call.
    pub fn error(e: &InvokeError) -> Self {
        match e {
            InvokeError::Guest(g) => Self::Error {
                kind: g.name(),
                message: g.message().map(str::to_string),
            },
            InvokeError::Fault(f) => Self::Fault {
                kind: f.kind.fault_name(),
                message: f.kind.to_string(),
            },
        }
    }

    /// The same outcome with the answer's elements shown as `f` shows them.
    pub fn map_outputs<P>(self, f: impl FnMut(O) -> P) -> Outcome<P> {
        match self {
            Self::Answer(a) => Outcome::Answer(a.map_outputs(f)),
            Self::Error { kind, message } => Outcome::Error { kind, message },
            Self::Fault { kind, message } => Outcome::Fault { kind, message },
        }
    }

    /// The answer, when the call answered.
    pub fn answer(&self) -> Option<&Answer<O>> {
        match self {
            Self::Answer(a) => Some(a),
            _ => None,
        }
    }

    /// The outcome's name: its answer's ([`Answer::variant`]), `error` or
    /// `fault`.
    pub fn variant(&self) -> &'static str {
        match self {
            Self::Answer(a) => a.variant(),
            Self::Error { .. } => "error",
            Self::Fault { .. } => "fault",
        }
    }

    /// Whether a call of `function` can end this way: any can fail; an
    /// answer must be one of the function's ([`Answer::fits`]).
    pub fn fits(&self, function: Function) -> bool {
        match self {
            Self::Answer(a) => a.fits(function),
            Self::Error { .. } | Self::Fault { .. } => true,
        }
    }
}

/// Dispatches `call` to `invoker`'s typed method and wraps the answer: the
/// body of [`ComponentInvoker::call`].
pub(crate) async fn dispatch<I: ComponentInvoker + ?Sized>(
    invoker: &mut I,
    call: Call,
) -> Invocation<Answer> {
    match call {
        Call::Init(config) => invoker.init(&config).await.map(Answer::from),
        Call::Process(e) => invoker.process(e).await.map(Answer::from),
        Call::Pull => invoker.pull().await.map(Answer::from),
        Call::NotifyBackpressure(s) => invoker.notify_backpressure(s).await.map(Answer::from),
        Call::Push(e) => invoker.push(e).await.map(Answer::from),
        Call::Complete => invoker.complete().await.map(Answer::from),
        Call::Teardown => invoker.teardown().await.map(Answer::from),
        Call::Evaluate(e) => invoker.evaluate(e).await.map(Answer::from),
        Call::Route(e) => invoker.route(e).await.map(Answer::from),
        Call::Ingest(e) => invoker.ingest(e).await.map(Answer::from),
        Call::Flush => invoker.flush().await.map(Answer::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_has_a_call_and_answers_that_fit_it() {
        let el = || StreamElement::new(0, "x", "text/plain");
        let calls: [Call; 11] = [
            Call::Init(String::new()),
            Call::Process(el()),
            Call::Pull,
            Call::NotifyBackpressure(BackpressureSignal::Ready),
            Call::Push(el()),
            Call::Complete,
            Call::Teardown,
            Call::Evaluate(el()),
            Call::Route(el()),
            Call::Ingest(el()),
            Call::Flush,
        ];
        let functions: Vec<Function> = calls.iter().map(Call::function).collect();
        assert_eq!(functions, Function::CALLS);
        for call in &calls {
            let takes_element = matches!(
                call.function(),
                Function::Process
                    | Function::Push
                    | Function::Evaluate
                    | Function::Route
                    | Function::Ingest
            );
            assert_eq!(call.element().is_some(), takes_element, "{call:?}");
        }
        // Each function has at least one answer, and each answer fits some
        // function.
        let answers = [
            Answer::Done,
            Answer::Emit(OutputElement::default()),
            Answer::Drop,
            Answer::Nothing,
            Answer::Signal(BackpressureSignal::Pause),
            Answer::Verdict(true),
            Answer::Ports(vec!["a".into()]),
            Answer::Flushed(Vec::new()),
        ];
        for f in Function::CALLS {
            assert!(answers.iter().any(|a| a.fits(f)), "{f:?}");
        }
        assert!(!Answer::<OutputElement>::Drop.fits(Function::Pull));
        assert!(!Answer::<OutputElement>::Nothing.fits(Function::Process));
    }

    #[test]
    fn outcomes_keep_kinds_that_read_back_by_name() {
        for k in FaultName::ALL {
            assert_eq!(FaultName::from_name(k.name()), Some(k));
        }
        for k in ProcessErrorName::ALL {
            assert_eq!(ProcessErrorName::from_name(k.name()), Some(k));
        }
        assert_eq!(FaultName::from_name("nonsense"), None);
        let guest = InvokeError::Guest(crate::ProcessError::InvalidInput("bad".into()));
        assert_eq!(
            Outcome::of(Err(guest)),
            Outcome::Error {
                kind: ProcessErrorName::InvalidInput,
                message: Some("bad".into())
            }
        );
        let out = OutputElement::default();
        let shown = Outcome::of(Ok(Answer::Flushed(vec![out.clone(), out])))
            .map_outputs(|o| o.payload.len());
        assert_eq!(shown, Outcome::Answer(Answer::Flushed(vec![0, 0])));
        assert_eq!(shown.variant(), "flushed");
        assert!(shown.fits(Function::Flush) && !shown.fits(Function::Process));
    }
}
