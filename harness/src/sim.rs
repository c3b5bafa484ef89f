//! The one source of non-determinism of a simulated run: a seeded
//! generator ([`SimRng`]), the `TORVYN_SIM_SEED` variable that picks the
//! seed, and a guard that prints how to replay a failing test.
//!
//! Everything a run invents comes from its [`SimRng`]: trace, span and flow
//! ids, generated inputs and (later) fault schedules. The engine's WASI
//! randomness comes from the same seed ([`torvyn_engine::RandomSource::Seeded`]),
//! and time from a virtual clock, so a run with the same seed replays
//! exactly.
//!
//! ```
//! use torvyn_harness::sim::{ReplayGuard, SimRng, seed_from_env};
//!
//! let seed = seed_from_env(); // TORVYN_SIM_SEED, else DEFAULT_SEED
//! let _guard = ReplayGuard::new(seed); // prints the seed if the test panics
//! let mut rng = SimRng::new(seed);
//! assert_eq!(rng.trace_id().len(), 32);
//! assert!(rng.flow_id().starts_with("flow-"));
//! ```

use torvyn_engine::{SplitMix64, derive_seed};

use crate::error::HarnessError;

/// The environment variable that chooses the seed of simulated runs
/// ([`seed_from_env`]).
pub const SEED_ENV: &str = "TORVYN_SIM_SEED";

/// The seed used when [`SEED_ENV`] is not set. Fixed (not random) so that a
/// plain `cargo test` always runs the same cases; set `TORVYN_SIM_SEED` to
/// explore others.
pub const DEFAULT_SEED: u64 = 0x7017_5EED;

/// A seeded generator (SplitMix64) for everything a simulated run invents.
///
/// Not cryptographically secure: for tests and simulation only.
#[derive(Clone, Debug)]
pub struct SimRng {
    seed: u64,
    inner: SplitMix64,
}

impl SimRng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            inner: SplitMix64::new(seed),
        }
    }

    /// The seed this generator started from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// An independent generator for a named consumer: the same seed and
    /// name always give the same stream, whatever else was drawn before.
    pub fn fork(&self, name: &str) -> SimRng {
        SimRng::new(derive_seed(self.seed, name))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        // Multiply-shift: unbiased enough for simulation, and stable.
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// A number in `lo..=hi` (`lo` when `hi < lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// `true` with probability `p` (clamped to 0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        let p = p.clamp(0.0, 1.0);
        let x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        self.inner.fill(buf);
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.fill(&mut v);
        v
    }

    /// `len` random lower-case ASCII letters and spaces.
    pub fn text(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz ";
        (0..len)
            .map(|_| char::from(ALPHABET[self.below(ALPHABET.len() as u64) as usize]))
            .collect()
    }

    /// `chars` random lower-case hex digits.
    pub fn hex(&mut self, chars: usize) -> String {
        let mut s = String::with_capacity(chars);
        while s.len() < chars {
            let word = format!("{:016x}", self.next_u64());
            let take = (chars - s.len()).min(16);
            s.push_str(&word[..take]);
        }
        s
    }

    /// A trace id: 32 hex characters (W3C trace-context size).
    pub fn trace_id(&mut self) -> String {
        self.hex(32)
    }

    /// A span id: 16 hex characters.
    pub fn span_id(&mut self) -> String {
        self.hex(16)
    }

    /// A flow id: `flow-` and 16 hex characters.
    pub fn flow_id(&mut self) -> String {
        format!("flow-{}", self.hex(16))
    }
}

/// Parses a seed: decimal (`42`) or hexadecimal with `0x` (`0x2a`);
/// surrounding spaces and `_` separators are ignored.
pub fn parse_seed(text: &str) -> Result<u64, HarnessError> {
    let t = text.trim().replace('_', "");
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse::<u64>(),
    };
    parsed.map_err(|e| HarnessError::InvalidScenario {
        scenario: SEED_ENV.into(),
        problem: format!(
            "seed `{text}` is not a u64 ({e}); write it in decimal (42) or hex (0x2a)"
        ),
    })
}

