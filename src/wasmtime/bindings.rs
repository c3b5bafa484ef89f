//! Typed host bindings of the `torvyn:streaming@0.1.0` contract, generated
//! by `wasmtime::component::bindgen!` from `wit/`.
//!
//! `host` binds the union of the contract's worlds (every import, every
//! export), which is what the engine links and calls. The four contract
//! worlds are bound as well (`worlds`), sharing the host's import bindings,
//! so a component can be checked against each world.
//!
//! Private to the backend: no generated type appears in the public API.

/// Marker for the contract's `buffer` resource; the host keeps the data in
/// [`crate::host::HostResources`] under the handle's rep.
pub struct GuestBuffer;
/// Marker for the contract's `mutable-buffer` resource.
pub struct GuestMutableBuffer;
/// Marker for the contract's `flow-context` resource.
pub struct GuestFlowContext;

wasmtime::component::bindgen!({
    path: "wit",
    inline: "
        package torvyn:engine-host;

        world torvyn-host {
            import torvyn:streaming/types@0.1.0;
            import torvyn:streaming/buffer-allocator@0.1.0;
            export torvyn:streaming/processor@0.1.0;
            export torvyn:streaming/source@0.1.0;
            export torvyn:streaming/sink@0.1.0;
            export torvyn:streaming/lifecycle@0.1.0;
        }
    ",
    world: "torvyn-host",
    with: {
        "torvyn:streaming/types.buffer": GuestBuffer,
        "torvyn:streaming/types.mutable-buffer": GuestMutableBuffer,
        "torvyn:streaming/types.flow-context": GuestFlowContext,
    },
    imports: { default: trappable },
});

/// Bindings of each contract world, sharing the host's import bindings.
pub mod worlds {
    /// `world transform`.
    pub mod transform {
        wasmtime::component::bindgen!({
            path: "wit",
            world: "torvyn:streaming/transform",
            with: { "torvyn:streaming/types": super::super::torvyn::streaming::types,
                    "torvyn:streaming/buffer-allocator": super::super::torvyn::streaming::buffer_allocator },
            imports: { default: trappable },
        });
    }
    /// `world managed-transform`.
    pub mod managed_transform {
        wasmtime::component::bindgen!({
            path: "wit",
            world: "torvyn:streaming/managed-transform",
            with: { "torvyn:streaming/types": super::super::torvyn::streaming::types,
                    "torvyn:streaming/buffer-allocator": super::super::torvyn::streaming::buffer_allocator },
            imports: { default: trappable },
        });
    }
    /// `world data-source`.
    pub mod data_source {
        wasmtime::component::bindgen!({
            path: "wit",
            world: "torvyn:streaming/data-source",
            with: { "torvyn:streaming/types": super::super::torvyn::streaming::types,
                    "torvyn:streaming/buffer-allocator": super::super::torvyn::streaming::buffer_allocator },
            imports: { default: trappable },
        });
    }
    /// `world data-sink`.
    pub mod data_sink {
        wasmtime::component::bindgen!({
            path: "wit",
            world: "torvyn:streaming/data-sink",
            with: { "torvyn:streaming/types": super::super::torvyn::streaming::types },
            imports: { default: trappable },
        });
    }
}
