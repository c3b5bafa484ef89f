//! Generators: structured inputs built from fuzzer bytes.
//!
//! Every generator is a `fn(&mut Unstructured) -> arbitrary::Result<T>`, so
//! the same function serves cargo-fuzz (bytes from libFuzzer), the replay
//! test (bytes from committed files and from [`crate::sim::SimRng`]) and any
//! other test that wants "an arbitrary element". Running out of bytes is
//! never an error: `Unstructured` then answers zeros and empty collections,
//! so a short input still yields a (small) valid case.

use std::time::Duration;

use arbitrary::{Result, Unstructured};
use torvyn_engine::host::MAX_BUFFER_BYTES;
use torvyn_engine::{BackpressureSignal, Call, Clock, FlowContext, StreamElement};

/// The largest payload generated from input bytes.
pub const MAX_GENERATED_PAYLOAD: usize = 8 * 1024;
/// The largest fuel budget generated: a runaway guest stops within a few
/// milliseconds.
pub const MAX_GENERATED_FUEL: u64 = 4_000_000;

/// True one time in `n`; false when the input has run out, so that short
/// inputs give plain cases (`Unstructured::ratio` answers true then).
pub fn one_in(u: &mut Unstructured<'_>, n: u8) -> Result<bool> {
    Ok(u.int_in_range(1..=n)? == n)
}

/// Where an element's flow deadline lies, relative to the clock when the
/// element is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeadlineSpec {
    /// No deadline.
    None,
    /// Already passed by this many nanoseconds (0: exactly now, which also
    /// counts as passed).
    Passed(u64),
    /// This many nanoseconds ahead.
    After(u64),
}

/// An element before it is built against a clock.
#[derive(Clone, PartialEq, Eq)]
pub struct ElementSpec {
    /// The sequence number.
    pub sequence: u64,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// One byte over the payload cap instead of `payload` (the engine must
    /// refuse it before the guest runs).
    pub oversized: bool,
    /// The content type.
    pub content_type: String,
    /// The flow deadline.
    pub deadline: DeadlineSpec,
    /// The flow id.
    pub flow_id: String,
}

impl std::fmt::Debug for ElementSpec {
    /// The payload as its length and first bytes: a failing case prints
    /// readably (the input file reproduces it exactly).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head = &self.payload[..self.payload.len().min(16)];
        f.debug_struct("ElementSpec")
            .field("sequence", &self.sequence)
            .field(
                "payload",
                &format_args!(
                    "{} bytes {:?}...",
                    self.payload.len(),
                    String::from_utf8_lossy(head)
                ),
            )
            .field("oversized", &self.oversized)
            .field("content_type", &self.content_type)
            .field("deadline", &self.deadline)
            .field("flow_id", &self.flow_id)
            .finish()
    }
}

impl ElementSpec {
    /// The element, its deadline placed relative to `clock`'s now.
    pub fn build(&self, clock: &Clock) -> StreamElement {
        let mut context = FlowContext::new(self.flow_id.clone());
        let now = clock.now_ns();
        match self.deadline {
            DeadlineSpec::None => {}
            DeadlineSpec::Passed(by) => context = context.with_deadline_ns(now.saturating_sub(by)),
            DeadlineSpec::After(ns) => {
                context = context.with_deadline_ns(clock.deadline_after(Duration::from_nanos(ns)))
            }
        }
        let payload = if self.oversized {
            vec![b'x'; MAX_BUFFER_BYTES as usize + 1]
        } else {
            self.payload.clone()
        };
        StreamElement::new(self.sequence, payload, self.content_type.clone()).with_context(context)
    }

    /// Whether admission must refuse the element: over the payload cap, or
    /// its deadline already passed.
    pub fn must_be_rejected(&self) -> bool {
        self.oversized || matches!(self.deadline, DeadlineSpec::Passed(_))
    }
}

/// How wild the generated elements may be.
#[derive(Clone, Copy, Debug)]
pub struct ElementLimits {
    /// Allow deadlines that have passed and payloads over the cap.
    pub refusals: bool,
    /// Allow deadlines close enough to end a call.
    pub near_deadlines: bool,
}

