//! [`CompiledComponentCache`]: compiled components by content hash, in
//! memory and optionally on disk, over any 0.1 [`WasmEngine`].
//!
//! Disk entries are sealed: a file holds the SHA-256 of the compiled bytes
//! and then the bytes, and the digest is checked before the engine's
//! `unsafe` `deserialize_component` sees a byte; a file that fails the
//! check, or that the engine finds incompatible or damaged, is deleted and
//! the component compiled again. 0.1.1 handed the file to the engine
//! unchecked. (0.2 has its own cache, `v2::cache::CompiledComponentCache`, over 0.2
//! engines; this one takes any engine implementing the 0.1 trait.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};

use sha2::{Digest, Sha256};
use torvyn_types::ComponentTypeId;

use crate::error::EngineError;
use crate::traits::WasmEngine;
use crate::types::CompiledComponent;

/// Compiled components keyed by [`ComponentTypeId`] (the SHA-256 of the
/// component's bytes). Thread-safe.
///
/// ```
/// use torvyn_engine::CompiledComponentCache;
///
/// let cache = CompiledComponentCache::new(None);
/// assert!(cache.is_empty());
/// let id = CompiledComponentCache::compute_type_id(b"component bytes");
/// assert_eq!(id, CompiledComponentCache::compute_type_id(b"component bytes"));
/// ```
pub struct CompiledComponentCache {
    memory: RwLock<HashMap<ComponentTypeId, CompiledComponent>>,
    disk_dir: Option<PathBuf>,
}

impl CompiledComponentCache {
    /// A cache in memory, and on disk under `disk_dir` when given (created
    /// when first written).
    pub fn new(disk_dir: Option<PathBuf>) -> Self {
        Self {
            memory: RwLock::default(),
            disk_dir,
        }
    }

    /// The key of a component: the SHA-256 of its bytes.
    pub fn compute_type_id(bytes: &[u8]) -> ComponentTypeId {
        ComponentTypeId::new(Sha256::digest(bytes).into())
    }

    /// The compiled component, from memory or else from disk (`Ok(None)`
    /// when neither has it, or the disk entry was stale or damaged and was
    /// deleted).
    ///
    /// # Errors
    /// None today; the `Result` is 0.1's signature.
    pub fn get<E: WasmEngine>(
        &self,
        type_id: &ComponentTypeId,
        engine: &E,
    ) -> Result<Option<CompiledComponent>, EngineError> {
        if let Some(c) = self
            .memory
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(type_id)
        {
            return Ok(Some(c.clone()));
        }
        let Some(dir) = &self.disk_dir else {
            return Ok(None);
        };
        let path = disk_path(dir, type_id);
        let Ok(file) = std::fs::read(&path) else {
            return Ok(None);
        };
        let compiled = unseal(&file).and_then(|bytes| {
            // SAFETY: the bytes are exactly what `serialize_component` wrote
            // in `insert` (their SHA-256 was checked).
            unsafe { engine.deserialize_component(bytes) }
                .ok()
                .flatten()
        });
        match compiled {
            Some(c) => {
                self.memory
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(*type_id, c.clone());
                Ok(Some(c))
            }
            None => {
                // Damaged, tampered with, or made by another engine: gone,
                // so the next insert writes a good one.
                let _ = std::fs::remove_file(&path);
                Ok(None)
            }
        }
    }

    /// Keeps `compiled` in memory, and writes it to disk when the cache has
    /// a directory (a failure to write is not an error: the next run
    /// compiles again).
    pub fn insert<E: WasmEngine>(
        &self,
        type_id: ComponentTypeId,
        compiled: CompiledComponent,
        engine: &E,
    ) {
        if let (Some(dir), Ok(bytes)) = (&self.disk_dir, engine.serialize_component(&compiled)) {
            let path = disk_path(dir, &type_id);
            let _ = write_sealed(&path, &bytes);
        }
        self.memory
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(type_id, compiled);
    }

    /// Components in memory.
    pub fn len(&self) -> usize {
        self.memory
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether memory holds no component.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the components in memory (the disk entries stay).
    pub fn clear(&self) {
        self.memory
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The compiled component for `bytes`: from the cache, or compiled and
    /// cached.
    ///
    /// # Errors
    /// The engine's compile error.
    pub fn compile_or_get<E: WasmEngine>(
        &self,
        bytes: &[u8],
        engine: &E,
    ) -> Result<(ComponentTypeId, CompiledComponent), EngineError> {
        let type_id = Self::compute_type_id(bytes);
        if let Some(c) = self.get(&type_id, engine)? {
            return Ok((type_id, c));
        }
        let compiled = engine.compile_component(bytes)?;
        self.insert(type_id, compiled.clone(), engine);
        Ok((type_id, compiled))
    }
}

impl std::fmt::Debug for CompiledComponentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledComponentCache")
            .field("in_memory", &self.len())
            .field("disk_dir", &self.disk_dir)
            .finish()
    }
}

/// `{dir}/{first two hex digits}/{all 64}.bin`.
fn disk_path(dir: &Path, type_id: &ComponentTypeId) -> PathBuf {
    let hex: String = type_id
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    dir.join(&hex[..2]).join(format!("{hex}.bin"))
}

/// The bytes after a correct SHA-256 of them.
fn unseal(file: &[u8]) -> Option<&[u8]> {
    let (digest, bytes) = file.split_first_chunk::<32>()?;
    (Sha256::digest(bytes).as_slice() == digest).then_some(bytes)
}

/// Writes the digest and the bytes to a temporary file, then renames it:
/// a reader sees the whole entry or none.
fn write_sealed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = path.parent().expect("a cache path has a parent");
    std::fs::create_dir_all(parent)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut sealed = Sha256::digest(bytes).to_vec();
    sealed.extend_from_slice(bytes);
    std::fs::write(&tmp, &sealed)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_entry_unseals_and_a_changed_byte_does_not() {
        let mut sealed = Sha256::digest(b"code").to_vec();
        sealed.extend_from_slice(b"code");
        assert_eq!(unseal(&sealed), Some(&b"code"[..]));
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(unseal(&sealed), None);
        assert_eq!(unseal(b"short"), None);
    }

    #[test]
    fn disk_paths_use_the_whole_hash() {
        let id = ComponentTypeId::new([0xab; 32]);
        let path = disk_path(Path::new("/c"), &id);
        assert_eq!(
            path,
            Path::new("/c/ab").join(format!("{}.bin", "ab".repeat(32)))
        );
    }
}
