//! Elements: what flows between stages (`stream-element`,
//! `output-element`), with their metadata and flow context.

use std::fmt;
use std::sync::Arc;

use super::{Bytes, ContentType};

/// Metadata of one element (`element-meta` in the contract).
///
/// The runtime assigns `sequence` and `timestamp_ns`; values a component
/// returns are advisory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ElementMeta {
    /// Position of the element in its stream.
    pub sequence: u64,
    /// When the element was produced, in nanoseconds on the engine clock.
    pub timestamp_ns: u64,
    /// A hint such as `application/json`; empty if unset.
    pub content_type: ContentType,
}

impl ElementMeta {
    /// Metadata with a sequence number and a content type, timestamp zero.
    pub fn new(sequence: u64, content_type: impl Into<ContentType>) -> Self {
        Self {
            sequence,
            timestamp_ns: 0,
            content_type: content_type.into(),
        }
    }
}

/// Tracing ids and the deadline of the flow an element belongs to
/// (`flow-context` in the contract).
///
/// Shared: the three ids live behind one [`Arc`], so cloning a context to
/// forward an element to the next stage (or to lend it to the guest) is one
/// reference-count increment, never an allocation, and a context without
/// ids ([`FlowContext::default`]) holds no `Arc` at all. Building one with
/// ids allocates once per id set; the deadline is a plain value.
///
/// ```
/// use torvyn_engine::FlowContext;
///
/// let ctx = FlowContext::new("flow-1").with_trace("0".repeat(32), "1".repeat(16));
/// let forwarded = ctx.clone(); // no allocation
/// assert_eq!(forwarded.flow_id(), "flow-1");
/// assert_eq!(forwarded.span_id().len(), 16);
/// assert_eq!(forwarded.deadline_ns(), None);
/// assert_eq!(FlowContext::default().trace_id(), "");
/// ```
#[derive(Clone, Default)]
pub struct FlowContext {
    /// The ids; `None` when all three are empty.
    ids: Option<Arc<FlowIds>>,
    deadline_ns: Option<u64>,
}

/// The ids of a [`FlowContext`], shared by its clones.
#[derive(Default)]
struct FlowIds {
    trace_id: Box<str>,
    span_id: Box<str>,
    flow_id: Box<str>,
}

impl FlowContext {
    /// A context with a flow id, no tracing and no deadline.
    pub fn new(flow_id: impl Into<String>) -> Self {
        Self::default().with_ids(|ids| ids.flow_id = flow_id.into().into_boxed_str())
    }

    /// The same context with tracing ids.
    pub fn with_trace(self, trace_id: impl Into<String>, span_id: impl Into<String>) -> Self {
        let (trace_id, span_id) = (trace_id.into(), span_id.into());
        self.with_ids(|ids| {
            ids.trace_id = trace_id.into_boxed_str();
            ids.span_id = span_id.into_boxed_str();
        })
    }

    /// The same context with an absolute deadline on the engine clock.
    pub fn with_deadline_ns(mut self, deadline_ns: u64) -> Self {
        self.deadline_ns = Some(deadline_ns);
        self
    }

    /// The trace id: 32 hex characters, or empty when tracing is off.
    pub fn trace_id(&self) -> &str {
        self.ids.as_ref().map_or("", |ids| &ids.trace_id)
    }

    /// The span id: 16 hex characters, or empty when tracing is off.
    pub fn span_id(&self) -> &str {
        self.ids.as_ref().map_or("", |ids| &ids.span_id)
    }

    /// The flow id, unique per flow (empty if unset).
    pub fn flow_id(&self) -> &str {
        self.ids.as_ref().map_or("", |ids| &ids.flow_id)
    }

    /// The absolute deadline in nanoseconds on the engine clock
    /// ([`crate::Clock::now_ns`]); `None` for no deadline. The guest sees
    /// the remaining time through `deadline-ns`; the engine interrupts a
    /// call that runs past it.
    pub fn deadline_ns(&self) -> Option<u64> {
        self.deadline_ns
    }

    /// Changes the ids (copying them out of a shared `Arc` first), and
    /// keeps no `Arc` when they all end up empty.
    fn with_ids(mut self, change: impl FnOnce(&mut FlowIds)) -> Self {
        let mut ids = match self.ids.take() {
            Some(shared) => Arc::try_unwrap(shared).unwrap_or_else(|shared| FlowIds {
                trace_id: shared.trace_id.clone(),
                span_id: shared.span_id.clone(),
                flow_id: shared.flow_id.clone(),
            }),
            None => FlowIds::default(),
        };
        change(&mut ids);
        let empty = ids.trace_id.is_empty() && ids.span_id.is_empty() && ids.flow_id.is_empty();
        self.ids = (!empty).then(|| Arc::new(ids));
        self
    }
}