impl ElementLimits {
    /// Everything.
    pub const ANY: Self = Self {
        refusals: true,
        near_deadlines: true,
    };
    /// For comparing backends: refused elements yes, but no deadline close
    /// enough to depend on how fuel is counted.
    pub const COMPARABLE: Self = Self {
        refusals: true,
        near_deadlines: false,
    };
}

const CONTENT_TYPES: [&str; 6] = [
    "text/plain",
    "application/json",
    "application/octet-stream",
    "",
    "text/plain; charset=utf-8",
    "x/\u{1F980}",
];

/// An arbitrary element.
pub fn element_spec(u: &mut Unstructured<'_>, limits: ElementLimits) -> Result<ElementSpec> {
    let sequence = match u.int_in_range(0..=3u8)? {
        0 => u.arbitrary()?,
        n => u64::from(n) + u64::from(u.arbitrary::<u8>()?),
    };
    let len = u.int_in_range(0..=MAX_GENERATED_PAYLOAD)?;
    let len = len.min(u.len());
    let payload = u.bytes(len)?.to_vec();
    let oversized = limits.refusals && one_in(u, 64)?;
    let content_type = if one_in(u, 4)? {
        let s: String = u.arbitrary()?;
        s.chars().take(200).collect()
    } else {
        CONTENT_TYPES[u.choose_index(CONTENT_TYPES.len())?].to_string()
    };
    let deadline = match u.int_in_range(0..=7u8)? {
        1 if limits.refusals => DeadlineSpec::Passed(u.int_in_range(0..=1_000_000_000)?),
        2 | 3 if limits.near_deadlines => DeadlineSpec::After(u.int_in_range(1..=50_000_000)?),
        4 => DeadlineSpec::After(30_000_000_000),
        _ => DeadlineSpec::None,
    };
    let flow_id = if one_in(u, 8)? {
        u.arbitrary::<String>()?.chars().take(64).collect()
    } else {
        format!("flow-{}", sequence % 4)
    };
    Ok(ElementSpec {
        sequence,
        payload,
        oversized,
        content_type,
        deadline,
        flow_id,
    })
}

/// A per-call fuel budget: `None` keeps the engine's default.
pub fn fuel_budget(u: &mut Unstructured<'_>) -> Result<Option<u64>> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => None,
        1 => Some(u.int_in_range(1..=20_000)?),
        _ => Some(u.int_in_range(1..=MAX_GENERATED_FUEL)?),
    })
}

/// A config string for `init`: the shapes the fixtures read (`{}`, a count,
/// an `every`), garbage, or arbitrary text.
pub fn config_text(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => String::new(),
        1 => "{}".to_string(),
        2 => format!("{{\"count\": {}}}", u.int_in_range(0..=40u32)?),
        3 => format!("{{\"every\": {}}}", u.int_in_range(0..=6u32)?),
        4 => format!("{{\"count\": {}}}", u.arbitrary::<u64>()?),
        _ => u.arbitrary::<String>()?.chars().take(256).collect(),
    })
}

/// A backpressure signal.
pub fn signal(u: &mut Unstructured<'_>) -> Result<BackpressureSignal> {
    Ok(if u.arbitrary()? {
        BackpressureSignal::Pause
    } else {
        BackpressureSignal::Ready
    })
}

/// One step of an API sequence. Instance indices refer to the instances
/// alive at that step (see [`api_ops`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiOp {
    /// Instantiate the fixture at this index (of the target's fixture
    /// list).
    Instantiate(usize),
    /// `WasmEngine::set_fuel` (0 included: it must be refused).
    SetFuel(usize, u64),
    /// Drop the instance.
    Drop(usize),
    /// A contract call on the instance; its element is built when the call
    /// is made (the backend's clock stamps it).
    Call(usize, Call<ElementSpec>),
    /// `instantiate_with` the fixture at this index, granted these
    /// capability names ([`grants`]).
    InstantiateWith(usize, Vec<String>),
}

