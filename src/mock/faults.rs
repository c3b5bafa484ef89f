//! Injected failures of the mock's cold path, and its cost model.
//!
//! Cold path. Compile, deserialize, instantiate and init can each be told to
//! fail on the k-th call, on every call, or with a seeded probability; a
//! whole schedule can be generated from one seed, so a failing run replays.

use std::sync::Mutex;

use crate::random::{SplitMix64, derive_seed};
use crate::types::Function;

/// When an operation fails.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum FailOn {
    /// Never.
    #[default]
    Never,
    /// On the k-th call (1-based) only.
    Nth(u64),
    /// On every call from the k-th (1-based) on.
    From(u64),
    /// On each call with this probability, drawn from the schedule's seed.
    Probability(f64),
}

/// How an injected deserialize failure presents itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeserializeFailure {
    /// As an artifact from another engine or version.
    #[default]
    Incompatible,
    /// As damaged bytes.
    Corrupt,
}

/// Which cold-path operations fail, and when.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ColdFaults {
    /// `compile` and `compile_wat`.
    pub compile: FailOn,
    /// `deserialize`.
    pub deserialize: FailOn,
    /// How a deserialize failure presents itself.
    pub deserialize_failure: DeserializeFailure,
    /// `instantiate`.
    pub instantiate: FailOn,
    /// `init` (an injected init failure is a trap, and poisons).
    pub init: FailOn,
    /// The seed of the probabilities.
    pub seed: u64,
}

impl ColdFaults {
    /// A schedule generated from `seed`: each operation fails with a
    /// probability of at most `max_probability` (0.0 to 1.0), drawn from the
    /// seed; the same seed gives the same schedule.
    pub fn generate(seed: u64, max_probability: f64) -> Self {
        let mut rng = SplitMix64::new(derive_seed(seed, "cold-faults"));
        let mut p =
            || FailOn::Probability((rng.next_u64() as f64 / u64::MAX as f64) * max_probability);
        let kind = if rng_bit(seed) {
            DeserializeFailure::Corrupt
        } else {
            DeserializeFailure::Incompatible
        };
        Self {
            compile: p(),
            deserialize: p(),
            deserialize_failure: kind,
            instantiate: p(),
            init: p(),
            seed,
        }
    }
}

fn rng_bit(seed: u64) -> bool {
    SplitMix64::new(derive_seed(seed, "deserialize-kind")).next_u64() & 1 == 1
}

/// Counts calls per operation and decides, from a [`ColdFaults`], which fail.
pub(crate) struct FaultState {
    faults: ColdFaults,
    counts: Mutex<([u64; 4], SplitMix64)>,
}

/// The cold-path operations faults apply to.
#[derive(Clone, Copy)]
pub(crate) enum ColdOp {
    Compile = 0,
    Deserialize = 1,
    Instantiate = 2,
    Init = 3,
}

impl FaultState {
    pub fn new(faults: ColdFaults) -> Self {
        Self {
            counts: Mutex::new(([0; 4], SplitMix64::new(derive_seed(faults.seed, "fail-on")))),
            faults,
        }
    }

    pub fn faults(&self) -> &ColdFaults {
        &self.faults
    }

    /// Counts a call of `op` and says whether it must fail.
    pub fn should_fail(&self, op: ColdOp) -> bool {
        let rule = match op {
            ColdOp::Compile => self.faults.compile,
            ColdOp::Deserialize => self.faults.deserialize,
            ColdOp::Instantiate => self.faults.instantiate,
            ColdOp::Init => self.faults.init,
        };
        let mut guard = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let (counts, rng) = &mut *guard;
        counts[op as usize] += 1;
        let n = counts[op as usize];
        match rule {
            FailOn::Never => false,
            FailOn::Nth(k) => n == k,
            FailOn::From(k) => n >= k,
            FailOn::Probability(p) => (rng.next_u64() as f64 / u64::MAX as f64) < p,
        }
    }
}

/// The fuel a mock call consumes.
#[derive(Clone)]
pub enum CostModel {
    /// `base` per call plus `per_byte` per input payload byte.
    Linear {
        /// Fuel per call.
        base: u64,
        /// Fuel per payload byte.
        per_byte: u64,
    },
    /// A function of the call and the payload length.
    Custom(std::sync::Arc<dyn Fn(Function, usize) -> u64 + Send + Sync>),
}

impl Default for CostModel {
    /// 100 fuel per call plus 1 per input payload byte, so that valid work
    /// never runs out of the default budget: a payload at the 16 MiB cap
    /// costs 16 777 316 fuel, a third of the default 50 000 000.
    ///
    /// What the Wasmtime backend charges for the fixtures the models mirror
    /// (Cranelift, fuel per call): `passthrough` 83, `filter` 88 and `sink`
    /// 94–107 whatever the payload's size (the payload is lent by handle;
    /// `read-all` copies it into the guest through the canonical ABI, which
    /// costs no fuel); `uppercase` 153 plus about 27 per byte (its guest
    /// loops over every byte), so on Wasmtime it runs out of the default
    /// budget past about 1.8 MiB. No one per-byte figure fits both kinds of
    /// guest: the base is the fixtures' order of magnitude, and 1 per byte
    /// keeps a virtual clock moving with the payload's size while a
    /// passthrough of any valid payload fits the budget. Model a guest that
    /// works on every byte with its own [`CostModel::Linear`] (`per_byte:
    /// 27` for `uppercase`) or a [`CostModel::Custom`].
    fn default() -> Self {
        Self::Linear {
            base: 100,
            per_byte: 1,
        }
    }
}

impl std::fmt::Debug for CostModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Linear { base, per_byte } => f
                .debug_struct("Linear")
                .field("base", base)
                .field("per_byte", per_byte)
                .finish(),
            Self::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl CostModel {
    /// The fuel of a call of `function` with a payload of `len` bytes.
    pub fn fuel(&self, function: Function, len: usize) -> u64 {
        match self {
            Self::Linear { base, per_byte } => {
                base.saturating_add(per_byte.saturating_mul(len as u64))
            }
            Self::Custom(f) => f(function, len),
        }
    }
}
