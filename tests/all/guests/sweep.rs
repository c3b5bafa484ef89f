//! The host-call sweep on the Python and JavaScript guests: every host call
//! fails in turn; the buffer errors are handled, or named when not.

use super::*;

/// A host-call sweep of the guest `name`, as `torvyn-sim run NAME.wasm
/// --input - --fail-host-call all` runs it on "hello" and "World", with
/// `require_handled`.
fn sweep_guest(path: &Path, name: &str, require_handled: bool) -> torvyn_harness::faults::Sweep {
    let mut s = torvyn_harness::scenario::Scenario::new(name, path.display().to_string());
    s.inputs = ["hello", "World"]
        .into_iter()
        .map(torvyn_harness::scenario::InputElement::text)
        .collect();
    s.fail_host_call = Some("all".parse().unwrap());
    s.require_handled = require_handled;
    // componentize-js's defaults import wasi:http, as torvyn-sim allows.
    s.stub_unknown_imports = true;
    let settings = EngineSettings {
        cache_dir: Some(guests_dir().join("compiled")),
        ..torvyn_harness::scenario::scenario_settings(&s)
    };
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    torvyn_harness::faults::sweep(BackendKind::Wasmtime, &s, &settings, None)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The sweep's cases on the contract's errors (the answers a guest may
/// handle), as (host function, how the guest took it, the call's outcome).
fn contract_error_cases(
    sweep: &torvyn_harness::faults::Sweep,
) -> Vec<(
    &str,
    Option<torvyn_harness::faults::Handling>,
    Option<&Outcome>,
)> {
    sweep
        .cases
        .iter()
        .filter(|c| c.answer.as_deref() != Some("trap"))
        .map(|c| {
            (
                c.function.as_deref().unwrap_or_default(),
                c.handling,
                c.outcome.as_ref(),
            )
        })
        .collect()
}

/// Asserts that the sweep failed exactly `functions`' contract errors, in
/// order, and that the guest handled each: `allocate`'s with an
/// `unavailable` whose message starts with `allocate`, `append`'s with an
/// `internal` whose message starts with `append`.
fn assert_buffer_errors_handled(
    sweep: &torvyn_harness::faults::Sweep,
    functions: &[&str],
    allocate: &str,
    append: &str,
) {
    use torvyn_harness::faults::Handling;
    let handled = contract_error_cases(sweep);
    let failed: Vec<&str> = handled.iter().map(|(f, _, _)| *f).collect();
    assert_eq!(failed, functions, "{}", sweep.render_text());
    for (function, handling, outcome) in handled {
        assert_eq!(handling, Some(Handling::Handled), "{function}");
        let (kind, message) = process_error(outcome);
        let (want_kind, want_message) = if function == "buffer-allocator.allocate" {
            ("unavailable", allocate)
        } else {
            ("internal", append)
        };
        assert_eq!(kind, want_kind, "{function}");
        assert!(message.starts_with(want_message), "{function}: {message}");
    }
}

/// The `process-error` kind and message of an outcome.
fn process_error(outcome: Option<&Outcome>) -> (&str, &str) {
    match outcome {
        Some(Outcome::ProcessError { kind, message }) => {
            (kind.as_str(), message.as_deref().unwrap_or_default())
        }
        other => panic!("not a process-error: {other:?}"),
    }
}

/// The host-call sweep on components built by real toolchains: every host
/// call the CPython guest makes fails in turn, and each case ends cleanly
/// (nothing leaked, the engine still serves). `app.py` catches the
/// `componentize_py_types.Err` that `allocate` and `append` raise and
/// answers `unavailable` and `internal`: it handles every failure the
/// contract lets it handle, so the sweep passes with `require_handled`.
#[test]
fn every_host_call_of_the_python_guest_can_fail_and_it_handles_the_buffer_errors() {
    let Some([upper]) = guests(["py-uppercase"]) else {
        return;
    };
    let sweep = sweep_guest(&upper, "py-uppercase", true);
    assert!(sweep.clean, "{}", sweep.render_text());
    assert!(sweep.host_calls >= 8, "{}", sweep.render_text());
    let answers: std::collections::BTreeSet<_> = sweep
        .cases
        .iter()
        .filter_map(|c| c.answer.clone())
        .collect();
    assert_eq!(
        answers,
        ["allocation-failed", "capacity-exceeded", "trap"]
            .map(String::from)
            .into(),
        "{}",
        sweep.render_text()
    );
    assert_buffer_errors_handled(
        &sweep,
        &[
            "buffer-allocator.allocate",
            "mutable-buffer.append",
            "buffer-allocator.allocate",
            "mutable-buffer.append",
        ],
        "allocate: BufferError_AllocationFailed(",
        "append: BufferError_CapacityExceeded(",
    );
    assert!(
        sweep
            .render_text()
            .contains("the guest handled 4 of 4 failures the contract lets it handle"),
        "{}",
        sweep.render_text()
    );
}

/// `py-unhandled` is `py-uppercase` without its `try`s: the exception
/// `allocate`'s and `append`'s errors raise is not caught, so the call
/// traps (componentize-py cannot lower a `BufferError` as the function's
/// `process-error`), and the instance is poisoned. Every case still ends
/// cleanly; with `require_handled` those four cases fail the sweep, each
/// saying why.
#[test]
fn a_python_guest_that_does_not_catch_a_buffer_error_traps_and_require_handled_names_it() {
    let Some([unhandled]) = guests(["py-unhandled"]) else {
        return;
    };
    let sweep = sweep_guest(&unhandled, "py-unhandled", false);
    assert!(sweep.clean, "{}", sweep.render_text());
    let trapped: Vec<&str> = sweep
        .cases
        .iter()
        .filter(|c| c.trapped())
        .filter_map(|c| c.function.as_deref())
        .collect();
    assert_eq!(
        trapped,
        [
            "buffer-allocator.allocate",
            "mutable-buffer.append",
            "buffer-allocator.allocate",
            "mutable-buffer.append"
        ],
        "{}",
        sweep.render_text()
    );
    assert!(
        !sweep
            .cases
            .iter()
            .any(|c| c.handling == Some(torvyn_harness::faults::Handling::Handled)),
        "{}",
        sweep.render_text()
    );
    // A trap on the first call poisons the instance: the second call fails.
    let first = sweep
        .cases
        .iter()
        .find(|c| c.trapped())
        .expect("a trapped case");
    assert_eq!(first.later_failures, 1, "{first:?}");

    let required = sweep_guest(&unhandled, "py-unhandled", true);
    assert!(!required.clean, "{}", required.render_text());
    for c in &required.cases {
        assert_eq!(c.clean(), !c.trapped(), "{c:?}");
    }
    let text = required.render_text();
    assert!(
        text.contains("trapped on allocation-failed, which the guest may handle"),
        "{text}"
    );
    assert!(
        text.contains("`buffer-allocator.allocate` (allocation-failed; host calls 1, 7)"),
        "{text}"
    );
}

/// The JavaScript guest catches what `allocate` and `append` throw (an
/// error whose `payload` is the contract's `buffer-error`) and throws
/// `{tag: 'unavailable' | 'internal', val}` instead: every failure the
/// contract lets it handle is handled, and the sweep passes with
/// `require_handled`.
#[test]
fn every_host_call_of_the_javascript_guest_can_fail_and_it_handles_the_buffer_errors() {
    let Some([exclaim]) = guests(["js-exclaim"]) else {
        return;
    };
    let sweep = sweep_guest(&exclaim, "js-exclaim", true);
    assert!(sweep.clean, "{}", sweep.render_text());
    // Per element: allocate, then two appends (the payload, then "!").
    assert_buffer_errors_handled(
        &sweep,
        &[
            "buffer-allocator.allocate",
            "mutable-buffer.append",
            "mutable-buffer.append",
            "buffer-allocator.allocate",
            "mutable-buffer.append",
            "mutable-buffer.append",
        ],
        r#"allocate: {"tag":"allocation-failed","val":"#,
        r#"append: {"tag":"capacity-exceeded"}"#,
    );
}
