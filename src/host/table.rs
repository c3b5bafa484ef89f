//! The resource table of one instance: every buffer, mutable buffer and
//! flow context a call handed out, by rep.
//!
//! Hot path: every host call looks its handle up here.

use bytes::Bytes;

use crate::types::{ContentType, FlowContext};

pub(super) enum MutData {
    /// Still the bytes of the buffer it was cloned from: no copy yet.
    Shared(Bytes),
    Owned(Vec<u8>),
}

impl MutData {
    pub(super) fn len(&self) -> usize {
        match self {
            Self::Shared(b) => b.len(),
            Self::Owned(v) => v.len(),
        }
    }

    pub(super) fn make_owned(&mut self) -> &mut Vec<u8> {
        if let Self::Shared(b) = self {
            *self = Self::Owned(b.to_vec());
        }
        match self {
            Self::Owned(v) => v,
            Self::Shared(_) => unreachable!("converted to owned just above"),
        }
    }

    pub(super) fn freeze(self) -> Bytes {
        match self {
            Self::Shared(b) => b,
            Self::Owned(v) => Bytes::from(v),
        }
    }
}

pub(super) enum Entry {
    Buffer {
        bytes: Bytes,
        content_type: ContentType,
        /// Counted against the buffer budget (made by the guest).
        budgeted: bool,
    },
    Mutable {
        data: MutData,
        capacity: u64,
        content_type: ContentType,
    },
    /// A mutable buffer that `freeze` consumed; the guest still holds the
    /// handle and must drop it, but any other use is a violation.
    Frozen,
    Flow(FlowContext),
}

impl Entry {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Self::Buffer { .. } => "buffer",
            Self::Mutable { .. } | Self::Frozen => "mutable-buffer",
            Self::Flow(_) => "flow-context",
        }
    }
}

/// The live resources of one call. Every resource is call-scoped (what the
/// guest still holds when a call ends is reclaimed), so the reps handed out
/// during a call are consecutive from `base`: the first [`SLAB_SLOTS`] of
/// them are indices into `slots`, later ones (a guest churning through
/// resources) go to the `overflow` map, which frees what is removed. So the
/// store stays bounded by [`ResourceLimits::max_resources`] plus the fixed
/// slots however many resources one call creates and drops. A new call
/// starts past every rep handed out before, so reps are not reused (until
/// 2^32 have been handed out) and a stale guest handle cannot alias a newer
/// resource.
pub(super) struct Slab {
    base: u32,
    /// Reps handed out this call (the next rep is `base + next`).
    pub(super) next: u32,
    pub(super) slots: Vec<Option<Entry>>,
    pub(super) overflow: rustc_hash::FxHashMap<u32, Entry>,
    live: usize,
}

/// Reps of one call that are plain indices (more go to a map).
pub(super) const SLAB_SLOTS: usize = 256;

impl Slab {
    pub(super) fn new() -> Self {
        Self {
            base: 1,
            next: 0,
            slots: Vec::new(),
            overflow: rustc_hash::FxHashMap::default(),
            live: 0,
        }
    }

    /// The offset of `rep` in this call, if it was handed out this call.
    #[inline]
    pub(super) fn offset(&self, rep: u32) -> Option<usize> {
        let off = rep.checked_sub(self.base)?;
        (off < self.next).then_some(off as usize)
    }

    pub(super) fn len(&self) -> usize {
        self.live
    }

    #[inline]
    pub(super) fn get(&self, rep: u32) -> Option<&Entry> {
        match self.offset(rep)? {
            off if off < SLAB_SLOTS => self.slots[off].as_ref(),
            _ => self.overflow.get(&rep),
        }
    }

    pub(super) fn get_mut(&mut self, rep: u32) -> Option<&mut Entry> {
        match self.offset(rep)? {
            off if off < SLAB_SLOTS => self.slots[off].as_mut(),
            _ => self.overflow.get_mut(&rep),
        }
    }

    pub(super) fn remove(&mut self, rep: u32) -> Option<Entry> {
        let entry = match self.offset(rep)? {
            off if off < SLAB_SLOTS => self.slots[off].take(),
            _ => self.overflow.remove(&rep),
        };
        self.live -= usize::from(entry.is_some());
        entry
    }

    /// Drops the entry at `rep` where it is (not moved out first),
    /// returning what `read` takes from it before.
    #[inline]
    pub(super) fn discard<R>(&mut self, rep: u32, read: impl FnOnce(&Entry) -> R) -> Option<R> {
        let value = match self.offset(rep)? {
            off if off < SLAB_SLOTS => {
                let slot = &mut self.slots[off];
                let value = read(slot.as_ref()?);
                *slot = None;
                value
            }
            _ => read(&self.overflow.remove(&rep)?),
        };
        self.live -= 1;
        Some(value)
    }

    /// Puts back an entry just removed from `rep`.
    pub(super) fn restore(&mut self, rep: u32, entry: Entry) {
        match self.offset(rep) {
            Some(off) if off < SLAB_SLOTS => self.slots[off] = Some(entry),
            Some(_) => {
                self.overflow.insert(rep, entry);
            }
            None => unreachable!("restore takes a rep of this call"),
        }
        self.live += 1;
    }

    /// Adds the entry `make` builds under the next rep (built in its slot,
    /// not moved there); `None` once reps would pass `u32::MAX`.
    #[inline(always)]
    pub(super) fn push_with(&mut self, make: impl FnOnce() -> Entry) -> Option<u32> {
        let rep = self.base.checked_add(self.next)?;
        let off = self.next as usize;
        self.next = self.next.checked_add(1)?;
        if let Some(slot) = self.slots.get_mut(off) {
            // A slot an earlier call used (and `clear` emptied): written in
            // place, no growth.
            *slot = Some(make());
        } else {
            self.push_new(rep, off, make());
        }
        self.live += 1;
        Some(rep)
    }

    /// [`Slab::push_with`] past the slots used so far: a new slot, or the
    /// map.
    #[cold]
    #[inline(never)]
    pub(super) fn push_new(&mut self, rep: u32, off: usize, entry: Entry) {
        if off < SLAB_SLOTS {
            self.slots.push(Some(entry));
        } else {
            self.overflow.insert(rep, entry);
        }
    }

    /// Drops every entry and returns how many were live; the next reps
    /// start past the ones handed out.
    pub(super) fn clear(&mut self) -> usize {
        let live = self.live;
        // After about 4 billion reps: start over (no rep is live then).
        self.base = self.base.checked_add(self.next).unwrap_or(1);
        // Empty the slots this call used and keep them for the next calls
        // (slots past them are empty already).
        let used = (self.next as usize).min(self.slots.len());
        for slot in &mut self.slots[..used] {
            *slot = None;
        }
        self.next = 0;
        if !self.overflow.is_empty() {
            self.overflow = rustc_hash::FxHashMap::default();
        }
        self.live = 0;
        live
    }
}
