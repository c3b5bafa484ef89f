//! Mock models of the benign WAT fixtures, host call for host call: the
//! streaming ones (`passthrough`, `uppercase`, `filter`, `counter-source`,
//! `sink`), the token-streaming example's (`token-source`, `token-filter`,
//! `sentence-aggregator`) and the other extension fixtures
//! (`content-filter`, `router`, `capability-probe`), and `scribble`, which
//! plays every role.
//!
//! Hot path of the mock. The differential tests run each model against its
//! fixture on the same inputs: outputs, errors, copies, allocations and host
//! calls must match (fuel and time are modelled, so they differ). They are
//! also ready-made components for a host's own tests.

use super::model::{
    Buf, MockComponent, MockCtx, MockModel, MockResult, ModelElement, PendingOutput,
};
use crate::types::{
    BackpressureSignal, ContentType, ElementMeta, OutputElement, ProcessError, ProcessResult, Role,
};

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

const TEXT_PLAIN: ContentType = ContentType::from_static("text/plain");

/// A frozen `text/plain` buffer holding `bytes`, as the fixtures build one:
/// allocate(len), append, set-content-type, freeze, drop the mutable handle
/// (allocate and append failures are `internal` errors).
fn text_buffer(ctx: &mut MockCtx<'_>, bytes: &[u8]) -> MockResult<Buf> {
    let m = ctx
        .allocate(bytes.len() as u64)
        .map_err(|_| internal("allocate"))?;
    if ctx.append(m, bytes).is_err() {
        ctx.drop_mutable(m);
        return Err(internal("append").into());
    }
    ctx.set_content_type(m, &TEXT_PLAIN)?;
    let b = ctx.freeze(m)?;
    ctx.drop_mutable(m);
    Ok(b)
}

/// The token text of `token-source`, split at single spaces.
const TOKENS: &str = "the quick fox jumps. is it darn late? oh darn well see you";

struct TokenSource {
    next: usize,
}

impl MockModel for TokenSource {
    fn init(&mut self, _ctx: &mut MockCtx<'_>, config: &str) -> MockResult<()> {
        if config.is_empty() {
            return Ok(());
        }
        Err(ProcessError::InvalidInput("token-source takes no config".into()).into())
    }

    fn pull(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Option<OutputElement>> {
        let Some(token) = TOKENS.split(' ').nth(self.next) else {
            return Ok(None);
        };
        let b = text_buffer(ctx, token.as_bytes())?;
        let out = ctx.output(ElementMeta::new(self.next as u64, TEXT_PLAIN), b)?;
        self.next += 1;
        Ok(Some(out))
    }
}

/// `token-source`: the token-streaming example's source; 13 word tokens
/// (text/plain, sequence i) that make three sentences once the two holding
/// "darn" are filtered out. Takes no config; ignores backpressure.
pub fn token_source_component() -> MockComponent {
    MockComponent::new("token-source", [Role::Source, Role::Lifecycle], || {
        TokenSource { next: 0 }
    })
}

struct TokenFilter;

impl MockModel for TokenFilter {
    fn evaluate(&mut self, ctx: &mut MockCtx<'_>, _input: &ModelElement) -> MockResult<bool> {
        let bytes = ctx.read_payload()?;
        Ok(!bytes.windows(4).any(|w| w == b"darn"))
    }
}

/// `token-filter`: reads each token, drops those containing "darn".
pub fn token_filter_component() -> MockComponent {
    MockComponent::new("token-filter", [Role::Filter, Role::Lifecycle], || {
        TokenFilter
    })
}

/// The size of `sentence-aggregator`'s sentence buffer in guest memory.
const SENTENCE_CAPACITY: usize = 4096;

struct SentenceAggregator {
    sentence: Vec<u8>,
    emitted: u64,
}

impl SentenceAggregator {
    /// The buffered sentence as the next element, the buffer emptied; on
    /// a failure the sentence stays buffered.
    fn take(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<PendingOutput> {
        let buf = text_buffer(ctx, &self.sentence)?;
        let meta = ElementMeta::new(self.emitted, TEXT_PLAIN);
        self.sentence.clear();
        self.emitted += 1;
        Ok(PendingOutput { meta, buf })
    }
}

impl MockModel for SentenceAggregator {
    fn ingest(
        &mut self,
        ctx: &mut MockCtx<'_>,
        _input: &ModelElement,
    ) -> MockResult<Option<OutputElement>> {
        let token = ctx.read_payload()?;
        let Some(last) = token.last().copied() else {
            return Ok(None);
        };
        let sep = usize::from(!self.sentence.is_empty());
        if self.sentence.len() + sep + token.len() > SENTENCE_CAPACITY {
            return Err(ProcessError::InvalidInput("sentence too long".into()).into());
        }
        if sep == 1 {
            self.sentence.push(b' ');
        }
        self.sentence.extend_from_slice(&token);
        if !matches!(last, b'.' | b'!' | b'?') {
            return Ok(None);
        }
        let PendingOutput { meta, buf } = self.take(ctx)?;
        Ok(Some(ctx.output(meta, buf)?))
    }

