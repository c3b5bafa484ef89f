//! Every benign fixture through its role(s), results checked byte for byte,
//! under Cranelift and Winch, with the leak invariant after every call.

use torvyn_engine::{
    BackpressureSignal, ComponentInvoker, FlowContext, ProcessError, ProcessResult, Role,
    StreamElement, World,
};

use crate::support::{STRATEGIES, compiled, fault, guest_err, instance, ok};

fn emitted(result: ProcessResult) -> torvyn_engine::OutputElement {
    match result {
        ProcessResult::Emit(out) => out,
        ProcessResult::Drop => panic!("expected an emitted element, got a drop"),
    }
}

#[test]
fn passthrough_emits_the_same_bytes_without_copying_them() {
    for s in STRATEGIES {
        let mut p = instance(s, "passthrough");
        assert_eq!(p.roles().iter().collect::<Vec<_>>(), [Role::Processor]);
        let input = StreamElement::new(41, &b"{\"a\":1}"[..], "application/json")
            .with_context(FlowContext::new("flow-1").with_trace("0".repeat(32), "1".repeat(16)));
        let payload = input.payload.clone();
        let call = p.process_sync(input);
        let m = call.metrics;
        let out = emitted(ok(call, &p));
        assert_eq!(&out.payload[..], b"{\"a\":1}", "{s:?}");
        assert_eq!(out.meta.sequence, 41);
        assert_eq!(out.meta.content_type, "application/json");
        assert_eq!(out.buffer_content_type, "application/json");
        // clone-into-mutable + freeze shares the input's bytes.
        assert_eq!(out.payload.as_ptr(), payload.as_ptr(), "payload was copied");
        assert_eq!(m.bytes_into_guest, 0);
        assert_eq!(m.bytes_out_of_guest, 0);
        assert_eq!(m.buffers_allocated, 1);
        assert_eq!(m.resources_reclaimed, 0);
        assert!(m.fuel_consumed > 0 && m.memory_bytes >= 65536, "{m:?}");
    }
}

/// Content types are lowered from a string the invoker keeps between calls
/// and shared with the input when the guest returns the same one: each
/// output still carries its own input's, whatever came before (longer,
/// shorter, empty, past the length the invoker keeps).
#[test]
fn each_call_returns_its_own_content_type() {
    let long = format!("application/x-{}", "z".repeat(2000));
    for s in STRATEGIES {
        let mut p = instance(s, "passthrough");
        let mut u = instance(s, "uppercase");
        for ct in [
            "application/json",
            "x/y",
            "",
            long.as_str(),
            "text/plain",
            "x/y",
        ] {
            let out = emitted(ok(p.process_sync(StreamElement::new(0, "a", ct)), &p));
            assert_eq!(out.meta.content_type, ct, "{s:?}");
            assert_eq!(out.buffer_content_type, ct, "{s:?}");
            let out = emitted(ok(u.process_sync(StreamElement::new(0, "a", ct)), &u));
            assert_eq!(out.meta.content_type, ct, "{s:?}");
            assert_eq!(out.buffer_content_type, ct, "{s:?}");
        }
    }
}

#[test]
fn uppercase_reads_allocates_appends_and_freezes() {
    for s in STRATEGIES {
        let mut u = instance(s, "uppercase");
        for (seq, text) in [(0u64, "hello, World!"), (1, ""), (2, "ÀB-cd_é")] {
            let call = u.process_sync(StreamElement::new(
                seq,
                text.as_bytes().to_vec(),
                "text/plain",
            ));
            let m = call.metrics;
            let out = emitted(ok(call, &u));
            let expected: Vec<u8> = text.bytes().map(|b| b.to_ascii_uppercase()).collect();
            assert_eq!(out.payload[..], expected[..], "{s:?} {text:?}");
            assert_eq!(out.meta.sequence, seq);
            assert_eq!(out.buffer_content_type, "text/plain");
            assert_eq!(m.bytes_into_guest, text.len() as u64);
            assert_eq!(m.bytes_out_of_guest, text.len() as u64);
            assert_eq!(m.buffers_allocated, 1);
        }
    }
}

