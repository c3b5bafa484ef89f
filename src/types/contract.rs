//! The contract's vocabulary: roles, worlds, functions, and what a
//! processor and a sink answer.

use std::fmt;

use super::OutputElement;

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
///
/// With the `serde` feature a file writes it as serde's externally tagged
/// form in kebab-case: `{invalid-input: MSG}`, `{unavailable: MSG}`,
/// `{internal: MSG}`, `deadline-exceeded`, `{fatal: MSG}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
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
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
pub enum BackpressureSignal {
    /// More elements may come.
    Ready,
    /// Stop sending until `Ready`.
    Pause,
}

impl BackpressureSignal {
    /// Both signals.
    pub const ALL: [BackpressureSignal; 2] = [Self::Ready, Self::Pause];

    /// The contract's name of the signal: `ready` or `pause`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Pause => "pause",
        }
    }

    /// The signal named `name` ([`BackpressureSignal::name`]), if one is.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for BackpressureSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A role a component can implement: one exported interface of the contract
/// or of one of its extension packages (`torvyn:filtering`,
/// `torvyn:aggregation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
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

    /// The role named `name` ([`Role::name`]), if one is.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// What a component of this role is called with, in one line (what
    /// `torvyn-sim --help` lists).
    pub fn describe(self) -> &'static str {
        match self {
            Self::Processor => "`process` every input",
            Self::Source => "`pull` until `none` or the pull limit",
            Self::Sink => "`push` every input, then `complete`",
            Self::Lifecycle => "`init` and `teardown`",
            Self::Filter => "`evaluate` every input",
            Self::Router => "`route` every input",
            Self::Aggregator => "`ingest` every input, then `flush`",
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
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
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

    /// Whether a call of it carries a stream element in or out: `process`,
    /// `pull`, `push`, `evaluate`, `route` and `ingest` (what a run counts
    /// per element).
    pub fn carries_element(self) -> bool {
        matches!(
            self,
            Self::Process | Self::Pull | Self::Push | Self::Evaluate | Self::Route | Self::Ingest
        )
    }

    /// The function named `name` ([`Function::name`]), if one is
    /// (`instantiate` too).
    pub fn from_name(name: &str) -> Option<Self> {
        std::iter::once(Self::Instantiate)
            .chain(Self::CALLS)
            .find(|f| f.name() == name)
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
