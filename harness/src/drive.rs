//! Driving an instance on the runtime's behalf: a call through the engine
//! traits, recorded as a transcript [`Entry`] (its input, outcome, costs,
//! guest output and any injected host fault), and the runtime's rules on
//! what ends a stage. Scenario runs ([`crate::scenario`]) and pipeline runs
//! ([`crate::pipeline`]) both drive their instances through a [`Driver`].

use torvyn_engine::{
    Answer, Call as EngineCall, ComponentInvoker, ElementMeta, FlowContext, InvokeError, Role,
    StreamElement, WasmEngine,
};

use crate::backend::{SimBackend, block_on};
use crate::sim::SimRng;
use crate::transcript::{Entry, InputSummary, Outcome, PayloadPreview};

type Instance<B> = <<B as SimBackend>::Engine as WasmEngine>::Instance;

/// Whether a failed pull ends a source: a `fatal` error, or a fault that
/// poisoned the instance (or found it poisoned: `Poisoned` poisons too).
pub(crate) fn ends_source(e: &InvokeError) -> bool {
    match e {
        InvokeError::Guest(g) => g.is_fatal(),
        InvokeError::Fault(f) => f.poisons(),
    }
}

/// Why a component stops taking elements after `e` on element `n` (0-based):
/// `Some` for the contract's terminal `fatal`, `None` otherwise.
pub(crate) fn fatal(e: &InvokeError, n: u64) -> Option<String> {
    match e {
        InvokeError::Guest(g) if g.is_fatal() => Some(format!(
            "fatal at element {n} ({}): the contract's terminal error",
            Outcome::error(e).short()
        )),
        _ => None,
    }
}

/// The instance id for a component reference: the file stem of a path, or
/// the fixture name.
pub(crate) fn stage_id(component: &str) -> String {
    let p = std::path::Path::new(component);
    match p.extension().and_then(|e| e.to_str()) {
        Some("wat" | "wasm") => p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(component)
            .to_string(),
        _ => component.to_string(),
    }
}

/// Makes calls through the engine traits and records each as an [`Entry`].
pub(crate) struct Driver<'b, B: SimBackend> {
    backend: &'b B,
    /// Bytes of each payload and guest output preview (`0`: no cap).
    preview: usize,
    /// Every call so far.
    pub entries: Vec<Entry>,
    /// Whether each entry lists the host calls of its call (the instances
    /// trace them).
    pub trace_host_calls: bool,
}

impl<'b, B: SimBackend> Driver<'b, B> {
    /// A driver on `backend` whose previews show `preview` bytes (`0`:
    /// every byte).
    pub fn new(backend: &'b B, preview: usize) -> Self {
        Self {
            backend,
            preview,
            entries: Vec::new(),
            trace_host_calls: false,
        }
    }

    /// An element as the runtime stamps it: `sequence`, the clock now as
    /// timestamp, the run's trace and flow, a fresh span, and the deadline
    /// `deadline_ns` from now.
    #[allow(clippy::too_many_arguments)]
    pub fn element(
        &self,
        sequence: u64,
        payload: impl Into<torvyn_engine::Bytes>,
        content_type: impl Into<torvyn_engine::ContentType>,
        trace_id: &str,
        flow_id: &str,
        ids: &mut SimRng,
        deadline_ns: Option<u64>,
    ) -> StreamElement {
        let now = self.backend.clock().now_ns();
        let mut context = FlowContext::new(flow_id).with_trace(trace_id, ids.span_id());
        if let Some(d) = deadline_ns {
            context = context.with_deadline_ns(now.saturating_add(d));
        }
        StreamElement {
            meta: ElementMeta {
                sequence,
                timestamp_ns: now,
                content_type: content_type.into(),
            },
            payload: payload.into(),
            context,
        }
    }

    /// Makes `call` on `inst` (of `stage`, in a pipeline) and records it
    /// as an [`Entry`]: its argument or input, its outcome, what it cost,
    /// the clock after it, the resources left, the guest's output and the
    /// host call the fault plan failed, if one did.
    pub fn call(
        &mut self,
        inst: &mut Instance<B>,
        stage: Option<&str>,
        call: EngineCall,
    ) -> Result<Answer, InvokeError> {
        let function = call.function();
        let entry_call = call.function();
        let argument = match &call {
            EngineCall::Init(config) => Some(config.clone()),
            EngineCall::NotifyBackpressure(s) => Some(s.name().to_string()),
            _ => None,
        };
        let input = call.element().map(|el| summarize(el, self.preview));
        let inv = block_on(inst.call(call));
        let outcome = match &inv.outcome {
            Ok(answer) => Outcome::of_answer(answer, function, self.preview),
            Err(e) => Outcome::error(e),
        };
        let mut entry = Entry::new(self.entries.len(), entry_call, outcome, &inv.metrics);
        entry.stage = stage.map(str::to_string);
        entry.argument = argument;
        entry.input = input;
        entry.now_ns = self.backend.clock().now_ns();
        entry.live_resources = inst.live_resources();
        let (stdout, stderr) = self.backend.take_output(inst);
        entry.stdout = PayloadPreview::of_guest_output_with_cap(&stdout, self.preview);
        entry.stderr = PayloadPreview::of_guest_output_with_cap(&stderr, self.preview);
        if entry.failed() {
            entry.stderr_error = crate::transcript::guest_error_lines(&stderr.bytes);
        }
        entry.failed_host_call = inst.injected_fault().map(Into::into);
        if self.trace_host_calls {
            entry.host_call_trace = Some(crate::host_calls::trace_lines(inst.host_call_trace()));
        }
        self.entries.push(entry);
        inv.outcome
    }

    /// `init` as the runtime calls it: on a component that exports
    /// `lifecycle` (with `""` when there is no config), or on any when a
    /// config is given (the engine refuses it without `lifecycle`). Returns
    /// why the component must take no elements, if its `init` failed.
    pub fn init_if_needed(
        &mut self,
        inst: &mut Instance<B>,
        stage: Option<&str>,
        config: Option<&str>,
    ) -> Option<String> {
        if config.is_none() && !inst.roles().contains(Role::Lifecycle) {
            return None;
        }
        let call = EngineCall::Init(config.unwrap_or("").to_string());
        let e = self.call(inst, stage, call).err()?;
        Some(format!(
            "init failed ({}): the component took no elements",
            Outcome::error(&e).short()
        ))
    }
}

fn summarize(el: &StreamElement, preview: usize) -> InputSummary {
    InputSummary {
        sequence: el.meta.sequence,
        timestamp_ns: el.meta.timestamp_ns,
        content_type: el.meta.content_type.to_string(),
        deadline_ns: el.context.deadline_ns(),
        payload: PayloadPreview::with_cap(&el.payload, preview),
    }
}
