//! The data of each Wasmtime store, and the contract's host functions.
//!
//! Hot path: every guest call of `buffer.read`, `mutable-buffer.append`,
//! `allocate`, `has-capability`... lands here and is forwarded to
//! [`HostResources`], which does every check. A contract violation becomes a trap carrying a
//! [`HostTrap`], which the invoker turns back into a typed fault.

use std::sync::Arc;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceTable, ResourceType, WasmList, WasmStr};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::torvyn::streaming::types;
use super::bindings::{GuestBuffer, GuestFlowContext, GuestMutableBuffer};
use super::limiter::Limiter;
use super::wasi::CapturedOutput;
use super::wasi_io::Wake;
use crate::error::ContractViolation;
use crate::host::{BufferError, HostResources};

/// A trap the host raised: the guest broke the contract.
#[derive(Debug)]
pub(crate) struct HostTrap(pub ContractViolation);

impl std::fmt::Display for HostTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "contract violation: {}", self.0)
    }
}

impl std::error::Error for HostTrap {}

/// A trap a stub raised: the guest called `function` (`interface#name`, or
/// a bare function's name), an import the engine does not provide and
/// linked to a stub ([`crate::UnknownImports::Trap`]).
#[derive(Debug)]
pub(crate) struct UnlinkedImport {
    pub function: String,
}

impl std::fmt::Display for UnlinkedImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the guest called `{}`, an import this engine does not provide (it was linked to a \
             stub because `unknown_imports` is `Trap`); provide the import or keep the guest \
             from calling it",
            self.function
        )
    }
}

impl std::error::Error for UnlinkedImport {}

fn trap(v: ContractViolation) -> wasmtime::Error {
    wasmtime::Error::new(HostTrap(v))
}

/// Everything one instance's store holds.
pub(crate) struct HostState {
    pub res: HostResources,
    pub limiter: Limiter,
    pub stdout: CapturedOutput,
    pub stderr: CapturedOutput,
    wasi: WasiCtx,
    /// WASI's resources (streams, pollables) of the instance.
    pub(crate) wasi_table: ResourceTable,
    /// The earliest instant the guest's clock pollables wait for
    /// (`super::wasi_io`).
    pub(crate) wake: Arc<Wake>,
    /// Where the bytes and strings a guest passes to `write`, `append` and
    /// `set-content-type` are copied from its memory, kept between host
    /// calls so that passing them does not allocate (see [`with_guest_bytes`]).
    scratch: Vec<u8>,
}

/// The most bytes [`HostState::scratch`] keeps between host calls: a larger
/// argument is copied into a buffer of its own, freed after the call, so one
/// large `append` does not pin its size for the instance's life.
const KEEP_SCRATCH_BYTES: usize = 64 * 1024;