impl ApiOp {
    /// The live instance the step acts on (`None` for `Instantiate` and
    /// `InstantiateWith`).
    pub fn instance(&self) -> Option<usize> {
        match self {
            Self::Instantiate(_) | Self::InstantiateWith(..) => None,
            Self::SetFuel(i, _) | Self::Drop(i) | Self::Call(i, _) => Some(*i),
        }
    }

    /// The step's name: `instantiate`, `instantiate-with`, `set-fuel`,
    /// `drop`, or the contract function called (`process`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Instantiate(_) => "instantiate",
            Self::InstantiateWith(..) => "instantiate-with",
            Self::SetFuel(..) => "set-fuel",
            Self::Drop(_) => "drop",
            Self::Call(_, call) => call.function().name(),
        }
    }
}

/// At most this many instances are alive at once in an API sequence.
pub const MAX_LIVE_INSTANCES: usize = 4;

/// The op bytes that choose the extension calls (`evaluate`, `route`,
/// `ingest`, `flush`, `instantiate_with`). Every other byte chooses the op
/// it chose before these calls existed (its value modulo 20). These values
/// were chosen because no input committed then (`fuzz/corpus/api_sequence/`,
/// `fuzz/regressions/api_sequence/`) has one in an op position, so those
/// inputs decode to the same ops as when they were found
/// (`fuzz/decoded/api_sequence.txt` checks it).
pub const EXTENSION_OP_BYTES: std::ops::RangeInclusive<u8> = 17..=31;

/// What an op byte chooses (see [`api_ops`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpCode {
    Instantiate,
    /// `Instantiate` below [`MAX_LIVE_INSTANCES`], else `Teardown`.
    InstantiateBelowMax,
    Drop,
    SetFuel,
    Process,
    Pull,
    Push,
    Notify,
    Complete,
    Init,
    Teardown,
    Evaluate,
    Route,
    Ingest,
    Flush,
    InstantiateWith,
}

impl OpCode {
    fn of(byte: u8) -> Self {
        if EXTENSION_OP_BYTES.contains(&byte) {
            return match byte - EXTENSION_OP_BYTES.start() {
                0..=2 => Self::Evaluate,
                3..=5 => Self::Route,
                6..=8 => Self::Ingest,
                9..=11 => Self::Flush,
                _ => Self::InstantiateWith,
            };
        }
        match byte % 20 {
            0 => Self::Instantiate,
            1 => Self::InstantiateBelowMax,
            2 => Self::Drop,
            3 | 4 => Self::SetFuel,
            5..=8 => Self::Process,
            9..=11 => Self::Pull,
            12..=14 => Self::Push,
            15 => Self::Notify,
            16 => Self::Complete,
            17 | 18 => Self::Init,
            _ => Self::Teardown,
        }
    }
}

/// Capability names the fuzz targets grant: the runtime's convention
/// (`wasi-...`), the empty name, and in [`grants`] arbitrary text too.
pub const CAPABILITY_NAMES: [&str; 5] = [
    "wasi-random",
    "wasi-filesystem-read",
    "wasi-filesystem-write",
    "wasi-network-egress",
    "",
];

/// Up to three capability names to grant an instance: mostly from
/// [`CAPABILITY_NAMES`], sometimes arbitrary text (duplicates allowed:
/// the grant set collapses them).
pub fn grants(u: &mut Unstructured<'_>) -> Result<Vec<String>> {
    let n = u.int_in_range(0..=3u8)?;
    (0..n)
        .map(|_| {
            Ok(if one_in(u, 4)? {
                u.arbitrary::<String>()?.chars().take(32).collect()
            } else {
                CAPABILITY_NAMES[u.choose_index(CAPABILITY_NAMES.len())?].to_string()
            })
        })
        .collect()
}

