//! The disk tier: one sealed file per compiled component in a private
//! directory.
//!
//! Cold path (a disk hit replaces a compile). An entry is
//! `<64 hex key>.twcc`, a fixed header followed by the serialized artifact:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | [`MAGIC`] |
//! | 8 | 4 | [`FORMAT_VERSION`], little-endian |
//! | 12 | 32 | the [`CacheKey`] |
//! | 44 | 8 | payload length, little-endian |
//! | 52 | 32 | SHA-256 of the payload |
//! | 84 | n | the payload (the engine's serialized artifact) |
//!
//! Writes go to a temporary file in the same directory, are fsynced, renamed
//! over the entry and the directory fsynced: a crash or a concurrent process
//! sees the old entry, the new one, or none, never a partial one. Reads check
//! the header and the digest of the bytes in memory before anything reaches
//! `unsafe` deserialization, so what is verified is exactly what is loaded.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::bound::Evicted;
use super::key::CacheKey;
use super::stats::RejectReason;
use crate::error::EngineError;

/// The first 8 bytes of every disk entry.
pub const MAGIC: [u8; 8] = *b"TORVYNCC";
/// The disk entry format this version writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The length of a disk entry's header, in bytes.
pub const HEADER_LEN: usize = 8 + 4 + 32 + 8 + 32;
/// The file extension of disk entries (`<64 hex key>.twcc`).
pub const ENTRY_EXTENSION: &str = "twcc";

/// The name prefix of temporary files being written (entries, packs, the
/// counters file).
pub(crate) const TEMP_PREFIX: &str = ".tmp-";
/// Temporary files older than this are left over from a crash and removed.
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// A disk entry that passed every check; holds the whole file.
pub(crate) struct Verified {
    file: Vec<u8>,
}

impl Verified {
    /// The verified artifact.
    pub fn payload(&self) -> &[u8] {
        &self.file[HEADER_LEN..]
    }
}

/// Why an entry was refused, with details for logs.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub reason: RejectReason,
    pub detail: String,
}

fn reject(reason: RejectReason, detail: impl Into<String>) -> Rejection {
    Rejection {
        reason,
        detail: detail.into(),
    }
}

/// The cache directory.
pub(crate) struct DiskTier {
    dir: PathBuf,
    max_bytes: Option<u64>,
    max_entry_bytes: u64,
    temp_counter: AtomicU64,
}

impl DiskTier {
    /// Opens `dir`, creating it (mode 0700) if missing, and refuses it if
    /// other users could plant entries in it.
    pub fn open(
        dir: PathBuf,
        max_bytes: Option<u64>,
        max_entry_bytes: u64,
    ) -> Result<Self, EngineError> {
        open_private_dir(&dir)?;
        let tier = Self {
            dir,
            max_bytes,
            max_entry_bytes,
            temp_counter: AtomicU64::new(0),
        };
        remove_stale_temps(&tier.dir);
        Ok(tier)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the entry for `key` lives.
    pub fn entry_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{key}.{ENTRY_EXTENSION}"))
    }

    fn temp_path(&self, tag: &str) -> PathBuf {
        temp_path(&self.dir, tag, &self.temp_counter)
    }

