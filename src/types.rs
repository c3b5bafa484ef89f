//! The domain types that cross the engine's API: what a host hands to a
//! component and what it gets back.
//!
//! These are backend-neutral: the Wasmtime backend and the mock backend take
//! and return exactly these values, so a streaming host written against them
//! can swap backends without change. Payloads are [`Bytes`]: moving an element
//! from one stage to the next clones a reference count, never the bytes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use bytes::Bytes;

/// The name a host gives a component instance; every fault names it.
///
/// Cloning is a reference-count increment.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId(Arc<str>);

impl ComponentId {
    /// A component id from any string.
    pub fn new(name: impl AsRef<str>) -> Self {
        Self(Arc::from(name.as_ref()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ComponentId({:?})", &*self.0)
    }
}

impl From<&str> for ComponentId {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for ComponentId {
    fn from(s: String) -> Self {
        Self(Arc::from(s))
    }
}

/// The capabilities granted to one component instance, as
/// `torvyn:capabilities/capability-query.has-capability` answers them: a
/// sorted set of names such as `wasi-random` or `wasi-filesystem-read`
/// (the runtime's convention). Nothing is granted by default.
///
/// Cloning is a reference-count increment.
///
/// ```
/// use torvyn_engine::Grants;
///
/// let grants = Grants::new(["wasi-random", "wasi-filesystem-read", "wasi-random"]);
/// assert!(grants.contains("wasi-random"));
/// assert!(!grants.contains("wasi-network-egress"));
/// assert_eq!(grants.to_string(), "wasi-filesystem-read, wasi-random");
/// assert!(Grants::default().is_empty());
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Grants(Arc<std::collections::BTreeSet<String>>);

impl Grants {
    /// The set of `names` (duplicates collapse).
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        Self(Arc::new(names.into_iter().map(Into::into).collect()))
    }

    /// Whether `name` is granted.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// The granted names, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// How many names are granted.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<S: Into<String>> FromIterator<S> for Grants {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self::new(iter)
    }
}

impl fmt::Debug for Grants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The names, comma-separated, or `(none)`.
impl fmt::Display for Grants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(none)");
        }
        for (i, name) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

/// What a host configures per instance, beside its id (see
/// [`crate::WasmEngine::instantiate_with`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceOptions {
    /// The capabilities `capability-query` reports as granted.
    pub grants: Grants,
    /// Host calls to fail on purpose from the first call on
    /// ([`crate::ComponentInvoker::set_host_faults`]; default: none). A
    /// [`crate::HostFaultPlan::Random`] plan draws per instance, from its
    /// seed and the instance's id ([`crate::HostFaultPlan::for_instance`]),
    /// unless `pin_host_faults` is set: then every instance draws from the
    /// seed as given. A host that restarts an instance under the same id
    /// gets the same draws again (a run replays); under a new id
    /// (`stage#2`), new ones.
    pub host_faults: crate::host::HostFaultPlan,
    /// Whether a random `host_faults` plan uses its seed as given in every
    /// instance, rather than one derived per instance (default: `false`).
    pub pin_host_faults: bool,
    /// The value the guest's `wasi:random/insecure-seed` answers, fixed for
    /// the instance's life (a replay gives back the recorded one, see
    /// [`crate::WorldInfo::insecure_seed`]); default: derived from the
    /// engine's seed, or drawn from the operating system without one.
    pub insecure_seed: Option<u128>,
}

impl InstanceOptions {
    /// The host-fault plan instance `id` runs (see
    /// [`InstanceOptions::host_faults`]).
    pub fn host_faults_for(&self, id: &str) -> crate::host::HostFaultPlan {
        if self.pin_host_faults {
            self.host_faults
        } else {
            self.host_faults.for_instance(id)
        }
    }
}

impl InstanceOptions {
    /// Options with `grants`.
    pub fn with_grants(grants: Grants) -> Self {
        Self {
            grants,
            ..Self::default()
        }
    }
}

/// A content type such as `application/json` (the contract's
/// `content-type` strings): immutable and shared.
///
/// Cloning is a reference-count increment, or a pointer copy for a
/// [`ContentType::from_static`] one, never a copy of the string. An
/// element's content type is lent to the guest with its payload, kept on the
/// buffers cloned from it and returned on the outputs; with a `String` each
/// of those steps was an allocation. It reads as a `str` (`Deref`,
/// `AsRef<str>`, `Display`) and compares with `str`, `&str` and `String`.
///
/// ```
/// use torvyn_engine::ContentType;
///
/// const JSON: ContentType = ContentType::from_static("application/json");
/// let owned = ContentType::from(String::from("application/json"));
/// assert_eq!(JSON, owned);
/// assert_eq!(owned, "application/json");
/// assert!(owned.starts_with("application/"));
/// assert!(ContentType::default().is_empty());
/// ```
#[derive(Clone)]
pub struct ContentType(ContentRepr);

