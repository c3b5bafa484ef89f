//! Errors: cold-path [`EngineError`]s and hot-path [`InvokeError`]s.
//!
//! A hot-path call fails in one of two ways, and a caller can always tell
//! them apart: the guest answered with a contract `process-error`
//! ([`InvokeError::Guest`]), or the engine stopped the call
//! ([`InvokeError::Fault`]: a trap, fuel or deadline exhaustion, a limit, a
//! contract violation, a missing export). Every [`Fault`] names the component
//! and the function, and its message says what to do.

use std::fmt;
use std::time::Duration;

use crate::types::{ComponentId, Function, ProcessError, Role};

/// Why a hot-path call produced no value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// The guest returned a `process-error`; the instance is still usable.
    #[error("{0}")]
    Guest(ProcessError),
    /// The engine stopped the call.
    #[error("{0}")]
    Fault(Fault),
}

impl InvokeError {
    /// The fault, if this is one.
    pub fn as_fault(&self) -> Option<&Fault> {
        match self {
            Self::Fault(f) => Some(f),
            Self::Guest(_) => None,
        }
    }
}

/// An engine fault during a call to a component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The component instance that faulted.
    pub component: ComponentId,
    /// The function that was being called.
    pub function: Function,
    /// What went wrong.
    pub kind: FaultKind,
}

impl Fault {
    /// Whether the fault left the instance unusable (see
    /// [`FaultKind::poisons`]).
    pub fn poisons(&self) -> bool {
        self.kind.poisons()
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "component `{}`, function `{}`: {}",
            self.component, self.function, self.kind
        )
    }
}

impl std::error::Error for Fault {}

/// The kinds of engine fault.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// The guest trapped.
    Trap {
        /// The trap code, when Wasm reported one.
        code: TrapCode,
        /// The engine's description, with a guest backtrace when available.
        detail: String,
    },
    /// The call used up its fuel budget.
    FuelExhausted {
        /// The budget the call had.
        budget: u64,
    },
    /// The call ran past its deadline (from the flow context or the config).
    DeadlineExceeded {
        /// How long the call was allowed to run.
        allowed: Duration,
    },
    /// The guest tried to grow its linear memory or tables past the limit.
    MemoryLimitExceeded {
        /// The limit in bytes (or table elements).
        limit: u64,
        /// The size the guest asked for.
        requested: u64,
    },
    /// The guest's host buffers would exceed the per-instance budget, and the
    /// guest trapped after being refused.
    BufferBudgetExceeded {
        /// The budget in bytes.
        limit: u64,
        /// Bytes the guest would have held.
        requested: u64,
    },
    /// The guest broke the contract (a stale handle, a use after `freeze`,
    /// a buffer over the cap...).
    ContractViolation(ContractViolation),
    /// The component does not export the role the function belongs to.
    MissingExport {
        /// The missing role.
        role: Role,
    },
    /// An earlier fault left the instance unusable: the call was refused.
    /// [`FaultKind::poisons`] is true (the instance is poisoned).
    Poisoned {
        /// The fault that poisoned the instance, on one line: its kind's
        /// name, the function and what happened (no backtrace, no advice;
        /// [`crate::ComponentInvoker::poisoned`] has the whole fault).
        cause: String,
    },
    /// The call was refused before reaching the guest: its input broke a
    /// limit (a payload over 16 MiB, a deadline already past...).
    Rejected {
        /// Why.
        reason: String,
    },
    /// The host failed while serving the guest (a bug or resource failure on
    /// the host side, not the guest's fault).
    Host {
        /// The host's error.
        detail: String,
    },
    /// The guest's answer broke a bound the host puts on answers (a
    /// `route` naming too many ports, a `flush` returning too many
    /// elements; see [`crate::Limits`]). The answer is refused whole and
    /// every buffer in it reclaimed; the guest returned normally, so the
    /// instance is not poisoned.
    AnswerTooLarge {
        /// The bound that was broken.
        limit: AnswerLimit,
        /// The bound's value.
        allowed: u64,
        /// What the answer held.
        got: u64,
    },
}

/// A bound on a guest's answer (see [`FaultKind::AnswerTooLarge`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnswerLimit {
    /// Port names in one `route` answer (`limits.max_route_ports`).
    RoutePorts,
    /// Bytes of port names in one `route` answer (`limits.max_route_bytes`).
    RouteBytes,
    /// Elements in one `flush` answer (`limits.max_flush_outputs`).
    FlushOutputs,
    /// Bytes of the content types of one `flush` answer, which may not
    /// exceed the guest's memory limit (`limits.max_memory_bytes`): a guest
    /// holds no more distinct bytes than that, so more means the elements
    /// name the same bytes over and over, a flood the host would copy.
    FlushBytes,
}

