//! Guest profiles on a virtual clock (feature `profiling`).
//!
//! A [`ProfileRecorder`] collects, for every instance it is attached to
//! ([`WasmtimeInvoker::attach_profile`]), samples of the guest's call stack
//! and writes them in the Firefox profiler's processed format (open the
//! file in <https://profiler.firefox.com/>).
//!
//! Sampling is deterministic: the recorder hooks the store's transitions
//! between host and guest (`Store::call_hook`) and takes a sample each time
//! the guest calls the host, with the guest's stack at that point
//! (`WasmBacktrace`, function names from the name section) and, as its
//! weight, the fuel the guest burned since the previous sample. When a call
//! returns, the fuel burned since the last host call is one more sample, on
//! the stack of the call's outermost function (the export). Timestamps are
//! the instance's fuel consumed so far, one unit of fuel a nanosecond, so
//! two runs of the same calls write the same bytes. The granularity is the
//! host call: fuel between two host calls is charged to the stack at the
//! second one. Without fuel metering the clock advances one microsecond per
//! transition.
//!
//! Wasmtime's own `GuestProfiler` samples on wall time (its timestamps and
//! its reference time are read from the system clock), so its output
//! differs between runs; the recorder writes the same format with
//! `fxprof-processed-profile`, the crate `GuestProfiler` writes with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use fxprof_processed_profile::{
    CategoryHandle, CpuDelta, Frame, FrameFlags, FrameInfo, MarkerTiming, Profile,
    ReferenceTimestamp, SamplingInterval, StaticSchemaMarker, StringHandle, ThreadHandle,
    Timestamp,
};
use wasmtime::{CallHook, StoreContextMut, WasmBacktrace};

use super::host::HostState;
use super::invoker::WasmtimeInvoker;

/// Nanoseconds of virtual time per transition when fuel is not metered.
const UNMETERED_STEP_NS: u64 = 1_000;

/// A profile being recorded: shared by the instances it is attached to
/// (one thread of the profile each), written by [`ProfileRecorder::to_json`].
/// Cloning it shares the same profile.
#[derive(Clone)]
pub struct ProfileRecorder {
    inner: Arc<Mutex<Recorded>>,
}

impl std::fmt::Debug for ProfileRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileRecorder").finish_non_exhaustive()
    }
}

struct Recorded {
    profile: Profile,
    process: fxprof_processed_profile::ProcessHandle,
    /// Per attached instance: its thread and the end of its timeline.
    threads: Vec<(ThreadHandle, Arc<Mutex<u64>>)>,
    call_marker: StringHandle,
    /// Names of functions the name section leaves unnamed, by their
    /// module's sorted export names and their function index.
    export_names: HashMap<Vec<String>, HashMap<u32, String>>,
}

/// One instance's sampling state, owned by its store's call hook.
struct Sampler {
    recorder: Arc<Mutex<Recorded>>,
    thread: ThreadHandle,
    /// Virtual time: fuel consumed by the instance so far (ns).
    clock: u64,
    /// Where `clock` is mirrored for the thread's end time.
    end: Arc<Mutex<u64>>,
    /// The fuel left at the last transition.
    last_fuel: Option<u64>,
    /// Virtual time of the last sample.
    last_sample: u64,
    /// Guest calls on the stack (the host calls back into the guest to
    /// allocate while lowering).
    depth: u32,
    /// Start of the current call, for its marker.
    call_start: u64,
    /// Name of the outermost guest function seen in the current call.
    outermost: Option<String>,
}