#[derive(Clone)]
enum ContentRepr {
    Static(&'static str),
    Shared(Arc<str>),
}

impl ContentType {
    /// No content type (the empty string the contract uses for "unset").
    pub const EMPTY: Self = Self::from_static("");

    /// A content type from a string literal: no allocation, ever.
    pub const fn from_static(s: &'static str) -> Self {
        Self(ContentRepr::Static(s))
    }

    /// The content type as a string slice.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            ContentRepr::Static(s) => s,
            ContentRepr::Shared(s) => s,
        }
    }
}

impl Default for ContentType {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl std::ops::Deref for ContentType {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for ContentType {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for ContentType {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// As the string itself (`"text/plain"`), so a `Debug` of an element reads
/// as it did when this was a `String`.
impl fmt::Debug for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for ContentType {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ContentType {}

impl std::hash::Hash for ContentType {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for ContentType {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ContentType {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

macro_rules! content_type_eq {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for ContentType {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<ContentType> for $other {
            fn eq(&self, other: &ContentType) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}
content_type_eq!(str, &str, String);

impl From<&str> for ContentType {
    fn from(s: &str) -> Self {
        Self(ContentRepr::Shared(Arc::from(s)))
    }
}

impl From<&String> for ContentType {
    fn from(s: &String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<String> for ContentType {
    fn from(s: String) -> Self {
        Self(ContentRepr::Shared(Arc::from(s)))
    }
}

impl From<Arc<str>> for ContentType {
    fn from(s: Arc<str>) -> Self {
        Self(ContentRepr::Shared(s))
    }
}

impl From<ContentType> for String {
    fn from(c: ContentType) -> Self {
        c.as_str().to_owned()
    }
}

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

/// What a processor did with an element (`process-result`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcessResult {
    /// The processor produced an element.
    Emit(OutputElement),
    /// The processor consumed the element and produced nothing.
    Drop,
}

/// An error a component reported through the contract (`process-error`).
///
/// This is the guest's own answer, not an engine fault: the instance stays
/// usable (except after [`ProcessError::Fatal`], after which the runtime
/// should send that component nothing more).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProcessError {
    /// The input was malformed.
    InvalidInput(String),
    /// A dependency is unavailable; the element may be retried.
    Unavailable(String),
    /// The component failed internally.
    Internal(String),
    /// The component gave up because the flow's deadline passed.
    DeadlineExceeded,
    /// The component cannot go on: send it no more elements.
    Fatal(String),
}

impl ProcessError {
    /// Whether the runtime must stop sending elements to this component.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Fatal(_))
    }

    /// The contract's name of this variant (`invalid-input`, ...).
    pub fn kind(&self) -> &'static str {
        self.name().name()
    }

    /// The variant without its message, as a value to compare and match.
    pub fn name(&self) -> ProcessErrorName {
        match self {
            Self::InvalidInput(_) => ProcessErrorName::InvalidInput,
            Self::Unavailable(_) => ProcessErrorName::Unavailable,
            Self::Internal(_) => ProcessErrorName::Internal,
            Self::DeadlineExceeded => ProcessErrorName::DeadlineExceeded,
            Self::Fatal(_) => ProcessErrorName::Fatal,
        }
    }

    /// The message the guest attached, if the variant carries one.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::InvalidInput(m) | Self::Unavailable(m) | Self::Internal(m) | Self::Fatal(m) => {
                Some(m)
            }
            Self::DeadlineExceeded => None,
        }
    }
}

/// Which [`ProcessError`] a guest returned, without its message (what the
/// mock's journal keeps of a guest error).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProcessErrorName {
    /// [`ProcessError::InvalidInput`].
    InvalidInput,
    /// [`ProcessError::Unavailable`].
    Unavailable,
    /// [`ProcessError::Internal`].
    Internal,
    /// [`ProcessError::DeadlineExceeded`].
    DeadlineExceeded,
    /// [`ProcessError::Fatal`].
    Fatal,
}

impl ProcessErrorName {
    /// Every variant, in the contract's order.
    pub const ALL: [ProcessErrorName; 5] = [
        Self::InvalidInput,
        Self::Unavailable,
        Self::Internal,
        Self::DeadlineExceeded,
        Self::Fatal,
    ];

