//! [`RecordingBackend`]: any [`SimBackend`] with every instance it creates
//! wrapped in a [`Recorder`], so the runner and the pipeline record
//! without a change: one recording per instance, named by the instance's
//! id (a pipeline's stage names).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use torvyn_engine::record::{
    MemoryRecording, RecordOptions, Recorder, RecordingHandle, RecordingStats, sha256,
};
use torvyn_engine::{Clock, ComponentId, EngineError, GuestOutput, InstanceOptions, WasmEngine};

use crate::backend::{EngineSettings, SimBackend};
use crate::error::HarnessError;
use crate::source::ComponentSource;
use crate::spec::BackendKind;

/// Where a [`RecordingBackend`] writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordTo {
    /// One file, for a run with one instance (`torvyn-sim run --record
    /// FILE`); a second instance is refused.
    File(PathBuf),
    /// A directory (created if missing), one `ID.jsonl` per instance
    /// (`torvyn-sim pipeline --record DIR`: one per stage).
    Dir(PathBuf),
    /// Memory, one [`MemoryRecording`] per instance.
    Memory,
}

/// One recorded instance.
#[derive(Clone, Debug)]
pub struct RecordedInstance {
    /// The instance's id (a stage name).
    pub id: String,
    /// The file, when recording to files.
    pub path: Option<PathBuf>,
    /// The recording, when recording to memory.
    pub memory: Option<MemoryRecording>,
    /// Its errors and figures (final once the instance is dropped).
    pub handle: RecordingHandle,
}

impl RecordedInstance {
    /// The recording's bytes: the file's, or memory's.
    pub fn bytes(&self) -> Result<Vec<u8>, HarnessError> {
        match (&self.memory, &self.path) {
            (Some(m), _) => Ok(m.bytes()),
            (None, Some(p)) => std::fs::read(p).map_err(|source| HarnessError::Io {
                action: "read the recording",
                path: p.clone(),
                source,
            }),
            (None, None) => Ok(Vec::new()),
        }
    }

    /// What was written, or the first recording error.
    pub fn result(&self) -> Result<RecordingStats, String> {
        match self.handle.error() {
            Some(e) => Err(e.to_string()),
            None => Ok(self.handle.stats()),
        }
    }
}

#[derive(Debug)]
struct Plan {
    to: RecordTo,
    options: RecordOptions,
    recorded: Mutex<Vec<RecordedInstance>>,
}

/// A compiled component and what a recording's header says of it.
#[derive(Clone)]
pub struct RecordedCompiled<C> {
    /// The wrapped engine's compiled component.
    pub inner: C,
    /// Where it came from (a path or a fixture name).
    pub source: Option<String>,
    /// The SHA-256 of its bytes (or of the file it was loaded from).
    pub digest: Option<[u8; 32]>,
}

/// A [`WasmEngine`] whose instances are [`Recorder`]s over the wrapped
/// engine's: each instance records to its own file or memory part.
#[derive(Clone)]
pub struct RecordingEngine<E> {
    inner: E,
    backend: BackendKind,
    plan: Arc<Plan>,
}

impl<E> RecordingEngine<E> {
    /// The wrapped engine.
    pub fn inner(&self) -> &E {
        &self.inner
    }
}

impl<E: WasmEngine> WasmEngine for RecordingEngine<E>
where
    E::Instance: Send,
{
    type Compiled = RecordedCompiled<E::Compiled>;
    type Instance = Recorder<E::Instance>;

    fn compile(&self, bytes: &[u8]) -> Result<Self::Compiled, EngineError> {
        Ok(RecordedCompiled {
            inner: self.inner.compile(bytes)?,
            source: None,
            digest: Some(sha256(bytes)),
        })
    }

    fn compile_wat(&self, text: &str) -> Result<Self::Compiled, EngineError> {
        Ok(RecordedCompiled {
            inner: self.inner.compile_wat(text)?,
            source: None,
            digest: Some(sha256(text.as_bytes())),
        })
    }

    fn serialize(&self, compiled: &Self::Compiled) -> Result<Vec<u8>, EngineError> {
        self.inner.serialize(&compiled.inner)
    }

    unsafe fn deserialize(&self, bytes: &[u8]) -> Result<Self::Compiled, EngineError> {
        // SAFETY: the caller's promise about `bytes` is passed on as is.
        let inner = unsafe { self.inner.deserialize(bytes)? };
        Ok(RecordedCompiled {
            inner,
            source: None,
            digest: None,
        })
    }

    fn instantiate_with(
        &self,
        compiled: &Self::Compiled,
        id: ComponentId,
        options: &InstanceOptions,
    ) -> Result<Self::Instance, EngineError> {
        let name = id.as_str().to_string();
        let inner = self.inner.instantiate_with(&compiled.inner, id, options)?;
        let record_options = RecordOptions {
            source: compiled.source.clone(),
            digest: compiled.digest,
            backend: Some(self.backend.name().to_string()),
            ..self.plan.options.clone()
        };
        let mut recorded = self.plan.recorded.lock().map_err(|_| {
            EngineError::Unsupported("the recording plan's lock is poisoned".into())
        })?;
        let io = |action: &'static str, path: &PathBuf, message: String| EngineError::Io {
            action,
            path: path.clone(),
            source: std::io::Error::other(message),
        };
        let (recorder, path, memory) = match &self.plan.to {
            RecordTo::File(path) => {
                if !recorded.is_empty() {
                    return Err(EngineError::InvalidArgument {
                        name: "record",
                        problem: format!(
                            "{} records one instance, and `{name}` is a second one; record a \
                             pipeline to a directory (one file per stage)",
                            path.display()
                        ),
                    });
                }
                let r = Recorder::to_file(inner, path, record_options)
                    .map_err(|e| io("create the recording", path, e.to_string()))?;
                (r, Some(path.clone()), None)
            }
            RecordTo::Dir(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| io("create the recording directory", dir, e.to_string()))?;
                let path = dir.join(format!("{}.jsonl", file_name(&name)));
                let r = Recorder::to_file(inner, &path, record_options)
                    .map_err(|e| io("create the recording", &path, e.to_string()))?;
                (r, Some(path), None)
            }
            RecordTo::Memory => {
                let memory = MemoryRecording::new();
                let r = Recorder::to_memory(inner, &memory, record_options).map_err(|e| {
                    EngineError::InvalidArgument {
                        name: "record",
                        problem: e.to_string(),
                    }
                })?;
                (r, None, Some(memory))
            }
        };
        recorded.push(RecordedInstance {
            id: name,
            path,
            memory,
            handle: recorder.handle(),
        });
        Ok(recorder)
    }

    fn set_fuel(&self, instance: &mut Self::Instance, fuel: u64) -> Result<(), EngineError> {
        self.inner.set_fuel(instance.inner_mut(), fuel)
    }

    fn fuel_remaining(&self, instance: &Self::Instance) -> Option<u64> {
        self.inner.fuel_remaining(instance.inner())
    }

    fn memory_usage(&self, instance: &Self::Instance) -> u64 {
        self.inner.memory_usage(instance.inner())
    }

    fn fingerprint(&self) -> [u8; 32] {
        self.inner.fingerprint()
    }

    fn incremental_stats(&self) -> Option<torvyn_engine::IncrementalStats> {
        self.inner.incremental_stats()
    }
}

