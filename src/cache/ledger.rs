//! The cache directory's running counters ([`DirCounters`]): what every
//! process that used the directory did with it (hits, compiles, evictions,
//! rejected entries, incremental hits and misses), so `torvyn-sim cache
//! stats` can show them after the processes are gone.
//!
//! Cold path: a process adds its counts after each compile and when its
//! cache or engine is dropped, never on a hit. The file (`counters.json`)
//! is replaced atomically (temporary file, rename) while an advisory lock on
//! `counters.lock` is held, so two processes adding at once both count. A
//! damaged or unreadable file reads as zeros: these are statistics, never
//! trusted for anything else.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::AtomicU64;

use serde::{Deserialize, Serialize};

use super::disk::{create_private, temp_path};

/// The counters file in a cache directory.
pub const COUNTERS_FILE: &str = "counters.json";
/// The lock file serializing updates of [`COUNTERS_FILE`].
const LOCK_FILE: &str = "counters.lock";

/// What the processes using a cache directory did with it, since the
/// directory was created or last cleared ([`reset_counters`]); read with
/// [`read_counters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DirCounters {
    /// Compiled components loaded from a verified entry instead of compiled.
    pub disk_hits: u64,
    /// Components compiled (their entries written, or attempted).
    pub compiles: u64,
    /// Compiled-component entries removed to keep the directory under its
    /// size bound.
    pub evicted_entries: u64,
    /// Compiled-component entries rejected (damaged, truncated, foreign...)
    /// and compiled again.
    pub rejected_entries: u64,
    /// Functions the incremental store answered.
    pub incremental_hits: u64,
    /// Functions the incremental store did not have (compiled by Cranelift,
    /// then stored).
    pub incremental_misses: u64,
    /// Bytes of verified incremental entries read.
    pub incremental_bytes_read: u64,
    /// Bytes of incremental packs written.
    pub incremental_bytes_written: u64,
    /// Incremental packs removed to keep the directory under its size bound.
    pub evicted_packs: u64,
    /// Incremental entries or packs rejected (a digest or the pack's layout
    /// did not check out): never used, compiled again.
    pub rejected_incremental: u64,
}

impl DirCounters {
    /// Whether every counter is zero.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// Every field of `self` plus the same field of `other`.
    #[must_use]
    pub fn plus(&self, other: &Self) -> Self {
        Self {
            disk_hits: self.disk_hits + other.disk_hits,
            compiles: self.compiles + other.compiles,
            evicted_entries: self.evicted_entries + other.evicted_entries,
            rejected_entries: self.rejected_entries + other.rejected_entries,
            incremental_hits: self.incremental_hits + other.incremental_hits,
            incremental_misses: self.incremental_misses + other.incremental_misses,
            incremental_bytes_read: self.incremental_bytes_read + other.incremental_bytes_read,
            incremental_bytes_written: self.incremental_bytes_written
                + other.incremental_bytes_written,
            evicted_packs: self.evicted_packs + other.evicted_packs,
            rejected_incremental: self.rejected_incremental + other.rejected_incremental,
        }
    }
}

/// The file's contents.
#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    counters: DirCounters,
}

const VERSION: u32 = 1;

/// The counters of the cache directory `dir`: zeros when it has none yet
/// (or they are damaged).
///
/// # Errors
///
/// The I/O error of reading the file, other than its absence.
pub fn read_counters(dir: &Path) -> io::Result<DirCounters> {
    match fs::read(dir.join(COUNTERS_FILE)) {
        Ok(bytes) => Ok(parse(&bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(DirCounters::default()),
        Err(e) => Err(e),
    }
}

fn parse(bytes: &[u8]) -> DirCounters {
    serde_json::from_slice::<Stored>(bytes)
        .ok()
        .filter(|s| s.version == VERSION)
        .map(|s| s.counters)
        .unwrap_or_default()
}

/// Sets the counters of `dir` back to zero (removes the file). A missing
/// file or directory is zero already.
///
/// # Errors
///
/// The I/O error of removing the file.
pub fn reset_counters(dir: &Path) -> io::Result<()> {
    for name in [COUNTERS_FILE, LOCK_FILE] {
        match fs::remove_file(dir.join(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Adds `delta` to the counters of `dir`. Best effort: a failure loses
/// these counts and nothing else.
pub(crate) fn add(dir: &Path, delta: &DirCounters) {
    if delta.is_zero() {
        return;
    }
    let _ = try_add(dir, delta);
}

fn try_add(dir: &Path, delta: &DirCounters) -> io::Result<()> {
    static TEMPS: AtomicU64 = AtomicU64::new(0);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let lock: File = options.open(dir.join(LOCK_FILE))?;
    lock.lock()?;
    let current = read_counters(dir).unwrap_or_default();
    let stored = Stored {
        version: VERSION,
        counters: current.plus(delta),
    };
    let temp = temp_path(dir, "counters", &TEMPS);
    let result = (|| {
        let mut file = create_private(&temp)?;
        file.write_all(&serde_json::to_vec(&stored).map_err(io::Error::other)?)?;
        drop(file);
        fs::rename(&temp, dir.join(COUNTERS_FILE))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    // Dropping `lock` releases the lock.
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_up_and_reset() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_counters(dir.path()).unwrap().is_zero());
        let one = DirCounters {
            disk_hits: 1,
            incremental_hits: 10,
            ..DirCounters::default()
        };
        add(dir.path(), &one);
        add(dir.path(), &one);
        let read = read_counters(dir.path()).unwrap();
        assert_eq!((read.disk_hits, read.incremental_hits), (2, 20));
        std::fs::write(dir.path().join(COUNTERS_FILE), b"{not json").unwrap();
        assert!(
            read_counters(dir.path()).unwrap().is_zero(),
            "damaged: zeros"
        );
        add(dir.path(), &one);
        assert_eq!(read_counters(dir.path()).unwrap().disk_hits, 1);
        reset_counters(dir.path()).unwrap();
        assert!(read_counters(dir.path()).unwrap().is_zero());
        reset_counters(&dir.path().join("missing")).unwrap();
    }
}