    fn flush(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Vec<PendingOutput>> {
        if self.sentence.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![self.take(ctx)?])
    }
}

/// `sentence-aggregator`: joins tokens with spaces and emits a sentence
/// (text/plain, numbered from 0) when a token ends with `.`, `!` or `?`;
/// `flush` returns the unfinished one. At most 4096 bytes are buffered.
pub fn sentence_aggregator_component() -> MockComponent {
    MockComponent::new(
        "sentence-aggregator",
        [Role::Aggregator, Role::Lifecycle],
        || SentenceAggregator {
            sentence: Vec::new(),
            emitted: 0,
        },
    )
}

struct ContentFilter;

impl MockModel for ContentFilter {
    fn evaluate(&mut self, ctx: &mut MockCtx<'_>, _input: &ModelElement) -> MockResult<bool> {
        Ok(ctx.payload_size()? > 0)
    }
}

/// `content-filter`: passes non-empty payloads (one `buffer.size` call).
pub fn content_filter_component() -> MockComponent {
    MockComponent::new("content-filter", [Role::Filter, Role::Lifecycle], || {
        ContentFilter
    })
}

struct Router;

impl MockModel for Router {
    fn route(&mut self, ctx: &mut MockCtx<'_>, _input: &ModelElement) -> MockResult<Vec<String>> {
        let bytes = ctx.read_payload()?;
        let Some(first) = bytes.first() else {
            return Ok(Vec::new());
        };
        let mut ports = vec![
            if first.is_ascii_digit() {
                "digits"
            } else {
                "words"
            }
            .to_owned(),
        ];
        if bytes.contains(&b'!') {
            ports.push("alerts".to_owned());
        }
        Ok(ports)
    }
}

/// `router`: "digits" for payloads starting with an ASCII digit, else
/// "words", plus "alerts" for payloads holding `!`; empty payloads go
/// nowhere.
pub fn router_component() -> MockComponent {
    MockComponent::new("router", [Role::Router, Role::Lifecycle], || Router)
}

struct CapabilityProbe;

impl MockModel for CapabilityProbe {
    fn process(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<ProcessResult> {
        let name = ctx.read_payload()?;
        let Some(name) = name
            .is_ascii()
            .then(|| String::from_utf8(name).ok())
            .flatten()
        else {
            return Err(ProcessError::InvalidInput("capability name is not ASCII".into()).into());
        };
        let answer = if ctx.has_capability(&name) {
            "granted"
        } else {
            "denied"
        };
        let b = text_buffer(ctx, answer.as_bytes())?;
        let meta = ElementMeta {
            content_type: TEXT_PLAIN,
            ..input.meta.clone()
        };
        Ok(ProcessResult::Emit(ctx.output(meta, b)?))
    }
}

/// `capability-probe`: reads a capability name from the payload and emits
/// "granted" or "denied" (text/plain) as `has-capability` answers.
pub fn capability_probe_component() -> MockComponent {
    MockComponent::new(
        "capability-probe",
        [Role::Processor, Role::Lifecycle],
        || CapabilityProbe,
    )
}

/// The most payloads `scribble`'s aggregator keeps, and their bytes in all.
const SCRIBBLE_KEPT: usize = 32;
const SCRIBBLE_STORE_BYTES: usize = 6912;

/// What `scribble`'s answers show of a payload: its bytes over 0x7f
/// replaced by `?`.
fn ascii(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| if b > 0x7f { '?' } else { char::from(b) })
        .collect()
}

/// `scribble`'s refusal of a payload (or config) starting with `!`.
fn scribble_refuses(bytes: &[u8]) -> MockResult<()> {
    if bytes.first() == Some(&b'!') {
        return Err(ProcessError::InvalidInput(ascii(bytes)).into());
    }
    Ok(())
}

/// A frozen buffer holding `bytes` as `scribble` builds one: allocate,
/// append, freeze, drop the mutable handle; no content type.
fn scribble_buffer(ctx: &mut MockCtx<'_>, bytes: &[u8]) -> MockResult<Buf> {
    let m = ctx
        .allocate(bytes.len() as u64)
        .map_err(|_| internal("allocate"))?;
    if ctx.append(m, bytes).is_err() {
        ctx.drop_mutable(m);
        return Err(internal("append").into());
    }
    let b = ctx.freeze(m)?;
    ctx.drop_mutable(m);
    Ok(b)
}

struct Scribble {
    pulled: u64,
    completed: bool,
    kept: Vec<Vec<u8>>,
}

impl MockModel for Scribble {
    fn init(&mut self, _ctx: &mut MockCtx<'_>, config: &str) -> MockResult<()> {
        scribble_refuses(config.as_bytes())
    }

