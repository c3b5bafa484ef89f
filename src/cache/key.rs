//! Cache keys and engine fingerprints, both SHA-256 digests.
//!
//! Hot path of every lookup: a [`CacheKey`] costs one SHA-256 pass over the
//! component bytes. [`FingerprintHasher`] is used once per engine (cold) to
//! turn the `Hash` values describing its code-generation settings into a
//! 32-byte fingerprint.

use std::fmt;
use std::hash::Hasher;

use sha2::{Digest, Sha256};

/// Domain separation for cache keys, so a key can never equal another
/// SHA-256 this crate computes over the same bytes.
const KEY_DOMAIN: &[u8] = b"torvyn-engine compiled-component cache key v1\0";

/// What the bytes of a cached component are; part of the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SourceKind {
    /// The component's binary encoding.
    Binary = 0,
    /// WebAssembly text describing a component.
    Wat = 1,
}

/// Identifies one compiled component: SHA-256 over the engine fingerprint
/// and the component bytes. Two engines with different fingerprints never
/// produce the same key for the same bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    /// The key of the binary component `bytes` compiled by an engine with
    /// `fingerprint`.
    pub fn for_component(fingerprint: &[u8; 32], bytes: &[u8]) -> Self {
        Self::derive(fingerprint, SourceKind::Binary, bytes)
    }

    pub(crate) fn derive(fingerprint: &[u8; 32], kind: SourceKind, bytes: &[u8]) -> Self {
        let mut sha = Sha256::new();
        sha.update(KEY_DOMAIN);
        sha.update(fingerprint);
        sha.update([kind as u8]);
        sha.update((bytes.len() as u64).to_le_bytes());
        sha.update(bytes);
        Self(sha.finalize().into())
    }

    /// A key from its 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key's 32 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as 64 lower-case hex characters (the disk entry's file stem).
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    /// Parses 64 hex characters (either case); `None` for anything else.
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.as_bytes();
        if text.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
            let digit = |c: u8| (c as char).to_digit(16);
            *byte = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({self})")
    }
}

/// A [`std::hash::Hasher`] that writes everything into a SHA-256, for
/// building [`crate::WasmEngine::fingerprint`]s out of `Hash` values (such
/// as Wasmtime's `Engine::precompile_compatibility_hash`).
///
/// Integers are written little-endian and `usize`/`isize` as 64 bits, so the
/// digest depends only on the values hashed, never on the host. The `Hash`
/// values fed to it must be deterministic (no random seeds, no hash-map
/// iteration order) for the fingerprint to be stable across processes.
///
/// ```
/// use std::hash::Hash;
/// use torvyn_engine::cache::FingerprintHasher;
///
/// let mut h = FingerprintHasher::new("my-backend");
/// "v1.2.3".hash(&mut h);
/// 4096u64.hash(&mut h);
/// let fingerprint: [u8; 32] = h.digest();
/// assert_ne!(fingerprint, FingerprintHasher::new("other-backend").digest());
/// ```
#[derive(Clone)]
pub struct FingerprintHasher {
    sha: Sha256,
}

impl FingerprintHasher {
    /// A hasher separated by `domain` (name the backend): hashers with
    /// different domains never produce the same digest for the same values.
    pub fn new(domain: &str) -> Self {
        let mut sha = Sha256::new();
        sha.update(b"torvyn-engine fingerprint v1\0");
        sha.update((domain.len() as u64).to_le_bytes());
        sha.update(domain.as_bytes());
        Self { sha }
    }

    /// The SHA-256 of everything written so far.
    pub fn digest(self) -> [u8; 32] {
        self.sha.finalize().into()
    }
}

impl fmt::Debug for FingerprintHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FingerprintHasher").finish_non_exhaustive()
    }
}

impl Hasher for FingerprintHasher {
    /// The first 8 bytes of the digest so far (`Hasher` requires a `u64`;
    /// use [`FingerprintHasher::digest`] for the full 32 bytes).
    fn finish(&self) -> u64 {
        let digest = self.sha.clone().finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.sha.update(bytes);
    }

    fn write_u8(&mut self, i: u8) {
        self.sha.update([i]);
    }

    fn write_u16(&mut self, i: u16) {
        self.sha.update(i.to_le_bytes());
    }

    fn write_u32(&mut self, i: u32) {
        self.sha.update(i.to_le_bytes());
    }

    fn write_u64(&mut self, i: u64) {
        self.sha.update(i.to_le_bytes());
    }

    fn write_u128(&mut self, i: u128) {
        self.sha.update(i.to_le_bytes());
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    fn write_i8(&mut self, i: i8) {
        self.write_u8(i as u8);
    }

    fn write_i16(&mut self, i: i16) {
        self.write_u16(i as u16);
    }

    fn write_i32(&mut self, i: i32) {
        self.write_u32(i as u32);
    }

    fn write_i64(&mut self, i: i64) {
        self.write_u64(i as u64);
    }

    fn write_i128(&mut self, i: i128) {
        self.write_u128(i as u128);
    }

    fn write_isize(&mut self, i: isize) {
        self.write_u64(i as i64 as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let key = CacheKey::for_component(&[7; 32], b"component");
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(CacheKey::from_hex(&hex), Some(key));
        assert_eq!(CacheKey::from_hex(&hex.to_uppercase()), Some(key));
        assert_eq!(CacheKey::from_hex(&hex[1..]), None);
        assert_eq!(CacheKey::from_hex(&format!("g{}", &hex[1..])), None);
        assert_eq!(CacheKey::from_hex(&format!("+{}", &hex[1..])), None);
    }

    #[test]
    fn keys_separate_fingerprints_kinds_and_bytes() {
        let a = CacheKey::derive(&[0; 32], SourceKind::Binary, b"x");
        assert_ne!(a, CacheKey::derive(&[1; 32], SourceKind::Binary, b"x"));
        assert_ne!(a, CacheKey::derive(&[0; 32], SourceKind::Wat, b"x"));
        assert_ne!(a, CacheKey::derive(&[0; 32], SourceKind::Binary, b"y"));
        assert_eq!(a, CacheKey::for_component(&[0; 32], b"x"));
    }

    #[test]
    fn the_hasher_is_host_independent() {
        use std::hash::Hash;
        let mut a = FingerprintHasher::new("d");
        7usize.hash(&mut a);
        let mut b = FingerprintHasher::new("d");
        7u64.hash(&mut b);
        assert_eq!(a.finish(), b.finish());
        assert_eq!(a.digest(), b.digest());
    }
}
