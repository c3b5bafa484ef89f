//! The mock's journal of calls, and expectations checked against it.
//!
//! Hot path when on: one entry per call, appended under a mutex (bounded,
//! or off with [`JournalMode::Off`] for zero cost). Cold path to query and
//! verify.

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, PoisonError};

use crate::call::Outcome;
use crate::types::{Bytes, ComponentId, ElementMeta, Function};

/// How much the journal keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JournalMode {
    /// Nothing: no cost per call.
    Off,
    /// Every call.
    #[default]
    Unbounded,
    /// The last `n` calls (older ones are counted, then forgotten).
    Bounded(usize),
    /// Every call (`None`) or the last `n` (`Some(n)`), each entry also
    /// keeping the payload the call emitted ([`JournalEntry::output`]): a
    /// `Bytes` clone, so no copy, but the buffer lives as long as the
    /// entry.
    WithOutputs(Option<usize>),
}

impl JournalMode {
    /// How many entries are kept (`None`: all).
    fn bound(self) -> Option<usize> {
        match self {
            Self::Off => Some(0),
            Self::Unbounded | Self::WithOutputs(None) => None,
            Self::Bounded(n) | Self::WithOutputs(Some(n)) => Some(n),
        }
    }
}

/// A payload as the journal keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PayloadDigest {
    /// Its length.
    pub len: usize,
    /// Its [`digest`].
    pub digest: u64,
}

/// What a journaled call ended with: its answer with each element's
/// payload as a [`PayloadDigest`], the guest's `process-error`, or an
/// engine fault (kind and message).
pub type JournalOutcome = Outcome<PayloadDigest>;

/// One call, as the journal keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    /// Position among all calls the engine's instances made.
    pub index: u64,
    /// The instance called: the id given to
    /// [`crate::WasmEngine::instantiate`], not the registered component's
    /// name (two instances of one component are told apart).
    pub component: ComponentId,
    /// The function called.
    pub function: Function,
    /// The input element's metadata, for `process` and `push`.
    pub meta: Option<ElementMeta>,
    /// Length and [`digest`] of the input payload, for `process` and `push`.
    pub payload: Option<(usize, u64)>,
    /// How the call ended.
    pub outcome: JournalOutcome,
    /// The payload the call emitted or produced, with
    /// [`JournalMode::WithOutputs`] (`None` otherwise, and for calls that
    /// emitted nothing).
    pub output: Option<Bytes>,
    /// Modelled fuel the call consumed.
    pub fuel: u64,
    /// The engine clock when the call ended.
    pub time_ns: u64,
}

impl fmt::Display for JournalEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {}.{}", self.index, self.component, self.function)?;
        if let Some(meta) = &self.meta {
            write!(f, "(seq {})", meta.sequence)?;
        }
        write!(f, " -> {:?}", self.outcome)
    }
}

/// The digest the journal keeps of payloads (cheap, not cryptographic):
/// FNV-1a over 8-byte little-endian words in four lanes (word `i` of each
/// 32-byte block goes to lane `i`, each lane with its own offset basis),
/// the lanes folded in order, then the remaining words and bytes, then the
/// length. Four independent chains of multiplies instead of one: a 1 KiB
/// payload waits on 32 dependent multiplies, not 128.
pub fn digest(bytes: &[u8]) -> u64 {
    let word = |w: &[u8]| u64::from_le_bytes(w.try_into().expect("8 bytes"));
    let mut lanes = [FNV_BASIS, FNV_BASIS ^ 1, FNV_BASIS ^ 2, FNV_BASIS ^ 3];
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (lane, w) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            *lane = fnv(*lane, word(w));
        }
    }
    let mut h = FNV_BASIS;
    for lane in lanes {
        h = fnv(h, lane);
    }
    let mut words = blocks.remainder().chunks_exact(8);
    for w in &mut words {
        h = fnv(h, word(w));
    }
    for b in words.remainder() {
        h = fnv(h, u64::from(*b));
    }
    fnv(h, bytes.len() as u64)
}

const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

/// One FNV-1a step over a 64-bit value.
fn fnv(h: u64, v: u64) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    (h ^ v).wrapping_mul(PRIME)
}

/// The checksum of a mock artifact's component name: FNV-1a over 8-byte
/// little-endian words, then the remaining bytes, then the length (what
/// [`digest`] was before it took blocks in lanes; kept so that artifacts
/// stay byte for byte what they were).
pub(crate) fn name_checksum(bytes: &[u8]) -> u64 {
    let mut h = FNV_BASIS;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        h = fnv(h, u64::from_le_bytes(w.try_into().expect("chunks of 8")));
    }
    for b in words.remainder() {
        h = fnv(h, u64::from(*b));
    }
    fnv(h, bytes.len() as u64)
}