/// As a struct of its four fields, as when they were plain fields.
impl fmt::Debug for FlowContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowContext")
            .field("trace_id", &self.trace_id())
            .field("span_id", &self.span_id())
            .field("flow_id", &self.flow_id())
            .field("deadline_ns", &self.deadline_ns)
            .finish()
    }
}

/// By value: two contexts with the same ids and deadline are equal whether
/// or not they share their ids.
impl PartialEq for FlowContext {
    fn eq(&self, other: &Self) -> bool {
        self.deadline_ns == other.deadline_ns
            && match (&self.ids, &other.ids) {
                (Some(a), Some(b)) if Arc::ptr_eq(a, b) => true,
                _ => {
                    self.trace_id() == other.trace_id()
                        && self.span_id() == other.span_id()
                        && self.flow_id() == other.flow_id()
                }
            }
    }
}

impl Eq for FlowContext {}

impl std::hash::Hash for FlowContext {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.trace_id().hash(state);
        self.span_id().hash(state);
        self.flow_id().hash(state);
        self.deadline_ns.hash(state);
    }
}

/// An element handed to a processor (`process`) or a sink (`push`).
///
/// The payload is lent to the guest as a borrowed `buffer` handle whose
/// content type is `meta.content_type`; the host keeps it, so the same
/// element can be sent again (a retry) without copying.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamElement {
    /// The element's metadata.
    pub meta: ElementMeta,
    /// The payload bytes (at most 16 MiB).
    pub payload: Bytes,
    /// The flow the element belongs to.
    pub context: FlowContext,
}

impl StreamElement {
    /// An element with a sequence number, a payload and a content type, in a
    /// default flow context.
    pub fn new(
        sequence: u64,
        payload: impl Into<Bytes>,
        content_type: impl Into<ContentType>,
    ) -> Self {
        Self {
            meta: ElementMeta::new(sequence, content_type),
            payload: payload.into(),
            context: FlowContext::default(),
        }
    }

    /// The same element in another flow context.
    pub fn with_context(mut self, context: FlowContext) -> Self {
        self.context = context;
        self
    }
}

/// An element a component produced (`output-element`): the payload buffer
/// has moved to the host.
///
/// Its content type is `meta.content_type`: a host forwards that one, and
/// the next stage sees it both in its input's `meta` and as its payload
/// buffer's `content-type()` (the harness's pipelines do so).
/// `buffer_content_type` is only what the guest named on the buffer with
/// `set-content-type` (empty if it named none); the two can differ, most
/// often when a guest copies its input's `meta` into its output but labels
/// the new bytes otherwise. A host that finds them different should keep
/// the meta's and may report the difference (`torvyn-sim` adds a note
/// under the call).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputElement {
    /// Metadata as the component returned it (advisory `sequence` and
    /// `timestamp_ns`); its `content_type` is the element's.
    pub meta: ElementMeta,
    /// The payload bytes.
    pub payload: Bytes,
    /// The content type the guest set on the buffer itself
    /// (`set-content-type`; empty if it set none). It may differ from
    /// `meta.content_type`, which is the one that counts: it is not
    /// forwarded.
    pub buffer_content_type: ContentType,
}

impl OutputElement {
    /// Turns this output into the input of the next stage without copying
    /// the payload.
    pub fn into_stream_element(self, context: FlowContext) -> StreamElement {
        StreamElement {
            meta: self.meta,
            payload: self.payload,
            context,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flow_context_shares_its_ids_and_compares_by_value() {
        let ctx = FlowContext::new("flow-1").with_trace("t", "s");
        let clone = ctx.clone();
        let (a, b) = (ctx.ids.as_ref().unwrap(), clone.ids.as_ref().unwrap());
        assert!(Arc::ptr_eq(a, b), "a clone copied the ids");
        // Changing a shared context copies its ids; the other keeps its own.
        let other = clone.clone().with_trace("t2", "s2");
        assert_eq!((ctx.trace_id(), ctx.span_id()), ("t", "s"));
        assert_eq!((other.trace_id(), other.flow_id()), ("t2", "flow-1"));
        // Equal by value, shared or not.
        assert_eq!(ctx, FlowContext::new("flow-1").with_trace("t", "s"));
        assert_ne!(ctx, other);
        assert_ne!(ctx, ctx.clone().with_deadline_ns(5));
        // No ids: no `Arc`, and equal to a context whose ids were set empty.
        assert!(FlowContext::default().ids.is_none());
        assert!(FlowContext::new("").with_trace("", "").ids.is_none());
        assert_eq!(FlowContext::new(""), FlowContext::default());
        assert_eq!(
            format!("{:?}", FlowContext::new("f").with_deadline_ns(3)),
            "FlowContext { trace_id: \"\", span_id: \"\", flow_id: \"f\", deadline_ns: Some(3) }"
        );
    }
}