    /// Reads and verifies the entry for `key`: `Ok(None)` when there is
    /// none.
    pub fn read(&self, key: &CacheKey) -> Result<Option<Verified>, Rejection> {
        let path = self.entry_path(key);
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(reject(RejectReason::Unreadable, e.to_string())),
        };
        if !meta.file_type().is_file() {
            return Err(reject(
                RejectReason::NotAFile,
                format!("the entry is a {:?}", meta.file_type()),
            ));
        }
        let limit = self.max_entry_bytes.saturating_add(HEADER_LEN as u64);
        if meta.len() > limit {
            return Err(reject(
                RejectReason::TooLarge,
                format!("{} bytes, over the limit of {limit}", meta.len()),
            ));
        }
        let file =
            File::open(&path).map_err(|e| reject(RejectReason::Unreadable, e.to_string()))?;
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        // Read at most one byte past the limit, whatever the file does
        // after the `stat` above.
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| reject(RejectReason::Unreadable, e.to_string()))?;
        if bytes.len() as u64 > limit {
            return Err(reject(RejectReason::TooLarge, "the file grew while read"));
        }
        verify(key, bytes).map(Some)
    }

    /// Refreshes the entry's modification time, so size-bound eviction
    /// removes the least recently used entries first. Best effort.
    pub fn touch(&self, key: &CacheKey) {
        if let Ok(f) = OpenOptions::new().write(true).open(self.entry_path(key)) {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// Removes whatever is at the entry path for `key` (a file, or a
    /// directory that took its place). Best effort.
    pub fn discard(&self, key: &CacheKey) {
        let path = self.entry_path(key);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_dir() => {
                let _ = fs::remove_dir_all(&path);
            }
            Ok(_) => {
                let _ = fs::remove_file(&path);
            }
            Err(_) => {}
        }
    }

    /// Writes the entry for `key` atomically (temporary file, fsync,
    /// rename, directory fsync).
    pub fn write(&self, key: &CacheKey, payload: &[u8]) -> io::Result<()> {
        if payload.len() as u64 > self.max_entry_bytes {
            return Err(io::Error::other(format!(
                "the artifact ({} bytes) is over the limit per entry ({} bytes)",
                payload.len(),
                self.max_entry_bytes
            )));
        }
        let header = seal(key, payload);
        let temp = self.temp_path(&key.to_string());
        let result = (|| {
            let mut file = create_private(&temp)?;
            file.write_all(&header)?;
            file.write_all(payload)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&temp, self.entry_path(key))?;
            sync_dir(&self.dir)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    /// Removes the least recently used files of the cache directory (this
    /// tier's entries and the incremental store's packs beside them, by
    /// modification time) until they fit the size bound, never `keep`'s
    /// entry. Returns what was removed.
    pub fn enforce_limit(&self, keep: &CacheKey) -> Evicted {
        let Some(max) = self.max_bytes else {
            return Evicted::default();
        };
        let evicted = super::bound::enforce(&self.dir, max, &self.entry_path(keep));
        remove_stale_temps(&self.dir);
        evicted
    }
}

/// Removes temporary files a crashed writer left in `dir`.
pub(crate) fn remove_stale_temps(dir: &Path) {
    let Ok(files) = cache_files(dir) else {
        return;
    };
    let now = SystemTime::now();
    for f in files.into_iter().filter(|f| !f.entry) {
        let stale = f
            .meta
            .modified()
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > STALE_TEMP_AGE);
        if stale {
            let _ = fs::remove_file(&f.path);
        }
    }
}

/// A new temporary file name in `dir`, unique to this process and
/// `counter`.
pub(crate) fn temp_path(dir: &Path, tag: &str, counter: &AtomicU64) -> PathBuf {
    let n = counter.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("{TEMP_PREFIX}{tag}-{}-{n}", std::process::id()))
}

/// What a disk tier's directory holds, from [`disk_usage`] or
/// [`clear_disk`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskUsage {
    /// Entry files (`<64 hex key>.twcc`).
    pub entries: u64,
    /// Their size in bytes, plus that of temporary files being written.
    pub bytes: u64,
}

/// A regular file of a disk tier's directory that a cache wrote.
pub(crate) struct CacheFile {
    pub path: PathBuf,
    /// An entry (`<64 hex key>.twcc`), else a temporary file being written.
    pub entry: bool,
    pub meta: fs::Metadata,
}

/// The regular files of `dir` a cache wrote (entries and temporary files):
/// the one scan of a tier's directory, for eviction, stale temporaries,
/// [`disk_usage`] and [`clear_disk`]. Links, directories, other files and
/// items that vanish while being read are left out.
pub(crate) fn cache_files(dir: &Path) -> io::Result<Vec<CacheFile>> {
    files_named(dir, is_entry_name)
}

/// The regular files of `dir` whose names `is_entry` accepts, and the
/// temporary files being written there.
pub(crate) fn files_named(dir: &Path, is_entry: fn(&str) -> bool) -> io::Result<Vec<CacheFile>> {
    let mut files = Vec::new();
    for item in fs::read_dir(dir)?.flatten() {
        let name = item.file_name();
        let Some(name) = name.to_str() else { continue };
        let entry = is_entry(name);
        if !entry && !name.starts_with(TEMP_PREFIX) {
            continue;
        }
        let Ok(meta) = fs::symlink_metadata(item.path()) else {
            continue;
        };
        if meta.file_type().is_file() {
            files.push(CacheFile {
                path: item.path(),
                entry,
                meta,
            });
        }
    }
    Ok(files)
}

