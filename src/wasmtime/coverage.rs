//! Coverage on Wasmtime: one-shot breakpoints through Wasmtime's guest
//! debugging.
//!
//! With [`WasmtimeEngineConfig::coverage`](super::WasmtimeEngineConfig::coverage)
//! on, the engine compiles with `guest_debug`, and each instance's store
//! gets a breakpoint at the first instruction of every function of every
//! core module, and at the first instruction of every row of the module's
//! DWARF line table when it has one. The store's debug handler records the
//! breakpoint's module and offset, and the breakpoints that fired are
//! removed when the call ends (see [`HOT`]): each function or line costs a
//! trip to the host the first time it runs, and nothing after. Calls then run on a fiber (Wasmtime runs debug handlers only
//! there), driven to completion on the caller's thread.
//!
//! What a module has (functions, names, line rows) is read once per
//! compiled component from the modules' original bytes
//! (`Module::debug_bytecode`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use wasmtime::component::{ComponentNamedList, Lift, Lower, TypedFunc};
use wasmtime::{AsContextMut, DebugEvent, DebugHandler, Module, ModulePC, Store, StoreContextMut};

use super::host::HostState;
use crate::coverage::Coverage;

/// What one core module has: its defined functions and its line rows,
/// as offsets in the module's bytes.
#[derive(Debug, Default)]
pub(crate) struct ModuleMap {
    /// The record name for functions without line information.
    pseudo_file: String,
    /// Defined functions, in body order.
    functions: Vec<FuncInfo>,
    /// Line rows (offset, file index, line), by offset.
    rows: Vec<(u32, usize, u32)>,
    files: Vec<String>,
}

#[derive(Debug)]
struct FuncInfo {
    name: String,
    /// Offset of the first instruction.
    start: u32,
    /// Offset just past the body.
    end: u32,
}

