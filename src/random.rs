//! Randomness the engine hands to guests and uses for ids.
//!
//! Cold path. [`RandomSource::System`] is the default: guests get the
//! operating system's cryptographically secure generator. With
//! [`RandomSource::Seeded`], every instance gets a generator derived from
//! the seed and the instance's id ([`RandomSource::seed_for`]), so a run replays exactly;
//! that generator (SplitMix64) is **not** cryptographically secure: use it
//! for tests and simulation only.

/// Where guests' random bytes come from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum RandomSource {
    /// The operating system's secure generator (not reproducible).
    #[default]
    System,
    /// A generator seeded from this value (reproducible, not secure).
    Seeded(u64),
}

impl RandomSource {
    /// The seed of the instance (or other consumer) `name`'s generators:
    /// with [`RandomSource::Seeded`] it depends only on the seed and the
    /// name, not on creation order, so an instance replays the same
    /// whatever runs beside it; `None` for [`RandomSource::System`]. Both
    /// backends derive their instances' seeds here, so a mock instance and
    /// a Wasmtime instance of the same id and seed start from the same one.
    pub fn seed_for(&self, name: &str) -> Option<u64> {
        match self {
            Self::Seeded(seed) => Some(derive_seed(*seed, name)),
            Self::System => None,
        }
    }
}

/// A seed for a named consumer (an instance, a generator), from a root seed:
/// the same root and name always give the same seed, different names give
/// unrelated ones.
pub fn derive_seed(root: u64, name: &str) -> u64 {
    // FNV-1a over the name, mixed with the root through SplitMix64.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    SplitMix64::new(root ^ h).next_u64()
}

/// SplitMix64: a small, fast, seedable generator (Steele, Lea and Flood,
/// 2014). Every seed gives a full-period sequence.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

#[cfg(feature = "wasmtime-backend")]
impl rand_core::TryRng for SplitMix64 {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.next_u64() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.fill(dst);
        Ok(())
    }
}