/// The entries in the disk tier directory `dir`, and their size; all zero
/// when `dir` does not exist. Reads the directory only: nothing is
/// verified, created or removed.
///
/// # Errors
///
/// The I/O error of reading the directory.
pub fn disk_usage(dir: &Path) -> io::Result<DiskUsage> {
    let files = match cache_files(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(DiskUsage::default()),
        other => other?,
    };
    Ok(files.iter().fold(DiskUsage::default(), |u, f| DiskUsage {
        entries: u.entries + u64::from(f.entry),
        bytes: u.bytes + f.meta.len(),
    }))
}

/// Removes every entry and temporary file from the disk tier directory
/// `dir`, keeping the directory and any other file in it; returns what was
/// removed. A missing `dir` is empty already. Safe while another process
/// uses the directory: it compiles again what it no longer finds.
///
/// # Errors
///
/// The first I/O error of reading the directory or removing a file.
pub fn clear_disk(dir: &Path) -> io::Result<DiskUsage> {
    let files = match cache_files(dir) {
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

/// Whether `name` is `<64 hex>.twcc`.
fn is_entry_name(name: &str) -> bool {
    name.strip_suffix(ENTRY_EXTENSION)
        .and_then(|stem| stem.strip_suffix('.'))
        .is_some_and(|hex| CacheKey::from_hex(hex).is_some())
}

/// The header sealing `payload` under `key`.
fn seal(key: &CacheKey, payload: &[u8]) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[0..8].copy_from_slice(&MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[12..44].copy_from_slice(key.as_bytes());
    header[44..52].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    header[52..84].copy_from_slice(&Sha256::digest(payload));
    header
}

/// Checks a whole entry file read into memory.
fn verify(key: &CacheKey, file: Vec<u8>) -> Result<Verified, Rejection> {
    if file.is_empty() {
        return Err(reject(RejectReason::Empty, "the file is empty"));
    }
    let Some(header) = file.get(..HEADER_LEN) else {
        return Err(reject(
            RejectReason::Truncated,
            format!(
                "{} bytes, shorter than the {HEADER_LEN}-byte header",
                file.len()
            ),
        ));
    };
    let field = |range: std::ops::Range<usize>| &header[range];
    if field(0..8) != MAGIC {
        return Err(reject(RejectReason::BadMagic, "not a torvyn cache entry"));
    }
    let version = u32::from_le_bytes(field(8..12).try_into().unwrap_or_default());
    if version != FORMAT_VERSION {
        return Err(reject(
            RejectReason::BadVersion,
            format!("format version {version}, this build reads {FORMAT_VERSION}"),
        ));
    }
    if field(12..44) != key.as_bytes() {
        return Err(reject(
            RejectReason::WrongKey,
            "the header names another key than the file name",
        ));
    }
    let announced = u64::from_le_bytes(field(44..52).try_into().unwrap_or_default());
    let actual = (file.len() - HEADER_LEN) as u64;
    if announced > actual {
        return Err(reject(
            RejectReason::Truncated,
            format!("the header announces {announced} payload bytes, the file has {actual}"),
        ));
    }
    if announced < actual {
        return Err(reject(
            RejectReason::LengthMismatch,
            format!("the header announces {announced} payload bytes, the file has {actual}"),
        ));
    }
    if Sha256::digest(&file[HEADER_LEN..])[..] != *field(52..84) {
        return Err(reject(
            RejectReason::DigestMismatch,
            "the payload's SHA-256 differs from the header's",
        ));
    }
    Ok(Verified { file })
}

/// Creates a new file only this user can read and write.
pub(crate) fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes a rename in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn dir_error(dir: &Path, problem: String) -> EngineError {
    EngineError::CacheDir {
        path: dir.to_path_buf(),
        problem,
    }
}

/// Creates `dir` (mode 0700) if missing; refuses a non-directory or one
/// that group or others may write.
fn prepare_dir(dir: &Path) -> Result<(), EngineError> {
    match fs::metadata(dir) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder.create(dir).map_err(|e| {
                dir_error(
                    dir,
                    format!(
                        "cannot create it: {e}; create it yourself (mode 0700) or choose \
                         another directory"
                    ),
                )
            })?;
        }
        Err(e) => {
            return Err(dir_error(
                dir,
                format!("cannot inspect it: {e}; check the path and its parents' permissions"),
            ));
        }
    }
    let meta = fs::metadata(dir).map_err(|e| {
        dir_error(
            dir,
            format!("cannot inspect it: {e}; check the path and its parents' permissions"),
        )
    })?;
    if !meta.is_dir() {
        return Err(dir_error(
            dir,
            "is not a directory; point the cache at a directory (it is created if missing)".into(),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(dir_error(
                dir,
                format!(
                    "is writable by {} (mode {mode:04o}): anyone who can write it can plant \
                     compiled code this process would run; make it private (`chmod go-w {}`, \
                     or 0700) or choose a directory only this user can write",
                    if mode & 0o002 != 0 {
                        "every user"
                    } else {
                        "its group"
                    },
                    dir.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Creates `dir` (mode 0700) if missing, and refuses it when it is not a
/// directory, group or others may write it, another user (root excepted)
/// owns it, or this user cannot create files in it: anyone who can write
/// it could plant compiled code this process would run.
pub(crate) fn open_private_dir(dir: &Path) -> Result<(), EngineError> {
    prepare_dir(dir)?;
    check_owner(dir)
}

/// Refuses a directory owned by another user than this process's (root
/// excepted): its owner could plant entries. The process's user is learned
/// from a probe file, which also proves the directory is writable.
fn check_owner(dir: &Path) -> Result<(), EngineError> {
    static PROBES: AtomicU64 = AtomicU64::new(0);
    let probe = temp_path(dir, "probe", &PROBES);
    let file = create_private(&probe).map_err(|e| {
        dir_error(
            dir,
            format!(
                "cannot create files in it: {e}; the cache writes its entries there, so give \
                 this user write access or choose another directory"
            ),
        )
    })?;
    let probe_meta = file.metadata();
    drop(file);
    let _ = fs::remove_file(&probe);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let dir_meta =
            fs::metadata(dir).map_err(|e| dir_error(dir, format!("cannot inspect it: {e}")))?;
        let me = probe_meta
            .map_err(|e| dir_error(dir, format!("cannot inspect a file in it: {e}")))?
            .uid();
        if dir_meta.uid() != me && dir_meta.uid() != 0 {
            return Err(dir_error(
                dir,
                format!(
                    "is owned by uid {}, not by this process's user (uid {me}): its owner could \
                     plant compiled code this process would run; use a directory this user owns",
                    dir_meta.uid()
                ),
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = probe_meta;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> CacheKey {
        CacheKey::from_bytes([n; 32])
    }

    fn entry(k: &CacheKey, payload: &[u8]) -> Vec<u8> {
        let mut f = seal(k, payload).to_vec();
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn a_sealed_entry_verifies() {
        let f = entry(&key(1), b"artifact");
        assert_eq!(verify(&key(1), f).unwrap().payload(), b"artifact");
    }

    #[test]
    fn every_field_is_checked() {
        let good = entry(&key(1), b"artifact");
        let reason = |f: Vec<u8>| verify(&key(1), f).err().map(|r| r.reason);
        assert_eq!(reason(Vec::new()), Some(RejectReason::Empty));
        for len in 1..HEADER_LEN {
            assert_eq!(reason(good[..len].to_vec()), Some(RejectReason::Truncated));
        }
        for byte in 0..good.len() {
            let mut bad = good.clone();
            bad[byte] ^= 0x10;
            let expected = match byte {
                0..8 => RejectReason::BadMagic,
                8..12 => RejectReason::BadVersion,
                12..44 => RejectReason::WrongKey,
                44..52 => RejectReason::Truncated, // 0x10 raises the length
                _ => RejectReason::DigestMismatch,
            };
            assert_eq!(reason(bad), Some(expected), "byte {byte}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert_eq!(reason(longer), Some(RejectReason::LengthMismatch));
        assert_eq!(
            verify(&key(2), good).err().map(|r| r.reason),
            Some(RejectReason::WrongKey)
        );
    }

    #[test]
    fn entry_names_are_recognized() {
        let k = key(0xab);
        assert!(is_entry_name(&format!("{k}.twcc")));
        assert!(!is_entry_name(&format!("{k}.tmp")));
        assert!(!is_entry_name(".tmp-abc-1-2"));
        assert!(!is_entry_name("twcc"));
    }
}
