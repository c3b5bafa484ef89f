//! The incremental compilation store: Cranelift's per-function cache, kept
//! on disk beside the compiled-component cache and sealed and bounded like
//! it.
//!
//! The compiled-component cache is keyed by the whole component, so a
//! rebuilt component misses it although nearly every function is the same
//! as in the previous build. Cranelift's incremental cache keys each
//! function by a digest of its IR (and the target's flags) and keeps its
//! compiled code; [`IncrementalStore`] is where those entries live, for the
//! Wasmtime backend (`WasmtimeEngineConfig::incremental_cache`).
//!
//! Cold path: only compiles touch it. Entries are written in packs, one
//! per compile that produced new entries, in `<cache dir>/incremental/`:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | [`PACK_MAGIC`] |
//! | 8 | 4 | [`PACK_FORMAT_VERSION`], little-endian |
//! | 12 | 4 | entry count, little-endian |
//! | 16 | 8 | index length, little-endian |
//! | 24 | 8 | values length, little-endian |
//! | 32 | 32 | SHA-256 of the index |
//! | 64 | index | per entry: key length (u32 LE), key, value length (u32 LE), SHA-256 of the value |
//! | 64 + index | values | the values, in index order |
//!
//! A pack is named by the SHA-256 of its index (`<64 hex>.twip`) and
//! written like a compiled-component entry: temporary file, fsync, rename,
//! directory fsync. Opening the store reads only the packs' headers and
//! indexes (checking the layout and the index digest); a value is read when
//! Cranelift asks for it and its SHA-256 checked, on the very bytes handed
//! over, before Cranelift deserializes it into machine code. A value or pack
//! failing a check is never used: the lookup is a miss (Cranelift compiles
//! the function again), the rejection is counted, and the damaged pack is
//! removed.
//!
//! A compile that used entries of a pack refreshes the pack's modification
//! time; the directory's size bound (see [`super::CacheConfig::max_disk_bytes`])
//! removes the least recently used packs and compiled-component entries
//! first. A pack is the unit of eviction: the entries one compile created.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

#[cfg(feature = "wasmtime-backend")]
mod store;
#[cfg(feature = "wasmtime-backend")]
pub(crate) use store::IncrementalStore;

use super::DEFAULT_MAX_DISK_BYTES;
use super::disk::{CacheFile, DiskUsage, files_named};

/// The subdirectory of a cache directory that holds the incremental store.
pub const INCREMENTAL_DIR: &str = "incremental";
/// The file extension of incremental packs (`<64 hex>.twip`).
pub const PACK_EXTENSION: &str = "twip";
/// The first 8 bytes of every incremental pack.
pub const PACK_MAGIC: [u8; 8] = *b"TORVYNIP";
/// The pack format this version writes and reads.
pub const PACK_FORMAT_VERSION: u32 = 1;
/// The length of a pack's header, in bytes.
pub const PACK_HEADER_LEN: usize = 64;

/// The longest key accepted (Cranelift's are 32 bytes).
#[cfg_attr(not(feature = "wasmtime-backend"), expect(dead_code))]
const MAX_KEY_LEN: usize = 4096;
/// The largest value accepted: one function's compiled code and metadata.
#[cfg_attr(not(feature = "wasmtime-backend"), expect(dead_code))]
const MAX_VALUE_LEN: usize = 256 * 1024 * 1024;
/// The largest index read.
#[cfg_attr(not(feature = "wasmtime-backend"), expect(dead_code))]
const MAX_INDEX_LEN: u64 = 256 * 1024 * 1024;
/// Bytes of an index entry besides its key.
#[cfg_attr(not(feature = "wasmtime-backend"), expect(dead_code))]
const INDEX_ENTRY_FIXED: usize = 4 + 4 + 32;

