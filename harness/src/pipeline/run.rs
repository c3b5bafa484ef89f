//! The run loop: the runtime's part, played on one clock.

use std::time::Instant;

use torvyn_engine::{
    Answer, BackpressureSignal, Call as EngineCall, ComponentInvoker, ElementMeta, InvokeError,
    OutputElement, Role, StreamElement, WasmEngine,
};

use super::{
    DEFAULT_DRAIN_NS, DEFAULT_MAX_PULLS, Graph, Pipeline, PipelineSummary, PipelineTranscript,
    StageReport, StageSpec, middle_role, slot_name,
};
use crate::backend::{EngineSettings, SimBackend};
use crate::drive::{Driver, ends_source, fatal};
use crate::error::HarnessError;
use crate::sim::SimRng;
use crate::spec::BackendKind;
use crate::transcript::{Summary, WallStats, per_second};

/// Runs `pipeline` on a new engine of the backend it names.
pub fn run_pipeline(pipeline: &Pipeline) -> Result<PipelineTranscript, HarnessError> {
    run_pipeline_with(pipeline.effective_backend(), pipeline)
}

/// Runs `pipeline` on a new engine of `backend`, whatever the file names
/// (the CLI's `--backend`).
pub fn run_pipeline_with(
    backend: BackendKind,
    pipeline: &Pipeline,
) -> Result<PipelineTranscript, HarnessError> {
    run_pipeline_using(backend, pipeline, &pipeline.settings())
}

/// Runs `pipeline` on a new engine of `backend` built from `settings`
/// (usually [`Pipeline::settings`] changed, as the CLI sets
/// [`EngineSettings::cache_dir`]).
pub fn run_pipeline_using(
    backend: BackendKind,
    pipeline: &Pipeline,
    settings: &EngineSettings,
) -> Result<PipelineTranscript, HarnessError> {
    crate::with_backend!(backend, settings, |b| run_pipeline_on(b, pipeline))?
}

type Instance<B> = <<B as SimBackend>::Engine as WasmEngine>::Instance;

struct Live<B: SimBackend> {
    name: String,
    spec: StageSpec,
    role: Role,
    inst: Instance<B>,
}

/// The run's state beside its stages: the driver, the totals, and why each
/// stage stopped taking elements.
struct Run<'b, B: SimBackend> {
    d: Driver<'b, B>,
    sum: PipelineSummary,
    stopped: Vec<Option<String>>,
    paused: bool,
}