    /// The variant named `name` ([`ProcessErrorName::name`]), if one is.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The contract's name of the variant (`invalid-input`, ...), as
    /// [`ProcessError::kind`] gives it.
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid-input",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
            Self::DeadlineExceeded => "deadline-exceeded",
            Self::Fatal => "fatal",
        }
    }
}

impl fmt::Display for ProcessErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(m) => write!(f, "{}: {m}", self.kind()),
            None => f.write_str(self.kind()),
        }
    }
}

impl std::error::Error for ProcessError {}

/// Flow control between a sink (or the runtime) and a source
/// (`backpressure-signal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackpressureSignal {
    /// More elements may come.
    Ready,
    /// Stop sending until `Ready`.
    Pause,
}

/// A role a component can implement: one exported interface of the contract
/// or of one of its extension packages (`torvyn:filtering`,
/// `torvyn:aggregation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Exports `torvyn:streaming/processor` (`process`).
    Processor,
    /// Exports `torvyn:streaming/source` (`pull`, `notify-backpressure`).
    Source,
    /// Exports `torvyn:streaming/sink` (`push`, `complete`).
    Sink,
    /// Exports `torvyn:streaming/lifecycle` (`init`, `teardown`).
    Lifecycle,
    /// Exports `torvyn:filtering/filter` (`evaluate`).
    Filter,
    /// Exports `torvyn:filtering/router` (`route`).
    Router,
    /// Exports `torvyn:aggregation/aggregator` (`ingest`, `flush`).
    Aggregator,
}

impl Role {
    /// Every role, in a fixed order.
    pub const ALL: [Role; 7] = [
        Role::Processor,
        Role::Source,
        Role::Sink,
        Role::Lifecycle,
        Role::Filter,
        Role::Router,
        Role::Aggregator,
    ];

    /// The exported interface that implements this role, as the runtime
    /// publishes it (with its version).
    pub fn interface(self) -> &'static str {
        match self {
            Self::Processor => "torvyn:streaming/processor@0.1.0",
            Self::Source => "torvyn:streaming/source@0.1.0",
            Self::Sink => "torvyn:streaming/sink@0.1.0",
            Self::Lifecycle => "torvyn:streaming/lifecycle@0.1.0",
            Self::Filter => "torvyn:filtering/filter@0.1.0",
            Self::Router => "torvyn:filtering/router@0.1.0",
            Self::Aggregator => "torvyn:aggregation/aggregator@0.1.0",
        }
    }

    /// Every name a component may export this role's interface under: the
    /// versioned one, and for the streaming package's own interfaces the
    /// unversioned spelling too (`torvyn:streaming/lifecycle`), which
    /// components built against an unversioned copy of the package export.
    /// The host treats both as the same interface.
    pub fn interface_names(self) -> &'static [&'static str] {
        match self {
            Self::Processor => &[
                "torvyn:streaming/processor@0.1.0",
                "torvyn:streaming/processor",
            ],
            Self::Source => &["torvyn:streaming/source@0.1.0", "torvyn:streaming/source"],
            Self::Sink => &["torvyn:streaming/sink@0.1.0", "torvyn:streaming/sink"],
            Self::Lifecycle => &[
                "torvyn:streaming/lifecycle@0.1.0",
                "torvyn:streaming/lifecycle",
            ],
            Self::Filter => &["torvyn:filtering/filter@0.1.0"],
            Self::Router => &["torvyn:filtering/router@0.1.0"],
            Self::Aggregator => &["torvyn:aggregation/aggregator@0.1.0"],
        }
    }

    /// The role's name (`processor`, `filter`...), as [`fmt::Display`]
    /// writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Processor => "processor",
            Self::Source => "source",
            Self::Sink => "sink",
            Self::Lifecycle => "lifecycle",
            Self::Filter => "filter",
            Self::Router => "router",
            Self::Aggregator => "aggregator",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The set of roles a component exports, read at instantiation.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Roles(u8);

impl Roles {
    /// No role.
    pub const NONE: Roles = Roles(0);

    /// The set with `role` added.
    pub fn with(self, role: Role) -> Self {
        Self(self.0 | role.bit())
    }

    /// Whether `role` is in the set.
    pub fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    /// The roles in the set, in [`Role::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.contains(*r))
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The contract worlds whose exports this set covers.
    pub fn worlds(self) -> impl Iterator<Item = World> {
        World::ALL
            .into_iter()
            .filter(move |w| w.exports().iter().all(|r| self.contains(*r)))
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        iter.into_iter().fold(Roles::NONE, Roles::with)
    }
}