/// The seed named by `TORVYN_SIM_SEED`, if the variable is set.
pub fn seed_override_from_env() -> Result<Option<u64>, HarnessError> {
    match std::env::var(SEED_ENV) {
        Ok(v) if !v.trim().is_empty() => parse_seed(&v).map(Some),
        _ => Ok(None),
    }
}

/// The seed for a simulated run: `TORVYN_SIM_SEED` when set, else the fixed
/// [`DEFAULT_SEED`] (so plain test runs are reproducible without a
/// variable).
///
/// # Panics
///
/// When the variable is set to something that is not a u64: a test should
/// not silently run with another seed than the one asked for.
pub fn seed_from_env() -> u64 {
    match seed_override_from_env() {
        Ok(seed) => seed.unwrap_or(DEFAULT_SEED),
        Err(e) => panic!("{e}"),
    }
}

/// Prints `replay with TORVYN_SIM_SEED=<seed>` to stderr when dropped while
/// the thread is panicking, i.e. when the test holding it fails.
///
/// ```
/// let seed = torvyn_harness::sim::seed_from_env();
/// let _guard = torvyn_harness::sim::ReplayGuard::new(seed).with_label("my property");
/// // ... assertions using `seed` ...
/// ```
#[derive(Debug)]
#[must_use = "the guard prints the seed when it is dropped during a panic; bind it to a variable"]
pub struct ReplayGuard {
    seed: u64,
    label: Option<String>,
}

impl ReplayGuard {
    /// A guard for a run with `seed`.
    pub fn new(seed: u64) -> Self {
        Self { seed, label: None }
    }

    /// The same guard naming what was running (a scenario, a test).
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The seed it reports.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The line printed on failure.
    pub fn message(&self) -> String {
        match &self.label {
            Some(l) => format!("{l}: replay with {SEED_ENV}={}", self.seed),
            None => format!("replay with {SEED_ENV}={}", self.seed),
        }
    }
}

impl Drop for ReplayGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.message());
        }
    }
}

/// Resident memory of this process in bytes, from `/proc/self/statm`
/// (`None` where that file does not exist). Soak and fault-storm figures
/// are measured with it.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    let page_size = std::fs::read_to_string("/proc/self/smaps")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("KernelPageSize:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(4096, |kb| kb * 1024);
    Some(pages * page_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_ids() {
        let mut a = SimRng::new(9);
        let mut b = SimRng::new(9);
        assert_eq!(a.trace_id(), b.trace_id());
        assert_eq!(a.flow_id(), b.flow_id());
        let t = a.trace_id();
        assert_eq!(t.len(), 32);
        assert!(t.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.span_id().len(), 16);
        assert_eq!(a.flow_id().len(), 21);
        assert_ne!(SimRng::new(1).trace_id(), SimRng::new(2).trace_id());
    }

    #[test]
    fn forks_do_not_depend_on_what_was_drawn() {
        let a = SimRng::new(5);
        let mut b = SimRng::new(5);
        b.next_u64();
        assert_eq!(a.fork("x").next_u64(), b.fork("x").next_u64());
        assert_ne!(a.fork("x").next_u64(), a.fork("y").next_u64());
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = SimRng::new(3);
        for _ in 0..1000 {
            assert!(r.below(7) < 7);
            let v = r.range(10, 12);
            assert!((10..=12).contains(&v));
        }
        assert_eq!(r.below(0), 0);
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
        assert!(
            r.text(20)
                .bytes()
                .all(|c| c == b' ' || c.is_ascii_lowercase())
        );
    }

    #[test]
    fn seeds_parse_in_decimal_and_hex() {
        assert_eq!(parse_seed("42").unwrap(), 42);
        assert_eq!(parse_seed(" 0x2A ").unwrap(), 42);
        assert_eq!(parse_seed("1_000").unwrap(), 1000);
        let e = parse_seed("forty").unwrap_err().to_string();
        assert!(e.contains("TORVYN_SIM_SEED") && e.contains("forty"), "{e}");
    }
}
