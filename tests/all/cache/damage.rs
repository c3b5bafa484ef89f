//! Damaged entries: flipped bits, truncation, foreign keys, odd files, any bytes.

use super::*;

/// A disk-only cache with one valid uppercase entry, and a copy of it.
struct Damage {
    _dir: tempfile::TempDir,
    spy: Spy,
    cache: CompiledComponentCache<Spy>,
    key: CacheKey,
    path: PathBuf,
    golden: Vec<u8>,
}

impl Damage {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let spy = Spy::new(engine(CompilationStrategy::Winch));
        let cache = CompiledComponentCache::new(spy.clone(), disk_only(dir.path())).unwrap();
        let key = cache.get_or_compile(&UPPERCASE).unwrap().key;
        let path = cache.entry_path(&key).unwrap();
        let golden = std::fs::read(&path).unwrap();
        assert!(golden.len() > HEADER_LEN);
        assert_eq!(&golden[..8], &MAGIC);
        assert_eq!(golden[8..12], FORMAT_VERSION.to_le_bytes());
        assert_eq!(&golden[12..44], key.as_bytes());
        Self {
            _dir: dir,
            spy,
            cache,
            key,
            path,
            golden,
        }
    }

    /// Puts `bytes` at the entry path, checks the lookup rejects it for one
    /// of `expected`, removes it, compiles again, and leaves a valid entry.
    #[track_caller]
    fn check(&self, bytes: &[u8], expected: &[RejectReason], what: &str) {
        std::fs::write(&self.path, bytes).unwrap();
        self.check_in_place(expected, what);
    }

    #[track_caller]
    fn check_in_place(&self, expected: &[RejectReason], what: &str) {
        let before = self.cache.stats();
        let out = self.cache.get_or_compile(&UPPERCASE).unwrap();
        let after = self.cache.stats();
        assert_eq!(out.tier, CacheTier::Compiled, "{what}: recompiled");
        assert_eq!(after.compiles, before.compiles + 1, "{what}");
        assert_eq!(
            after.rejected.total(),
            before.rejected.total() + 1,
            "{what}"
        );
        let reason = RejectReason::ALL
            .into_iter()
            .find(|r| after.rejected.get(*r) > before.rejected.get(*r))
            .unwrap();
        assert!(
            expected.contains(&reason),
            "{what}: rejected as {reason}, expected one of {expected:?}"
        );
        assert!(
            std::fs::symlink_metadata(&self.path).unwrap().is_file(),
            "{what}: the bad entry was replaced by a valid one"
        );
        assert_eq!(
            self.cache.get_or_compile(&UPPERCASE).unwrap().tier,
            CacheTier::Disk,
            "{what}: the rewritten entry is valid"
        );
        assert_eq!(
            self.spy.foreign().len(),
            0,
            "{what}: unverified bytes deserialized"
        );
    }
}

#[test]
fn a_flipped_bit_anywhere_is_detected() {
    use RejectReason::*;
    let d = Damage::new();
    assert_eq!(
        d.cache.get_or_compile(&UPPERCASE).unwrap().tier,
        CacheTier::Disk
    );
    let flip = |at: usize, bit: u8| {
        let mut bytes = d.golden.clone();
        bytes[at] ^= 1 << bit;
        bytes
    };
    // Every byte of the header, one bit each.
    for at in 0..HEADER_LEN {
        let expected: &[RejectReason] = match at {
            0..8 => &[BadMagic],
            8..12 => &[BadVersion],
            12..44 => &[WrongKey],
            44..52 => &[Truncated, LengthMismatch],
            _ => &[DigestMismatch],
        };
        d.check(
            &flip(at, (at % 8) as u8),
            expected,
            &format!("header byte {at}"),
        );
    }
    // A spread over the payload, including its first and last bytes.
    let payload = d.golden.len() - HEADER_LEN;
    for i in 0..24 {
        let at = HEADER_LEN + i * (payload - 1) / 23;
        d.check(
            &flip(at, (i % 8) as u8),
            &[DigestMismatch],
            &format!("payload byte {at}"),
        );
    }
    let stats = d.cache.stats();
    assert_eq!(stats.rejected.get(BadMagic), 8);
    assert_eq!(stats.rejected.get(BadVersion), 4);
    assert_eq!(stats.rejected.get(WrongKey), 32);
    assert_eq!(stats.rejected.get(DigestMismatch), 32 + 24);
    assert_eq!(
        stats.rejected.get(Truncated) + stats.rejected.get(LengthMismatch),
        8
    );
}