impl fmt::Debug for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(none)");
        }
        for (i, r) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// A world of the `torvyn:streaming@0.1.0` contract or of its extension
/// packages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum World {
    /// Imports types and the allocator; exports `processor`.
    Transform,
    /// Like `transform`, plus `lifecycle`.
    ManagedTransform,
    /// Imports types and the allocator; exports `source` and `lifecycle`.
    DataSource,
    /// Imports types; exports `sink` and `lifecycle`.
    DataSink,
    /// `torvyn:filtering`: imports types; exports `filter` and `lifecycle`.
    ContentFilter,
    /// `torvyn:filtering`: imports types; exports `router` and `lifecycle`.
    ContentRouter,
    /// `torvyn:aggregation`: imports types and the allocator; exports
    /// `aggregator` and `lifecycle`.
    StreamAggregator,
}

impl World {
    /// Every world of the contract and its extensions.
    pub const ALL: [World; 7] = [
        World::Transform,
        World::ManagedTransform,
        World::DataSource,
        World::DataSink,
        World::ContentFilter,
        World::ContentRouter,
        World::StreamAggregator,
    ];

    /// The world's name in its WIT package.
    pub fn name(self) -> &'static str {
        match self {
            Self::Transform => "transform",
            Self::ManagedTransform => "managed-transform",
            Self::DataSource => "data-source",
            Self::DataSink => "data-sink",
            Self::ContentFilter => "content-filter",
            Self::ContentRouter => "content-router",
            Self::StreamAggregator => "stream-aggregator",
        }
    }

    /// The WIT package the world is in, without its version
    /// (`torvyn:streaming`, `torvyn:filtering`, `torvyn:aggregation`).
    pub fn package(self) -> &'static str {
        match self {
            Self::Transform | Self::ManagedTransform | Self::DataSource | Self::DataSink => {
                "torvyn:streaming"
            }
            Self::ContentFilter | Self::ContentRouter => "torvyn:filtering",
            Self::StreamAggregator => "torvyn:aggregation",
        }
    }

    /// The roles the world exports.
    pub fn exports(self) -> &'static [Role] {
        match self {
            Self::Transform => &[Role::Processor],
            Self::ManagedTransform => &[Role::Processor, Role::Lifecycle],
            Self::DataSource => &[Role::Source, Role::Lifecycle],
            Self::DataSink => &[Role::Sink, Role::Lifecycle],
            Self::ContentFilter => &[Role::Filter, Role::Lifecycle],
            Self::ContentRouter => &[Role::Router, Role::Lifecycle],
            Self::StreamAggregator => &[Role::Aggregator, Role::Lifecycle],
        }
    }

    /// Whether the world imports `torvyn:streaming/buffer-allocator` (its
    /// components produce buffers): every world but the sink's, the
    /// filter's and the router's.
    pub fn imports_allocator(self) -> bool {
        !matches!(
            self,
            Self::DataSink | Self::ContentFilter | Self::ContentRouter
        )
    }

    /// Whether a component of this world may import `import`: the world's
    /// streaming imports under either spelling (`torvyn:streaming/types@0.1.0`
    /// or `torvyn:streaming/types`), and in every world WASI (`wasi:*`) and
    /// `torvyn:capabilities` interfaces, which the host offers to all.
    ///
    /// ```
    /// use torvyn_engine::World;
    ///
    /// assert!(World::ContentFilter.allows_import("torvyn:streaming/types"));
    /// assert!(!World::ContentFilter.allows_import("torvyn:streaming/buffer-allocator@0.1.0"));
    /// assert!(World::DataSink.allows_import("torvyn:capabilities/capability-query@0.1.0"));
    /// ```
    pub fn allows_import(self, import: &str) -> bool {
        let unversioned = import.strip_suffix("@0.1.0").unwrap_or(import);
        import.starts_with("wasi:")
            || import.starts_with("torvyn:capabilities/")
            || unversioned == "torvyn:streaming/types"
            || (self.imports_allocator() && unversioned == "torvyn:streaming/buffer-allocator")
    }
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}@0.1.0", self.package(), self.name())
    }
}

