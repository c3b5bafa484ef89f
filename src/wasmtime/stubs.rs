//! Unknown imports: what the engine links a component's imports that no
//! linker provides to ([`define_stubs`]), when its configuration says so
//! (`UnknownImports::Trap`): stubs that trap, naming the function.
//!
//! Cold path: linking, once per compiled component.

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Linker, ResourceType};

use super::host::UnlinkedImport;

/// The import the linker's refusal `e` names, when the linker has nothing
/// for it (rather than something of other types): the refusal's root cause
/// is a missing implementation, and for an instance it is the instance's
/// first export that is missing.
pub(super) fn absent_import<'a>(
    e: &wasmtime::Error,
    engine: &Engine,
    imports: &'a [(String, ComponentItem)],
) -> Option<&'a (String, ComponentItem)> {
    let top = e.to_string();
    let name = top
        .strip_prefix("component imports ")?
        .split_once('`')?
        .1
        .split_once('`')?
        .0;
    let import = imports.iter().find(|(n, _)| n == name)?;
    let messages: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    if !messages.last()?.ends_with("implementation is missing") {
        return None;
    }
    match &import.1 {
        ComponentItem::ComponentFunc(_) => Some(import),
        // The linker reports the first export it could not match, which
        // need not be the instance's first (resources re-exported from
        // other interfaces are matched as they are met). An instance the
        // linker has but without one of its functions (a newer minor
        // version of an interface) reads the same, and is stubbed whole.
        ComponentItem::ComponentInstance(ty) => {
            let export = messages
                .get(1)?
                .strip_prefix("instance export `")?
                .strip_suffix("` has the wrong type")?;
            ty.exports(engine)
                .any(|(name, _)| name == export)
                .then_some(import)
        }
        _ => None,
    }
}

/// Links every function of import `name` (of type `item`, one of the
/// component's `imports`) to a stub that traps with the error `trap` makes
/// of the function's name, and every resource to a fresh host resource
/// type, unless the resource is one another of the component's `imports`
/// exports and the linker provides (`wasi:http/types` re-exports
/// `wasi:io/streams`'s `input-stream`): the stub then names the provider's
/// host type, as `provided(interface, resource)` gives it. Fails when
/// `linker` already defines one of them (the import is then provided with
/// other types, not missing) or the import holds something else to define.
///
/// The engine links a component's unknown imports this way
/// ([`UnknownImports::Trap`](super::UnknownImports::Trap)); a host with a
/// linker of its own (the harness's bindgen baseline) stubs the same
/// imports with it.
pub fn define_stubs<T: 'static>(
    linker: &mut Linker<T>,
    engine: &Engine,
    name: &str,
    item: &ComponentItem,
    imports: &[(String, ComponentItem)],
    provided: fn(&str, &str) -> Option<ResourceType>,
    trap: fn(String) -> wasmtime::Error,
) -> wasmtime::Result<()> {
    fn stub<T: 'static>(
        linker: &mut wasmtime::component::LinkerInstance<'_, T>,
        name: &str,
        function: String,
        trap: fn(String) -> wasmtime::Error,
    ) -> wasmtime::Result<()> {
        linker.func_new(name, move |_, _, _, _| Err(trap(function.clone())))
    }
    match item {
        ComponentItem::ComponentFunc(_) => stub(&mut linker.root(), name, name.to_owned(), trap),
        ComponentItem::ComponentInstance(ty) => {
            let mut instance = linker.instance(name)?;
            for (export, item) in ty.exports(engine) {
                match item.ty {
                    ComponentItem::ComponentFunc(_) => {
                        stub(&mut instance, export, format!("{name}#{export}"), trap)?
                    }
                    ComponentItem::Resource(own) => {
                        let theirs =
                            imports
                                .iter()
                                .filter(|(n, _)| n != name)
                                .find_map(|(n, i)| match i {
                                    ComponentItem::ComponentInstance(t) => {
                                        t.exports(engine).find_map(|(e, x)| match x.ty {
                                            ComponentItem::Resource(r) if r == own => {
                                                provided(n, e)
                                            }
                                            _ => None,
                                        })
                                    }
                                    _ => None,
                                });
                        let ty = theirs.unwrap_or_else(ResourceType::host::<StubResource>);
                        instance.resource(export, ty, |_, _| Ok(()))?
                    }
                    ComponentItem::Type(_) => {}
                    _ => wasmtime::bail!("`{name}` exports `{export}`, which cannot be stubbed"),
                }
            }
            Ok(())
        }
        _ => wasmtime::bail!("`{name}` is neither a function nor an instance"),
    }
}

/// The host type of stubbed resources: no value of it is ever made.
pub(crate) struct StubResource;

/// The host type the linker gives resource `resource` of interface
/// `interface` (any version), for the resources other interfaces re-export:
/// WASI's streams, pollables and errors, and the contract's buffers.
pub(super) fn provided_resource(interface: &str, resource: &str) -> Option<ResourceType> {
    use super::bindings::{GuestBuffer, GuestFlowContext, GuestMutableBuffer};
    use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, IoError};
    let interface = interface.split_once('@').map_or(interface, |(i, _)| i);
    Some(match (interface, resource) {
        ("wasi:io/streams", "input-stream") => ResourceType::host::<DynInputStream>(),
        ("wasi:io/streams", "output-stream") => ResourceType::host::<DynOutputStream>(),
        ("wasi:io/poll", "pollable") => ResourceType::host::<DynPollable>(),
        ("wasi:io/error", "error") => ResourceType::host::<IoError>(),
        ("torvyn:streaming/types", "buffer") => ResourceType::host::<GuestBuffer>(),
        ("torvyn:streaming/types", "mutable-buffer") => ResourceType::host::<GuestMutableBuffer>(),
        ("torvyn:streaming/types", "flow-context") => ResourceType::host::<GuestFlowContext>(),
        _ => return None,
    })
}

/// The trap of a stubbed import: [`UnlinkedImport`] naming it.
pub(super) fn unlinked(function: String) -> wasmtime::Error {
    wasmtime::Error::new(UnlinkedImport { function })
}