/// A sequence of engine and invoker calls over `fixtures` fixtures. The
/// generator tracks which instances are alive: it instantiates when none
/// is, never names a dropped instance, and keeps at most
/// [`MAX_LIVE_INSTANCES`] alive (an instantiation with that many alive
/// drops the first instead).
///
/// Each op after the first instantiation starts with a byte choosing it
/// (`OpCode::of`): the bytes in [`EXTENSION_OP_BYTES`] choose the
/// extension calls, any other byte the op it chose before they existed.
pub fn api_ops(u: &mut Unstructured<'_>, fixtures: usize, max_ops: usize) -> Result<Vec<ApiOp>> {
    let mut ops = Vec::new();
    let mut live = 0usize;
    let count = u.int_in_range(1..=max_ops)?;
    for _ in 0..count {
        if u.is_empty() && !ops.is_empty() {
            break;
        }
        let code = if live == 0 {
            OpCode::Instantiate
        } else {
            OpCode::of(u.arbitrary()?)
        };
        let code = match code {
            OpCode::InstantiateBelowMax if live < MAX_LIVE_INSTANCES => OpCode::Instantiate,
            OpCode::InstantiateBelowMax => OpCode::Teardown,
            other => other,
        };
        let op = match code {
            OpCode::Instantiate | OpCode::InstantiateWith if live == MAX_LIVE_INSTANCES => {
                live -= 1;
                ApiOp::Drop(0)
            }
            OpCode::Instantiate => {
                live += 1;
                ApiOp::Instantiate(u.choose_index(fixtures)?)
            }
            OpCode::InstantiateWith => {
                live += 1;
                ApiOp::InstantiateWith(u.choose_index(fixtures)?, grants(u)?)
            }
            code => {
                let i = u.choose_index(live)?;
                match code {
                    OpCode::Drop => {
                        live -= 1;
                        ApiOp::Drop(i)
                    }
                    OpCode::SetFuel => ApiOp::SetFuel(
                        i,
                        match u.int_in_range(0..=3u8)? {
                            0 => 0,
                            _ => u.int_in_range(1..=MAX_GENERATED_FUEL)?,
                        },
                    ),
                    code => ApiOp::Call(
                        i,
                        match code {
                            OpCode::Process => Call::Process(element_spec(u, ElementLimits::ANY)?),
                            OpCode::Pull => Call::Pull,
                            OpCode::Push => Call::Push(element_spec(u, ElementLimits::ANY)?),
                            OpCode::Notify => Call::NotifyBackpressure(signal(u)?),
                            OpCode::Complete => Call::Complete,
                            OpCode::Init => Call::Init(config_text(u)?),
                            OpCode::Evaluate => {
                                Call::Evaluate(element_spec(u, ElementLimits::ANY)?)
                            }
                            OpCode::Route => Call::Route(element_spec(u, ElementLimits::ANY)?),
                            OpCode::Ingest => Call::Ingest(element_spec(u, ElementLimits::ANY)?),
                            OpCode::Flush => Call::Flush,
                            _ => Call::Teardown,
                        },
                    ),
                }
            }
        };
        ops.push(op);
    }
    Ok(ops)
}

/// A byte-level change to a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Flip one bit.
    Flip {
        /// Where (taken modulo the length).
        at: usize,
        /// Which bit (0..8).
        bit: u8,
    },
    /// Overwrite one byte.
    Set {
        /// Where (taken modulo the length).
        at: usize,
        /// The new value.
        byte: u8,
    },
    /// Insert bytes.
    Insert {
        /// Where (taken modulo the length + 1).
        at: usize,
        /// What.
        bytes: Vec<u8>,
    },
    /// Remove up to `len` bytes.
    Remove {
        /// Where (taken modulo the length).
        at: usize,
        /// How many.
        len: usize,
    },
    /// Cut the buffer at this length (modulo the length + 1).
    Truncate(usize),
}

/// Up to `max` arbitrary edits.
pub fn edits(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<Edit>> {
    let n = u.int_in_range(1..=max)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let at: usize = u.arbitrary()?;
        out.push(match u.int_in_range(0..=9u8)? {
            0..=3 => Edit::Flip {
                at,
                bit: u.int_in_range(0..=7)?,
            },
            4..=6 => Edit::Set {
                at,
                byte: u.arbitrary()?,
            },
            7 => {
                let len = u.int_in_range(1..=16usize)?;
                Edit::Insert {
                    at,
                    bytes: u.bytes(len.min(u.len()))?.to_vec(),
                }
            }
            8 => Edit::Remove {
                at,
                len: u.int_in_range(1..=64)?,
            },
            _ => Edit::Truncate(at),
        });
    }
    Ok(out)
}

