//! The journal and expectations.

use super::*;

#[test]
fn the_journal_records_queries_bounds_and_resets() {
    let engine = MockEngine::new(MockEngineConfig {
        journal: JournalMode::Bounded(3),
        ..MockEngineConfig::default()
    })
    .unwrap();
    engine.register(torvyn_engine::mock::models::filter_component());
    let c = engine
        .compile(&MockEngine::component_bytes("filter"))
        .unwrap();
    let mut f = engine.instantiate(&c, ComponentId::new("f")).unwrap();
    for n in 0..5 {
        let _ = f.process_sync(el(n));
    }
    let journal = engine.journal();
    assert_eq!(journal.recorded(), 5);
    let kept = journal.entries();
    assert_eq!(kept.iter().map(|e| e.index).collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(kept[1].outcome, Outcome::Answer(Answer::Drop));
    assert!(matches!(
        kept[0].outcome,
        Outcome::Answer(Answer::Emit(PayloadDigest { len: 9, .. }))
    ));
    assert_eq!(kept[0].meta.as_ref().unwrap().sequence, 2);
    assert_eq!(journal.calls(Function::Process).len(), 3);
    journal.reset();
    assert!(journal.entries().is_empty());

    let off = MockEngine::new(MockEngineConfig {
        journal: JournalMode::Off,
        ..MockEngineConfig::default()
    })
    .unwrap();
    off.register(torvyn_engine::mock::models::filter_component());
    let c = off.compile(&MockEngine::component_bytes("filter")).unwrap();
    let mut f = off.instantiate(&c, ComponentId::new("f")).unwrap();
    let _ = f.process_sync(el(0));
    assert_eq!(off.journal().recorded(), 0);
}

#[test]
fn expectations_report_a_readable_diff() {
    let engine = MockEngine::new(MockEngineConfig::default()).unwrap();
    engine.register(torvyn_engine::mock::models::passthrough_component());
    let c = engine
        .compile(&MockEngine::component_bytes("passthrough"))
        .unwrap();
    let mut p = engine.instantiate(&c, ComponentId::new("p")).unwrap();
    let _ = p.process_sync(el(0));
    let _ = p.teardown_sync();
    let _ = p.process_sync(el(1));
    let journal = engine.journal();
    journal
        .verify(
            &Expectations::new()
                .calls("p", Function::Process, 2)
                .payload("p", Function::Process, 1, "payload 1")
                .in_order([("p", Function::Process), ("p", Function::Process)]),
        )
        .unwrap();
    let err = journal
        .verify(
            &Expectations::new()
                .calls("p", Function::Process, 3)
                .payload("p", Function::Process, 0, "other")
                .in_order([("p", Function::Process), ("p", Function::Pull)]),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("3 expectation(s) failed:"), "{text}");
    assert!(
        text.contains("expected 3 call(s) to p.process, saw 2"),
        "{text}"
    );
    assert!(text.contains("expected a payload of 5 bytes"), "{text}");
    assert!(text.contains("  - p.pull\n  + p.process"), "{text}");
}

#[test]
fn a_lifecycle_call_with_nothing_to_do_is_journaled_too() {
    let engine = MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap();
    // `uppercase` has no lifecycle role: `init("")` and `teardown` succeed
    // without reaching it, and are journaled like every call.
    let mut u = instance_of(&engine, "uppercase", "u");
    assert!(u.init_sync("").is_ok());
    let _ = u.process_sync(el(0));
    assert!(u.teardown_sync().is_ok());
    let entries = engine.journal().entries();
    let calls: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e.component.as_str().to_owned(),
                e.function,
                e.outcome.clone(),
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            (
                "u".to_owned(),
                Function::Init,
                Outcome::Answer(Answer::Done)
            ),
            ("u".to_owned(), Function::Process, calls[1].2.clone()),
            (
                "u".to_owned(),
                Function::Teardown,
                Outcome::Answer(Answer::Done)
            ),
        ]
    );
    assert!(
        matches!(calls[1].2, Outcome::Answer(Answer::Emit(_))),
        "{calls:?}"
    );
    assert_eq!(entries[0].fuel, 0, "nothing ran");
}

#[test]
fn the_journal_keeps_outputs_on_request_and_names_kinds_by_enum() {
    let engine = MockEngine::with_models(
        MockEngineConfig {
            journal: JournalMode::WithOutputs(None),
            ..MockEngineConfig::default()
        },
        Clock::system(),
    )
    .unwrap();
    let mut p = instance_of(&engine, "passthrough", "p");
    let input = el(0);
    let ptr = input.payload.as_ptr();
    let _ = p.process_sync(input);
    let mut src = instance_of(&engine, "counter-source", "src");
    let _ = src.notify_backpressure_sync(BackpressureSignal::Pause);
    let _ = src.pull_sync();
    let mut t = scripted_on(&engine, Response::Trap);
    let _ = t.process_sync(el(1));
    let _ = t.process_sync(el(2));
    let entries = engine.journal().entries();
    let output = entries[0]
        .output
        .as_ref()
        .expect("the emitted payload is kept");
    assert_eq!(&output[..], b"payload 0");
    assert_eq!(output.as_ptr(), ptr, "kept without a copy");
    let kinds: Vec<String> = entries[2..]
        .iter()
        .map(|e| match &e.outcome {
            Outcome::Error { kind, .. } => format!("error {kind}"),
            Outcome::Fault { kind, .. } => format!("fault {kind}"),
            Outcome::Answer(a) => a.variant().to_string(),
        })
        .collect();
    assert_eq!(kinds, ["error unavailable", "fault trap", "fault poisoned"]);
    assert!(
        matches!(
            &entries[2].outcome,
            Outcome::Error {
                kind: ProcessErrorName::Unavailable,
                message: Some(_)
            }
        ),
        "{:?}",
        entries[2].outcome
    );
    assert_eq!(FaultName::Poisoned.name(), "poisoned");
    assert!(entries[1..].iter().all(|e| e.output.is_none()));

    // By default nothing is kept.
    let engine = MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap();
    let mut p = instance_of(&engine, "passthrough", "p");
    let _ = p.process_sync(el(0));
    assert_eq!(engine.journal().entries()[0].output, None);
}

#[test]
fn expectations_name_instances_not_components() {
    let engine = MockEngine::with_models(MockEngineConfig::default(), Clock::system()).unwrap();
    let mut a = instance_of(&engine, "passthrough", "a");
    let mut b = instance_of(&engine, "passthrough", "b");
    let _ = a.process_sync(el(0));
    let _ = a.process_sync(el(1));
    let _ = b.process_sync(el(2));
    let journal = engine.journal();
    journal
        .verify(&Expectations::new().calls("a", Function::Process, 2).calls(
            "b",
            Function::Process,
            1,
        ))
        .unwrap();
    let err = journal
        .verify(&Expectations::new().calls("passthrough", Function::Process, 3))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("expected 3 call(s) to passthrough.process, saw 0"),
        "{err}"
    );
}