#[test]
fn uppercase_handles_a_large_payload() {
    for s in STRATEGIES {
        let mut u = instance(s, "uppercase");
        let input: Vec<u8> = (0..1_000_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let out = emitted(ok(
            u.process_sync(StreamElement::new(0, input.clone(), "text/plain")),
            &u,
        ));
        assert_eq!(out.payload.len(), input.len());
        assert!(out.payload.iter().all(u8::is_ascii_uppercase));
    }
}

#[test]
fn filter_drops_odd_sequences() {
    for s in STRATEGIES {
        let mut f = instance(s, "filter");
        for seq in 0..6u64 {
            let payload = format!("element {seq}");
            let result = ok(
                f.process_sync(StreamElement::new(seq, payload.clone(), "text/plain")),
                &f,
            );
            if seq % 2 == 1 {
                assert_eq!(result, ProcessResult::Drop, "{s:?} seq {seq}");
            } else {
                assert_eq!(&emitted(result).payload[..], payload.as_bytes());
            }
        }
    }
}

fn pull_text(src: &mut torvyn_engine::wasmtime::WasmtimeInvoker) -> Option<String> {
    let call = src.pull_sync();
    ok(call, src).map(|out| {
        assert_eq!(out.meta.content_type, "text/plain");
        String::from_utf8(out.payload.to_vec()).unwrap()
    })
}

#[test]
fn counter_source_emits_its_count_then_none() {
    for s in STRATEGIES {
        let mut src = instance(s, "counter-source");
        assert_eq!(
            src.roles().iter().collect::<Vec<_>>(),
            [Role::Source, Role::Lifecycle]
        );
        ok(src.init_sync(r#"{"count": 12}"#), &src);
        let got: Vec<String> = std::iter::from_fn(|| pull_text(&mut src)).collect();
        let want: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        assert_eq!(got, want, "{s:?}");
        assert_eq!(pull_text(&mut src), None, "stays exhausted");
    }
}

#[test]
fn counter_source_defaults_to_three_and_rejects_bad_config() {
    for s in STRATEGIES {
        let mut src = instance(s, "counter-source");
        assert_eq!(std::iter::from_fn(|| pull_text(&mut src)).count(), 3);

        let mut bad = instance(s, "counter-source");
        let call = bad.init_sync("{}");
        match call.guest_error() {
            Some(ProcessError::InvalidInput(m)) => assert!(m.contains("count"), "{m}"),
            other => panic!("expected invalid-input, got {other:?}"),
        }
    }
}

#[test]
fn counter_source_honours_backpressure() {
    for s in STRATEGIES {
        let mut src = instance(s, "counter-source");
        ok(src.init_sync(r#"{"count": 4}"#), &src);
        assert_eq!(pull_text(&mut src).as_deref(), Some("0"));
        ok(
            src.notify_backpressure_sync(BackpressureSignal::Pause),
            &src,
        );
        guest_err(
            src.pull_sync(),
            &src,
            ProcessError::Unavailable("paused".into()),
        );
        ok(
            src.notify_backpressure_sync(BackpressureSignal::Ready),
            &src,
        );
        assert_eq!(pull_text(&mut src).as_deref(), Some("1"));
    }
}

#[test]
fn sink_pauses_every_nth_push_and_completes() {
    for s in STRATEGIES {
        let mut sink = instance(s, "sink");
        ok(sink.init_sync(r#"{"pause_every": 3}"#), &sink);
        let mut signals = Vec::new();
        for seq in 0..7u64 {
            let call = sink.push_sync(StreamElement::new(seq, vec![b'x'; 10], "text/plain"));
            assert_eq!(
                call.metrics.bytes_into_guest, 10,
                "the sink reads the payload"
            );
            signals.push(ok(call, &sink));
        }
        use BackpressureSignal::{Pause, Ready};
        assert_eq!(
            signals,
            [Ready, Ready, Pause, Ready, Ready, Pause, Ready],
            "{s:?}"
        );
        ok(sink.complete_sync(), &sink);
        let after = sink.push_sync(StreamElement::new(7, "late", "text/plain"));
        guest_err(
            after,
            &sink,
            ProcessError::Fatal("push after complete".into()),
        );
        assert!(
            ComponentInvoker::poisoned(&sink).is_none(),
            "a guest error does not poison"
        );
    }
}

#[test]
fn sink_rejects_a_zero_period() {
    for s in STRATEGIES {
        let mut sink = instance(s, "sink");
        let call = sink.init_sync(r#"{"pause_every": 0}"#);
        assert!(
            matches!(call.guest_error(), Some(ProcessError::InvalidInput(_))),
            "{:?}",
            call.outcome
        );
    }
}

#[test]
fn lifecycle_validates_its_config_and_gates_processing() {
    for s in STRATEGIES {
        let mut l = instance(s, "lifecycle");
        let el = || StreamElement::new(0, "payload", "text/plain");
        guest_err(
            l.process_sync(el()),
            &l,
            ProcessError::Unavailable("not initialized".into()),
        );
        guest_err(
            l.init_sync("not json"),
            &l,
            ProcessError::InvalidInput("config is not a JSON object".into()),
        );
        ok(l.init_sync("  {\"k\": [1, 2]}\n"), &l);
        guest_err(
            l.init_sync("{}"),
            &l,
            ProcessError::InvalidInput("init called twice".into()),
        );
        assert_eq!(
            &emitted(ok(l.process_sync(el()), &l)).payload[..],
            b"payload"
        );
        ok(l.teardown_sync(), &l);
    }
}

#[test]
fn init_and_teardown_without_lifecycle() {
    for s in STRATEGIES {
        let mut p = instance(s, "passthrough");
        ok(p.init_sync(""), &p);
        ok(p.teardown_sync(), &p);
        let f = fault(p.init_sync("{\"x\":1}"), &p, "missing-export");
        assert!(
            f.to_string().contains("torvyn:streaming/lifecycle@0.1.0"),
            "{f}"
        );
    }
}

#[test]
fn wasi_guest_gets_captured_stdout_engine_clock_and_randomness() {
    for s in STRATEGIES {
        let mut w = instance(s, "wasi-hello");
        ok(w.init_sync("{}"), &w);
        let out = emitted(ok(
            w.process_sync(StreamElement::new(5, "hi there", "text/plain")),
            &w,
        ));
        assert_eq!(out.payload.len(), 16);
        assert_eq!(out.meta.sequence, 5);
        let secs = u64::from_le_bytes(out.payload[..8].try_into().unwrap());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(secs.abs_diff(now) < 600, "wall clock {secs} vs {now}");
        let stdout = w.take_stdout();
        assert_eq!(stdout.bytes, b"hi there\n");
        assert_eq!(stdout.discarded, 0);
        assert!(w.take_stdout().bytes.is_empty(), "take empties the capture");
    }
}

#[test]
fn a_component_in_text_format_runs() {
    for s in STRATEGIES {
        let mut c = instance(s, "component-text");
        assert!(c.roles().contains(Role::Source));
        assert_eq!(ok(c.pull_sync(), &c), None);
    }
}

#[test]
fn compiled_components_report_their_worlds() {
    use torvyn_engine::CompilationStrategy::Cranelift;
    let worlds = |f| compiled(Cranelift, f).worlds().to_vec();
    assert_eq!(worlds("passthrough"), [World::Transform]);
    assert_eq!(
        worlds("lifecycle"),
        [World::Transform, World::ManagedTransform]
    );
    assert_eq!(worlds("counter-source"), [World::DataSource]);
    assert_eq!(worlds("sink"), [World::DataSink]);
}

#[test]
fn the_async_trait_runs_the_same_calls() {
    crate::support::on_tokio(async {
        for s in STRATEGIES {
            let mut u = instance(s, "uppercase");
            let call = u
                .process(StreamElement::new(3, "async", "text/plain"))
                .await;
            assert_eq!(&emitted(ok(call, &u)).payload[..], b"ASYNC");
            let mut sink = instance(s, "sink");
            assert_eq!(
                ok(
                    sink.push(StreamElement::new(0, "x", "text/plain")).await,
                    &sink
                ),
                BackpressureSignal::Ready
            );
            ok(sink.complete().await, &sink);
            ok(sink.teardown().await, &sink);
        }
    });
}