impl AnswerLimit {
    /// The configuration field that sets the bound.
    pub fn field(self) -> &'static str {
        match self {
            Self::RoutePorts => "limits.max_route_ports",
            Self::RouteBytes => "limits.max_route_bytes",
            Self::FlushOutputs => "limits.max_flush_outputs",
            Self::FlushBytes => "limits.max_memory_bytes",
        }
    }

    /// What is counted, in words.
    pub fn counted(self) -> &'static str {
        match self {
            Self::RoutePorts => "port names",
            Self::RouteBytes => "bytes of port names",
            Self::FlushOutputs => "flushed elements",
            Self::FlushBytes => "bytes of flushed content types",
        }
    }
}

/// The text of [`EngineError::Link`] after the component's name: the missing
/// imports and the option that would stub them, or the linker's message when
/// every import is provided but one has other types.
fn link_advice(missing: &[String], message: &str) -> String {
    if missing.is_empty() {
        return format!(
            "{message}; an import has other types than this engine provides: rebuild the \
             component against WASI 0.2 and torvyn:streaming@0.1.0's WIT"
        );
    }
    let names = missing
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let contract = if missing.iter().any(|m| m.starts_with("torvyn:streaming/")) {
        "; a `torvyn:streaming` import of another version means the component was built for \
         another contract: build it against a torvyn:streaming@0.1.0 world (transform, \
         managed-transform, data-source, data-sink)"
    } else {
        ""
    };
    format!(
        "it imports {names}, which this engine does not provide (it provides WASI 0.2, \
         torvyn:streaming@0.1.0 and torvyn:capabilities); set the engine's `unknown_imports` \
         to `UnknownImports::Trap` to link each to a stub that traps when called, or rebuild \
         the component without {}{contract}",
        if missing.len() == 1 { "it" } else { "them" }
    )
}

impl FaultKind {
    /// Whether this fault leaves the instance unusable: traps, fuel and
    /// deadline exhaustion, limit breaches, contract violations and host
    /// failures interrupt the guest mid-call, so its state can no longer be
    /// trusted; and an instance that answers [`FaultKind::Poisoned`] is
    /// poisoned. A missing export or a rejected input leave it intact. So
    /// `if fault.poisons() { /* re-instantiate */ }` is the whole recovery
    /// rule.
    pub fn poisons(&self) -> bool {
        self.fault_name().poisons()
    }

    /// The kind without its data, as a value to compare and match.
    pub fn fault_name(&self) -> FaultName {
        match self {
            Self::Trap { .. } => FaultName::Trap,
            Self::FuelExhausted { .. } => FaultName::FuelExhausted,
            Self::DeadlineExceeded { .. } => FaultName::DeadlineExceeded,
            Self::MemoryLimitExceeded { .. } => FaultName::MemoryLimitExceeded,
            Self::BufferBudgetExceeded { .. } => FaultName::BufferBudgetExceeded,
            Self::ContractViolation(_) => FaultName::ContractViolation,
            Self::MissingExport { .. } => FaultName::MissingExport,
            Self::Poisoned { .. } => FaultName::Poisoned,
            Self::Rejected { .. } => FaultName::Rejected,
            Self::Host { .. } => FaultName::Host,
            Self::AnswerTooLarge { .. } => FaultName::AnswerTooLarge,
        }
    }

