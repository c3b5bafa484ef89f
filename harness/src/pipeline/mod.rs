//! A pipeline simulation: a source, middle stages (processors, filters,
//! routers, aggregators) and one or more sinks, as a graph, driven by
//! demand on one shared (by default virtual) clock, recorded in a
//! [`PipelineTranscript`] whose entries are tagged with their stage.
//!
//! The loop, which plays the runtime:
//!
//! 1. `init` every stage, in file order, as the runtime does: once, on
//!    every stage that exports `lifecycle` (with `""` when it has no
//!    config) or has a config. A stage whose `init` fails takes no element;
//!    its totals' `stopped` and the summary's `stopped` say so.
//! 2. Pull one element from the source (`none` ends the stream). The runtime
//!    stamps it: sequence numbers 0, 1, ... in pull order, the clock as
//!    timestamp, the run's trace and flow ids, a fresh span id, and
//!    optionally a deadline `element_deadline_ns` after the pull.
//! 3. Send it along the graph, breadth first ([`Pipeline::graph`]: each
//!    stage's `to:`, or by default the next stage in the file, or the one
//!    sink). A processor's emitted element goes on (keeping the runtime's
//!    sequence, timestamp and flow, taking the processor's payload and
//!    content type); a filter's `true` passes the same element on, `false`
//!    drops it; a router's port names select the stages its `ports:` map
//!    them to (an unknown name is recorded in `routing_errors`, an empty
//!    list drops the element); an aggregator's `ingest` may emit an element,
//!    which goes on. Fan-out lends the same buffer to every downstream stage
//!    (no copy; counted in `shared_lends` and listed in the entry's
//!    `lent_to`). A `process-error` or fault ends that element's journey on
//!    that branch.
//! 4. Push what reaches a sink. When a sink answers `pause`, the runtime
//!    stops pulling and sends `notify-backpressure(pause)` to the source;
//!    before the next pull it models the sink draining by advancing the
//!    virtual clock by `drain_ns`, then sends `notify-backpressure(ready)`.
//! 5. Repeat until the source is exhausted, `max_pulls` pulls were made,
//!    the source fails for good (`fatal`, or a fault that poisons it), or no
//!    sink can be reached through stages that still take elements: `fatal`
//!    is terminal for every role, so that stage gets no further element.
//! 6. Flush every aggregator, in topological order; what `flush` returns
//!    flows downstream (with the next sequence numbers) before any sink
//!    completes. Then `complete` every sink that did not stop, and
//!    `teardown` every stage in file order.
//!
//! As in [`crate::scenario`], faults never abort the run: they are recorded,
//! and a poisoned stage keeps answering `poisoned`.
//!
//! ```yaml
//! name: count-filter-upper-sink
//! source: {component: counter-source, config: '{"count": 6}'}
//! processors:             # or `stages:`; processors, filters, routers, aggregators
//!   - {component: filter}
//!   - {component: uppercase, fuel: 1000000}
//! sink: {component: sink, config: '{"count": 2}'}
//! drain_ns: 5000          # virtual time the sink needs to drain after a pause
//! max_pulls: 100          # default 1000
//! element_deadline_ns: 1000000   # optional
//! seed: 7
//! backend: wasmtime       # wasmtime | mock (fixture models, `mock:` stages)
//! strategy: cranelift
//! clock: virtual
//! ```
//!
//! A graph with a router, fan-out and several sinks:
//!
//! ```yaml
//! name: route-by-kind
//! source: {component: token-source, to: [router, uppercase]}   # fan-out
//! stages:
//!   - {name: router, component: router, ports: {digits: digit-sink, words: word-sink}}
//!   - {component: uppercase, to: [word-sink]}
//! sinks:
//!   - {name: digit-sink, component: sink}
//!   - {name: word-sink, component: sink, grants: [wasi-random]}
//! ```
//!
//! A stage may script a mock component instead of naming a fixture
//! (`{component: flaky, mock: {process: {cycle: [emit-input, drop]}}}`,
//! see [`torvyn_engine::mock::MockSpec`]); such a pipeline runs on the mock.
//!
//! Every field, with its type, default and an example: the repository's
//! `docs/src/scenario-reference.md`.

mod file;
mod graph;
mod report;
mod run;

use std::path::PathBuf;

pub use file::{Pipeline, StageSpec};
use file::{middle_role, slot_name};
pub use graph::Graph;
pub use report::{PipelineSummary, PipelineTranscript, StageReport};
pub use run::{run_pipeline, run_pipeline_on, run_pipeline_using, run_pipeline_with};

