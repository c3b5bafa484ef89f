//! [`Payloads`]: the bytes behind the [`BufferHandle`]s of 0.1's elements.
//!
//! 0.1's elements carry a handle where 0.2's carry the bytes. Each invoker
//! holds a table of bytes; a handle is an index into it and a generation,
//! so a handle used twice, or never handed out, is refused rather than read
//! as someone else's bytes.
//!
//! The rules the invokers follow:
//!
//! - a handle passed into `invoke_process` or `invoke_push` is consumed
//!   (its bytes leave the table), whether the call succeeds or not;
//! - every element a call returns gets a fresh handle;
//! - the table belongs to its invoker: when the invoker is dropped (a
//!   reactor's flow owns its invoker, so when the flow ends), the handles
//!   still in it are released. [`PayloadStats::released`] counts them.
//!
//! Why not torvyn-resources' buffer pool: torvyn-reactor 0.1.1's flow driver
//! never returns a handle to a pool (it discards the elements still queued
//! when a flow ends), so handles taken from a shared pool would leak with
//! every failed flow. A table owned by the flow's invoker ends with the
//! flow.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use torvyn_types::{BufferHandle, ResourceId};

/// The bytes behind the payload handles of one invoker. Cheap to clone:
/// clones share the table, so a host keeps one to put bytes in and read
/// them out while the invoker is owned by a flow.
///
/// # Example
/// ```
/// use torvyn_engine::Payloads;
///
/// let payloads = Payloads::new();
/// let handle = payloads.insert("hello");
/// assert_eq!(payloads.live(), 1);
/// assert_eq!(payloads.take(handle).as_deref(), Some(&b"hello"[..]));
/// assert_eq!(payloads.take(handle), None, "a handle names its bytes once");
/// assert_eq!(payloads.live(), 0);
/// ```
#[derive(Clone, Default)]
pub struct Payloads {
    table: Arc<Mutex<Table>>,
}

/// Counts of a [`Payloads`] table's handles over its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PayloadStats {
    /// Handles in the table now.
    pub live: usize,
    /// Handles handed out in all (by `insert` and by calls' outputs).
    pub created: u64,
    /// Handles consumed by a call or taken by the host.
    pub consumed: u64,
    /// Handles released unread: by [`Payloads::release`], or still in the
    /// table when its invoker was dropped (a flow that ended with elements
    /// queued).
    pub released: u64,
}

#[derive(Default)]
struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
    stats: PayloadStats,
}

#[derive(Default)]
struct Slot {
    generation: u32,
    bytes: Option<Bytes>,
}

impl Table {
    fn slot(&mut self, handle: BufferHandle) -> Option<&mut Slot> {
        let id = handle.resource_id();
        self.slots
            .get_mut(id.index() as usize)
            .filter(|s| s.generation == id.generation() && s.bytes.is_some())
    }

    fn vacate(&mut self, handle: BufferHandle) -> Option<Bytes> {
        let slot = self.slot(handle)?;
        let bytes = slot.bytes.take();
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(handle.resource_id().index());
        self.stats.live -= 1;
        bytes
    }
}

impl Payloads {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts `bytes` in and returns the handle that names them.
    pub fn insert(&self, bytes: impl Into<Bytes>) -> BufferHandle {
        let mut t = self.lock();
        let bytes = Some(bytes.into());
        let index = match t.free.pop() {
            Some(i) => {
                t.slots[i as usize].bytes = bytes;
                i
            }
            None => {
                let i = u32::try_from(t.slots.len())
                    .expect("more than 4 billion payloads live in one table");
                t.slots.push(Slot {
                    generation: 0,
                    bytes,
                });
                i
            }
        };
        t.stats.live += 1;
        t.stats.created += 1;
        let generation = t.slots[index as usize].generation;
        BufferHandle::new(ResourceId::new(index, generation))
    }

    /// The bytes `handle` names, leaving them in (a reference-count
    /// increment, no copy); `None` for a handle this table does not hold.
    pub fn get(&self, handle: BufferHandle) -> Option<Bytes> {
        self.lock().slot(handle).and_then(|s| s.bytes.clone())
    }

    /// Takes the bytes `handle` names out: the handle is consumed. `None`
    /// for a handle this table does not hold (consumed already, released,
    /// or another table's).
    pub fn take(&self, handle: BufferHandle) -> Option<Bytes> {
        let mut t = self.lock();
        let bytes = t.vacate(handle)?;
        t.stats.consumed += 1;
        Some(bytes)
    }

    /// Releases `handle` unread; whether the table held it.
    pub fn release(&self, handle: BufferHandle) -> bool {
        let mut t = self.lock();
        let held = t.vacate(handle).is_some();
        if held {
            t.stats.released += 1;
        }
        held
    }

    /// Whether the table holds `handle`.
    pub fn contains(&self, handle: BufferHandle) -> bool {
        self.lock().slot(handle).is_some()
    }

    /// Handles in the table now.
    pub fn live(&self) -> usize {
        self.lock().stats.live
    }

    /// The table's counts.
    pub fn stats(&self) -> PayloadStats {
        self.lock().stats
    }

    /// Releases every handle in the table; how many there were. Invokers
    /// call it when they are dropped.
    pub fn release_all(&self) -> usize {
        let mut t = self.lock();
        let mut released = 0;
        let Table { slots, free, .. } = &mut *t;
        for (i, slot) in slots.iter_mut().enumerate() {
            if slot.bytes.take().is_some() {
                slot.generation = slot.generation.wrapping_add(1);
                free.push(i as u32);
                released += 1;
            }
        }
        t.stats.live -= released;
        t.stats.released += released as u64;
        released
    }
}

impl std::fmt::Debug for Payloads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Payloads").field(&self.stats()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_names_its_bytes_once_and_a_reused_slot_refuses_the_old_handle() {
        let p = Payloads::new();
        let a = p.insert("a");
        assert_eq!(p.take(a).as_deref(), Some(&b"a"[..]));
        let b = p.insert("b");
        assert_eq!(
            a.resource_id().index(),
            b.resource_id().index(),
            "the slot is reused"
        );
        assert_eq!(p.get(a), None, "the old handle names nothing");
        assert!(!p.release(a));
        assert_eq!(p.get(b).as_deref(), Some(&b"b"[..]));
        let never = BufferHandle::new(ResourceId::new(99, 0));
        assert_eq!(p.take(never), None);
        assert_eq!(
            p.stats(),
            PayloadStats {
                live: 1,
                created: 2,
                consumed: 1,
                released: 0
            }
        );
    }

    #[test]
    fn release_all_empties_the_table_and_counts_what_it_released() {
        let p = Payloads::new();
        let handles: Vec<_> = (0..5).map(|i| p.insert(vec![i as u8])).collect();
        assert!(p.release(handles[0]));
        assert!(p.take(handles[1]).is_some());
        assert_eq!(p.release_all(), 3);
        assert_eq!(p.live(), 0);
        assert!(handles.iter().all(|h| !p.contains(*h)));
        let stats = p.stats();
        assert_eq!((stats.created, stats.consumed, stats.released), (5, 1, 4));
        // The table goes on working.
        let h = p.insert("again");
        assert_eq!(p.take(h).as_deref(), Some(&b"again"[..]));
    }
}