    /// A short, stable name for the kind (`trap`, `fuel-exhausted`, ...),
    /// for transcripts and metrics labels.
    pub fn name(&self) -> &'static str {
        self.fault_name().name()
    }

    /// What happened, on one line, without advice: a trap's code without
    /// its detail (the backend's description, with the guest backtrace), a
    /// host failure's first line.
    fn write_headline(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The headline names the stubbed function (the detail's first
            // line): without it, the fault would not say what was missing.
            Self::Trap {
                code: TrapCode::UnlinkedImport,
                detail,
            } => write!(
                f,
                "guest trapped ({}): {}",
                TrapCode::UnlinkedImport,
                detail.lines().next().unwrap_or("")
            ),
            Self::Trap { code, .. } => write!(f, "guest trapped ({code})"),
            Self::Host { detail } => {
                write!(f, "host failure: {}", detail.lines().next().unwrap_or(""))
            }
            other => other.write_fact(f),
        }
    }

    /// What happened, in full (a trap's detail with its backtrace), without
    /// advice.
    fn write_fact(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Trap { code, detail } => write!(f, "guest trapped ({code}): {detail}"),
            Self::FuelExhausted { budget } => {
                write!(f, "fuel exhausted (budget {budget} units)")
            }
            Self::DeadlineExceeded { allowed } => {
                write!(f, "deadline exceeded (the call was allowed {allowed:?})")
            }
            Self::MemoryLimitExceeded { limit, requested } => write!(
                f,
                "memory limit exceeded (limit {limit}, requested {requested})"
            ),
            Self::BufferBudgetExceeded { limit, requested } => write!(
                f,
                "host buffer budget exceeded (budget {limit} bytes, the guest wanted \
                 {requested})"
            ),
            Self::ContractViolation(v) => write!(f, "contract violation: {v}"),
            Self::MissingExport { role } => write!(
                f,
                "the component does not export `{}` (it has no {role} role)",
                role.interface()
            ),
            Self::Poisoned { cause } => {
                write!(f, "instance poisoned by an earlier fault ({cause})")
            }
            Self::Rejected { reason } => {
                write!(f, "call rejected before reaching the guest: {reason}")
            }
            Self::Host { detail } => write!(f, "host failure: {detail}"),
            Self::AnswerTooLarge {
                limit,
                allowed,
                got,
            } => write!(
                f,
                "the answer is too large: {got} {} where at most {allowed} are allowed \
                 (`{}`); it was refused{}",
                limit.counted(),
                limit.field(),
                match limit {
                    AnswerLimit::FlushOutputs | AnswerLimit::FlushBytes => {
                        " and its buffers reclaimed"
                    }
                    AnswerLimit::RoutePorts | AnswerLimit::RouteBytes => "",
                }
            ),
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const POISONED: &str = "the instance is poisoned, re-instantiate it";
        self.write_fact(f)?;
        match self {
            Self::Trap { .. } | Self::DeadlineExceeded { .. } => write!(f, "; {POISONED}"),
            Self::FuelExhausted { .. } => write!(
                f,
                "; raise the fuel budget if the work is legitimate, else fix the guest; \
                 {POISONED}"
            ),
            Self::MemoryLimitExceeded { .. } => write!(
                f,
                "; raise `limits.max_memory_bytes` or reduce the guest's memory use; {POISONED}"
            ),
            Self::BufferBudgetExceeded { .. } => write!(
                f,
                "; raise `limits.max_buffer_bytes_per_instance` or drop buffers sooner; \
                 {POISONED}"
            ),
            Self::ContractViolation(_) => write!(f, "; fix the guest; {POISONED}"),
            Self::MissingExport { role } => write!(
                f,
                "; call a function of a role it exports, or build it for a world that \
                 exports {role}"
            ),
            Self::Poisoned { .. } => f.write_str("; re-instantiate it"),
            Self::AnswerTooLarge { limit, .. } => write!(
                f,
                "; fix the guest, or raise `{}` if such answers are legitimate",
                limit.field()
            ),
            Self::Rejected { .. } | Self::Host { .. } => Ok(()),
        }
    }
}

impl Fault {
    /// The short cause a [`FaultKind::Poisoned`] carries for this fault:
    /// its kind's name, the function, and what happened on one line (no
    /// backtrace, no advice), e.g. ``trap in `process`: guest trapped
    /// (unreachable)``.
    pub(crate) fn poison_cause(&self) -> String {
        struct Headline<'a>(&'a FaultKind);
        impl fmt::Display for Headline<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write_headline(f)
            }
        }
        format!(
            "{} in `{}`: {}",
            self.kind.name(),
            self.function,
            Headline(&self.kind)
        )
    }
}

/// Which [`FaultKind`] a fault is, without its data: a value to compare
/// and match (the mock's journal keeps it), with [`FaultName::name`] as its
/// stable text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultName {
    /// [`FaultKind::Trap`].
    Trap,
    /// [`FaultKind::FuelExhausted`].
    FuelExhausted,
    /// [`FaultKind::DeadlineExceeded`].
    DeadlineExceeded,
    /// [`FaultKind::MemoryLimitExceeded`].
    MemoryLimitExceeded,
    /// [`FaultKind::BufferBudgetExceeded`].
    BufferBudgetExceeded,
    /// [`FaultKind::ContractViolation`].
    ContractViolation,
    /// [`FaultKind::MissingExport`].
    MissingExport,
    /// [`FaultKind::Poisoned`].
    Poisoned,
    /// [`FaultKind::Rejected`].
    Rejected,
    /// [`FaultKind::Host`].
    Host,
    /// [`FaultKind::AnswerTooLarge`].
    AnswerTooLarge,
}