#[derive(Default)]
struct Inner {
    entries: std::collections::VecDeque<JournalEntry>,
    recorded: u64,
}

/// The journal of a mock engine, shared by all its instances. Clones share it.
#[derive(Clone)]
pub struct Journal {
    mode: JournalMode,
    inner: Arc<Mutex<Inner>>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("mode", &self.mode)
            .field("recorded", &self.recorded())
            .finish()
    }
}

impl Journal {
    pub(crate) fn new(mode: JournalMode) -> Self {
        Self {
            mode,
            inner: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether entries are kept at all.
    #[inline]
    pub fn is_on(&self) -> bool {
        self.mode != JournalMode::Off
    }

    /// Whether entries keep the payloads calls emitted.
    pub fn keeps_outputs(&self) -> bool {
        matches!(self.mode, JournalMode::WithOutputs(_))
    }

    #[inline]
    pub(crate) fn record(&self, make: impl FnOnce(u64) -> JournalEntry) {
        if self.mode == JournalMode::Off {
            return;
        }
        let mut inner = self.lock();
        let entry = make(inner.recorded);
        inner.recorded += 1;
        if let Some(n) = self.mode.bound()
            && inner.entries.len() >= n
        {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// Every entry kept, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.lock().entries.iter().cloned().collect()
    }

    /// Calls recorded since the start or the last reset (kept or not).
    pub fn recorded(&self) -> u64 {
        self.lock().recorded
    }

    /// Entries of calls to `function`.
    pub fn calls(&self, function: Function) -> Vec<JournalEntry> {
        self.filter(|e| e.function == function)
    }

    /// Entries of calls to the instance with id `component` (see
    /// [`JournalEntry::component`]).
    pub fn for_component(&self, component: &str) -> Vec<JournalEntry> {
        self.filter(|e| e.component.as_str() == component)
    }

    /// Entries that ended in an engine fault.
    pub fn faults(&self) -> Vec<JournalEntry> {
        self.filter(|e| matches!(e.outcome, Outcome::Fault { .. }))
    }

    /// Entries matching `keep`.
    pub fn filter(&self, keep: impl Fn(&JournalEntry) -> bool) -> Vec<JournalEntry> {
        self.lock()
            .entries
            .iter()
            .filter(|e| keep(e))
            .cloned()
            .collect()
    }

    /// How many kept entries are calls to `function` of the instance with
    /// id `component`.
    pub fn count(&self, component: &str, function: Function) -> usize {
        self.filter(|e| e.component.as_str() == component && e.function == function)
            .len()
    }

    /// Forgets every entry.
    pub fn reset(&self) {
        /// Entries' worth of memory a reset keeps for the next calls.
        const KEEP_CAPACITY: usize = 1 << 16;
        let mut inner = self.lock();
        inner.entries.clear();
        inner.entries.shrink_to(KEEP_CAPACITY);
        inner.recorded = 0;
    }

    /// Checks `expectations` against the entries kept; the error shows
    /// what was expected next to what happened.
    pub fn verify(&self, expectations: &Expectations) -> Result<(), VerifyError> {
        let entries = self.entries();
        let mut failures = Vec::new();
        for exp in &expectations.counts {
            let n = entries
                .iter()
                .filter(|e| e.component.as_str() == exp.component && e.function == exp.function)
                .count();
            if n != exp.times {
                failures.push(format!(
                    "expected {} call(s) to {}.{}, saw {n}",
                    exp.times, exp.component, exp.function
                ));
            }
        }
        for exp in &expectations.payloads {
            let hit = entries
                .iter()
                .filter(|e| e.component.as_str() == exp.component && e.function == exp.function)
                .nth(exp.nth);
            let want = (exp.payload.len(), digest(&exp.payload));
            match hit {
                Some(e) if e.payload == Some(want) => {}
                Some(e) => failures.push(format!(
                    "call #{} to {}.{}: expected a payload of {} bytes (digest {:016x}), saw {}",
                    exp.nth,
                    exp.component,
                    exp.function,
                    want.0,
                    want.1,
                    e.payload.map_or("none".into(), |(l, d)| format!(
                        "{l} bytes (digest {d:016x})"
                    ))
                )),
                None => failures.push(format!(
                    "call #{} to {}.{}: expected a payload, but there was no such call",
                    exp.nth, exp.component, exp.function
                )),
            }
        }
        if let Some(order) = &expectations.order {
            let actual: Vec<(String, Function)> = entries
                .iter()
                .map(|e| (e.component.to_string(), e.function))
                .filter(|c| order.iter().any(|o| o == c))
                .collect();
            if &actual != order {
                let mut diff = String::from("calls out of order (- expected, + actual):");
                let n = order.len().max(actual.len());
                for i in 0..n {
                    let show = |c: Option<&(String, Function)>| {
                        c.map_or("(nothing)".into(), |(comp, f)| format!("{comp}.{f}"))
                    };
                    let (want, got) = (order.get(i), actual.get(i));
                    if want == got {
                        let _ = write!(diff, "\n    {}", show(want));
                    } else {
                        let _ = write!(diff, "\n  - {}\n  + {}", show(want), show(got));
                    }
                }
                failures.push(diff);
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(VerifyError { failures })
        }
    }
}

struct CountExpectation {
    component: String,
    function: Function,
    times: usize,
}

struct PayloadExpectation {
    component: String,
    function: Function,
    nth: usize,
    payload: Vec<u8>,
}

/// What a test expects of the calls a mock engine saw: counts, order and
/// arguments. Checked by [`Journal::verify`].
///
/// Calls are named by **instance id** (the [`ComponentId`] given to
/// [`crate::WasmEngine::instantiate`], as [`JournalEntry::component`]
/// holds it), not by the registered component's name: two instances of one
/// component are expected separately.
#[derive(Default)]
pub struct Expectations {
    counts: Vec<CountExpectation>,
    payloads: Vec<PayloadExpectation>,
    order: Option<Vec<(String, Function)>>,
}

impl Expectations {
    /// No expectations.
    pub fn new() -> Self {
        Self::default()
    }

    /// The instance with id `instance` receives exactly `times` calls to
    /// `function`.
    pub fn calls(mut self, instance: &str, function: Function, times: usize) -> Self {
        self.counts.push(CountExpectation {
            component: instance.into(),
            function,
            times,
        });
        self
    }

    /// The `nth` (from 0) call to `function` of the instance with id
    /// `instance` carries `payload`.
    pub fn payload(
        mut self,
        instance: &str,
        function: Function,
        nth: usize,
        payload: impl Into<Vec<u8>>,
    ) -> Self {
        self.payloads.push(PayloadExpectation {
            component: instance.into(),
            function,
            nth,
            payload: payload.into(),
        });
        self
    }

    /// The calls to these (instance id, function) pairs happen in exactly
    /// this order (calls to other pairs are ignored).
    pub fn in_order<'a>(mut self, calls: impl IntoIterator<Item = (&'a str, Function)>) -> Self {
        self.order = Some(calls.into_iter().map(|(c, f)| (c.to_owned(), f)).collect());
        self
    }
}

/// Expectations that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// One readable line (or diff) per failed expectation.
    pub failures: Vec<String>,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} expectation(s) failed:", self.failures.len())?;
        for failure in &self.failures {
            write!(f, "\n- {failure}")?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifyError {}

#[cfg(test)]
mod tests {
    use super::{digest, name_checksum};

    #[test]
    fn the_digest_tells_payloads_apart_by_content_order_and_length() {
        let block: Vec<u8> = (0..32u8).collect();
        let mut swapped = block.clone();
        swapped[..16].rotate_left(8); // words 0 and 1 trade places
        let mut longer = block.clone();
        longer.push(0);
        let payloads: Vec<&[u8]> = vec![b"", b"\0", b"a", &block, &swapped, &longer];
        for (i, a) in payloads.iter().enumerate() {
            let copy = a.to_vec();
            assert_eq!(digest(a), digest(&copy), "the same bytes elsewhere");
            for b in &payloads[i + 1..] {
                assert_ne!(digest(a), digest(b), "{a:?} and {b:?}");
            }
        }
        // Lanes and the tail both count: a byte changed anywhere in 1 KiB
        // + 13 changes the digest.
        let big: Vec<u8> = (0..1037u32).map(|i| (i * 7) as u8).collect();
        for at in [0, 8, 16, 24, 31, 512, 1023, 1024, 1036] {
            let mut changed = big.clone();
            changed[at] ^= 1;
            assert_ne!(digest(&big), digest(&changed), "byte {at}");
        }
    }

    #[test]
    fn the_artifact_name_checksum_is_one_fnv_1a_chain() {
        // FNV-1a of the empty input folded with its length (0): the offset
        // basis times the prime; a serialized mock artifact depends on it.
        assert_eq!(
            name_checksum(b""),
            0xcbf2_9ce4_8422_2325u64.wrapping_mul(0x0000_0100_0000_01b3)
        );
        assert_ne!(name_checksum(b"passthrough"), digest(b"passthrough"));
    }
}