#[test]
fn truncation_at_any_length_is_detected() {
    let d = Damage::new();
    d.check(&[], &[RejectReason::Empty], "a zero-length file");
    for len in 1..HEADER_LEN {
        d.check(
            &d.golden[..len],
            &[RejectReason::Truncated],
            &format!("{len} bytes"),
        );
    }
    let payload = d.golden.len() - HEADER_LEN;
    for i in 0..32 {
        let len = HEADER_LEN + i * (payload - 1) / 31;
        d.check(
            &d.golden[..len],
            &[RejectReason::Truncated],
            &format!("{len} bytes"),
        );
    }
    let mut longer = d.golden.clone();
    longer.extend_from_slice(b"trailing");
    d.check(&longer, &[RejectReason::LengthMismatch], "trailing bytes");
    let stats = d.cache.stats();
    assert_eq!(stats.rejected.get(RejectReason::Empty), 1);
    assert_eq!(
        stats.rejected.get(RejectReason::Truncated),
        (HEADER_LEN - 1 + 32) as u64
    );
}

#[test]
fn an_entry_for_another_key_is_refused() {
    let d = Damage::new();
    // A valid entry for passthrough, copied to uppercase's path.
    let other = d.cache.get_or_compile(&PASSTHROUGH).unwrap();
    assert_ne!(other.key, d.key);
    let other_entry = std::fs::read(d.cache.entry_path(&other.key).unwrap()).unwrap();
    d.check(
        &other_entry,
        &[RejectReason::WrongKey],
        "passthrough's entry",
    );
    // And uppercase's entry copied to passthrough's path.
    let other_path = d.cache.entry_path(&other.key).unwrap();
    std::fs::write(&other_path, &d.golden).unwrap();
    let out = d.cache.get_or_compile(&PASSTHROUGH).unwrap();
    assert_eq!(out.tier, CacheTier::Compiled);
    assert_eq!(d.cache.stats().rejected.get(RejectReason::WrongKey), 2);
    assert_eq!(d.spy.foreign().len(), 0);
}

#[test]
fn a_directory_or_a_link_where_an_entry_should_be() {
    let d = Damage::new();
    std::fs::remove_file(&d.path).unwrap();
    std::fs::create_dir(&d.path).unwrap();
    std::fs::write(d.path.join("inside"), b"x").unwrap();
    d.check_in_place(&[RejectReason::NotAFile], "a directory");
    #[cfg(unix)]
    {
        let elsewhere = d._dir.path().join("elsewhere");
        std::fs::write(&elsewhere, &d.golden).unwrap();
        std::fs::remove_file(&d.path).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &d.path).unwrap();
        d.check_in_place(&[RejectReason::NotAFile], "a symlink");
        assert!(elsewhere.exists(), "the link is removed, not its target");
    }
}

