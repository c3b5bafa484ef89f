//! A component's contract exports: found by name at compile time under
//! every spelling of their interface, type-checked once at instantiation,
//! called as typed functions.
//!
//! Generated guest bindings look an export up under one hard-coded name
//! (`torvyn:streaming/lifecycle@0.1.0`), but a component built against an
//! unversioned copy of the streaming package exports
//! `torvyn:streaming/lifecycle`, and both mean the same interface
//! ([`Role::interface_names`]). So the engine finds each role's interface
//! under each of its names itself, and holds a [`TypedFunc`] per function,
//! which is what the generated bindings call too.

use wasmtime::Store;
use wasmtime::component::{Component, ComponentExportIndex, Instance, TypedFunc};

use super::answers::{FlushAnswer, RouteAnswer};
use super::bindings::torvyn::streaming::types;
use super::host::HostState;
use crate::types::{Role, Roles};

type Fallible<T> = (Result<T, types::ProcessError>,);
/// An input element, lent by reference: a `TypedFunc` is covariant in its
/// parameters, so the `'static` here accepts any shorter borrow at the call.
type Input = (&'static types::StreamElement,);

/// Where each contract function is in a component (`None`: not exported),
/// found once per compiled component.
#[derive(Clone, Debug, Default)]
pub(crate) struct ExportIndices {
    init: Option<ComponentExportIndex>,
    teardown: Option<ComponentExportIndex>,
    process: Option<ComponentExportIndex>,
    pull: Option<ComponentExportIndex>,
    notify_backpressure: Option<ComponentExportIndex>,
    push: Option<ComponentExportIndex>,
    complete: Option<ComponentExportIndex>,
    evaluate: Option<ComponentExportIndex>,
    route: Option<ComponentExportIndex>,
    ingest: Option<ComponentExportIndex>,
    flush: Option<ComponentExportIndex>,
    /// The roles whose interface is exported with all its functions.
    pub roles: Roles,
}

/// The functions of `role`'s interface, found under the first of its
/// names the component exports; `None` unless every one is there.
fn find<const N: usize>(
    component: &Component,
    role: Role,
    funcs: [&str; N],
) -> Option<[ComponentExportIndex; N]> {
    let iface = role
        .interface_names()
        .iter()
        .find_map(|name| component.get_export_index(None, name))?;
    let mut out = Vec::with_capacity(N);
    for f in funcs {
        out.push(component.get_export_index(Some(&iface), f)?);
    }
    out.try_into().ok()
}

impl ExportIndices {
    /// Finds every role's functions in `component`.
    pub fn new(component: &Component) -> Self {
        let lifecycle = find(component, Role::Lifecycle, ["init", "teardown"]);
        let processor = find(component, Role::Processor, ["process"]);
        let source = find(component, Role::Source, ["pull", "notify-backpressure"]);
        let sink = find(component, Role::Sink, ["push", "complete"]);
        let filter = find(component, Role::Filter, ["evaluate"]);
        let router = find(component, Role::Router, ["route"]);
        let aggregator = find(component, Role::Aggregator, ["ingest", "flush"]);
        let roles = [
            (Role::Lifecycle, lifecycle.is_some()),
            (Role::Processor, processor.is_some()),
            (Role::Source, source.is_some()),
            (Role::Sink, sink.is_some()),
            (Role::Filter, filter.is_some()),
            (Role::Router, router.is_some()),
            (Role::Aggregator, aggregator.is_some()),
        ]
        .into_iter()
        .filter_map(|(role, present)| present.then_some(role))
        .collect();
        let [init, teardown] = lifecycle.map_or([None, None], |f| f.map(Some));
        let [process] = processor.map_or([None], |f| f.map(Some));
        let [pull, notify_backpressure] = source.map_or([None, None], |f| f.map(Some));
        let [push, complete] = sink.map_or([None, None], |f| f.map(Some));
        let [evaluate] = filter.map_or([None], |f| f.map(Some));
        let [route] = router.map_or([None], |f| f.map(Some));
        let [ingest, flush] = aggregator.map_or([None, None], |f| f.map(Some));
        Self {
            init,
            teardown,
            process,
            pull,
            notify_backpressure,
            push,
            complete,
            evaluate,
            route,
            ingest,
            flush,
            roles,
        }
    }
}

/// The typed exports of one instance (`None`: the role is not exported).
///
/// Every answer is lifted whole within the call, before the guest's
/// post-return may free it. `route` and `flush` answer with lists, lifted
/// by [`RouteAnswer`] and [`FlushAnswer`]: counted and measured against
/// the limits before anything is copied.
pub(crate) struct Exports {
    pub init: Option<TypedFunc<(&'static str,), Fallible<()>>>,
    pub teardown: Option<TypedFunc<(), ()>>,
    pub process: Option<TypedFunc<Input, Fallible<types::ProcessResult>>>,
    pub pull: Option<TypedFunc<(), Fallible<Option<types::OutputElement>>>>,
    pub notify_backpressure: Option<TypedFunc<(types::BackpressureSignal,), ()>>,
    pub push: Option<TypedFunc<Input, Fallible<types::BackpressureSignal>>>,
    pub complete: Option<TypedFunc<(), Fallible<()>>>,
    pub evaluate: Option<TypedFunc<Input, Fallible<bool>>>,
    pub route: Option<TypedFunc<Input, Fallible<RouteAnswer>>>,
    pub ingest: Option<TypedFunc<Input, Fallible<Option<types::OutputElement>>>>,
    pub flush: Option<TypedFunc<(), Fallible<FlushAnswer>>>,
    /// Coverage recording: calls run on a fiber (`call_async`, driven on
    /// this thread), where Wasmtime runs the store's debug handler
    /// ([`super::coverage`]).
    #[cfg(feature = "coverage")]
    pub coverage: Option<super::coverage::Recorder>,
}

impl Exports {
    /// Loads and type-checks every function `ix` found. An error names the
    /// role whose interface has the wrong types.
    pub fn load(
        ix: &ExportIndices,
        store: &mut Store<HostState>,
        instance: &Instance,
    ) -> Result<Self, (Role, wasmtime::Error)> {
        fn typed<P, R>(
            store: &mut Store<HostState>,
            instance: &Instance,
            index: Option<&ComponentExportIndex>,
            role: Role,
        ) -> Result<Option<TypedFunc<P, R>>, (Role, wasmtime::Error)>
        where
            P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
            R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift,
        {
            index
                .map(|i| instance.get_typed_func::<P, R>(&mut *store, i))
                .transpose()
                .map_err(|e| (role, e))
        }
        Ok(Self {
            init: typed(store, instance, ix.init.as_ref(), Role::Lifecycle)?,
            teardown: typed(store, instance, ix.teardown.as_ref(), Role::Lifecycle)?,
            process: typed(store, instance, ix.process.as_ref(), Role::Processor)?,
            pull: typed(store, instance, ix.pull.as_ref(), Role::Source)?,
            notify_backpressure: typed(
                store,
                instance,
                ix.notify_backpressure.as_ref(),
                Role::Source,
            )?,
            push: typed(store, instance, ix.push.as_ref(), Role::Sink)?,
            complete: typed(store, instance, ix.complete.as_ref(), Role::Sink)?,
            evaluate: typed(store, instance, ix.evaluate.as_ref(), Role::Filter)?,
            route: typed(store, instance, ix.route.as_ref(), Role::Router)?,
            ingest: typed(store, instance, ix.ingest.as_ref(), Role::Aggregator)?,
            flush: typed(store, instance, ix.flush.as_ref(), Role::Aggregator)?,
            #[cfg(feature = "coverage")]
            coverage: None,
        })
    }

    /// Calls `f`: directly, or with coverage recording on a fiber.
    #[inline(always)]
    pub fn call<P, R>(
        &self,
        f: &TypedFunc<P, R>,
        store: &mut Store<HostState>,
        params: P,
    ) -> wasmtime::Result<R>
    where
        P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
        R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift + 'static,
    {
        #[cfg(feature = "coverage")]
        if let Some(recorder) = &self.coverage {
            return super::coverage::call(recorder, f, store, params);
        }
        f.call(store, params)
    }
}