impl ModuleMap {
    /// Reads `bytes` (a core module); `pseudo_file` names the record of
    /// its functions without line information. A module wasmparser cannot
    /// read (Wasmtime compiled it, so it should not happen) or malformed
    /// DWARF leave what could be read.
    pub(crate) fn read(bytes: &[u8], pseudo_file: String) -> Self {
        let mut map = ModuleMap {
            pseudo_file,
            ..Self::default()
        };
        let mut names: HashMap<u32, String> = HashMap::new();
        // Export names name functions the name section does not.
        let mut exported: HashMap<u32, &str> = HashMap::new();
        let mut imported_funcs = 0u32;
        let mut code_start = None;
        let mut bodies = Vec::new();
        let mut debug: HashMap<String, &[u8]> = HashMap::new();
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            let Ok(payload) = payload else { break };
            match payload {
                wasmparser::Payload::ImportSection(reader) => {
                    for imports in reader.into_iter().flatten() {
                        for import in imports.into_iter().flatten() {
                            if matches!(import.1.ty, wasmparser::TypeRef::Func(_)) {
                                imported_funcs += 1;
                            }
                        }
                    }
                }
                wasmparser::Payload::ExportSection(reader) => {
                    for export in reader.into_iter().flatten() {
                        if export.kind == wasmparser::ExternalKind::Func {
                            exported.entry(export.index).or_insert(export.name);
                        }
                    }
                }
                wasmparser::Payload::CodeSectionStart { range, .. } => {
                    code_start = Some(range.start);
                }
                wasmparser::Payload::CodeSectionEntry(body) => {
                    let end = body.range().end;
                    if let Ok(ops) = body.get_operators_reader() {
                        bodies.push((ops.original_position(), end));
                    }
                }
                wasmparser::Payload::CustomSection(c) => {
                    if let wasmparser::KnownCustom::Name(reader) = c.as_known() {
                        for name in reader.into_iter().flatten() {
                            if let wasmparser::Name::Function(map) = name {
                                for n in map.into_iter().flatten() {
                                    names.insert(n.index, n.name.to_owned());
                                }
                            }
                        }
                    } else if c.name().starts_with(".debug_") {
                        debug.insert(c.name().to_owned(), c.data());
                    }
                }
                _ => {}
            }
        }
        for (i, (start, end)) in bodies.into_iter().enumerate() {
            let index = imported_funcs + i as u32;
            let name = names
                .remove(&index)
                .unwrap_or_else(|| match exported.get(&index) {
                    Some(export) => (*export).to_owned(),
                    None => format!("func[{index}]"),
                });
            map.functions.push(FuncInfo {
                name,
                start: start as u32,
                end: end as u32,
            });
        }
        if let (Some(code_start), false) = (code_start, debug.is_empty()) {
            // Malformed DWARF: the functions are still known.
            let _ = map.read_lines(&debug, code_start as u32);
        }
        map
    }

    /// Reads the DWARF line table; addresses are offsets in the code
    /// section, which starts at `code_start` in the module.
    fn read_lines(
        &mut self,
        sections: &HashMap<String, &[u8]>,
        code_start: u32,
    ) -> Result<(), gimli::Error> {
        use gimli::{EndianSlice, LittleEndian};
        let dwarf = gimli::Dwarf::load(|id| {
            Ok::<_, gimli::Error>(EndianSlice::new(
                sections.get(id.name()).copied().unwrap_or(&[]),
                LittleEndian,
            ))
        })?;
        let mut file_index: HashMap<String, usize> = HashMap::new();
        let mut units = dwarf.units();
        while let Some(header) = units.next()? {
            let unit = dwarf.unit(header)?;
            let Some(program) = unit.line_program.clone() else {
                continue;
            };
            let comp_dir = unit
                .comp_dir
                .map(|d| d.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut rows = program.rows();
            while let Some((header, row)) = rows.next_row()? {
                if row.end_sequence() || !row.is_stmt() {
                    continue;
                }
                let Some(line) = row.line() else { continue };
                let Some(file) = row.file(header) else {
                    continue;
                };
                let mut path = std::path::PathBuf::from(&comp_dir);
                if let Some(dir) = file.directory(header) {
                    path.push(dwarf.attr_string(&unit, dir)?.to_string_lossy().as_ref());
                }
                path.push(
                    dwarf
                        .attr_string(&unit, file.path_name())?
                        .to_string_lossy()
                        .as_ref(),
                );
                let path = path.display().to_string();
                let next = file_index.len();
                let file = *file_index.entry(path.clone()).or_insert_with(|| {
                    self.files.push(path);
                    next
                });
                let Ok(address) = u32::try_from(row.address()) else {
                    continue;
                };
                let line = u32::try_from(line.get()).unwrap_or(u32::MAX);
                self.rows.push((code_start + address, file, line));
            }
        }
        self.rows.sort_unstable();
        self.rows.dedup_by_key(|r| r.0);
        Ok(())
    }

    /// The offsets to break at: every function's first instruction and
    /// every line row.
    fn breakpoints(&self) -> BTreeSet<u32> {
        self.functions
            .iter()
            .map(|f| f.start)
            .chain(self.rows.iter().map(|r| r.0))
            .collect()
    }

    /// Adds what this module has to `out`, run where `hits` (breakpoint
    /// offsets that fired) says.
    fn report(&self, hits: &BTreeSet<u32>, out: &mut Coverage) {
        let ran = |from: u32, to: u32| from < to && hits.range(from..to).next().is_some();
        for f in &self.functions {
            let hit = u64::from(ran(f.start, f.end));
            let first = self.rows.partition_point(|r| r.0 < f.start);
            match self.rows.get(first).filter(|r| r.0 < f.end) {
                Some(&(_, file, line)) => {
                    out.file_mut(&self.files[file])
                        .add_function(&f.name, Some(line), hit);
                }
                None => out
                    .file_mut(&self.pseudo_file)
                    .add_function(&f.name, None, hit),
            }
        }
        // A line ran when one of its rows did (a line has a row per
        // instruction on it).
        let mut lines: BTreeMap<(usize, u32), bool> = BTreeMap::new();
        for (i, &(pc, file, line)) in self.rows.iter().enumerate() {
            // A breakpoint that slipped forward to the next instruction
            // still falls before the next row.
            let next = self.rows.get(i + 1).map_or(u32::MAX, |r| r.0);
            *lines.entry((file, line)).or_default() |= ran(pc, next);
        }
        for ((file, line), hit) in lines {
            out.file_mut(&self.files[file])
                .add_line(line, u64::from(hit));
        }
    }
}

/// The modules of one compiled component, by their Wasmtime identity
/// (`Module::debug_index_in_engine`), in the component's order.
pub(crate) type ComponentMap = Vec<(u64, Arc<ModuleMap>)>;

/// Reads the maps of the modules a store holds after instantiating one
/// component; `origin` names the component in records of modules without
/// line information.
pub(crate) fn component_map(store: &mut Store<HostState>, origin: &str) -> ComponentMap {
    let mut modules = store.debug_all_modules();
    modules.sort_by_key(Module::debug_index_in_engine);
    modules
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let bytes = m.debug_bytecode().unwrap_or_default();
            let map = ModuleMap::read(bytes, format!("{origin}#module{i}"));
            (m.debug_index_in_engine(), Arc::new(map))
        })
        .collect()
}

/// What one instance ran: the breakpoint offsets that fired, per module.
#[derive(Clone)]
pub(crate) struct Recorder {
    inner: Arc<Recorded>,
}

struct Recorded {
    maps: Arc<ComponentMap>,
    state: Mutex<Hits>,
}