    fn process(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<ProcessResult> {
        let bytes = ctx.read_payload()?;
        scribble_refuses(&bytes)?;
        let b = scribble_buffer(ctx, &bytes)?;
        let meta = ElementMeta {
            content_type: format!("processed/{}", input.meta.content_type).into(),
            ..input.meta.clone()
        };
        Ok(ProcessResult::Emit(ctx.output(meta, b)?))
    }

    fn pull(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Option<OutputElement>> {
        let k = self.pulled;
        self.pulled += 1;
        match k {
            0 | 1 => {
                let b = scribble_buffer(ctx, format!("pulled-{k}").as_bytes())?;
                Ok(Some(ctx.output(ElementMeta::new(k, "text/pulled"), b)?))
            }
            2 => Ok(None),
            _ => Err(ProcessError::Unavailable("pulled past the end".into()).into()),
        }
    }

    fn push(
        &mut self,
        ctx: &mut MockCtx<'_>,
        _input: &ModelElement,
    ) -> MockResult<BackpressureSignal> {
        scribble_refuses(&ctx.read_payload()?)?;
        Ok(BackpressureSignal::Ready)
    }

    fn complete(&mut self, _ctx: &mut MockCtx<'_>) -> MockResult<()> {
        if self.completed {
            return Err(ProcessError::Internal("complete called twice".into()).into());
        }
        self.completed = true;
        Ok(())
    }

    fn evaluate(&mut self, ctx: &mut MockCtx<'_>, _input: &ModelElement) -> MockResult<bool> {
        let bytes = ctx.read_payload()?;
        scribble_refuses(&bytes)?;
        Ok(!bytes.is_empty())
    }

    fn route(&mut self, ctx: &mut MockCtx<'_>, _input: &ModelElement) -> MockResult<Vec<String>> {
        let bytes = ctx.read_payload()?;
        scribble_refuses(&bytes)?;
        Ok(bytes
            .split(|b| *b == b' ')
            .filter(|word| !word.is_empty())
            .map(ascii)
            .collect())
    }

    fn ingest(
        &mut self,
        ctx: &mut MockCtx<'_>,
        input: &ModelElement,
    ) -> MockResult<Option<OutputElement>> {
        let bytes = ctx.read_payload()?;
        scribble_refuses(&bytes)?;
        let stored: usize = self.kept.iter().map(Vec::len).sum();
        if self.kept.len() >= SCRIBBLE_KEPT || stored + bytes.len() > SCRIBBLE_STORE_BYTES {
            return Err(ProcessError::Unavailable("store full".into()).into());
        }
        self.kept.push(bytes.clone());
        if bytes.last() != Some(&b'.') {
            return Ok(None);
        }
        let b = scribble_buffer(ctx, &bytes)?;
        let meta = ElementMeta {
            content_type: format!("ingested/{}", input.meta.content_type).into(),
            ..input.meta.clone()
        };
        Ok(Some(ctx.output(meta, b)?))
    }

    fn flush(&mut self, ctx: &mut MockCtx<'_>) -> MockResult<Vec<PendingOutput>> {
        let mut outs = Vec::with_capacity(self.kept.len());
        for (i, bytes) in self.kept.iter().enumerate() {
            let buf = scribble_buffer(ctx, bytes)?;
            let content_type = format!("flushed/{}", ascii(bytes));
            outs.push(PendingOutput {
                meta: ElementMeta::new(i as u64, content_type),
                buf,
            });
        }
        self.kept.clear();
        Ok(outs)
    }
}

/// `scribble`: every role at once (its fixture also overwrites each answer
/// in its post-return, which a model has no need of). What an answer
/// shows of a payload is its ASCII (bytes over 0x7f as `?`). A payload or
/// config starting with `!` is refused (`invalid-input` with it);
/// otherwise `process` emits the payload as `processed/` + the
/// content type, `pull` emits `pulled-0` and `pulled-1` (`text/pulled`),
/// then `none`, then `unavailable`; `push` is ready; `complete` fails the
/// second time; `evaluate` passes non-empty payloads; `route` names the
/// payload's space-separated words; `ingest` keeps each payload (at most
/// 32, 6912 bytes) and answers with it (`ingested/` + the content type)
/// when it ends with `.`; `flush` returns every kept payload, numbered
/// from 0, as `flushed/` + the payload.
pub fn scribble_component() -> MockComponent {
    MockComponent::new(
        "scribble",
        [
            Role::Processor,
            Role::Source,
            Role::Sink,
            Role::Filter,
            Role::Router,
            Role::Aggregator,
            Role::Lifecycle,
        ],
        || Scribble {
            pulled: 0,
            completed: false,
            kept: Vec::new(),
        },
    )
}

/// The names of the fixtures [`all`] models, in its order.
pub const NAMES: [&str; 12] = [
    "passthrough",
    "uppercase",
    "filter",
    "counter-source",
    "sink",
    "token-source",
    "token-filter",
    "sentence-aggregator",
    "content-filter",
    "router",
    "capability-probe",
    "scribble",
];

/// Every model above.
pub fn all() -> Vec<MockComponent> {
    vec![
        passthrough_component(),
        uppercase_component(),
        filter_component(),
        counter_source_component(),
        sink_component(),
        token_source_component(),
        token_filter_component(),
        sentence_aggregator_component(),
        content_filter_component(),
        router_component(),
        capability_probe_component(),
        scribble_component(),
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
