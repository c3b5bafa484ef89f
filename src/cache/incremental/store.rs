//! [`IncrementalStore`]: the packs of an incremental store, read lazily and
//! verified, and the entries Cranelift adds, written as a pack after each
//! compile. See the parent module for the format.

use crate::IncrementalStats;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::SystemTime;

use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

use super::{
    INDEX_ENTRY_FIXED, IncrementalCacheConfig, MAX_INDEX_LEN, MAX_KEY_LEN, MAX_VALUE_LEN,
    PACK_EXTENSION, PACK_FORMAT_VERSION, PACK_HEADER_LEN, PACK_MAGIC, pack_files, read_exact_at,
    u32_at, u64_at,
};
use crate::cache::bound;
use crate::cache::disk::{
    CacheFile, create_private, open_private_dir, remove_stale_temps, sync_dir, temp_path,
};
use crate::cache::ledger::{self, DirCounters};
use crate::cache::stats::{add, bump};
use crate::error::EngineError;

/// An entry stored by Cranelift, not written yet: key and value.
type Pending = (Box<[u8]>, Arc<[u8]>);

/// An entry of a pack's index: key and where its value is.
type Indexed = (Box<[u8]>, Place);

/// One pack file, open for reading.
#[derive(Debug)]
struct Pack {
    path: PathBuf,
    file: File,
    /// A lookup used one of its entries since the last flush.
    used: AtomicBool,
    /// A value failed its digest: removed at the next flush.
    damaged: AtomicBool,
}

/// Where an entry's value is.
#[derive(Clone, Debug)]
enum Loc {
    /// Stored by Cranelift in this process, not written yet.
    Pending(Arc<[u8]>),
    /// In a pack, at `offset`, `len` bytes with SHA-256 `digest`.
    Packed {
        pack: Arc<Pack>,
        offset: u64,
        len: u32,
        digest: [u8; 32],
    },
}

#[derive(Debug, Default)]
struct State {
    map: FxHashMap<Box<[u8]>, Loc>,
    packs: Vec<Arc<Pack>>,
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    bytes_read: AtomicU64,
    inserts: AtomicU64,
    packs_written: AtomicU64,
    bytes_written: AtomicU64,
    write_errors: AtomicU64,
    evicted_packs: AtomicU64,
    rejected: AtomicU64,
}

/// Cranelift's incremental cache entries in a cache directory: a key-value
/// store whose values are checked against their SHA-256 before they are
/// returned. Share it with an `Arc`; every method takes `&self`.
pub(crate) struct IncrementalStore {
    root: PathBuf,
    dir: PathBuf,
    max_bytes: Option<u64>,
    /// Loaded on first use: a command that finds its component in the
    /// compiled-component cache never reads the packs.
    state: OnceLock<RwLock<State>>,
    counters: Counters,
    /// What was last added to the directory's counters.
    recorded: Mutex<(IncrementalStats, DirCounters)>,
    /// One flush at a time.
    flushing: Mutex<()>,
    temps: AtomicU64,
}

impl fmt::Debug for IncrementalStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncrementalStore")
            .field("dir", &self.dir)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Why a pack or a value was refused (logged with `tracing-support`).
