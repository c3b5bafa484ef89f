//! Mock models of the benign WAT fixtures (`passthrough`, `uppercase`,
//! `filter`, `counter-source`, `sink`), host call for host call.
//!
//! Hot path of the mock. The differential tests run each model against its
//! fixture on the same inputs: outputs, errors, copies, allocations and host
//! calls must match (fuel and time are modelled, so they differ). They are
//! also ready-made components for a host's own tests.

use super::model::{MockComponent, MockCtx, MockModel, MockResult, ModelElement};
use crate::types::{BackpressureSignal, ElementMeta, ProcessError, ProcessResult, Role};

const NO_COUNT: &str = "config needs a count, e.g. {\"count\": 5}";

/// The first run of ASCII digits in `config`, as the fixtures read it
/// (wrapping on overflow, like the guest's `i64.mul`).
fn first_number(config: &str) -> Option<u64> {
    let digits: String = config
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then(|| {
        digits.bytes().fold(0u64, |n, d| {
            n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
        })
    })
}

fn internal(what: &str) -> ProcessError {
    ProcessError::Internal(format!("{what} failed"))
}

struct Passthrough;

impl MockModel for Passthrough {
    fn process(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<ProcessResult> {
        passthrough(ctx, input)
    }
}

fn passthrough(ctx: &mut MockCtx<'_>, input: &ModelElement) -> MockResult<ProcessResult> {
    let m = ctx
        .clone_payload()
        .map_err(|_| internal("clone-into-mutable"))?;
    let b = ctx.freeze(m)?;
    ctx.drop_mutable(m);
    Ok(ProcessResult::Emit(ctx.output(input.meta.clone(), b)?))
}

/// `passthrough`: emits the input unchanged (clone-into-mutable, freeze).
pub fn passthrough_component() -> MockComponent {
    MockComponent::new("passthrough", [Role::Processor], || Passthrough)
}

struct Uppercase;

impl MockModel for Uppercase {
    fn process(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<ProcessResult> {
        let mut bytes = ctx.read_payload()?;
        bytes.make_ascii_uppercase();
        let m = ctx
            .allocate(bytes.len() as u64)
            .map_err(|_| internal("allocate"))?;
        if ctx.append(m, &bytes).is_err() {
            ctx.drop_mutable(m);
            return Err(internal("append").into());
        }
        ctx.set_content_type(m, &input.meta.content_type)?;
        let b = ctx.freeze(m)?;
        ctx.drop_mutable(m);
        Ok(ProcessResult::Emit(ctx.output(input.meta.clone(), b)?))
    }
}

/// `uppercase`: reads the payload, upper-cases ASCII letters, allocates,
/// appends, freezes and emits.
pub fn uppercase_component() -> MockComponent {
    MockComponent::new("uppercase", [Role::Processor], || Uppercase)
}

struct Filter;

impl MockModel for Filter {
    fn process(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<ProcessResult> {
        if !input.meta.sequence.is_multiple_of(2) {
            return Ok(ProcessResult::Drop);
        }
        passthrough(ctx, input)
    }
}

/// `filter`: drops odd sequence numbers, passes the rest through.
pub fn filter_component() -> MockComponent {
    MockComponent::new("filter", [Role::Processor], || Filter)
}

struct CounterSource {
    count: u64,
    next: u64,
    paused: bool,
}

impl MockModel for CounterSource {
    fn init(&mut self, _ctx: &mut MockCtx<'_>, config: &str) -> MockResult<()> {
        // "" is the runtime's "no config": keep the default, as the fixture.
        if config.is_empty() {
            return Ok(());
        }
        self.count = first_number(config).ok_or(ProcessError::InvalidInput(NO_COUNT.into()))?;
        Ok(())
    }

    fn pull(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Option<crate::OutputElement>> {
        if self.paused {
            return Err(ProcessError::Unavailable("paused".into()).into());
        }
        if self.next >= self.count {
            return Ok(None);
        }
        let text = self.next.to_string();
        let m = ctx
            .allocate(text.len() as u64)
            .map_err(|_| internal("allocate"))?;
        if ctx.append(m, text.as_bytes()).is_err() {
            ctx.drop_mutable(m);
            return Err(internal("append").into());
        }
        ctx.set_content_type(m, "text/plain")?;
        let b = ctx.freeze(m)?;
        ctx.drop_mutable(m);
        let out = ctx.output(ElementMeta::new(self.next, "text/plain"), b)?;
        self.next += 1;
        Ok(Some(out))
    }

    fn notify_backpressure(
        &mut self,
        _ctx: &mut MockCtx<'_>,
        signal: BackpressureSignal,
    ) -> MockResult<()> {
        self.paused = signal == BackpressureSignal::Pause;
        Ok(())
    }
}

/// `counter-source`: produces "0", "1", ... up to the count in its init
/// config (3 without init); pauses on backpressure.
pub fn counter_source_component() -> MockComponent {
    MockComponent::new("counter-source", [Role::Source, Role::Lifecycle], || {
        CounterSource {
            count: 3,
            next: 0,
            paused: false,
        }
    })
}

struct Sink {
    every: u64,
    count: u64,
    bytes: u64,
    completed: bool,
}

impl MockModel for Sink {
    fn init(&mut self, _ctx: &mut MockCtx<'_>, config: &str) -> MockResult<()> {
        if config.is_empty() {
            return Ok(());
        }
        match first_number(config) {
            None => Err(ProcessError::InvalidInput(NO_COUNT.into()).into()),
            Some(0) => Err(ProcessError::InvalidInput("count must be at least 1".into()).into()),
            Some(n) => {
                self.every = n;
                Ok(())
            }
        }
    }

    fn push(
        &mut self,
        ctx: &mut MockCtx<'_>,
        _input: &ModelElement,
    ) -> MockResult<BackpressureSignal> {
        self.bytes += ctx.read_payload()?.len() as u64;
        self.count += 1;
        if self.completed {
            return Err(ProcessError::Fatal("push after complete".into()).into());
        }
        Ok(if self.count.is_multiple_of(self.every) {
            BackpressureSignal::Pause
        } else {
            BackpressureSignal::Ready
        })
    }

    fn complete(&mut self, _ctx: &mut MockCtx<'_>) -> MockResult<()> {
        self.completed = true;
        Ok(())
    }
}

/// `sink`: reads every payload, asks for a pause every Nth push (N from its
/// init config, 3 without init), refuses pushes after `complete`.
pub fn sink_component() -> MockComponent {
    MockComponent::new("sink", [Role::Sink, Role::Lifecycle], || Sink {
        every: 3,
        count: 0,
        bytes: 0,
        completed: false,
    })
}

/// The names of the fixtures [`all`] models, in its order.
pub const NAMES: [&str; 5] = [
    "passthrough",
    "uppercase",
    "filter",
    "counter-source",
    "sink",
];

/// Every model above.
pub fn all() -> Vec<MockComponent> {
    vec![
        passthrough_component(),
        uppercase_component(),
        filter_component(),
        counter_source_component(),
        sink_component(),
    ]
}

#[cfg(test)]
mod tests {
    use super::first_number;

    #[test]
    fn names_list_every_model() {
        let names: Vec<String> = super::all().iter().map(|c| c.name().to_owned()).collect();
        assert_eq!(names, super::NAMES);
    }

    #[test]
    fn numbers_are_read_like_the_fixtures_read_them() {
        assert_eq!(first_number(r#"{"count": 12}"#), Some(12));
        assert_eq!(first_number("a7b8"), Some(7));
        assert_eq!(first_number("{}"), None);
        assert_eq!(first_number("18446744073709551615"), Some(u64::MAX));
    }
}
