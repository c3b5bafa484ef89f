//! The calls of the 0.1 invokers, over any 0.2 instance: elements in
//! (handles to bytes), elements out (bytes to fresh handles), outcomes
//! to 0.1's `ProcessError`s, metrics to [`InvocationResult`].

use torvyn_types::{BackpressureSignal, ComponentId, ElementMeta, ProcessError};

use crate::payload::Payloads;
use crate::types::{InvocationResult, OutputElement, ProcessResult, StreamElement};

/// A 0.2 instance and what 0.1 knows of it.
pub(crate) struct Call<'a, I> {
    pub instance: &'a mut I,
    pub payloads: &'a Payloads,
    /// The id the 0.1 caller named (errors name it, as 0.1.1's did).
    pub component_id: ComponentId,
    /// Where the call's cost goes.
    pub last: &'a mut Option<InvocationResult>,
}

impl<I: v2::ComponentInvoker + Send> Call<'_, I> {
    pub async fn process(mut self, element: StreamElement) -> Result<ProcessResult, ProcessError> {
        let input = element_in(self.payloads, element, "process")?;
        let call = self.instance.process(input).await;
        match self.finish("process", call)? {
            v2::ProcessResult::Emit(out) => Ok(ProcessResult::Output(output(self.payloads, out))),
            v2::ProcessResult::Drop => Ok(ProcessResult::Filtered),
        }
    }

    pub async fn pull(mut self) -> Result<Option<OutputElement>, ProcessError> {
        let call = self.instance.pull().await;
        Ok(self
            .finish("pull", call)?
            .map(|out| output(self.payloads, out)))
    }

    pub async fn push(
        mut self,
        element: StreamElement,
    ) -> Result<BackpressureSignal, ProcessError> {
        let input = element_in(self.payloads, element, "push")?;
        let call = self.instance.push(input).await;
        Ok(match self.finish("push", call)? {
            v2::BackpressureSignal::Ready => BackpressureSignal::Ready,
            v2::BackpressureSignal::Pause => BackpressureSignal::Pause,
        })
    }

    pub async fn init(mut self, config: &str) -> Result<(), ProcessError> {
        let call = self.instance.init(config).await;
        self.finish("init", call)
    }

    /// The teardown's outcome, for the caller to log (0.1 reports none).
    pub async fn teardown(mut self) -> Result<(), ProcessError> {
        let call = self.instance.teardown().await;
        self.finish("teardown", call)
    }

    /// Records the call's cost and maps its outcome.
    fn finish<T>(
        &mut self,
        function: &'static str,
        call: v2::Invocation<T>,
    ) -> Result<T, ProcessError> {
        *self.last = Some(InvocationResult {
            component_id: self.component_id,
            function_name: function,
            fuel_consumed: call.metrics.fuel_consumed,
            duration_ns: u64::try_from(call.metrics.duration.as_nanos()).unwrap_or(u64::MAX),
            success: call.outcome.is_ok(),
        });
        call.outcome
            .map_err(|e| process_error(e, self.component_id, function))
    }
}

/// Takes the element's bytes out of the table: the handle is consumed.
fn element_in(
    payloads: &Payloads,
    element: StreamElement,
    function: &str,
) -> Result<v2::StreamElement, ProcessError> {
    let Some(bytes) = payloads.take(element.payload) else {
        return Err(ProcessError::InvalidInput(format!(
            "the payload handle {} passed to `{function}` names no bytes this invoker holds \
             (it was consumed by an earlier call, released, or never put in): put the bytes in \
             with the invoker's `payloads().insert(..)` and pass the handle it returns, once",
            element.payload
        )));
    };
    Ok(v2::StreamElement {
        meta: v2::ElementMeta {
            sequence: element.meta.sequence,
            timestamp_ns: element.meta.timestamp_ns,
            content_type: element.meta.content_type.into(),
        },
        payload: bytes,
        context: v2::FlowContext::default(),
    })
}

/// Puts an output's bytes in the table under a fresh handle.
fn output(payloads: &Payloads, out: v2::OutputElement) -> OutputElement {
    OutputElement {
        meta: ElementMeta::new(
            out.meta.sequence,
            out.meta.timestamp_ns,
            out.meta.content_type.into(),
        ),
        payload: payloads.insert(out.payload),
    }
}

/// A 0.2 outcome as 0.1.1's invoker reported it.
pub(crate) fn process_error(
    e: v2::InvokeError,
    component_id: ComponentId,
    function: &str,
) -> ProcessError {
    match e {
        v2::InvokeError::Guest(g) => guest_error(g),
        v2::InvokeError::Fault(fault) => match &fault.kind {
            v2::FaultKind::FuelExhausted { .. } | v2::FaultKind::DeadlineExceeded { .. } => {
                ProcessError::DeadlineExceeded
            }
            v2::FaultKind::MissingExport { role } => ProcessError::Internal(format!(
                "Component {component_id} does not export '{function}': it has no {role} role \
                 (`{}`); call a function of a role it exports",
                role.interface()
            )),
            v2::FaultKind::Rejected { reason } => ProcessError::InvalidInput(format!(
                "Component {component_id}, '{function}': {reason}"
            )),
            v2::FaultKind::AnswerTooLarge { .. } => ProcessError::Internal(fault.to_string()),
            _ => ProcessError::Fatal(fault.to_string()),
        },
    }
}

/// A guest's `process-error`, same kind, same message.
pub(crate) fn guest_error(e: v2::ProcessError) -> ProcessError {
    match e {
        v2::ProcessError::InvalidInput(m) => ProcessError::InvalidInput(m),
        v2::ProcessError::Unavailable(m) => ProcessError::Unavailable(m),
        v2::ProcessError::Internal(m) => ProcessError::Internal(m),
        v2::ProcessError::DeadlineExceeded => ProcessError::DeadlineExceeded,
        v2::ProcessError::Fatal(m) => ProcessError::Fatal(m),
    }
}