#[derive(Debug)]
struct Refused(#[cfg_attr(not(feature = "tracing-support"), expect(dead_code))] String);

fn refused(text: impl Into<String>) -> Refused {
    Refused(text.into())
}

impl IncrementalStore {
    /// Opens the store of `config`, creating its directories (mode 0700)
    /// if missing. Reads no pack yet.
    ///
    /// # Errors
    ///
    /// [`EngineError::CacheDir`] when a directory cannot be created, is not
    /// a directory, is writable by group or others, is owned by another
    /// user (root excepted), or this user cannot create files in it.
    pub fn open(config: &IncrementalCacheConfig) -> Result<Self, EngineError> {
        let dir = config.store_dir();
        open_private_dir(&config.cache_dir)?;
        open_private_dir(&dir)?;
        remove_stale_temps(&dir);
        Ok(Self {
            root: config.cache_dir.clone(),
            dir,
            max_bytes: config.max_disk_bytes,
            state: OnceLock::new(),
            counters: Counters::default(),
            recorded: Mutex::new(Default::default()),
            flushing: Mutex::new(()),
            temps: AtomicU64::new(0),
        })
    }

    fn state(&self) -> &RwLock<State> {
        self.state.get_or_init(|| RwLock::new(self.load()))
    }

    /// Reads the index of every pack, newest first (a key in several packs
    /// is read from the newest). Packs that fail a check are counted and
    /// removed.
    fn load(&self) -> State {
        let mut state = State::default();
        let Ok(files) = pack_files(&self.dir) else {
            return state;
        };
        let mut packs: Vec<CacheFile> = files.into_iter().filter(|f| f.entry).collect();
        packs.sort_by_key(|f| {
            std::cmp::Reverse(f.meta.modified().unwrap_or(SystemTime::UNIX_EPOCH))
        });
        for f in packs {
            match open_pack(&f.path) {
                Ok((pack, entries)) => {
                    let pack = Arc::new(pack);
                    for (key, loc) in entries {
                        state.map.entry(key).or_insert(Loc::Packed {
                            pack: Arc::clone(&pack),
                            offset: loc.offset,
                            len: loc.len,
                            digest: loc.digest,
                        });
                    }
                    state.packs.push(pack);
                }
                Err(Open::Unreadable(_e)) => {
                    bump(&self.counters.rejected);
                    #[cfg(feature = "tracing-support")]
                    tracing::warn!(pack = %f.path.display(), error = %_e, "cannot read an incremental pack");
                }
                Err(Open::Refused(_why)) => {
                    bump(&self.counters.rejected);
                    #[cfg(feature = "tracing-support")]
                    tracing::warn!(
                        pack = %f.path.display(),
                        reason = %_why.0,
                        "rejected an incremental pack; its functions are compiled again"
                    );
                    let _ = fs::remove_file(&f.path);
                }
            }
        }
        state
    }

    /// The verified value stored under `key`, if any.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let state = self.state();
        let loc = state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .get(key)
            .cloned();
        let value = match loc {
            None => None,
            Some(Loc::Pending(value)) => Some(value.to_vec()),
            Some(Loc::Packed {
                pack,
                offset,
                len,
                digest,
            }) => match read_value(&pack, offset, len, &digest) {
                Ok(value) => {
                    pack.used.store(true, Ordering::Relaxed);
                    Some(value)
                }
                Err(_why) => {
                    bump(&self.counters.rejected);
                    #[cfg(feature = "tracing-support")]
                    tracing::warn!(
                        pack = %pack.path.display(),
                        reason = %_why.0,
                        "rejected an incremental cache entry; compiling the function again"
                    );
                    pack.damaged.store(true, Ordering::Relaxed);
                    let mut state = state.write().unwrap_or_else(PoisonError::into_inner);
                    if let Some(Loc::Packed { pack: p, .. }) = state.map.get(key)
                        && Arc::ptr_eq(p, &pack)
                    {
                        state.map.remove(key);
                    }
                    None
                }
            },
        };
        match &value {
            Some(v) => {
                bump(&self.counters.hits);
                add(&self.counters.bytes_read, v.len() as u64);
            }
            None => bump(&self.counters.misses),
        }
        value
    }

    /// Stores `value` under `key` in memory; [`Self::flush`] writes it.
    /// `false` (not stored) for a key or value over the size limits.
    pub fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        if key.len() > MAX_KEY_LEN || value.len() > MAX_VALUE_LEN {
            return false;
        }
        self.state()
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .insert(key.into(), Loc::Pending(value.into()));
        bump(&self.counters.inserts);
        true
    }

    /// After a compile: writes the entries stored since the last flush as
    /// one pack, refreshes the packs whose entries were used, removes
    /// damaged packs, keeps the directory under its bound, and adds the
    /// counts to the directory's counters. Best effort: failures are
    /// counted, never returned.
    pub fn flush(&self) {
        let _one = self.flushing.lock().unwrap_or_else(PoisonError::into_inner);
        let mut written = None;
        if let Some(state) = self.state.get() {
            // Damaged packs go first: the pack about to be written may have
            // the same name (the same entries, compiled again).
            state
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .packs
                .retain(|pack| {
                    let damaged = pack.damaged.load(Ordering::Relaxed);
                    if damaged {
                        let _ = fs::remove_file(&pack.path);
                    }
                    !damaged
                });
            let mut pending: Vec<Pending> = state
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .map
                .iter()
                .filter_map(|(k, loc)| match loc {
                    Loc::Pending(v) => Some((k.clone(), Arc::clone(v))),
                    Loc::Packed { .. } => None,
                })
                .collect();
            pending.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            if !pending.is_empty() {
                match self.write_pack(&pending) {
                    Ok((pack, locs, bytes)) => {
                        let pack = Arc::new(pack);
                        let mut state = state.write().unwrap_or_else(PoisonError::into_inner);
                        for ((key, value), loc) in pending.iter().zip(locs) {
                            if let Some(slot) = state.map.get_mut(key)
                                && matches!(slot, Loc::Pending(v) if Arc::ptr_eq(v, value))
                            {
                                *slot = Loc::Packed {
                                    pack: Arc::clone(&pack),
                                    offset: loc.offset,
                                    len: loc.len,
                                    digest: loc.digest,
                                };
                            }
                        }
                        written = Some(pack.path.clone());
                        state.packs.push(pack);
                        bump(&self.counters.packs_written);
                        add(&self.counters.bytes_written, bytes);
                    }
                    Err(_e) => {
                        bump(&self.counters.write_errors);
                        #[cfg(feature = "tracing-support")]
                        tracing::warn!(dir = %self.dir.display(), error = %_e, "cannot write an incremental pack");
                    }
                }
            }
            let now = SystemTime::now();
            for pack in &state.read().unwrap_or_else(PoisonError::into_inner).packs {
                if pack.used.swap(false, Ordering::Relaxed)
                    && let Ok(f) = OpenOptions::new().write(true).open(&pack.path)
                {
                    let _ = f.set_modified(now);
                }
            }
        }
        let mut evicted = bound::Evicted::default();
        if let (Some(max), Some(keep)) = (self.max_bytes, &written) {
            evicted = bound::enforce(&self.root, max, keep);
            add(&self.counters.evicted_packs, evicted.packs);
        }
        self.record(evicted.entries);
    }

    /// Adds what happened since the last call to the directory's counters
    /// (`other_entries`: compiled-component entries this store evicted).
    fn record(&self, other_entries: u64) {
        let mut recorded = self.recorded.lock().unwrap_or_else(PoisonError::into_inner);
        let now = self.stats();
        let d = now.since(&recorded.0);
        let delta = DirCounters {
            incremental_hits: d.hits,
            incremental_misses: d.misses,
            incremental_bytes_read: d.bytes_read,
            incremental_bytes_written: d.bytes_written,
            evicted_packs: d.evicted_packs,
            rejected_incremental: d.rejected,
            evicted_entries: other_entries,
            ..DirCounters::default()
        };
        ledger::add(&self.root, &delta);
        recorded.0 = now;
        recorded.1 = recorded.1.plus(&delta);
    }

    /// Writes `entries` as a new pack; returns it opened for reading, the
    /// entries' places in it, and its size.
    fn write_pack(&self, entries: &[Pending]) -> io::Result<(Pack, Vec<Place>, u64)> {
        let mut index = Vec::with_capacity(entries.len() * (INDEX_ENTRY_FIXED + 32));
        let mut places = Vec::with_capacity(entries.len());
        let mut offset = 0u64;
        for (key, value) in entries {
            let digest: [u8; 32] = Sha256::digest(value).into();
            index.extend_from_slice(&(key.len() as u32).to_le_bytes());
            index.extend_from_slice(key);
            index.extend_from_slice(&(value.len() as u32).to_le_bytes());
            index.extend_from_slice(&digest);
            places.push(Place {
                offset,
                len: value.len() as u32,
                digest,
            });
            offset += value.len() as u64;
        }
        let values_len = offset;
        let index_digest: [u8; 32] = Sha256::digest(&index).into();
        let mut header = [0u8; PACK_HEADER_LEN];
        header[0..8].copy_from_slice(&PACK_MAGIC);
        header[8..12].copy_from_slice(&PACK_FORMAT_VERSION.to_le_bytes());
        header[12..16].copy_from_slice(&(entries.len() as u32).to_le_bytes());
        header[16..24].copy_from_slice(&(index.len() as u64).to_le_bytes());
        header[24..32].copy_from_slice(&values_len.to_le_bytes());
        header[32..64].copy_from_slice(&index_digest);
        let base = (PACK_HEADER_LEN + index.len()) as u64;
        for p in &mut places {
            p.offset += base;
        }
        let name = format!("{}.{PACK_EXTENSION}", hex(&index_digest));
        let path = self.dir.join(name);
        let temp = temp_path(&self.dir, "pack", &self.temps);
        let result = (|| {
            let mut out = BufWriter::with_capacity(1 << 20, create_private(&temp)?);
            out.write_all(&header)?;
            out.write_all(&index)?;
            for (_, value) in entries {
                out.write_all(value)?;
            }
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            drop(file);
            fs::rename(&temp, &path)?;
            sync_dir(&self.dir)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        let pack = Pack {
            file: File::open(&path)?,
            path,
            used: AtomicBool::new(false),
            damaged: AtomicBool::new(false),
        };
        Ok((pack, places, base + values_len))
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> IncrementalStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let c = &self.counters;
        IncrementalStats {
            hits: get(&c.hits),
            misses: get(&c.misses),
            bytes_read: get(&c.bytes_read),
            inserts: get(&c.inserts),
            packs_written: get(&c.packs_written),
            bytes_written: get(&c.bytes_written),
            write_errors: get(&c.write_errors),
            evicted_packs: get(&c.evicted_packs),
            rejected: get(&c.rejected),
            entries: self.state.get().map_or(0, |s| {
                s.read().unwrap_or_else(PoisonError::into_inner).map.len() as u64
            }),
        }
    }
}

impl Drop for IncrementalStore {
    fn drop(&mut self) {
        self.record(0);
    }
}

/// Where a value is in its pack.
#[derive(Clone, Copy, Debug)]
struct Place {
    offset: u64,
    len: u32,
    digest: [u8; 32],
}

enum Open {
    Unreadable(io::Error),
    Refused(Refused),
}

impl From<io::Error> for Open {
    fn from(e: io::Error) -> Self {
        Self::Unreadable(e)
    }
}

impl From<Refused> for Open {
    fn from(r: Refused) -> Self {
        Self::Refused(r)
    }
}

/// Opens the pack at `path` and reads its index, checking the header, the
/// layout and the index digest.
fn open_pack(path: &Path) -> Result<(Pack, Vec<Indexed>), Open> {
    let file = File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut header = [0u8; PACK_HEADER_LEN];
    if file_len < PACK_HEADER_LEN as u64 {
        return Err(refused(format!("{file_len} bytes, shorter than the header")).into());
    }
    read_exact_at(&file, &mut header, 0)?;
    let entries = parse_header(&header, file_len)?;
    let index_len = u64_at(&header, 16);
    let mut index = vec![0u8; usize::try_from(index_len).map_err(|_| refused("index too large"))?];
    read_exact_at(&file, &mut index, PACK_HEADER_LEN as u64)?;
    if Sha256::digest(&index)[..] != header[32..64] {
        return Err(refused("the index's SHA-256 differs from the header's").into());
    }
    let parsed = parse_index(
        &index,
        entries,
        PACK_HEADER_LEN as u64 + index_len,
        u64_at(&header, 24),
    )?;
    let pack = Pack {
        path: path.to_path_buf(),
        file,
        used: AtomicBool::new(false),
        damaged: AtomicBool::new(false),
    };
    Ok((pack, parsed))
}

/// Checks a pack header against the file's length; returns the entry
/// count.
fn parse_header(header: &[u8; PACK_HEADER_LEN], file_len: u64) -> Result<u32, Refused> {
    if header[0..8] != PACK_MAGIC {
        return Err(refused("not a torvyn incremental pack"));
    }
    let version = u32_at(header, 8);
    if version != PACK_FORMAT_VERSION {
        return Err(refused(format!(
            "format version {version}, this build reads {PACK_FORMAT_VERSION}"
        )));
    }
    let (index_len, values_len) = (u64_at(header, 16), u64_at(header, 24));
    if index_len > MAX_INDEX_LEN {
        return Err(refused(format!("an index of {index_len} bytes")));
    }
    let expected = (PACK_HEADER_LEN as u64)
        .checked_add(index_len)
        .and_then(|n| n.checked_add(values_len));
    if expected != Some(file_len) {
        return Err(refused(format!(
            "the header announces {index_len} index and {values_len} value bytes, the file has \
             {file_len} bytes in all"
        )));
    }
    Ok(u32_at(header, 12))
}

/// Parses a verified index: `count` entries whose values start at `base`
/// and take `values_len` bytes together.
fn parse_index(
    index: &[u8],
    count: u32,
    base: u64,
    values_len: u64,
) -> Result<Vec<Indexed>, Refused> {
    let mut out = Vec::with_capacity(count.min(1 << 20) as usize);
    let mut at = 0usize;
    let mut offset = base;
    for _ in 0..count {
        let key_len = index
            .get(at..at + 4)
            .map(|b| u32_at(b, 0) as usize)
            .ok_or_else(|| refused("the index ends inside an entry"))?;
        if key_len > MAX_KEY_LEN {
            return Err(refused(format!("a key of {key_len} bytes")));
        }
        let rest = index
            .get(at + 4..at + 4 + key_len + 4 + 32)
            .ok_or_else(|| refused("the index ends inside an entry"))?;
        let key: Box<[u8]> = rest[..key_len].into();
        let len = u32_at(rest, key_len);
        if len as usize > MAX_VALUE_LEN {
            return Err(refused(format!("a value of {len} bytes")));
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&rest[key_len + 4..]);
        out.push((
            key,
            Place {
                offset,
                len,
                digest,
            },
        ));
        offset += u64::from(len);
        at += INDEX_ENTRY_FIXED + key_len;
    }
    if at != index.len() {
        return Err(refused("the index is longer than its entries"));
    }
    if offset - base != values_len {
        return Err(refused(format!(
            "the entries' values take {} bytes, the header announces {values_len}",
            offset - base
        )));
    }
    Ok(out)
}

/// Reads one value and checks its digest.
fn read_value(pack: &Pack, offset: u64, len: u32, digest: &[u8; 32]) -> Result<Vec<u8>, Refused> {
    let mut value = vec![0u8; len as usize];
    read_exact_at(&pack.file, &mut value, offset)
        .map_err(|e| refused(format!("cannot read the value: {e}")))?;
    if Sha256::digest(&value)[..] != digest[..] {
        return Err(refused("the value's SHA-256 differs from the index's"));
    }
    Ok(value)
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::INCREMENTAL_DIR;

    fn store(dir: &Path, max: Option<u64>) -> IncrementalStore {
        IncrementalStore::open(&IncrementalCacheConfig {
            cache_dir: dir.to_path_buf(),
            max_disk_bytes: max,
        })
        .unwrap()
    }

    fn packs(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<_> = pack_files(&dir.join(INCREMENTAL_DIR))
            .unwrap()
            .into_iter()
            .filter(|f| f.entry)
            .map(|f| f.path)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn entries_round_trip_through_a_pack() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), None);
        assert_eq!(s.get(b"k1"), None);
        assert!(s.insert(b"k1", b"value one".to_vec()));
        assert!(s.insert(b"k2", vec![7; 1000]));
        assert_eq!(s.get(b"k1").as_deref(), Some(&b"value one"[..]), "pending");
        s.flush();
        assert_eq!(packs(dir.path()).len(), 1);
        let st = s.stats();
        assert_eq!(
            (st.hits, st.misses, st.inserts, st.packs_written),
            (1, 1, 2, 1)
        );
        drop(s);

        let s = store(dir.path(), None);
        assert_eq!(s.get(b"k2").as_deref(), Some(&[7; 1000][..]));
        assert_eq!(s.get(b"k1").as_deref(), Some(&b"value one"[..]));
        assert_eq!(s.get(b"k3"), None);
        s.flush();
        assert_eq!(packs(dir.path()).len(), 1, "nothing new, no pack");
        assert_eq!(s.stats().bytes_read, 1009);
        drop(s);
        let c = ledger::read_counters(dir.path()).unwrap();
        assert_eq!((c.incremental_hits, c.incremental_misses), (3, 2));
    }

    #[test]
    fn every_byte_of_a_pack_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), None);
        s.insert(b"key", b"compiled code".to_vec());
        s.flush();
        drop(s);
        let path = packs(dir.path()).remove(0);
        let good = fs::read(&path).unwrap();
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x04;
            fs::write(&path, &bad).unwrap();
            let s = store(dir.path(), None);
            assert_eq!(s.get(b"key"), None, "byte {at} flipped");
            assert_eq!(s.stats().rejected, 1, "byte {at}");
            s.flush();
            drop(s);
            assert!(
                packs(dir.path()).is_empty(),
                "byte {at}: the damaged pack is removed"
            );
        }
        for len in 0..good.len() {
            fs::write(&path, &good[..len]).unwrap();
            let s = store(dir.path(), None);
            assert_eq!(s.get(b"key"), None, "{len} bytes");
            assert_eq!(s.stats().rejected, 1, "{len} bytes");
        }
    }
}