/// Where the incremental compilation store lives and how large the cache
/// directory may grow; set it in
/// `WasmtimeEngineConfig::incremental_cache`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncrementalCacheConfig {
    /// The cache directory: the store lives in its [`INCREMENTAL_DIR`]
    /// subdirectory, beside the entries a
    /// [`super::CompiledComponentCache`] with the same directory writes.
    /// Created (mode 0700) if missing; refused if other users could write
    /// it.
    pub cache_dir: PathBuf,
    /// The most bytes the directory's compiled-component entries and
    /// incremental packs may take together; the least recently used are
    /// removed past it. `None` for no bound. Default
    /// [`DEFAULT_MAX_DISK_BYTES`].
    pub max_disk_bytes: Option<u64>,
}

impl IncrementalCacheConfig {
    /// The store in `cache_dir`, with the default bound.
    pub fn in_dir(cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            max_disk_bytes: Some(DEFAULT_MAX_DISK_BYTES),
        }
    }

    /// The directory holding the packs (`cache_dir/incremental`).
    pub fn store_dir(&self) -> PathBuf {
        self.cache_dir.join(INCREMENTAL_DIR)
    }
}

#[cfg_attr(not(feature = "wasmtime-backend"), expect(dead_code))]
pub(crate) fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

pub(crate) fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

#[cfg(unix)]
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

#[cfg(windows)]
pub(crate) fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file;
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

/// Whether `name` is `<64 hex>.twip`.
fn is_pack_name(name: &str) -> bool {
    name.strip_suffix(PACK_EXTENSION)
        .and_then(|stem| stem.strip_suffix('.'))
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The packs and temporary files in the store directory `dir`.
pub(crate) fn pack_files(dir: &Path) -> io::Result<Vec<CacheFile>> {
    files_named(dir, is_pack_name)
}

/// What an incremental store holds, from [`incremental_usage`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IncrementalUsage {
    /// Pack files.
    pub packs: u64,
    /// Entries in them (a function stored by two packs counts twice).
    pub entries: u64,
    /// Their size in bytes, plus that of temporary files being written.
    pub bytes: u64,
}

/// The packs of the incremental store in the cache directory `cache_dir`
/// (its [`INCREMENTAL_DIR`]), their entries (from each pack's header) and
/// size; all zero when there is none. Reads only: nothing is verified,
/// created or removed.
///
/// # Errors
///
/// The I/O error of reading the directory.
pub fn incremental_usage(cache_dir: &Path) -> io::Result<IncrementalUsage> {
    let files = match pack_files(&cache_dir.join(INCREMENTAL_DIR)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(IncrementalUsage::default()),
        other => other?,
    };
    let mut usage = IncrementalUsage::default();
    for f in files {
        usage.bytes += f.meta.len();
        if f.entry {
            usage.packs += 1;
            let mut header = [0u8; PACK_HEADER_LEN];
            if let Ok(file) = File::open(&f.path)
                && read_exact_at(&file, &mut header, 0).is_ok()
                && header[0..8] == PACK_MAGIC
            {
                usage.entries += u64::from(u32_at(&header, 12));
            }
        }
    }
    Ok(usage)
}

/// Removes every pack and temporary file of the incremental store in the
/// cache directory `cache_dir`, keeping the directories; returns what was
/// removed (`entries` counts packs). Safe while another process uses it: it
/// compiles again what it no longer finds.
///
/// # Errors
///
/// The first I/O error of reading the directory or removing a file.
pub fn clear_incremental(cache_dir: &Path) -> io::Result<DiskUsage> {
    let files = match pack_files(&cache_dir.join(INCREMENTAL_DIR)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(DiskUsage::default()),
        other => other?,
    };
    let mut removed = DiskUsage::default();
    for f in files {
        match fs::remove_file(&f.path) {
            Ok(()) => {
                removed.entries += u64::from(f.entry);
                removed.bytes += f.meta.len();
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_recognized() {
        assert!(is_pack_name(&format!("{}.twip", "ab".repeat(32))));
        assert!(!is_pack_name(&format!("{}.twcc", "ab".repeat(32))));
        assert!(!is_pack_name("x.twip"));
    }
}
