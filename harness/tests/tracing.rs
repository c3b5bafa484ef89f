//! The engine's `tracing` spans and events (feature `tracing-support`, on
//! through the harness's default `tracing` feature): a span per call with
//! component, function, fuel, duration and outcome; spans for compile (with
//! the cache tier) and instantiate; events for faults and rejected cache
//! entries.

// The mock-only build (`--no-default-features --features mock`) skips
// this file: the spans checked come from Wasmtime calls and compiles.
#![cfg(feature = "wasmtime-backend")]
#![cfg(feature = "tracing")]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use torvyn_engine::cache::{CacheConfig, CompiledComponentCache};
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{ComponentId, StreamElement, WasmEngine};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

/// A span or an event as captured: its name (an event's message) and
/// fields, and for an event the span it happened in.
#[derive(Clone, Debug, Default)]
struct Seen {
    name: String,
    fields: BTreeMap<String, String>,
    parent: Option<String>,
}

#[derive(Clone, Default)]
struct Capture {
    spans: Arc<Mutex<Vec<(Id, Seen)>>>,
    events: Arc<Mutex<Vec<Seen>>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(
            field.name().to_string(),
            format!("{value:?}").trim_matches('"').to_string(),
        );
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut seen = Seen {
            name: attrs.metadata().name().to_string(),
            parent: ctx
                .lookup_current()
                .map(|p| p.metadata().name().to_string()),
            ..Seen::default()
        };
        attrs.record(&mut Fields(&mut seen.fields));
        self.spans.lock().unwrap().push((id.clone(), seen));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.spans.lock().unwrap();
        if let Some((_, seen)) = spans.iter_mut().rev().find(|(i, _)| i == id) {
            values.record(&mut Fields(&mut seen.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut seen = Seen {
            parent: ctx
                .event_span(event)
                .map(|s| s.metadata().name().to_string()),
            ..Seen::default()
        };
        event.record(&mut Fields(&mut seen.fields));
        seen.name = seen.fields.remove("message").unwrap_or_default();
        self.events.lock().unwrap().push(seen);
    }
}

impl Capture {
    fn spans(&self, name: &str) -> Vec<Seen> {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| s.name == name)
            .map(|(_, s)| s.clone())
            .collect()
    }

    fn events(&self, name: &str) -> Vec<Seen> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.name == name)
            .cloned()
            .collect()
    }
}

/// Runs `f` with a capturing subscriber on this thread.
fn captured(f: impl FnOnce()) -> Capture {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, f);
    capture
}

#[test]
fn every_call_has_a_span_with_its_cost_and_outcome() {
    let capture = captured(|| {
        let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default()).unwrap();
        let bytes = torvyn_harness::fixtures::load_fixture("uppercase").unwrap();
        let compiled = engine.compile(&bytes).unwrap();
        let mut inst = engine
            .instantiate(&compiled, ComponentId::new("upper-1"))
            .unwrap();
        let call = inst.process_sync(StreamElement::new(0, "abc", "text/plain"));
        assert!(call.is_ok());
        let trap = engine
            .compile(&torvyn_harness::fixtures::load_fixture("trap").unwrap())
            .unwrap();
        let mut inst = engine
            .instantiate(&trap, ComponentId::new("trap-1"))
            .unwrap();
        assert!(
            inst.process_sync(StreamElement::new(0, "x", "text/plain"))
                .fault()
                .is_some()
        );
    });

    let calls = capture.spans("torvyn.invoke");
    assert_eq!(calls.len(), 2, "{calls:?}");
    let ok = &calls[0];
    assert_eq!(ok.fields["component"], "upper-1");
    assert_eq!(ok.fields["function"], "process");
    assert_eq!(ok.fields["outcome"], "ok");
    assert!(ok.fields["fuel"].parse::<u64>().unwrap() > 0, "{ok:?}");
    assert!(ok.fields.contains_key("duration_ns"), "{ok:?}");
    assert_eq!(calls[1].fields["outcome"], "trap");

    let faults = capture.events("guest call faulted");
    assert_eq!(faults.len(), 1, "one fault, one event");
    assert_eq!(faults[0].parent.as_deref(), Some("torvyn.invoke"));
    assert!(
        faults[0].fields["fault"].contains("trap-1"),
        "{:?}",
        faults[0]
    );

    let cold = capture.spans("torvyn.cold");
    let ops: Vec<&str> = cold
        .iter()
        .map(|s| s.fields["operation"].as_str())
        .collect();
    assert_eq!(ops, ["compile", "instantiate", "compile", "instantiate"]);
    assert_eq!(cold[1].fields["subject"], "upper-1");
}

#[test]
fn cache_lookups_record_their_tier_and_rejections_are_events() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = torvyn_harness::fixtures::load_fixture("passthrough").unwrap();
    let capture = captured(|| {
        let engine = WasmtimeEngine::new(WasmtimeEngineConfig::with_strategy(
            torvyn_engine::CompilationStrategy::Winch,
        ))
        .unwrap();
        let cache =
            CompiledComponentCache::new(engine, CacheConfig::with_disk(dir.path())).unwrap();
        let key = cache.get_or_compile(&bytes).unwrap().key; // compiled
        cache.get_or_compile(&bytes).unwrap(); // memory
        cache.clear_memory();
        cache.get_or_compile(&bytes).unwrap(); // disk
        let path = cache.entry_path(&key).unwrap();
        let mut entry = std::fs::read(&path).unwrap();
        let last = entry.len() - 1;
        entry[last] ^= 1;
        std::fs::write(&path, entry).unwrap();
        cache.clear_memory();
        cache.get_or_compile(&bytes).unwrap(); // rejected, compiled
    });
    let tiers: Vec<String> = capture
        .spans("torvyn.cache")
        .iter()
        .map(|s| s.fields["tier"].clone())
        .collect();
    assert_eq!(tiers, ["compiled", "memory", "disk", "compiled"]);
    let compiles = capture.spans("torvyn.cold");
    assert!(
        compiles
            .iter()
            .all(|s| s.parent.as_deref() == Some("torvyn.cache")),
        "a compile on a miss runs inside the lookup's span: {compiles:?}"
    );
    let rejected = capture.events("rejected a compiled-component cache entry; compiling again");
    assert_eq!(rejected.len(), 1, "{:?}", capture.events.lock().unwrap());
    assert_eq!(rejected[0].fields["reason"], "digest-mismatch");
}
