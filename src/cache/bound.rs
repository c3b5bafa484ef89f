//! The size bound of a cache directory: the compiled-component entries
//! (`<key>.twcc`) and the incremental store's packs (`incremental/*.twip`)
//! share one budget, and the least recently used files of either kind are
//! removed first.
//!
//! Cold path: run after a write, never on a hit. Recency is each file's
//! modification time, which a hit refreshes (a disk hit touches its entry,
//! a compile that used a pack touches the pack). The time stamps live with
//! the files, so there is no shared index to keep consistent between
//! processes, to lock, or to repair after a crash; removing a file is atomic,
//! and a process still reading a removed file keeps reading it (Unix) or
//! misses and compiles again.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::disk::cache_files;
use super::incremental::{INCREMENTAL_DIR, pack_files};

/// What one eviction pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Evicted {
    /// Compiled-component entries.
    pub entries: u64,
    /// Incremental store packs.
    pub packs: u64,
}

/// A file the bound counts.
struct Bounded {
    modified: SystemTime,
    path: PathBuf,
    len: u64,
    pack: bool,
}

/// Removes the least recently modified entries and packs under `root`
/// until their sizes add up to at most `max` bytes, never `keep`. Files that
/// vanish meanwhile (another process evicted them) are not counted.
pub(crate) fn enforce(root: &Path, max: u64, keep: &Path) -> Evicted {
    let mut files = Vec::new();
    if let Ok(entries) = cache_files(root) {
        files.extend(entries.into_iter().filter(|f| f.entry).map(|f| Bounded {
            modified: f.meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            len: f.meta.len(),
            path: f.path,
            pack: false,
        }));
    }
    if let Ok(packs) = pack_files(&root.join(INCREMENTAL_DIR)) {
        files.extend(packs.into_iter().filter(|f| f.entry).map(|f| Bounded {
            modified: f.meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            len: f.meta.len(),
            path: f.path,
            pack: true,
        }));
    }
    let mut total: u64 = files.iter().map(|f| f.len).sum();
    let mut evicted = Evicted::default();
    if total <= max {
        return evicted;
    }
    // Oldest first; the path breaks ties so every process agrees.
    files.sort_by(|a, b| (a.modified, &a.path).cmp(&(b.modified, &b.path)));
    for f in files {
        if total <= max {
            break;
        }
        if f.path == keep {
            continue;
        }
        if fs::remove_file(&f.path).is_ok() {
            total = total.saturating_sub(f.len);
            if f.pack {
                evicted.packs += 1;
            } else {
                evicted.entries += 1;
            }
        }
    }
    evicted
}