impl FaultName {
    /// Every kind, in declaration order.
    pub const ALL: [FaultName; 11] = [
        Self::Trap,
        Self::FuelExhausted,
        Self::DeadlineExceeded,
        Self::MemoryLimitExceeded,
        Self::BufferBudgetExceeded,
        Self::ContractViolation,
        Self::MissingExport,
        Self::Poisoned,
        Self::Rejected,
        Self::Host,
        Self::AnswerTooLarge,
    ];

    /// The kind named `name` ([`FaultName::name`]), if one is.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether a fault of this kind poisons the instance
    /// ([`FaultKind::poisons`]).
    pub fn poisons(self) -> bool {
        !matches!(
            self,
            Self::MissingExport | Self::Rejected | Self::AnswerTooLarge
        )
    }

    /// The kind's short, stable name (`trap`, `fuel-exhausted`, ...), as
    /// [`FaultKind::name`] gives it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Trap => "trap",
            Self::FuelExhausted => "fuel-exhausted",
            Self::DeadlineExceeded => "deadline-exceeded",
            Self::MemoryLimitExceeded => "memory-limit-exceeded",
            Self::BufferBudgetExceeded => "buffer-budget-exceeded",
            Self::ContractViolation => "contract-violation",
            Self::MissingExport => "missing-export",
            Self::Poisoned => "poisoned",
            Self::Rejected => "rejected",
            Self::Host => "host",
            Self::AnswerTooLarge => "answer-too-large",
        }
    }
}

impl fmt::Display for FaultName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A WebAssembly trap code, independent of the backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrapCode {
    /// The guest executed `unreachable` (Rust guests: a panic or abort).
    Unreachable,
    /// The call stack overflowed.
    StackOverflow,
    /// An out-of-bounds memory access.
    MemoryOutOfBounds,
    /// A misaligned atomic access.
    HeapMisaligned,
    /// An out-of-bounds table access.
    TableOutOfBounds,
    /// An indirect call through a null table entry.
    IndirectCallToNull,
    /// An indirect call with the wrong signature.
    BadSignature,
    /// Integer overflow.
    IntegerOverflow,
    /// Integer division by zero.
    IntegerDivisionByZero,
    /// An invalid float-to-integer conversion.
    BadConversionToInteger,
    /// The component model refused the call (for example a borrowed handle
    /// not dropped before returning, or an invalid handle).
    ComponentModel,
    /// The guest called a function of an import the engine does not
    /// provide, which it linked to a stub (`UnknownImports::Trap` of the
    /// Wasmtime backend); the trap's detail names the function.
    UnlinkedImport,
    /// Another trap code.
    Other,
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unreachable => "unreachable",
            Self::StackOverflow => "stack overflow",
            Self::MemoryOutOfBounds => "memory out of bounds",
            Self::HeapMisaligned => "misaligned memory access",
            Self::TableOutOfBounds => "table out of bounds",
            Self::IndirectCallToNull => "indirect call to null",
            Self::BadSignature => "bad signature",
            Self::IntegerOverflow => "integer overflow",
            Self::IntegerDivisionByZero => "integer division by zero",
            Self::BadConversionToInteger => "bad conversion to integer",
            Self::ComponentModel => "component model violation",
            Self::UnlinkedImport => "unlinked import",
            Self::Other => "other",
        })
    }
}

/// How a guest broke the contract.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContractViolation {
    /// A handle that is no longer (or never was) live on the host.
    #[error(
        "stale {resource} handle (rep {rep}): it was dropped, reclaimed at the end of an \
         earlier call, or never handed out"
    )]
    StaleHandle {
        /// The resource type (`buffer`, `mutable-buffer`, `flow-context`).
        resource: &'static str,
        /// The host-side representation of the handle.
        rep: u32,
    },
    /// A mutable buffer used after `freeze` consumed it.
    #[error("mutable-buffer used after `freeze` consumed it (rep {rep}); drop the handle instead")]
    UseAfterFreeze {
        /// The host-side representation of the handle.
        rep: u32,
    },
    /// The instance ran out of host resource handles.
    #[error("the guest holds {live} host resources, the most an instance may hold")]
    TooManyResources {
        /// Live resources at the time.
        live: usize,
    },
    /// Not the guest's doing: a [`crate::HostFaultPlan`] failed a host call
    /// that has no error case, so the guest trapped there. The call's fault
    /// is [`FaultKind::Host`], naming the host call.
    #[error("{0}: the function has no error case, so the guest traps there")]
    Injected(crate::host::InjectedFault),
}

