//! The data of each Wasmtime store, and the contract's host functions.
//!
//! Hot path: every guest call of `buffer.read`, `mutable-buffer.append`,
//! `allocate`... lands here and is forwarded to [`HostResources`], which
//! does every check. A contract violation becomes a trap carrying a
//! [`HostTrap`], which the invoker turns back into a typed fault.

use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::torvyn::streaming::{buffer_allocator, types};
use super::bindings::{GuestBuffer, GuestFlowContext, GuestMutableBuffer};
use super::limiter::Limiter;
use super::wasi::CapturedOutput;
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
    wasi_table: ResourceTable,
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

impl types::Host for HostState {}

impl types::HostBuffer for HostState {
    fn size(&mut self, this: Resource<GuestBuffer>) -> wasmtime::Result<u64> {
        self.res.buffer_size(this.rep()).map_err(trap)
    }

    fn content_type(&mut self, this: Resource<GuestBuffer>) -> wasmtime::Result<String> {
        self.res.buffer_content_type(this.rep()).map_err(trap)
    }

    fn read(
        &mut self,
        this: Resource<GuestBuffer>,
        offset: u64,
        len: u64,
    ) -> wasmtime::Result<Vec<u8>> {
        self.res.buffer_read(this.rep(), offset, len).map_err(trap)
    }

    fn read_all(&mut self, this: Resource<GuestBuffer>) -> wasmtime::Result<Vec<u8>> {
        self.res.buffer_read_all(this.rep()).map_err(trap)
    }

    fn drop(&mut self, rep: Resource<GuestBuffer>) -> wasmtime::Result<()> {
        self.res.drop_buffer(rep.rep());
        Ok(())
    }
}

impl types::HostMutableBuffer for HostState {
    fn write(
        &mut self,
        this: Resource<GuestMutableBuffer>,
        offset: u64,
        bytes: Vec<u8>,
    ) -> wasmtime::Result<Result<(), types::BufferError>> {
        Ok(self
            .res
            .mutable_write(this.rep(), offset, &bytes)
            .map_err(trap)?
            .map_err(to_wit))
    }

    fn append(
        &mut self,
        this: Resource<GuestMutableBuffer>,
        bytes: Vec<u8>,
    ) -> wasmtime::Result<Result<(), types::BufferError>> {
        Ok(self
            .res
            .mutable_append(this.rep(), &bytes)
            .map_err(trap)?
            .map_err(to_wit))
    }

    fn size(&mut self, this: Resource<GuestMutableBuffer>) -> wasmtime::Result<u64> {
        self.res.mutable_size(this.rep()).map_err(trap)
    }

    fn capacity(&mut self, this: Resource<GuestMutableBuffer>) -> wasmtime::Result<u64> {
        self.res.mutable_capacity(this.rep()).map_err(trap)
    }

    fn set_content_type(
        &mut self,
        this: Resource<GuestMutableBuffer>,
        content_type: String,
    ) -> wasmtime::Result<()> {
        self.res
            .mutable_set_content_type(this.rep(), &content_type)
            .map_err(trap)
    }

    fn freeze(
        &mut self,
        this: Resource<GuestMutableBuffer>,
    ) -> wasmtime::Result<Resource<GuestBuffer>> {
        let rep = self.res.mutable_freeze(this.rep()).map_err(trap)?;
        Ok(Resource::new_own(rep))
    }

    fn drop(&mut self, rep: Resource<GuestMutableBuffer>) -> wasmtime::Result<()> {
        self.res.drop_mutable(rep.rep());
        Ok(())
    }
}

impl types::HostFlowContext for HostState {
    fn trace_id(&mut self, this: Resource<GuestFlowContext>) -> wasmtime::Result<String> {
        self.res.flow_trace_id(this.rep()).map_err(trap)
    }

    fn span_id(&mut self, this: Resource<GuestFlowContext>) -> wasmtime::Result<String> {
        self.res.flow_span_id(this.rep()).map_err(trap)
    }

    fn deadline_ns(&mut self, this: Resource<GuestFlowContext>) -> wasmtime::Result<u64> {
        self.res.flow_deadline_ns(this.rep()).map_err(trap)
    }

    fn flow_id(&mut self, this: Resource<GuestFlowContext>) -> wasmtime::Result<String> {
        self.res.flow_id(this.rep()).map_err(trap)
    }

    fn drop(&mut self, rep: Resource<GuestFlowContext>) -> wasmtime::Result<()> {
        self.res.drop_flow(rep.rep());
        Ok(())
    }
}

impl buffer_allocator::Host for HostState {
    fn allocate(
        &mut self,
        capacity_hint: u64,
    ) -> wasmtime::Result<Result<Resource<GuestMutableBuffer>, types::BufferError>> {
        Ok(self
            .res
            .allocate(capacity_hint)
            .map(Resource::new_own)
            .map_err(to_wit))
    }

    fn clone_into_mutable(
        &mut self,
        source: Resource<GuestBuffer>,
    ) -> wasmtime::Result<Result<Resource<GuestMutableBuffer>, types::BufferError>> {
        Ok(self
            .res
            .clone_into_mutable(source.rep())
            .map_err(trap)?
            .map(Resource::new_own)
            .map_err(to_wit))
    }
}