impl ProfileRecorder {
    /// A new, empty profile named `product` (the viewer's title).
    pub fn new(product: &str) -> Self {
        let mut profile = Profile::new(
            product,
            // A fixed reference time: the profile's timestamps are virtual.
            ReferenceTimestamp::from_millis_since_unix_epoch(0.0),
            SamplingInterval::from_nanos(1),
        );
        let process = profile.add_process(product, 0, Timestamp::from_nanos_since_reference(0));
        let call_marker = profile.intern_string("guest call");
        Self {
            inner: Arc::new(Mutex::new(Recorded {
                profile,
                process,
                threads: Vec::new(),
                call_marker,
                export_names: HashMap::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Names the functions of a core module that its name section leaves
    /// unnamed (a `(func (export "..."))` in WAT has no name) by the names
    /// it exports them under: `exports` are all the module's export names
    /// (they identify the module), `functions` its exported functions'
    /// indices and names. A host reads them from the component's bytes.
    pub fn name_exports(&self, exports: &[String], functions: &[(u32, String)]) {
        let mut key = exports.to_vec();
        key.sort();
        let mut r = self.lock();
        let names = r.export_names.entry(key).or_default();
        for (index, name) in functions {
            names.entry(*index).or_insert_with(|| name.clone());
        }
    }

    /// Attaches `invoker` under the thread name `name`: its calls are
    /// sampled from now on.
    pub fn attach(&self, invoker: &mut WasmtimeInvoker, name: &str) {
        let end = Arc::new(Mutex::new(0));
        let thread = {
            let mut r = self.lock();
            let tid = u32::try_from(r.threads.len()).unwrap_or(u32::MAX);
            let process = r.process;
            let thread = r.profile.add_thread(
                process,
                tid,
                Timestamp::from_nanos_since_reference(0),
                // Not a main thread: the viewer names a main thread after
                // its process, and each thread is named by its instance.
                false,
            );
            r.profile.set_thread_name(thread, name);
            r.threads.push((thread, end.clone()));
            thread
        };
        let mut sampler = Sampler {
            recorder: self.inner.clone(),
            thread,
            clock: 0,
            end,
            last_fuel: None,
            last_sample: 0,
            depth: 0,
            call_start: 0,
            outermost: None,
        };
        invoker.set_call_hook(move |store, hook| {
            sampler.on(store, hook);
            Ok(())
        });
    }

    /// The profile as JSON in the Firefox profiler's processed format.
    pub fn to_json(&self) -> Vec<u8> {
        let mut r = self.lock();
        let mut last = 0;
        for (thread, end) in r.threads.clone() {
            let end = *end.lock().unwrap_or_else(PoisonError::into_inner);
            last = last.max(end);
            r.profile
                .set_thread_end_time(thread, Timestamp::from_nanos_since_reference(end));
        }
        let process = r.process;
        r.profile
            .set_process_end_time(process, Timestamp::from_nanos_since_reference(last));
        serde_json::to_vec(&r.profile).unwrap_or_default()
    }
}

impl Sampler {
    fn tick(&mut self, store: &StoreContextMut<'_, HostState>) {
        match store.get_fuel() {
            Ok(fuel) => {
                if let Some(last) = self.last_fuel
                    && fuel < last
                {
                    self.clock += last - fuel;
                }
                self.last_fuel = Some(fuel);
            }
            Err(_) => self.clock += UNMETERED_STEP_NS,
        }
        *self.end.lock().unwrap_or_else(PoisonError::into_inner) = self.clock;
    }

    fn on(&mut self, store: StoreContextMut<'_, HostState>, hook: CallHook) {
        match hook {
            CallHook::CallingWasm => {
                // A new call starts with a refilled tank: do not count the
                // refill as time.
                if self.depth == 0 {
                    self.last_fuel = store.get_fuel().ok();
                    self.call_start = self.clock;
                    self.outermost = None;
                } else {
                    // The host calls back into the guest (to allocate).
                    self.tick(&store);
                }
                self.depth += 1;
            }
            CallHook::CallingHost => {
                self.tick(&store);
                let frames: Vec<String> = {
                    let r = self.recorder.lock().unwrap_or_else(PoisonError::into_inner);
                    WasmBacktrace::capture(&store)
                        .frames()
                        .iter()
                        .rev()
                        .map(|f| frame_name(f, &r.export_names))
                        .collect()
                };
                if let Some(first) = frames.first() {
                    self.outermost.get_or_insert_with(|| first.clone());
                }
                self.sample(&frames);
            }
            // Fuel the guest burned in calls the host made back into it
            // is charged to the next sample.
            CallHook::ReturningFromHost => self.tick(&store),
            CallHook::ReturningFromWasm => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth > 0 {
                    self.tick(&store);
                } else {
                    self.tick(&store);
                    // A call that made no host call has no stack seen.
                    let outer =
                        vec![self.outermost.take().unwrap_or_else(|| {
                            "(stack not seen: the call made no host call)".into()
                        })];
                    if self.clock > self.last_sample {
                        self.sample(&outer);
                    }
                    let mut r = self.recorder.lock().unwrap_or_else(PoisonError::into_inner);
                    let name = r.call_marker;
                    r.profile.add_marker(
                        self.thread,
                        MarkerTiming::Interval(
                            Timestamp::from_nanos_since_reference(self.call_start),
                            Timestamp::from_nanos_since_reference(self.clock),
                        ),
                        CallMarker { name },
                    );
                }
            }
        }
    }

    /// One sample on `frames` (outermost first), weighted by the fuel
    /// burned since the previous sample.
    fn sample(&mut self, frames: &[String]) {
        let burned = self.clock - self.last_sample;
        self.last_sample = self.clock;
        let mut r = self.recorder.lock().unwrap_or_else(PoisonError::into_inner);
        let infos: Vec<FrameInfo> = frames
            .iter()
            .map(|f| FrameInfo {
                frame: Frame::Label(r.profile.intern_string(f)),
                category_pair: CategoryHandle::OTHER.into(),
                flags: FrameFlags::empty(),
            })
            .collect();
        let stack = r
            .profile
            .intern_stack_frames(self.thread, infos.into_iter());
        // A weight is an `i32`: more fuel than that is several samples.
        let mut left = burned;
        loop {
            let weight = left.min(i32::MAX as u64);
            left -= weight;
            r.profile.add_sample(
                self.thread,
                Timestamp::from_nanos_since_reference(self.clock - left),
                stack,
                CpuDelta::from_nanos(weight),
                i32::try_from(weight).unwrap_or(i32::MAX),
            );
            if left == 0 {
                break;
            }
        }
    }
}

/// A frame's name: its function's name from the name section, else the
/// name it is exported under, else `module!func[index]`.
fn frame_name(
    f: &wasmtime::FrameInfo,
    export_names: &HashMap<Vec<String>, HashMap<u32, String>>,
) -> String {
    if let Some(name) = f.func_name() {
        return name.to_string();
    }
    let mut key: Vec<String> = f.module().exports().map(|e| e.name().to_string()).collect();
    key.sort();
    match export_names.get(&key).and_then(|m| m.get(&f.func_index())) {
        Some(name) => name.clone(),
        None => format!(
            "{}!func[{}]",
            f.module().name().unwrap_or("<module>"),
            f.func_index()
        ),
    }
}

/// The marker spanning one guest call.
#[derive(Debug, Clone, Copy)]
struct CallMarker {
    name: StringHandle,
}

impl StaticSchemaMarker for CallMarker {
    const UNIQUE_MARKER_TYPE_NAME: &'static str = "guestcall";
    const FIELDS: &'static [fxprof_processed_profile::StaticSchemaMarkerField] = &[];
    const LOCATIONS: fxprof_processed_profile::MarkerLocations =
        fxprof_processed_profile::MarkerLocations::MARKER_CHART
            .union(fxprof_processed_profile::MarkerLocations::MARKER_TABLE);

    fn name(&self, _profile: &mut Profile) -> StringHandle {
        self.name
    }
    fn category(&self, _profile: &mut Profile) -> CategoryHandle {
        CategoryHandle::OTHER
    }
    fn string_field_value(&self, _field_index: u32) -> StringHandle {
        self.name
    }
    fn number_field_value(&self, _field_index: u32) -> f64 {
        0.0
    }
}