#[test]
fn a_sealed_entry_the_engine_refuses_is_removed() {
    // Integrity, not authenticity: an entry sealed over garbage passes the
    // digest, and the engine's own checks must catch it.
    let d = Damage::new();
    let garbage = b"definitely not machine code".to_vec();
    let mut entry = Vec::new();
    entry.extend_from_slice(&MAGIC);
    entry.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    entry.extend_from_slice(d.key.as_bytes());
    entry.extend_from_slice(&(garbage.len() as u64).to_le_bytes());
    entry.extend_from_slice(&Sha256::digest(&garbage));
    entry.extend_from_slice(&garbage);
    std::fs::write(&d.path, &entry).unwrap();
    let out = d.cache.get_or_compile(&UPPERCASE).unwrap();
    assert_eq!(out.tier, CacheTier::Compiled);
    assert_eq!(
        d.cache
            .stats()
            .rejected
            .get(RejectReason::DeserializeFailed),
        1
    );
    assert_eq!(d.spy.foreign(), [garbage], "only the sealed bytes");
    assert_eq!(
        d.cache.get_or_compile(&UPPERCASE).unwrap().tier,
        CacheTier::Disk
    );
}

#[test]
fn too_large_entries_are_rejected_unread() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(CompilationStrategy::Winch);
    let cache = CompiledComponentCache::new(e.clone(), disk_only(dir.path())).unwrap();
    let key = cache.get_or_compile(&UPPERCASE).unwrap().key;
    let size = std::fs::metadata(cache.entry_path(&key).unwrap())
        .unwrap()
        .len();
    let small = CompiledComponentCache::new(
        e,
        CacheConfig {
            max_entry_bytes: size - HEADER_LEN as u64 - 1,
            ..disk_only(dir.path())
        },
    )
    .unwrap();
    assert_eq!(
        small.get_or_compile(&UPPERCASE).unwrap().tier,
        CacheTier::Compiled
    );
    let stats = small.stats();
    assert_eq!(stats.rejected.get(RejectReason::TooLarge), 1);
    assert_eq!(
        stats.disk_write_errors, 1,
        "nor is a too-large artifact written"
    );
    assert!(!cache.entry_path(&key).unwrap().exists());
}

/// Entry files to try: random bytes, and a valid entry damaged in the ways
/// a disk or a writer can damage it.
fn damaged(golden: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = golden.len();
    let (g1, g2, g3, g4) = (golden.clone(), golden.clone(), golden.clone(), golden);
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        // bit flips
        proptest::collection::vec((0..len, 0..8u8), 1..4).prop_map(move |flips| {
            let mut b = g1.clone();
            for (at, bit) in flips {
                b[at] ^= 1 << bit;
            }
            b
        }),
        // truncation
        (0..len).prop_map(move |n| g2[..n].to_vec()),
        // the header with another payload, or the payload with another header
        proptest::collection::vec(any::<u8>(), 0..256).prop_map(move |tail| {
            let mut b = g3[..HEADER_LEN].to_vec();
            b.extend(tail);
            b
        }),
        proptest::collection::vec(any::<u8>(), HEADER_LEN..HEADER_LEN + 1).prop_map(move |head| {
            let mut b = head;
            b.extend_from_slice(&g4[HEADER_LEN..]);
            b
        }),
    ]
}

#[test]
fn arbitrary_entry_bytes_never_reach_deserialize() {
    use proptest::test_runner::{Config, TestRunner};
    let d = Damage::new();
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&damaged(d.golden.clone()), |bytes| {
            std::fs::write(&d.path, &bytes).unwrap();
            let before = d.cache.stats();
            let out = d.cache.get_or_compile(&UPPERCASE).unwrap();
            let after = d.cache.stats();
            prop_assert_eq!(
                d.spy.foreign().len(),
                0,
                "unverified bytes were deserialized"
            );
            if bytes == d.golden {
                prop_assert_eq!(out.tier, CacheTier::Disk);
            } else {
                prop_assert_eq!(out.tier, CacheTier::Compiled);
                prop_assert_eq!(after.rejected.total(), before.rejected.total() + 1);
            }
            prop_assert_eq!(
                d.cache.get_or_compile(&UPPERCASE).unwrap().tier,
                CacheTier::Disk
            );
            Ok(())
        })
        .unwrap();
    assert!(d.spy.deserialized() >= 64, "verified entries were loaded");
}
