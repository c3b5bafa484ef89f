//! Host-call traces: the contract host calls a guest made in one call, in
//! order, each with its arguments summarized and the host's answer.
//!
//! Off by default ([`crate::InstanceOptions::trace_host_calls`],
//! [`crate::ComponentInvoker::trace_host_calls`]). Both backends record
//! through the instance's [`crate::host::HostResources`], so the mock and
//! Wasmtime give the same trace for the same host calls. A trace holds
//! sizes, handles and offsets, never the bytes a guest reads or writes.
//! The cost when off is none: the check that decides whether a host call is
//! traced is the one that decides whether a fault plan fails it.

use std::fmt;

use crate::faults::HostFunction;

/// The most host calls one call's trace keeps; the call's
/// [`crate::InvocationMetrics::host_calls`] says how many there were.
pub const MAX_TRACED_HOST_CALLS: usize = 10_000;

/// One host call a guest made ([`crate::ComponentInvoker::host_call_trace`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostCall {
    /// The function called.
    pub function: HostFunction,
    /// Its arguments, summarized.
    pub args: HostArgs,
    /// What the host answered.
    pub answer: HostAnswer,
    /// Whether the answer was a failure a host-fault plan injected
    /// ([`crate::HostFaultPlan`]).
    pub injected: bool,
}

impl fmt::Display for HostCall {
    /// One line: `buffer.read(#1, offset 0, len 64) -> 64 bytes`, with
    /// ` (injected)` after an answer a fault plan chose.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({}) -> {}", self.function, self.args, self.answer)?;
        if self.injected {
            f.write_str(" (injected)")?;
        }
        Ok(())
    }
}

/// A host call's arguments in short: the handle it was called on (the
/// host's rep of it, `#n`) and its sizes and offsets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostArgs {
    /// A call on a handle and nothing else (`size`, `read-all`, a drop...).
    Handle(u32),
    /// `buffer.read(handle, offset, len)`.
    Read {
        /// The buffer.
        handle: u32,
        /// The offset asked for.
        offset: u64,
        /// The length asked for.
        len: u64,
    },
    /// `mutable-buffer.write(handle, offset, bytes)`.
    Write {
        /// The mutable buffer.
        handle: u32,
        /// The offset written at.
        offset: u64,
        /// How many bytes the guest passed.
        bytes: u64,
    },
    /// `mutable-buffer.append(handle, bytes)`.
    Append {
        /// The mutable buffer.
        handle: u32,
        /// How many bytes the guest passed.
        bytes: u64,
    },
    /// `mutable-buffer.set-content-type(handle, content-type)`.
    SetContentType {
        /// The mutable buffer.
        handle: u32,
        /// The content type named (metadata, not payload).
        content_type: String,
    },
    /// `buffer-allocator.allocate(capacity-hint)`.
    Allocate {
        /// The capacity asked for.
        capacity: u64,
    },
    /// `capability-query.has-capability(name)`.
    Capability {
        /// The capability asked about.
        name: String,
    },
}

impl fmt::Display for HostArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Handle(h) => write!(f, "#{h}"),
            Self::Read {
                handle,
                offset,
                len,
            } => write!(f, "#{handle}, offset {offset}, len {len}"),
            Self::Write {
                handle,
                offset,
                bytes,
            } => write!(f, "#{handle}, offset {offset}, {bytes} bytes"),
            Self::Append { handle, bytes } => write!(f, "#{handle}, {bytes} bytes"),
            Self::SetContentType {
                handle,
                content_type,
            } => write!(f, "#{handle}, {content_type:?}"),
            Self::Allocate { capacity } => write!(f, "capacity {capacity}"),
            Self::Capability { name } => write!(f, "{name:?}"),
        }
    }
}

/// What the host answered a host call.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostAnswer {
    /// Done, nothing to return (a drop, `set-content-type`, a successful
    /// `write` or `append`).
    Done,
    /// A number (`size`, `capacity`, `deadline-ns`).
    Value(u64),
    /// Bytes copied into the guest (`read`, `read-all`): how many.
    Bytes(u64),
    /// A new handle (`allocate`, `clone-into-mutable`, `freeze`).
    Handle(u32),
    /// A short string (`content-type`, the flow context's ids).
    Text(String),
    /// A yes or no (`has-capability`).
    Bool(bool),
    /// The contract's `buffer-error`: `capacity-exceeded`, `out-of-bounds`
    /// or `allocation-failed`.
    Error(&'static str),
    /// The call trapped: the guest broke the contract (a stale handle, a
    /// use after freeze...), or a fault plan failed a host call that has no
    /// error case.
    Trap,
}

impl fmt::Display for HostAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Done => f.write_str("ok"),
            Self::Value(v) => write!(f, "{v}"),
            Self::Bytes(n) => write!(f, "{n} bytes"),
            Self::Handle(h) => write!(f, "#{h}"),
            Self::Text(s) => write!(f, "{s:?}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Error(e) => write!(f, "error {e}"),
            Self::Trap => f.write_str("trap"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_call_reads_as_one_line() {
        let call = HostCall {
            function: HostFunction::BufferRead,
            args: HostArgs::Read {
                handle: 1,
                offset: 0,
                len: 64,
            },
            answer: HostAnswer::Bytes(5),
            injected: false,
        };
        assert_eq!(
            call.to_string(),
            "buffer.read(#1, offset 0, len 64) -> 5 bytes"
        );
        let call = HostCall {
            function: HostFunction::Allocate,
            args: HostArgs::Allocate { capacity: 8 },
            answer: HostAnswer::Error("allocation-failed"),
            injected: true,
        };
        assert_eq!(
            call.to_string(),
            "buffer-allocator.allocate(capacity 8) -> error allocation-failed (injected)"
        );
    }
}