/// The virtual time a sink takes to drain after `pause`, when a pipeline
/// sets none.
pub const DEFAULT_DRAIN_NS: u64 = 10_000;

/// The most pulls a pipeline makes when it sets no `max_pulls`.
pub const DEFAULT_MAX_PULLS: u64 = 1000;

/// `fixtures/pipelines/`, where the pipeline files of the snapshot suite
/// live.
pub fn pipelines_dir() -> PathBuf {
    crate::fixtures::fixtures_dir().join("pipelines")
}

#[cfg(test)]
mod tests {
    use torvyn_engine::mock::{
        MockBuilder, MockComponent, MockCtx, MockEngine, MockModel, MockResult, ModelElement,
        PendingOutput,
    };
    use torvyn_engine::{BackpressureSignal, ElementMeta, OutputElement, Role};

    use super::*;
    use crate::backend::MockBackend;
    use torvyn_engine::Function;

    /// A source of `words`, one per pull.
    struct Words(Vec<&'static str>, usize);

    impl MockModel for Words {
        fn pull(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Option<OutputElement>> {
            let Some(w) = self.0.get(self.1) else {
                return Ok(None);
            };
            self.1 += 1;
            let meta = ElementMeta::new(self.1 as u64, "text/plain");
            Ok(Some(ctx.emit_bytes(meta, w.as_bytes(), "text/plain")?))
        }
    }

    /// An aggregator joining everything it ingests, emitting on `.` and
    /// returning the rest from `flush`.
    #[derive(Default)]
    struct Joiner(Vec<u8>);

    impl MockModel for Joiner {
        fn ingest(
            &mut self,
            ctx: &mut MockCtx<'_>,
            input: &ModelElement,
        ) -> MockResult<Option<OutputElement>> {
            self.0.extend(ctx.read_payload()?);
            if !self.0.ends_with(b".") {
                return Ok(None);
            }
            let text = std::mem::take(&mut self.0);
            Ok(Some(ctx.emit_bytes(
                input.meta.clone(),
                &text,
                "text/plain",
            )?))
        }

        fn flush(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Vec<PendingOutput>> {
            if self.0.is_empty() {
                return Ok(Vec::new());
            }
            let text = std::mem::take(&mut self.0);
            let buf = ctx.frozen_bytes(&text, "text/plain")?;
            Ok(vec![PendingOutput {
                meta: ElementMeta::new(0, "text/plain"),
                buf,
            }])
        }
    }

    fn backend(words: &'static [&'static str]) -> MockBackend {
        let engine = MockEngine::deterministic(7);
        engine.register(MockComponent::new("words", [Role::Source], move || {
            Words(words.to_vec(), 0)
        }));
        engine.register(MockComponent::new(
            "joiner",
            [Role::Aggregator],
            Joiner::default,
        ));
        engine.register(
            MockBuilder::new("no-bad")
                .on_evaluate(|ctx, _| Ok(!ctx.read_payload()?.starts_with(b"bad")))
                .build(),
        );
        engine.register(
            MockBuilder::new("by-kind")
                .on_route(|ctx, _| {
                    let p = ctx.read_payload()?;
                    let mut ports = Vec::new();
                    if p.first().is_some_and(u8::is_ascii_digit) {
                        ports.push("digits".to_string());
                    } else if !p.is_empty() {
                        ports.push("words".to_string());
                    }
                    if p.contains(&b'!') {
                        ports.push("alerts".to_string());
                    }
                    if p.contains(&b'?') {
                        ports.push("questions".to_string());
                    }
                    Ok(ports)
                })
                .build(),
        );
        engine.register(
            MockBuilder::new("pausing-sink")
                .on_push(|_, _| Ok(BackpressureSignal::Pause))
                .build(),
        );
        MockBackend::from_engine(engine)
    }

    fn yaml(text: &str) -> Pipeline {
        Pipeline::from_yaml_str(text, "<test>").unwrap()
    }

    fn invalid(text: &str) -> String {
        let p: Pipeline = serde_yaml_ng::from_str(text).unwrap();
        p.validate().unwrap_err().to_string()
    }

    fn delivered(t: &PipelineTranscript, sink: &str) -> Vec<String> {
        t.stage_entries(sink)
            .filter(|e| e.call == Function::Push)
            .map(|e| e.input.as_ref().unwrap().payload.short())
            .collect()
    }

    #[test]
    fn graph_errors_say_what_is_wrong_and_what_to_write() {
        let e = invalid("name: p\nsource: {component: words}\nsink: {component: sink, to: [x]}\n");
        assert!(e.contains("a sink sends elements nowhere"), "{e}");
        let e = invalid(
            "name: p\nsource: {component: words, to: [nowhere]}\nsink: {component: sink}\n",
        );
        assert!(
            e.contains("`nowhere`") && e.contains("stages: words, sink"),
            "{e}"
        );
        let e = invalid(
            "name: p\nsource: {component: words}\nstages:\n  - {name: a, component: no-bad, to: [b]}\n  - {name: b, component: no-bad, to: [a]}\nsink: {component: sink}\n",
        );
        assert!(e.contains("cycle") && e.contains("a, b"), "{e}");
        let e = invalid(
            "name: p\nsource: {component: words}\nsinks:\n  - {name: s1, component: sink}\n  - {name: s2, component: sink}\n",
        );
        assert!(e.contains("2 sinks") && e.contains("to: [s1, s2]"), "{e}");
        let e = invalid(
            "name: p\nsource: {component: words, to: [s1]}\nsinks:\n  - {name: s1, component: sink}\n  - {name: s2, component: sink}\n",
        );
        assert!(e.contains("`s2` never receives"), "{e}");
        let e = invalid("name: p\nsource: {component: words}\n");
        assert!(e.contains("has no sink"), "{e}");
    }

    #[test]
    fn a_router_without_ports_or_ports_on_a_filter_are_refused_when_the_roles_are_known() {
        let b = backend(&["a"]);
        let p = yaml(
            "name: p\nsource: {component: words}\nstages:\n  - {component: by-kind}\nsink: {component: sink}\n",
        );
        let e = run_pipeline_on(&b, &p).unwrap_err().to_string();
        assert!(e.contains("is a router but has no `ports:`"), "{e}");
        let p = yaml(
            "name: p\nsource: {component: words}\nstages:\n  - {component: no-bad, ports: {x: sink}}\nsink: {component: sink}\n",
        );
        let e = run_pipeline_on(&b, &p).unwrap_err().to_string();
        assert!(e.contains("is a filter") && e.contains("use `to:`"), "{e}");
    }

    #[test]
    fn filters_drop_aggregators_emit_and_flush_before_the_sink_completes() {
        let b = backend(&["Hello", "bad", " world.", " Bye", " now"]);
        let p = yaml(
            "name: p\nsource: {component: words}\nstages:\n  - {component: no-bad}\n  - {component: joiner}\nsink: {component: sink}\n",
        );
        let t = run_pipeline_on(&b, &p).unwrap();
        assert_eq!(delivered(&t, "sink"), ["\"Hello world.\"", "\" Bye now\""]);
        let s = &t.summary;
        assert_eq!(
            (s.elements_pulled, s.elements_dropped, s.elements_absorbed),
            (5, 1, 3),
            "{s:?}"
        );
        assert_eq!((s.elements_flushed, s.elements_delivered), (1, 2));
        let calls: Vec<(&str, &str)> = t
            .entries
            .iter()
            .rev()
            .take(6)
            .map(|e| (e.stage.as_deref().unwrap(), e.call.name()))
            .collect();
        assert_eq!(
            calls,
            [
                ("sink", "teardown"),
                ("joiner", "teardown"),
                ("no-bad", "teardown"),
                ("words", "teardown"),
                ("sink", "complete"),
                ("sink", "push"),
            ]
        );
        let flush = t
            .entries
            .iter()
            .position(|e| e.call == Function::Flush)
            .unwrap();
        let last_push = t
            .entries
            .iter()
            .rposition(|e| e.call == Function::Push)
            .unwrap();
        assert!(
            flush < last_push,
            "what flush returns flows on before complete"
        );
        assert!(t.stages.iter().all(|s| s.totals.faults == 0));
        let filter = t.stages.iter().find(|s| s.name == "no-bad").unwrap();
        assert_eq!(filter.role, Role::Filter);
        assert_eq!(filter.totals.elements_dropped, 1);
    }

    #[test]
    fn chained_aggregators_flush_in_topological_order() {
        let b = backend(&["a", "b"]);
        let p = yaml(
            "name: p\nsource: {component: words}\nstages:\n  - {name: first, component: joiner}\n  - {name: second, component: joiner}\nsink: {component: sink}\n",
        );
        let t = run_pipeline_on(&b, &p).unwrap();
        let tail: Vec<(&str, &str)> = t
            .entries
            .iter()
            .filter(|e| matches!(e.call, Function::Flush | Function::Ingest | Function::Push))
            .skip(2)
            .map(|e| (e.stage.as_deref().unwrap(), e.call.name()))
            .collect();
        assert_eq!(
            tail,
            [
                ("first", "flush"),
                ("second", "ingest"),
                ("second", "flush"),
                ("sink", "push"),
            ]
        );
        assert_eq!(delivered(&t, "sink"), ["\"ab\""]);
    }

    #[test]
    fn a_router_fans_out_one_buffer_and_records_unknown_ports() {
        let b = backend(&["7 dwarves", "hi!", "", "why?"]);
        let p = yaml(concat!(
            "name: p\nsource: {component: words}\n",
            "stages:\n  - {name: router, component: by-kind, ports: {digits: d, words: w, alerts: a}}\n",
            "sinks:\n  - {name: d, component: sink}\n  - {name: w, component: sink}\n  - {name: a, component: sink}\n",
        ));
        let t = run_pipeline_on(&b, &p).unwrap();
        assert_eq!(delivered(&t, "d"), ["\"7 dwarves\""]);
        assert_eq!(delivered(&t, "w"), ["\"hi!\"", "\"why?\""]);
        assert_eq!(delivered(&t, "a"), ["\"hi!\""]);
        let s = &t.summary;
        assert_eq!(s.shared_lends, 1, "`hi!` went to two sinks: {s:?}");
        assert_eq!(
            s.elements_dropped, 1,
            "the empty payload was routed nowhere"
        );
        assert_eq!(s.routing_errors.len(), 1, "{:?}", s.routing_errors);
        assert!(
            s.routing_errors[0].contains("`questions`")
                && s.routing_errors[0].contains("alerts, digits, words"),
            "{:?}",
            s.routing_errors
        );
        let routes: Vec<&Vec<String>> = t
            .stage_entries("router")
            .filter(|e| e.call == Function::Route)
            .map(|e| &e.lent_to)
            .collect();
        assert_eq!(routes[1], &["w", "a"]);
        // Every sink was completed and nothing leaked.
        assert_eq!(
            t.entries
                .iter()
                .filter(|e| e.call == Function::Complete)
                .count(),
            3
        );
        assert!(t.entries.iter().all(|e| e.live_resources == 0));
    }

    #[test]
    fn a_pause_on_one_edge_pauses_the_source_until_that_sink_drains() {
        let b = backend(&["1", "a", "2"]);
        let p = yaml(concat!(
            "name: p\nsource: {component: words}\ndrain_ns: 500\n",
            "stages:\n  - {name: router, component: by-kind, ports: {digits: slow, words: fast}}\n",
            "sinks:\n  - {name: slow, component: pausing-sink}\n  - {name: fast, component: sink}\n",
        ));
        let t = run_pipeline_on(&b, &p).unwrap();
        assert_eq!(t.summary.pauses, 2);
        let notes: Vec<&str> = t
            .stage_entries("words")
            .filter(|e| e.call == Function::NotifyBackpressure)
            .map(|e| e.argument.as_deref().unwrap())
            .collect();
        assert_eq!(notes, ["pause", "ready", "pause", "ready"]);
        assert_eq!(delivered(&t, "fast"), ["\"a\""]);
    }

    #[test]
    fn a_fatal_branch_stops_only_that_branch() {
        let b = backend(&["1", "a", "2", "b"]);
        b.mock().register(
            MockBuilder::new("fatal-sink")
                .on_push(|_, _| Err(torvyn_engine::ProcessError::Fatal("full".into()).into()))
                .build(),
        );
        let p = yaml(concat!(
            "name: p\nsource: {component: words}\n",
            "stages:\n  - {name: router, component: by-kind, ports: {digits: bad, words: good}}\n",
            "sinks:\n  - {name: bad, component: fatal-sink}\n  - {name: good, component: sink}\n",
        ));
        let t = run_pipeline_on(&b, &p).unwrap();
        assert_eq!(delivered(&t, "good"), ["\"a\"", "\"b\""]);
        assert_eq!(
            t.stage_entries("bad")
                .filter(|e| e.call == Function::Push)
                .count(),
            1
        );
        assert!(
            t.summary
                .stopped
                .as_deref()
                .unwrap()
                .contains("stage `bad`")
        );
        assert_eq!(
            t.summary.elements_failed, 2,
            "the fatal push and the element after it"
        );
    }
}