/// `bytes` with `edits` applied in order.
pub fn apply_edits(bytes: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for edit in edits {
        let len = out.len();
        match edit {
            Edit::Flip { at, bit } if len > 0 => out[at % len] ^= 1 << (bit % 8),
            Edit::Set { at, byte } if len > 0 => out[at % len] = *byte,
            Edit::Insert { at, bytes } => {
                let at = at % (len + 1);
                out.splice(at..at, bytes.iter().copied());
            }
            Edit::Remove { at, len: n } if len > 0 => {
                let at = at % len;
                let end = at.saturating_add(*n).min(len);
                out.drain(at..end);
            }
            Edit::Truncate(at) => out.truncate(at % (len + 1)),
            _ => {}
        }
    }
    out
}

/// What a disk cache entry is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryCase {
    /// Arbitrary bytes.
    Raw(Vec<u8>),
    /// The valid entry, edited.
    Edited(Vec<Edit>),
    /// The valid entry's header followed by arbitrary bytes.
    ForeignPayload(Vec<u8>),
    /// The valid entry unchanged (must load from disk).
    Valid,
}

impl EntryCase {
    /// The entry's bytes, given the valid entry.
    pub fn bytes(&self, valid: &[u8], header_len: usize) -> Vec<u8> {
        match self {
            Self::Raw(b) => b.clone(),
            Self::Edited(e) => apply_edits(valid, e),
            Self::ForeignPayload(p) => {
                let mut b = valid[..header_len.min(valid.len())].to_vec();
                b.extend_from_slice(p);
                b
            }
            Self::Valid => valid.to_vec(),
        }
    }
}

/// An arbitrary disk cache entry.
pub fn cache_entry(u: &mut Unstructured<'_>) -> Result<EntryCase> {
    Ok(match u.int_in_range(0..=9u8)? {
        0..=2 => {
            let len = u.int_in_range(0..=4096usize)?.min(u.len());
            EntryCase::Raw(u.bytes(len)?.to_vec())
        }
        3..=7 => EntryCase::Edited(edits(u, 8)?),
        8 => {
            let len = u.int_in_range(0..=4096usize)?.min(u.len());
            EntryCase::ForeignPayload(u.bytes(len)?.to_vec())
        }
        _ => EntryCase::Valid,
    })
}

/// The byte that marks a host-fault plan at the end of an input
/// ([`split_host_fault_plan`]).
pub const HOST_FAULT_MARKER: u8 = 0xF4;