impl<B: SimBackend> Run<'_, B> {
    /// Sends `el` from `from` to the stages `targets` (one lend each, all
    /// of the same buffer), noting the fan-out on `from`'s last entry.
    fn forward(
        &mut self,
        graph: &Graph,
        queue: &mut std::collections::VecDeque<(usize, StreamElement)>,
        targets: &[usize],
        el: StreamElement,
        note: bool,
    ) {
        if targets.len() > 1 {
            self.sum.shared_lends += targets.len() as u64 - 1;
        }
        if (note || targets.len() > 1)
            && let Some(e) = self.d.entries.last_mut()
        {
            e.lent_to = targets.iter().map(|t| graph.names[*t].clone()).collect();
        }
        for t in targets {
            queue.push_back((*t, el.clone()));
        }
    }

    /// Runs `el` from stage `from` through the graph to every sink it
    /// reaches, breadth first.
    fn flow(&mut self, graph: &Graph, stages: &mut [Live<B>], from: usize, el: StreamElement) {
        let mut queue = std::collections::VecDeque::new();
        self.forward(graph, &mut queue, &graph.edges[from], el, false);
        while let Some((i, el)) = queue.pop_front() {
            if self.stopped[i].is_some() {
                // The stage takes no more elements (its `init` failed or
                // it answered `fatal`): the element's journey ends here.
                self.sum.elements_failed += 1;
                continue;
            }
            let st = &mut stages[i];
            let stage = Some(st.name.as_str());
            let seq = el.meta.sequence;
            let failed = |run: &mut Self, e: &InvokeError| {
                run.sum.elements_failed += 1;
                run.stopped[i] = fatal(e, seq);
            };
            let call = match st.role {
                Role::Source | Role::Lifecycle => unreachable!("nothing flows into the source"),
                Role::Processor => EngineCall::Process(el.clone()),
                Role::Filter => EngineCall::Evaluate(el.clone()),
                Role::Router => EngineCall::Route(el.clone()),
                Role::Aggregator => EngineCall::Ingest(el.clone()),
                Role::Sink => EngineCall::Push(el.clone()),
            };
            match self.d.call(&mut st.inst, stage, call) {
                // `process` emitted, or `ingest` made an aggregate ready.
                Ok(Answer::Emit(out)) => {
                    let next = carry(el, out);
                    self.forward(graph, &mut queue, &graph.edges[i], next, false);
                }
                Ok(Answer::Drop | Answer::Verdict(false)) => self.sum.elements_dropped += 1,
                Ok(Answer::Verdict(true)) => {
                    self.forward(graph, &mut queue, &graph.edges[i], el, false)
                }
                Ok(Answer::Nothing) => self.sum.elements_absorbed += 1,
                Ok(Answer::Ports(names)) => {
                    let mut targets = Vec::new();
                    for port in &names {
                        match graph.ports[i].get(port) {
                            Some(t) if !targets.contains(t) => targets.push(*t),
                            Some(_) => {}
                            None => self.sum.routing_errors.push(format!(
                                "element {seq}: router `{}` named port `{port}`, which the \
                                 pipeline does not define (ports: {})",
                                graph.names[i],
                                graph.ports[i]
                                    .keys()
                                    .map(String::as_str)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        }
                    }
                    if names.is_empty() {
                        self.sum.elements_dropped += 1;
                    } else if targets.is_empty() {
                        self.sum.elements_failed += 1;
                    }
                    self.forward(graph, &mut queue, &targets, el, true);
                }
                Ok(Answer::Signal(signal)) => {
                    self.sum.elements_delivered += 1;
                    if signal == BackpressureSignal::Pause {
                        self.sum.pauses += 1;
                        if !self.paused {
                            self.paused = true;
                            let src = &mut stages[0];
                            let pause = EngineCall::NotifyBackpressure(BackpressureSignal::Pause);
                            let _ = self.d.call(&mut src.inst, Some(&src.name), pause);
                        }
                    }
                }
                // `done` and `flushed` answer no element call.
                Ok(Answer::Done | Answer::Flushed(_)) => {}
                Err(e) => failed(self, &e),
            }
        }
    }
}

/// The element a stage's output becomes downstream: the runtime's
/// sequence, timestamp and flow kept, the stage's payload and content type
/// taken.
fn carry(el: StreamElement, out: OutputElement) -> StreamElement {
    StreamElement {
        meta: ElementMeta {
            content_type: out.meta.content_type,
            ..el.meta
        },
        payload: out.payload,
        context: el.context,
    }
}

/// Runs `pipeline` on `backend` (fresh: its clock is the pipeline's
/// timeline).
pub fn run_pipeline_on<B: SimBackend>(
    backend: &B,
    pipeline: &Pipeline,
) -> Result<PipelineTranscript, HarnessError> {
    pipeline.validate()?;
    let graph = pipeline
        .graph()
        .map_err(|problem| HarnessError::InvalidScenario {
            scenario: pipeline.name.clone(),
            problem,
        })?;
    let seed = pipeline.effective_seed();
    let mut ids = SimRng::new(seed).fork("ids");
    let trace_id = ids.trace_id();
    let flow_id = ids.flow_id();

    let mut stages: Vec<Live<B>> = Vec::new();
    for ((slot, spec), name) in pipeline.stages().zip(graph.names.iter().cloned()) {
        let source = spec.component_source(pipeline.base_dir.as_deref());
        let compiled = backend.compile(&source, &spec.component)?;
        let mut inst = backend.instantiate_granting(&compiled, &name, &spec.grants)?;
        inst.trace_host_calls(pipeline.trace_host_calls);
        if let Some(fuel) = spec.fuel {
            backend.set_fuel(&mut inst, fuel, &name)?;
        }
        let role = match slot {
            Role::Source | Role::Sink => slot,
            _ => middle_role(inst.roles()).ok_or_else(|| HarnessError::InvalidScenario {
                scenario: pipeline.name.clone(),
                problem: format!(
                    "stage `{name}` ({}) exports no role a middle stage plays (its roles: \
                         {}); use a processor, filter, router or aggregator there",
                    spec.component,
                    inst.roles()
                ),
            })?,
        };
        let is_router = role == Role::Router;
        let has_ports = !spec.ports.is_empty();
        if is_router != has_ports {
            return Err(HarnessError::InvalidScenario {
                scenario: pipeline.name.clone(),
                problem: if is_router {
                    format!(
                        "stage `{name}` is a router but has no `ports:`; map each port name it \
                         returns to a stage, e.g. `ports: {{even: sink-a, odd: sink-b}}`"
                    )
                } else {
                    format!(
                        "stage `{name}` has `ports:` but is a {} ({}), not a router; use `to:`",
                        role.name(),
                        slot_name(role)
                    )
                },
            });
        }
        stages.push(Live {
            name,
            spec: spec.clone(),
            role,
            inst,
        });
    }

    let clock = backend.clock().clone();
    let wall = Instant::now();
    let start_ns = clock.now_ns();
    let mut d = Driver::new(backend, pipeline.preview_cap());
    d.trace_host_calls = pipeline.trace_host_calls;
    let mut run = Run {
        d,
        sum: PipelineSummary::default(),
        stopped: vec![None; stages.len()],
        paused: false,
    };
    for (i, st) in stages.iter_mut().enumerate() {
        run.stopped[i] =
            run.d
                .init_if_needed(&mut st.inst, Some(&st.name), st.spec.config.as_deref());
    }

    let max_pulls = pipeline.max_pulls.unwrap_or(DEFAULT_MAX_PULLS);
    let drain_ns = pipeline.drain_ns.unwrap_or(DEFAULT_DRAIN_NS);
    // A new element (pulled, or flushed by an aggregator) as the runtime
    // stamps it: the next sequence number, the clock now, the run's trace
    // and flow, a fresh span, the pipeline's deadline.
    let mut stamp = |d: &Driver<'_, B>, out: OutputElement, sequence: &mut u64| {
        let el = d.element(
            *sequence,
            out.payload,
            out.meta.content_type,
            &trace_id,
            &flow_id,
            &mut ids,
            pipeline.element_deadline_ns,
        );
        *sequence += 1;
        el
    };
    let mut sequence = 0u64;
    let mut pulls = 0u64;
    // The runtime stops pulling once no element could reach a sink: the
    // source, or every path to a sink, stopped taking elements.
    while pulls < max_pulls && graph.flows(&run.stopped) {
        pulls += 1;
        if run.paused {
            clock.advance(drain_ns);
            let src = &mut stages[0];
            let ready = EngineCall::NotifyBackpressure(BackpressureSignal::Ready);
            let _ = run.d.call(&mut src.inst, Some(&src.name), ready);
            run.paused = false;
        }
        let src = &mut stages[0];
        let out = match run.d.call(&mut src.inst, Some(&src.name), EngineCall::Pull) {
            Ok(Answer::Emit(out)) => out,
            Ok(_) => break,
            Err(e) => {
                run.sum.elements_failed += 1;
                run.stopped[0] = fatal(&e, sequence);
                if ends_source(&e) {
                    break;
                }
                continue;
            }
        };
        run.sum.elements_pulled += 1;
        let el = stamp(&run.d, out, &mut sequence);
        run.flow(&graph, &mut stages, 0, el);
    }
    // End of stream: every aggregator is flushed, in topological order, and
    // what it returns flows downstream (into later aggregators too) before
    // any sink completes. Flushed elements get the next sequence numbers.
    for &i in &graph.order {
        if stages[i].role != Role::Aggregator || run.stopped[i].is_some() {
            continue;
        }
        let st = &mut stages[i];
        let outs = match run.d.call(&mut st.inst, Some(&st.name), EngineCall::Flush) {
            Ok(Answer::Flushed(outs)) => outs,
            Ok(_) => Vec::new(),
            Err(e) => {
                run.sum.elements_failed += 1;
                run.stopped[i] = fatal(&e, sequence);
                continue;
            }
        };
        run.sum.elements_flushed += outs.len() as u64;
        for out in outs {
            let el = stamp(&run.d, out, &mut sequence);
            run.flow(&graph, &mut stages, i, el);
        }
    }
    for &i in &graph.order {
        if stages[i].role == Role::Sink && run.stopped[i].is_none() {
            let st = &mut stages[i];
            let _ = run
                .d
                .call(&mut st.inst, Some(&st.name), EngineCall::Complete);
        }
    }
    for st in stages.iter_mut() {
        let _ = run
            .d
            .call(&mut st.inst, Some(&st.name), EngineCall::Teardown);
    }

    let Run {
        d,
        mut sum,
        stopped,
        ..
    } = run;
    let virtual_ns = clock.now_ns().saturating_sub(start_ns);
    let entries = d.entries;
    let reports = stages
        .iter()
        .zip(&stopped)
        .map(|(st, stopped)| {
            let mut totals = Summary::of(
                entries
                    .iter()
                    .filter(|e| e.stage.as_deref() == Some(st.name.as_str())),
                virtual_ns,
            );
            totals.stopped = stopped.clone();
            StageReport {
                name: st.name.clone(),
                component: st.spec.component.clone(),
                role: st.role,
                grants: st.inst.grants().iter().map(str::to_string).collect(),
                totals,
            }
        })
        .collect();
    sum.stopped = stages
        .iter()
        .zip(&stopped)
        .find_map(|(st, why)| Some(format!("stage `{}`: {}", st.name, why.as_ref()?)));
    sum.calls = entries.len() as u64;
    sum.fuel_total = entries.iter().map(|e| e.fuel).sum();
    sum.virtual_time_ns = virtual_ns;
    sum.elements_per_virtual_second = per_second(sum.elements_delivered, virtual_ns);
    let wall = wall.elapsed();
    let wall_ns = u64::try_from(wall.as_nanos()).unwrap_or(u64::MAX);
    sum.wall = Some(WallStats {
        wall_ns,
        elements_per_second: if wall_ns == 0 {
            0.0
        } else {
            sum.elements_delivered as f64 * 1e9 / wall_ns as f64
        },
    });
    Ok(PipelineTranscript {
        pipeline: pipeline.name.clone(),
        seed,
        backend: B::KIND,
        strategy: pipeline.strategy,
        clock: pipeline.clock,
        trace_id,
        flow_id,
        stages: reports,
        entries,
        summary: sum,
    })
}