/// A stage name as a file name: anything but letters, digits, `-`, `_`
/// and `.` becomes `_`.
fn file_name(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}

/// A [`SimBackend`] that records every instance it creates.
pub struct RecordingBackend<B: SimBackend> {
    inner: B,
    engine: RecordingEngine<B::Engine>,
}

impl<B: SimBackend> std::fmt::Debug for RecordingBackend<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingBackend")
            .field("backend", &B::KIND)
            .field("to", &self.engine.plan.to)
            .finish_non_exhaustive()
    }
}

impl<B: SimBackend> RecordingBackend<B>
where
    B::Engine: Clone,
{
    /// `backend`, recording every instance it creates to `to`.
    pub fn wrap(backend: B, to: RecordTo, options: RecordOptions) -> Self {
        let engine = RecordingEngine {
            inner: backend.engine().clone(),
            backend: B::KIND,
            plan: Arc::new(Plan {
                to,
                options,
                recorded: Mutex::new(Vec::new()),
            }),
        };
        Self {
            inner: backend,
            engine,
        }
    }
}

impl<B: SimBackend> RecordingBackend<B> {
    /// The wrapped backend.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// Every instance recorded so far, in the order they were created.
    /// Their recordings are complete once the instances are dropped (the
    /// runner and the pipeline drop them when they return).
    pub fn recordings(&self) -> Vec<RecordedInstance> {
        self.engine
            .plan
            .recorded
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

/// The digest of where a component comes from: the file, or the fixture's
/// `.wat` file; `None` for a scripted component or a fixture without a file.
fn source_digest(source: &ComponentSource) -> Option<[u8; 32]> {
    let path = match source {
        ComponentSource::Fixture(name) => crate::fixtures::fixture_path(name),
        ComponentSource::Wat(p) | ComponentSource::Wasm(p) => p.clone(),
        ComponentSource::Scripted(_) => return None,
    };
    std::fs::read(path).ok().map(|b| sha256(&b))
}

/// How a recording names where its component came from: a fixture's
/// name, or a file's absolute path, so a replay finds it from any
/// directory.
fn source_name(source: &ComponentSource, label: &str) -> String {
    match source {
        ComponentSource::Fixture(name) => name.clone(),
        ComponentSource::Wat(p) | ComponentSource::Wasm(p) => std::path::absolute(p)
            .unwrap_or_else(|_| p.clone())
            .display()
            .to_string(),
        ComponentSource::Scripted(_) => label.to_string(),
    }
}

impl<B: SimBackend> SimBackend for RecordingBackend<B>
where
    B::Engine: Clone,
    <B::Engine as WasmEngine>::Instance: Send,
{
    type Engine = RecordingEngine<B::Engine>;

    const KIND: BackendKind = B::KIND;

    /// Refused: a recording backend needs to know where to write
    /// ([`RecordingBackend::wrap`]).
    fn new(_settings: &EngineSettings) -> Result<Self, HarnessError> {
        Err(HarnessError::Unsupported {
            component: "<engine>".into(),
            problem: "a recording backend is made with `RecordingBackend::wrap(backend, to, \
                      options)`, which says where the recordings go"
                .into(),
        })
    }

    fn engine(&self) -> &Self::Engine {
        &self.engine
    }

    fn clock(&self) -> &Clock {
        self.inner.clock()
    }

    fn compile(
        &self,
        source: &ComponentSource,
        label: &str,
    ) -> Result<RecordedCompiled<<B::Engine as WasmEngine>::Compiled>, HarnessError> {
        Ok(RecordedCompiled {
            inner: self.inner.compile(source, label)?,
            source: Some(source_name(source, label)),
            digest: source_digest(source),
        })
    }

    fn take_output(
        &self,
        instance: &mut Recorder<<B::Engine as WasmEngine>::Instance>,
    ) -> (GuestOutput, GuestOutput) {
        self.inner.take_output(instance.inner_mut())
    }
}