/// A problem with an engine configuration; [`EngineError::InvalidConfig`]
/// lists every one found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The configuration field.
    pub field: &'static str,
    /// What is wrong with it and what to do.
    pub problem: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.field, self.problem)
    }
}

/// A cold-path failure: configuration, compilation, (de)serialization or
/// instantiation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The configuration is invalid; every problem is listed.
    #[error("invalid engine configuration ({} problem(s)):{}", .0.len(), ConfigProblems(.0))]
    InvalidConfig(Vec<ConfigProblem>),
    /// The WAT text did not parse.
    #[error("invalid WAT in {origin}: {message}")]
    InvalidWat {
        /// Where the text came from (a path or a name).
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The bytes are a core module where a component is needed.
    #[error(
        "{origin} is a core WebAssembly module, not a component; componentize it first (for \
         example `wasm-tools component new`, or torvyn-harness's fixture loader for WAT)"
    )]
    NotAComponent {
        /// Where the bytes came from.
        origin: String,
    },
    /// The bytes are not valid WebAssembly, or compilation failed.
    #[error("cannot compile {origin}: {message}")]
    Compile {
        /// Where the bytes came from.
        origin: String,
        /// The compiler's message.
        message: String,
    },
    /// The component cannot be linked: it imports something this engine does
    /// not provide (an interface outside WASI p2 and the contract, such as
    /// `wasi:http/types`, or another version of the contract), or a provided
    /// interface with other types.
    #[error(
        "component `{component}` cannot be linked: {}",
        link_advice(missing, message)
    )]
    Link {
        /// The component.
        component: ComponentId,
        /// The imports the engine does not provide, by name (empty when the
        /// imports are all provided but one has other types).
        missing: Vec<String>,
        /// The linker's message, naming the import.
        message: String,
    },
    /// The component exports a contract interface with the wrong types.
    #[error(
        "component `{component}` exports `{interface}` with types that do not match \
         torvyn:streaming@0.1.0: {message}; rebuild it against the contract's WIT"
    )]
    WrongExportTypes {
        /// The component.
        component: ComponentId,
        /// The interface.
        interface: &'static str,
        /// The type checker's message.
        message: String,
    },
    /// The component exports no contract role at all.
    #[error(
        "component `{component}` exports none of torvyn:streaming@0.1.0's interfaces \
         (processor, source, sink, lifecycle); it exports: {exports}"
    )]
    NoRoles {
        /// The component.
        component: ComponentId,
        /// What it does export.
        exports: String,
    },
    /// Instantiation failed (the component's start-up trapped, or a limit).
    #[error("cannot instantiate component `{component}`: {message}")]
    Instantiate {
        /// The component.
        component: ComponentId,
        /// Why.
        message: String,
    },
    /// Serializing compiled code failed.
    #[error("cannot serialize compiled component: {0}")]
    Serialize(String),
    /// The bytes were compiled by another engine version or configuration.
    #[error(
        "compiled artifact is incompatible with this engine ({0}); recompile from the component bytes"
    )]
    IncompatibleArtifact(String),
    /// The bytes are not a compiled artifact, or are damaged.
    #[error("compiled artifact is corrupt ({0}); recompile from the component bytes")]
    CorruptArtifact(String),
    /// The mock engine has no component of this name: compiling its mock
    /// binary, or deserializing a (valid) artifact made for it by an engine
    /// where it was registered.
    #[error(
        "no mock component named `{name}` is registered with this engine (registered: \
         {registered}); register it with MockEngine::register first"
    )]
    NotRegistered {
        /// The component's name.
        name: String,
        /// The names that are registered, comma-separated (`none` if none).
        registered: String,
    },
    /// A value passed to the engine is out of range.
    #[error("invalid argument `{name}`: {problem}")]
    InvalidArgument {
        /// The argument.
        name: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The operation is not supported by this backend or configuration.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The compiled-component cache directory cannot be used safely (it is
    /// writable by other users, owned by another user, not a directory...)
    /// or cannot be created.
    #[error("compiled-component cache directory {}: {problem}", .path.display())]
    CacheDir {
        /// The directory.
        path: std::path::PathBuf,
        /// What is wrong with it and what to do.
        problem: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// What was being done (`read the component`, ...).
        action: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

struct ConfigProblems<'a>(&'a [ConfigProblem]);

impl fmt::Display for ConfigProblems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in self.0 {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}
