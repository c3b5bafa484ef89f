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

use crate::traits::ComponentInvoker;
use crate::types::{
    BackpressureSignal, Function, Invocation, OutputElement, ProcessResult, StreamElement,
};

/// One call of the contract: the function and what it is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `lifecycle.init(config)`.
    Init(String),
    /// `processor.process(element)`.
    Process(StreamElement),
    /// `source.pull()`.
    Pull,
    /// `source.notify-backpressure(signal)`.
    NotifyBackpressure(BackpressureSignal),
    /// `sink.push(element)`.
    Push(StreamElement),
    /// `sink.complete()`.
    Complete,
    /// `lifecycle.teardown()`.
    Teardown,
    /// `filter.evaluate(element)`.
    Evaluate(StreamElement),
    /// `router.route(element)`.
    Route(StreamElement),
    /// `aggregator.ingest(element)`.
    Ingest(StreamElement),
    /// `aggregator.flush()`.
    Flush,
}

impl Call {
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

    /// The element the call lends the component, if it takes one.
    pub fn element(&self) -> Option<&StreamElement> {
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
/// [`Invocation`]'s `Err`). Each function has its own answers:
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
pub enum Answer {
    /// The call succeeded with no value.
    Done,
    /// An element: emitted by `process`, pulled from a source, or an
    /// aggregate `ingest` made ready.
    Emit(OutputElement),
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
    Flushed(Vec<OutputElement>),
}

impl Answer {
    /// The emitted element, for [`Answer::Emit`].
    pub fn emitted(&self) -> Option<&OutputElement> {
        match self {
            Self::Emit(out) => Some(out),
            _ => None,
        }
    }

    /// The elements the answer hands on to the next stage: the emitted one,
    /// or every flushed one.
    pub fn outputs(&self) -> &[OutputElement] {
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
        let calls = [
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
        assert!(!Answer::Drop.fits(Function::Pull));
        assert!(!Answer::Nothing.fits(Function::Process));
    }
}