/// A function of the contract that the engine calls on a component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    /// Component start-up while instantiating.
    Instantiate,
    /// `lifecycle.init`.
    Init,
    /// `processor.process`.
    Process,
    /// `source.pull`.
    Pull,
    /// `source.notify-backpressure`.
    NotifyBackpressure,
    /// `sink.push`.
    Push,
    /// `sink.complete`.
    Complete,
    /// `lifecycle.teardown`.
    Teardown,
    /// `filter.evaluate`.
    Evaluate,
    /// `router.route`.
    Route,
    /// `aggregator.ingest`.
    Ingest,
    /// `aggregator.flush`.
    Flush,
}

impl Function {
    /// Every function a component is called with (all but
    /// [`Function::Instantiate`]), in the contract's order.
    pub const CALLS: [Function; 11] = [
        Function::Init,
        Function::Process,
        Function::Pull,
        Function::NotifyBackpressure,
        Function::Push,
        Function::Complete,
        Function::Teardown,
        Function::Evaluate,
        Function::Route,
        Function::Ingest,
        Function::Flush,
    ];

    /// The role that exports this function (`None` for instantiation).
    pub fn role(self) -> Option<Role> {
        match self {
            Self::Instantiate => None,
            Self::Init | Self::Teardown => Some(Role::Lifecycle),
            Self::Process => Some(Role::Processor),
            Self::Pull | Self::NotifyBackpressure => Some(Role::Source),
            Self::Push | Self::Complete => Some(Role::Sink),
            Self::Evaluate => Some(Role::Filter),
            Self::Route => Some(Role::Router),
            Self::Ingest | Self::Flush => Some(Role::Aggregator),
        }
    }

    /// The function's name in the contract (`process`, `notify-backpressure`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Instantiate => "instantiate",
            Self::Init => "init",
            Self::Process => "process",
            Self::Pull => "pull",
            Self::NotifyBackpressure => "notify-backpressure",
            Self::Push => "push",
            Self::Complete => "complete",
            Self::Teardown => "teardown",
            Self::Evaluate => "evaluate",
            Self::Route => "route",
            Self::Ingest => "ingest",
            Self::Flush => "flush",
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one call cost, reported for every call, whether it succeeded,
/// returned a `process-error` or faulted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct InvocationMetrics {
    /// Fuel the guest consumed (0 when fuel metering is off).
    pub fuel_consumed: u64,
    /// How long the call took on the engine clock.
    pub duration: Duration,
    /// Bytes copied from host buffers into guest memory (`read`, `read-all`).
    pub bytes_into_guest: u64,
    /// Bytes copied from guest memory into host buffers (`write`, `append`).
    pub bytes_out_of_guest: u64,
    /// Host buffers the guest allocated (`allocate`, `clone-into-mutable`).
    pub buffers_allocated: u32,
    /// Calls the guest made into the contract's host functions.
    pub host_calls: u32,
    /// Host resources the guest still held when the call ended, reclaimed by
    /// the engine (a well-behaved guest leaves 0).
    pub resources_reclaimed: u32,
    /// The guest's linear memory size after the call, in bytes.
    pub memory_bytes: u64,
}

/// The outcome of one call: the value, a guest error or an engine fault, and
/// what the call cost in every case.
#[derive(Debug)]
#[must_use = "an invocation may have failed; look at its outcome"]
pub struct Invocation<T> {
    /// The value, or why there is none.
    pub outcome: Result<T, crate::InvokeError>,
    /// What the call cost.
    pub metrics: InvocationMetrics,
}

impl<T> Invocation<T> {
    /// The same call with its value mapped by `f` (errors and metrics
    /// unchanged).
    #[inline]
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Invocation<U> {
        Invocation {
            outcome: self.outcome.map(f),
            metrics: self.metrics,
        }
    }

    /// The outcome, dropping the metrics.
    pub fn into_result(self) -> Result<T, crate::InvokeError> {
        self.outcome
    }

    /// The engine fault, if the call faulted.
    pub fn fault(&self) -> Option<&crate::Fault> {
        match &self.outcome {
            Err(crate::InvokeError::Fault(f)) => Some(f),
            _ => None,
        }
    }

    /// The guest's `process-error`, if it returned one.
    pub fn guest_error(&self) -> Option<&ProcessError> {
        match &self.outcome {
            Err(crate::InvokeError::Guest(e)) => Some(e),
            _ => None,
        }
    }

    /// Whether the call returned a value.
    pub fn is_ok(&self) -> bool {
        self.outcome.is_ok()
    }
}

/// What a guest wrote to stdout or stderr, kept up to a cap.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuestOutput {
    /// The bytes kept.
    pub bytes: Vec<u8>,
    /// Bytes written past the cap, counted and discarded.
    pub discarded: u64,
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
