//! Shared helpers: one engine per compiler, fixtures compiled once, and
//! assertions that point at the calling test.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use torvyn_engine::wasmtime::{WasmtimeCompiled, WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    AnswerLimit, CompilationStrategy, ComponentId, ComponentInvoker, Fault, FaultKind, Invocation,
    InvocationMetrics, InvokeError, ProcessError, WasmEngine,
};

/// Both compilers; every fixture test runs under each.
pub const STRATEGIES: [CompilationStrategy; 2] =
    [CompilationStrategy::Cranelift, CompilationStrategy::Winch];

static ENGINES: LazyLock<Mutex<HashMap<CompilationStrategy, WasmtimeEngine>>> =
    LazyLock::new(Default::default);
static COMPILED: LazyLock<Mutex<HashMap<(CompilationStrategy, String), WasmtimeCompiled>>> =
    LazyLock::new(Default::default);

/// The shared default-config engine for `strategy`.
pub fn engine(strategy: CompilationStrategy) -> WasmtimeEngine {
    ENGINES
        .lock()
        .unwrap()
        .entry(strategy)
        .or_insert_with(|| {
            WasmtimeEngine::new(WasmtimeEngineConfig::with_strategy(strategy))
                .expect("default config is valid")
        })
        .clone()
}

/// `fixture` compiled once per strategy (on the shared engine).
pub fn compiled(strategy: CompilationStrategy, fixture: &str) -> WasmtimeCompiled {
    let key = (strategy, fixture.to_owned());
    if let Some(c) = COMPILED.lock().unwrap().get(&key) {
        return c.clone();
    }
    let compiled = compile_on(&engine(strategy), fixture);
    COMPILED.lock().unwrap().insert(key, compiled.clone());
    compiled
}

/// `fixture` compiled on a given engine.
pub fn compile_on(engine: &WasmtimeEngine, fixture: &str) -> WasmtimeCompiled {
    let bytes = torvyn_harness::fixtures::load_fixture(fixture)
        .unwrap_or_else(|e| panic!("fixture {fixture}: {e}"));
    engine
        .compile(&bytes)
        .unwrap_or_else(|e| panic!("compile {fixture}: {e}"))
}

/// A fresh instance of `fixture` on the shared engine for `strategy`.
pub fn instance(
    strategy: CompilationStrategy,
    fixture: &str,
) -> torvyn_engine::wasmtime::WasmtimeInvoker {
    engine(strategy)
        .instantiate(&compiled(strategy, fixture), ComponentId::new(fixture))
        .unwrap_or_else(|e| panic!("instantiate {fixture}: {e}"))
}

/// A fresh instance of `fixture` under Cranelift, named `id`, with
/// `options` (host faults, host-call tracing...).
pub fn instance_with(
    fixture: &str,
    id: &str,
    options: &torvyn_engine::InstanceOptions,
) -> torvyn_engine::wasmtime::WasmtimeInvoker {
    let strategy = CompilationStrategy::Cranelift;
    engine(strategy)
        .instantiate_with(&compiled(strategy, fixture), ComponentId::new(id), options)
        .unwrap_or_else(|e| panic!("instantiate {fixture}: {e}"))
}

/// A fresh instance of the mock model of `fixture`, named `id`, on a
/// deterministic mock backend.
pub fn mock_instance(fixture: &str, id: &str) -> torvyn_engine::mock::MockInvoker {
    use torvyn_harness::backend::{EngineSettings, MockBackend, SimBackend};
    let b = MockBackend::new(&EngineSettings::deterministic(0)).unwrap();
    let compiled = b
        .compile(
            &torvyn_harness::source::ComponentSource::Fixture(fixture.into()),
            fixture,
        )
        .unwrap_or_else(|e| panic!("compile the model of {fixture}: {e}"));
    b.instantiate(&compiled, id)
        .unwrap_or_else(|e| panic!("instantiate the model of {fixture}: {e}"))
}

/// Checks the leak invariant after a call and returns the value.
#[track_caller]
pub fn ok<T: std::fmt::Debug>(call: Invocation<T>, inst: &impl ComponentInvoker) -> T {
    assert_eq!(
        inst.live_resources(),
        0,
        "host resources leaked by the call"
    );
    match call.outcome {
        Ok(v) => v,
        Err(e) => panic!("expected success, got: {e}"),
    }
}

/// Checks the call returned the guest error `expected`.
#[track_caller]
pub fn guest_err<T: std::fmt::Debug>(
    call: Invocation<T>,
    inst: &impl ComponentInvoker,
    expected: ProcessError,
) {
    assert_eq!(
        inst.live_resources(),
        0,
        "host resources leaked by the call"
    );
    match call.outcome {
        Err(InvokeError::Guest(e)) => assert_eq!(e, expected),
        other => panic!("expected guest error {expected:?}, got {other:?}"),
    }
}

/// Checks the call faulted with a kind named `kind` (see
/// `FaultKind::name`), and returns the fault.
#[track_caller]
pub fn fault<T: std::fmt::Debug>(
    call: Invocation<T>,
    inst: &impl ComponentInvoker,
    kind: &str,
) -> Fault {
    assert_eq!(
        inst.live_resources(),
        0,
        "host resources leaked by the faulted call"
    );
    match call.outcome {
        Err(InvokeError::Fault(f)) => {
            assert_eq!(f.kind.name(), kind, "wrong fault kind: {f}");
            assert_eq!(
                &f.component,
                inst.component_id(),
                "the fault names the component"
            );
            let text = f.to_string();
            assert!(
                text.contains(&format!("component `{}`", f.component))
                    && text.contains(&format!("function `{}`", f.function)),
                "the message names component and function: {text}"
            );
            f
        }
        other => panic!("expected a {kind} fault, got {other:?}"),
    }
}

/// Whether `kind` is the given variant's fault, for matches in tests.
pub fn is_poisoned(kind: &FaultKind) -> bool {
    matches!(kind, FaultKind::Poisoned { .. })
}

/// Checks `call` faulted with `AnswerTooLarge` over `limit` (allowing
/// `allowed`, the answer holding `got`), without poisoning and with nothing
/// left live, and returns its metrics.
#[track_caller]
pub fn too_large<T: std::fmt::Debug>(
    call: Invocation<T>,
    inst: &impl ComponentInvoker,
    limit: AnswerLimit,
    allowed: u64,
    got: u64,
) -> InvocationMetrics {
    let metrics = call.metrics;
    let f = fault(call, inst, "answer-too-large");
    assert_eq!(
        f.kind,
        FaultKind::AnswerTooLarge {
            limit,
            allowed,
            got
        }
    );
    assert!(!f.poisons(), "an answer over a bound does not poison");
    assert!(inst.poisoned().is_none());
    metrics
}

/// Runs `future` to its end on a current-thread tokio runtime (what
/// `#[tokio::test]` does, without tokio's `macros` feature).
pub fn on_tokio<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// Runs the test `helper` (its full path) of this test binary in two child
/// processes at once, with the environment `env`, and asserts that both
/// ran it and passed: how tests check that two processes can share a
/// directory.
pub fn run_twice_at_once(helper: &str, env: &[(&str, &std::ffi::OsStr)]) {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([helper, "--exact", "--test-threads=1"])
                .envs(env.iter().copied())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("1 passed"), "the helper ran: {stdout}");
    }
}
