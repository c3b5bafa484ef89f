//! `torvyn-sim demo`: a source of five lines of text → the `uppercase`
//! fixture → the `sink` fixture, with no files needed at run time.
//!
//! The three WAT sources are compiled into the binary (`include_str!`),
//! componentized with [`crate::fixtures::component_from_wat`], and served to
//! [`crate::pipeline::run_pipeline_on`] by [`EmbeddedBackend`], a
//! [`SimBackend`] that answers for these names and otherwise defers to the
//! Wasmtime backend.

use torvyn_engine::wasmtime::WasmtimeEngine;
use torvyn_engine::wasmtime::{WasmtimeCompiled, WasmtimeInvoker};
use torvyn_engine::{Clock, GuestOutput};

use super::cache::CacheChoice;
use super::error::CliError;
use super::pipeline::{apply_engine, render};
use super::{DemoArgs, Report, progress};
use crate::HarnessError;
use crate::backend::{EngineSettings, SimBackend, WasmtimeBackend};
use crate::fixtures::component_from_wat;
use crate::pipeline::{Pipeline, StageSpec, run_pipeline_on};
use crate::source::ComponentSource;
use crate::spec::BackendKind;

/// The demo's source: five lines of lower-case text, one per pull.
pub const DEMO_SOURCE_WAT: &str = include_str!("demo-source.wat");
/// The `uppercase` fixture.
pub const UPPERCASE_WAT: &str = include_str!("../../fixtures/components/uppercase.wat");
/// The `sink` fixture.
pub const SINK_WAT: &str = include_str!("../../fixtures/components/sink.wat");

/// The demo's components by name, as WAT text.
pub const EMBEDDED: [(&str, &str); 3] = [
    ("demo-source", DEMO_SOURCE_WAT),
    ("uppercase", UPPERCASE_WAT),
    ("sink", SINK_WAT),
];

/// A backend that compiles the [`EMBEDDED`] components for their names and
/// defers everything else to a [`WasmtimeBackend`].
#[derive(Debug)]
pub struct EmbeddedBackend {
    inner: WasmtimeBackend,
}

impl EmbeddedBackend {
    /// Wraps `inner`.
    pub fn wrap(inner: WasmtimeBackend) -> Self {
        Self { inner }
    }
}

impl SimBackend for EmbeddedBackend {
    type Engine = WasmtimeEngine;

    const KIND: BackendKind = BackendKind::Wasmtime;

    fn new(settings: &EngineSettings) -> Result<Self, HarnessError> {
        WasmtimeBackend::new(settings).map(Self::wrap)
    }

    fn engine(&self) -> &WasmtimeEngine {
        self.inner.wasmtime()
    }

    fn clock(&self) -> &Clock {
        self.inner.clock()
    }

    fn compile(
        &self,
        source: &ComponentSource,
        label: &str,
    ) -> Result<WasmtimeCompiled, HarnessError> {
        let ComponentSource::Fixture(name) = source else {
            return self.inner.compile(source, label);
        };
        let Some((_, wat)) = EMBEDDED.iter().find(|(n, _)| n == name) else {
            return self.inner.compile(source, label);
        };
        let origin = format!("<embedded {name}.wat>");
        let bytes = component_from_wat(wat, &origin).map_err(|source| HarnessError::Fixture {
            component: label.to_string(),
            source,
        })?;
        self.inner.compile_bytes(&bytes, &origin, label)
    }

    fn take_output(&self, instance: &mut WasmtimeInvoker) -> (GuestOutput, GuestOutput) {
        self.inner.take_output(instance)
    }
}

/// The demo pipeline.
pub fn pipeline() -> Pipeline {
    Pipeline {
        description: Some(
            "five lines of text, upper-cased; the sink asks for a pause every third element".into(),
        ),
        ..Pipeline::new(
            "demo",
            StageSpec::new("demo-source"),
            vec![StageSpec::new("uppercase")],
            StageSpec::new("sink"),
        )
    }
}

/// Runs `torvyn-sim demo`; `verbose` (`-v`) shows traps' backtraces in the
/// table.
pub fn run(args: &DemoArgs, cache: &CacheChoice, verbose: bool) -> Result<Report, CliError> {
    let mut p = pipeline();
    apply_engine(&mut p, &args.engine);
    p.preview_bytes = args.preview_bytes;
    let settings = EngineSettings {
        cache_dir: cache.resolve()?,
        cache_max_bytes: cache.max_bytes,
        ..p.settings()
    };
    let backend = EmbeddedBackend::new(&settings)?;
    let t = progress::with_spinner("running the demo", || run_pipeline_on(&backend, &p))?;
    let mut out = render(&t, args.format, verbose)?;
    if args.format == super::Format::Table {
        out.push_str(
            "\nnext: torvyn-sim run uppercase --input FILE, torvyn-sim inspect sink, \
             torvyn-sim --help\n",
        );
    }
    Ok(Report::ok(out))
}