/// The host-fault plan an input asks for, and the rest of the input: an
/// input ending in [`HOST_FAULT_MARKER`] and a plan byte `b` asks for
/// `b`'s plan (0 none; 1–127 host call `b - 1` of the run; 128–191 host
/// call `(b - 128) % 8` of every call; 192–255 each host call with
/// probability 1/20, seeded by `b`), and the case is decoded from what
/// comes before. Any other input asks for none and is decoded whole, so
/// inputs found before plans existed (none ends in the marker) keep their
/// meaning.
pub fn split_host_fault_plan(data: &[u8]) -> (torvyn_engine::HostFaultPlan, &[u8]) {
    use torvyn_engine::HostFaultPlan;
    match data {
        [rest @ .., HOST_FAULT_MARKER, b] => {
            let plan = match *b {
                0 => HostFaultPlan::None,
                1..=127 => HostFaultPlan::NthOfRun(u64::from(b - 1)),
                128..=191 => HostFaultPlan::NthOfCall(u32::from((b - 128) % 8)),
                _ => HostFaultPlan::Random {
                    seed: u64::from(*b),
                    per_million: 50_000,
                },
            };
            (plan, rest)
        }
        _ => (HostFaultPlan::None, data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_stay_in_bounds_and_change_bytes() {
        let base = vec![0u8; 10];
        assert_eq!(apply_edits(&base, &[Edit::Flip { at: 13, bit: 9 }])[3], 2);
        assert_eq!(
            apply_edits(&base, &[Edit::Remove { at: 8, len: 100 }]).len(),
            8
        );
        assert_eq!(
            apply_edits(
                &base,
                &[Edit::Insert {
                    at: 10,
                    bytes: vec![1, 2]
                }]
            ),
            [vec![0u8; 10], vec![1, 2]].concat()
        );
        assert!(apply_edits(&[], &[Edit::Flip { at: 1, bit: 1 }]).is_empty());
        assert_eq!(apply_edits(&base, &[Edit::Truncate(21)]).len(), 10);
    }

    #[test]
    fn api_ops_name_only_live_instances() {
        let mut rng = crate::sim::SimRng::new(7);
        for _ in 0..200 {
            let bytes = rng.bytes(512);
            let ops = api_ops(&mut Unstructured::new(&bytes), 3, 64).unwrap();
            let mut live = 0usize;
            for op in ops {
                if let Some(i) = op.instance() {
                    assert!(i < live, "{op:?} with {live} alive");
                }
                match op {
                    ApiOp::Instantiate(f) | ApiOp::InstantiateWith(f, _) => {
                        assert!(f < 3);
                        live += 1;
                    }
                    ApiOp::Drop(_) => live -= 1,
                    _ => {}
                }
                assert!(live <= MAX_LIVE_INSTANCES);
            }
        }
    }

    /// Seeded inputs reach every op, the extension calls included, and
    /// grant sets of several sizes.
    #[test]
    fn api_ops_reach_every_op() {
        let mut rng = crate::sim::SimRng::new(11);
        let mut seen = std::collections::BTreeSet::new();
        let mut grant_sizes = std::collections::BTreeSet::new();
        for _ in 0..300 {
            let bytes = rng.bytes(1024);
            for op in api_ops(&mut Unstructured::new(&bytes), 5, 48).unwrap() {
                if let ApiOp::InstantiateWith(_, names) = &op {
                    grant_sizes.insert(names.len());
                }
                seen.insert(op.name());
            }
        }
        let every = [
            "complete",
            "drop",
            "evaluate",
            "flush",
            "ingest",
            "init",
            "instantiate",
            "instantiate-with",
            "notify-backpressure",
            "process",
            "pull",
            "push",
            "route",
            "set-fuel",
            "teardown",
        ];
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), every);
        assert_eq!(grant_sizes.into_iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
    }

    /// The bytes of [`EXTENSION_OP_BYTES`] choose the extension calls; a
    /// byte outside chooses by its value modulo 20, as before they existed
    /// (one op after the first instantiation, on one live instance).
    #[test]
    fn op_bytes_choose_their_ops() {
        let one = |byte: u8| {
            // count 2; the first op instantiates fixture 0 of 1 (no byte
            // read); the second is chosen by `byte`; zeros after it.
            let bytes = [1, byte, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            let ops = api_ops(&mut Unstructured::new(&bytes), 1, 48).unwrap();
            assert_eq!(ops[0], ApiOp::Instantiate(0));
            ops[1].name()
        };
        for byte in EXTENSION_OP_BYTES {
            let expected = match byte - 17 {
                0..=2 => "evaluate",
                3..=5 => "route",
                6..=8 => "ingest",
                9..=11 => "flush",
                _ => "instantiate-with",
            };
            assert_eq!(one(byte), expected, "byte {byte}");
        }
        for (byte, expected) in [
            (0, "instantiate"),
            (1, "instantiate"),
            (2, "drop"),
            (16, "complete"),
            (32, "push"),
            (42, "drop"),
            (67, "process"),
            (163, "set-fuel"),
            (238, "init"),
            (239, "teardown"),
            (255, "notify-backpressure"),
        ] {
            assert_eq!(one(byte), expected, "byte {byte}");
        }
    }

    #[test]
    fn empty_input_still_generates() {
        let mut u = Unstructured::new(&[]);
        let e = element_spec(&mut u, ElementLimits::ANY).unwrap();
        assert!(e.payload.is_empty());
        assert!(!e.must_be_rejected());
        let ops = api_ops(&mut Unstructured::new(&[]), 2, 8).unwrap();
        assert_eq!(ops, vec![ApiOp::Instantiate(0)]);
    }
}