#[derive(Default)]
struct Hits {
    /// Offsets that fired, per module.
    fired: HashMap<u64, BTreeSet<u32>>,
    /// Breakpoints that fired during the current call and are still set,
    /// with the number of times they fired: they are removed together when
    /// the call ends ([`Recorder::after_call`]), or at once when one fires
    /// [`HOT`] times.
    pending: HashMap<(u64, u32), (Module, u32)>,
}

/// Trips to the host after which a breakpoint goes at once rather than at
/// the end of the call. Removing breakpoints re-publishes the module's
/// code (an `mprotect` of all of it, milliseconds for CPython's), so they
/// are removed together after the call; a function run thousands of times
/// in one call would cost more in trips.
const HOT: u32 = 64;

impl Recorder {
    /// Sets the breakpoints of `maps` in `store` and makes a recorder its
    /// debug handler.
    pub(crate) fn install(
        store: &mut Store<HostState>,
        maps: Arc<ComponentMap>,
    ) -> wasmtime::Result<Self> {
        let modules: HashMap<u64, Module> = store
            .debug_all_modules()
            .into_iter()
            .map(|m| (m.debug_index_in_engine(), m))
            .collect();
        if let Some(mut edit) = store.edit_breakpoints() {
            for (id, map) in maps.iter() {
                let Some(module) = modules.get(id) else {
                    continue;
                };
                for pc in map.breakpoints() {
                    edit.add_breakpoint(module, ModulePC::new(pc))?;
                }
            }
        }
        let recorder = Recorder {
            inner: Arc::new(Recorded {
                maps,
                state: Mutex::new(Hits::default()),
            }),
        };
        store.set_debug_handler(recorder.clone());
        Ok(recorder)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Hits> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What ran so far.
    pub(crate) fn coverage(&self) -> Coverage {
        let state = self.state();
        let none = BTreeSet::new();
        let mut out = Coverage::new();
        for (id, map) in self.inner.maps.iter() {
            map.report(state.fired.get(id).unwrap_or(&none), &mut out);
        }
        out
    }

    /// Removes the breakpoints that fired during the call that just ended,
    /// in one edit (one re-publication of the code).
    pub(crate) fn after_call(&self, store: &mut Store<HostState>) {
        let pending = std::mem::take(&mut self.state().pending);
        if pending.is_empty() {
            return;
        }
        if let Some(mut edit) = store.edit_breakpoints() {
            for ((_, pc), (module, _)) in pending {
                // Failing to remove one only costs more trips here.
                let _ = edit.remove_breakpoint(&module, ModulePC::new(pc));
            }
        }
    }

    fn hit(&self, mut store: StoreContextMut<'_, HostState>) {
        let Some(frame) = store.debug_exit_frames().next() else {
            return;
        };
        let Ok(Some((_, pc))) = frame.wasm_function_index_and_pc(&mut store) else {
            return;
        };
        let Ok(Some(module)) = frame.module(store.as_context_mut()) else {
            return;
        };
        let id = module.debug_index_in_engine();
        let hot = {
            let mut state = self.state();
            state.fired.entry(id).or_default().insert(pc.raw());
            let entry = state
                .pending
                .entry((id, pc.raw()))
                .or_insert_with(|| (module.clone(), 0));
            entry.1 += 1;
            if entry.1 >= HOT {
                state.pending.remove(&(id, pc.raw())).map(|(m, _)| m)
            } else {
                None
            }
        };
        if let (Some(module), Some(mut edit)) = (hot, store.edit_breakpoints()) {
            let _ = edit.remove_breakpoint(&module, pc);
        }
    }
}

impl DebugHandler for Recorder {
    type Data = HostState;

    fn handle(
        &self,
        store: StoreContextMut<'_, HostState>,
        event: DebugEvent<'_>,
    ) -> impl Future<Output = ()> + Send {
        if let DebugEvent::Breakpoint = event {
            self.hit(store);
        }
        std::future::ready(())
    }
}

/// Calls `f` with coverage: on a fiber (see [`on_fiber`]), then removes
/// the breakpoints that fired.
#[cold]
#[inline(never)]
pub(crate) fn call<P, R>(
    recorder: &Recorder,
    f: &TypedFunc<P, R>,
    store: &mut Store<HostState>,
    params: P,
) -> wasmtime::Result<R>
where
    P: ComponentNamedList + Lower,
    R: ComponentNamedList + Lift + 'static,
{
    let out = on_fiber(f.call_async(&mut *store, params));
    recorder.after_call(store);
    out
}

/// Runs a Wasmtime call future to completion on this thread. The future
/// runs the call on a fiber and returns when it ends: nothing in the
/// engine's calls waits on anything outside them (host functions are
/// synchronous, the debug handler answers at once, epochs trap rather than
/// yield), so the first poll normally finishes it.
fn on_fiber<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}