/// Runs `f` on the host resources with `bytes` (read from guest memory by
/// `read`) copied into the store's scratch buffer. The bytes live in the
/// store, so they cannot be borrowed while the resources are: with a
/// lifted `Vec<u8>` or `String` parameter instead, Wasmtime allocates one
/// per host call.
fn with_guest_bytes<const TIMED: bool, R>(
    cx: &mut Cx<'_>,
    read: impl FnOnce(&Cx<'_>, &mut Vec<u8>) -> wasmtime::Result<()>,
    f: impl FnOnce(&mut HostResources, &[u8]) -> R,
) -> wasmtime::Result<R> {
    res::<TIMED>(cx)?;
    let mut scratch = std::mem::take(&mut cx.data_mut().scratch);
    scratch.clear();
    let read = read(cx, &mut scratch);
    let state = cx.data_mut();
    let out = read.map(|()| f(&mut state.res, &scratch));
    if scratch.capacity() <= KEEP_SCRATCH_BYTES {
        state.scratch = scratch;
    }
    out
}

/// The instance's host resources for a host call. With a deadline on a
/// virtual clock (`TIMED`: the engine's clock is virtual), the call's time
/// is checked first: past the deadline, the guest is stopped here;
/// otherwise its fuel is cut to the time it has left (see `crate::host`'s
/// timer). On the system clock (`!TIMED`, whose linker has these host
/// functions without the check): nothing.
#[inline]
fn res<'a, const TIMED: bool>(cx: &'a mut Cx<'_>) -> wasmtime::Result<&'a mut HostResources> {
    if TIMED && cx.data().res.checks_deadline() {
        check_deadline(cx)?;
    }
    Ok(&mut cx.data_mut().res)
}

/// The deadline check of [`res`], out of line.
#[cold]
#[inline(never)]
fn check_deadline(cx: &mut Cx<'_>) -> wasmtime::Result<()> {
    let left = cx.get_fuel()?;
    match cx.data_mut().res.check_deadline(left) {
        Ok(Some(allowed)) => cx.set_fuel(allowed),
        Ok(None) => Ok(()),
        Err(passed) => Err(wasmtime::Error::new(passed)),
    }
}

/// The bytes of a `list<u8>` argument, copied into `out`.
fn list_bytes(cx: &Cx<'_>, list: &WasmList<u8>, out: &mut Vec<u8>) -> wasmtime::Result<()> {
    out.extend_from_slice(list.as_le_slice(cx));
    Ok(())
}

/// The bytes of a `string` argument (checked UTF-8 by Wasmtime), copied
/// into `out`.
fn str_bytes(cx: &Cx<'_>, s: &WasmStr, out: &mut Vec<u8>) -> wasmtime::Result<()> {
    out.extend_from_slice(s.to_str(cx)?.as_bytes());
    Ok(())
}

impl HostState {
    pub fn new(
        res: HostResources,
        limiter: Limiter,
        stdout: CapturedOutput,
        stderr: CapturedOutput,
        wasi: WasiCtx,
    ) -> Self {
        Self {
            res,
            limiter,
            stdout,
            stderr,
            wasi,
            wasi_table: ResourceTable::new(),
            wake: Arc::default(),
            scratch: Vec::new(),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.wasi_table,
        }
    }
}

fn to_wit(e: BufferError) -> types::BufferError {
    match e {
        BufferError::CapacityExceeded => types::BufferError::CapacityExceeded,
        BufferError::OutOfBounds => types::BufferError::OutOfBounds,
        BufferError::AllocationFailed(m) => types::BufferError::AllocationFailed(m),
    }
}

/// The spellings a component may import the streaming package under: the
/// versioned names the runtime publishes (`torvyn:streaming/types@0.1.0`)
/// and the unversioned ones of components built against an unversioned
/// copy of the package (`torvyn:streaming/types`). Both are registered by
/// [`add_streaming_to_linker`], with the same host functions and the same
/// resource types, so a buffer means the same to both.
pub(crate) const STREAMING_SPELLINGS: [&str; 2] = ["@0.1.0", ""];

pub(crate) type Cx<'a> = StoreContextMut<'a, HostState>;
type Buf = Resource<GuestBuffer>;
type MutBuf = Resource<GuestMutableBuffer>;
type Flow = Resource<GuestFlowContext>;
type AllocResult = Result<MutBuf, types::BufferError>;

/// Registers the streaming package's host interfaces (`types` and
/// `buffer-allocator`) in `linker` under the spelling `version` (one of
/// [`STREAMING_SPELLINGS`]). Every function forwards to the instance's
/// [`HostResources`], which does every check.
pub(crate) fn add_streaming_to_linker<const TIMED: bool>(
    linker: &mut Linker<HostState>,
    version: &str,
) -> wasmtime::Result<()> {
    let mut t = linker.instance(&format!("torvyn:streaming/types{version}"))?;
    t.resource(
        "buffer",
        ResourceType::host::<GuestBuffer>(),
        |mut cx, rep| res::<TIMED>(&mut cx)?.drop_buffer(rep).map_err(trap),
    )?;
    t.resource(
        "mutable-buffer",
        ResourceType::host::<GuestMutableBuffer>(),
        |mut cx, rep| res::<TIMED>(&mut cx)?.drop_mutable(rep).map_err(trap),
    )?;
    t.resource(
        "flow-context",
        ResourceType::host::<GuestFlowContext>(),
        |mut cx, rep| res::<TIMED>(&mut cx)?.drop_flow(rep).map_err(trap),
    )?;
    t.func_wrap("[method]buffer.size", |mut cx: Cx<'_>, (b,): (Buf,)| {
        Ok((res::<TIMED>(&mut cx)?.buffer_size(b.rep()).map_err(trap)?,))
    })?;
    t.func_wrap(
        "[method]buffer.content-type",
        |mut cx: Cx<'_>, (b,): (Buf,)| {
            Ok((res::<TIMED>(&mut cx)?
                .buffer_content_type(b.rep())
                .map_err(trap)?,))
        },
    )?;
    t.func_wrap(
        "[method]buffer.read",
        |mut cx: Cx<'_>, (b, offset, len): (Buf, u64, u64)| {
            Ok((res::<TIMED>(&mut cx)?
                .buffer_read(b.rep(), offset, len)
                .map_err(trap)?,))
        },
    )?;
    t.func_wrap("[method]buffer.read-all", |mut cx: Cx<'_>, (b,): (Buf,)| {
        Ok((res::<TIMED>(&mut cx)?
            .buffer_read_all(b.rep())
            .map_err(trap)?,))
    })?;
    t.func_wrap(
        "[method]mutable-buffer.write",
        |mut cx: Cx<'_>, (m, offset, bytes): (MutBuf, u64, WasmList<u8>)| {
            let r = with_guest_bytes::<TIMED, _>(
                &mut cx,
                |cx, out| list_bytes(cx, &bytes, out),
                |res, bytes| res.mutable_write(m.rep(), offset, bytes),
            )?;
            Ok((r.map_err(trap)?.map_err(to_wit),))
        },
    )?;
    t.func_wrap(
        "[method]mutable-buffer.append",
        |mut cx: Cx<'_>, (m, bytes): (MutBuf, WasmList<u8>)| {
            let r = with_guest_bytes::<TIMED, _>(
                &mut cx,
                |cx, out| list_bytes(cx, &bytes, out),
                |res, bytes| res.mutable_append(m.rep(), bytes),
            )?;
            Ok((r.map_err(trap)?.map_err(to_wit),))
        },
    )?;
    t.func_wrap(
        "[method]mutable-buffer.size",
        |mut cx: Cx<'_>, (m,): (MutBuf,)| {
            Ok((res::<TIMED>(&mut cx)?.mutable_size(m.rep()).map_err(trap)?,))
        },
    )?;
    t.func_wrap(
        "[method]mutable-buffer.capacity",
        |mut cx: Cx<'_>, (m,): (MutBuf,)| {
            Ok((res::<TIMED>(&mut cx)?
                .mutable_capacity(m.rep())
                .map_err(trap)?,))
        },
    )?;
    t.func_wrap(
        "[method]mutable-buffer.set-content-type",
        |mut cx: Cx<'_>, (m, content_type): (MutBuf, WasmStr)| {
            with_guest_bytes::<TIMED, _>(
                &mut cx,
                |cx, out| str_bytes(cx, &content_type, out),
                |res, bytes| {
                    // Wasmtime checked the string is UTF-8 when it read it.
                    let content_type = std::str::from_utf8(bytes).unwrap_or_default();
                    res.mutable_set_content_type(m.rep(), content_type)
                },
            )?
            .map_err(trap)
        },
    )?;
    t.func_wrap(
        "[method]mutable-buffer.freeze",
        |mut cx: Cx<'_>, (m,): (MutBuf,)| -> wasmtime::Result<(Buf,)> {
            let rep = res::<TIMED>(&mut cx)?
                .mutable_freeze(m.rep())
                .map_err(trap)?;
            Ok((Resource::new_own(rep),))
        },
    )?;
    t.func_wrap(
        "[method]flow-context.trace-id",
        |mut cx: Cx<'_>, (f,): (Flow,)| {
            Ok((res::<TIMED>(&mut cx)?
                .flow_trace_id(f.rep())
                .map_err(trap)?,))
        },
    )?;
    t.func_wrap(
        "[method]flow-context.span-id",
        |mut cx: Cx<'_>, (f,): (Flow,)| {
            Ok((res::<TIMED>(&mut cx)?.flow_span_id(f.rep()).map_err(trap)?,))
        },
    )?;
    t.func_wrap(
        "[method]flow-context.deadline-ns",
        |mut cx: Cx<'_>, (f,): (Flow,)| {
            Ok((res::<TIMED>(&mut cx)?
                .flow_deadline_ns(f.rep())
                .map_err(trap)?,))
        },
    )?;
    t.func_wrap(
        "[method]flow-context.flow-id",
        |mut cx: Cx<'_>, (f,): (Flow,)| {
            Ok((res::<TIMED>(&mut cx)?.flow_id(f.rep()).map_err(trap)?,))
        },
    )?;

    let mut a = linker.instance(&format!("torvyn:streaming/buffer-allocator{version}"))?;
    a.func_wrap(
        "allocate",
        |mut cx: Cx<'_>, (capacity_hint,): (u64,)| -> wasmtime::Result<(AllocResult,)> {
            let r = res::<TIMED>(&mut cx)?.allocate(capacity_hint);
            Ok((r.map(Resource::new_own).map_err(to_wit),))
        },
    )?;
    a.func_wrap(
        "clone-into-mutable",
        |mut cx: Cx<'_>, (source,): (Buf,)| -> wasmtime::Result<(AllocResult,)> {
            let r = res::<TIMED>(&mut cx)?.clone_into_mutable(source.rep());
            Ok((r.map_err(trap)?.map(Resource::new_own).map_err(to_wit),))
        },
    )?;
    Ok(())
}

/// Registers `torvyn:capabilities/capability-query` in `linker`, forwarded
/// to the instance's [`HostResources`] like the streaming package's
/// functions (the deadline check included).
pub(crate) fn add_capabilities_to_linker<const TIMED: bool>(
    linker: &mut Linker<HostState>,
) -> wasmtime::Result<()> {
    let mut q = linker.instance(CAPABILITY_QUERY)?;
    q.func_wrap(
        "has-capability",
        |mut cx: Cx<'_>, (name,): (WasmStr,)| -> wasmtime::Result<(bool,)> {
            let granted = with_guest_bytes::<TIMED, _>(
                &mut cx,
                |cx, out| str_bytes(cx, &name, out),
                |res, bytes| {
                    // Wasmtime checked the string is UTF-8 when it read it.
                    res.has_capability(std::str::from_utf8(bytes).unwrap_or_default())
                },
            )?;
            Ok((granted.map_err(trap)?,))
        },
    )?;
    Ok(())
}

/// The capability-query interface's name, as the bindings name it.
const CAPABILITY_QUERY: &str = "torvyn:capabilities/capability-query@0.1.0";
