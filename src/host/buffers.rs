//! Buffers and mutable buffers: what a guest reads, allocates, writes,
//! freezes and hands back, with the budget and the 16 MiB cap checked
//! before any byte moves.
//!
//! Hot path: the contract's `buffer` and `mutable-buffer` methods.

use bytes::Bytes;

use super::resources::{BufferError, HostResources, KEEP_CONTENT_TYPE_BYTES, MAX_BUFFER_BYTES};
use super::table::{Entry, MutData};
use crate::error::ContractViolation;
use crate::faults::HostFunction;
use crate::host_calls::HostArgs;
use crate::types::ContentType;

/// A buffer the guest handed back to the host (an output's payload).
#[derive(Debug)]
pub struct TakenBuffer {
    /// The bytes.
    pub bytes: Bytes,
    /// The content type set on the buffer.
    pub content_type: ContentType,
}

impl HostResources {
    /// A content type the guest named, as a [`ContentType`]: the input's
    /// own, or the last one named, when it is the same string (no
    /// allocation); a new one otherwise.
    pub fn content_type(&mut self, content_type: &str) -> ContentType {
        if let Some(Entry::Buffer {
            content_type: lent, ..
        }) = self.entries.get(self.lent_buffer)
            && lent.as_str() == content_type
        {
            lent.clone()
        } else if content_type.is_empty() {
            ContentType::EMPTY
        } else if content_type == self.recent_content_type.as_str() {
            self.recent_content_type.clone()
        } else {
            let new = ContentType::from(content_type);
            if content_type.len() <= KEEP_CONTENT_TYPE_BYTES {
                self.recent_content_type = new.clone();
            }
            new
        }
    }

    #[inline]
    fn buffer(&self, rep: u32) -> Result<(&Bytes, &ContentType), ContractViolation> {
        match self.get(rep, "buffer")? {
            Entry::Buffer {
                bytes,
                content_type,
                ..
            } => Ok((bytes, content_type)),
            other => Err(ContractViolation::StaleHandle {
                resource: other.kind(),
                rep,
            }),
        }
    }

    /// `buffer.size`.
    pub fn buffer_size(&mut self, rep: u32) -> Result<u64, ContractViolation> {
        self.serve(
            HostFunction::BufferSize,
            || HostArgs::Handle(rep),
            #[inline(always)]
            |s| Ok(s.buffer(rep)?.0.len() as u64),
        )
    }

    /// `buffer.content-type`.
    pub fn buffer_content_type(&mut self, rep: u32) -> Result<String, ContractViolation> {
        self.serve(
            HostFunction::BufferContentType,
            || HostArgs::Handle(rep),
            #[inline(always)]
            |s| Ok(s.buffer(rep)?.1.as_str().to_owned()),
        )
    }

    /// `buffer.read`: up to `len` bytes from `offset`, clamped to the bytes
    /// in bounds (a range past the end is not an error).
    pub fn buffer_read(
        &mut self,
        rep: u32,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, ContractViolation> {
        let args = || HostArgs::Read {
            handle: rep,
            offset,
            len,
        };
        self.serve(
            HostFunction::BufferRead,
            args,
            #[inline(always)]
            |s| {
                let (bytes, _) = s.buffer(rep)?;
                let size = bytes.len() as u64;
                let start = offset.min(size);
                let end = start.saturating_add(len).min(size);
                // Both bounds are <= size, which came from a usize.
                let out = bytes[start as usize..end as usize].to_vec();
                s.counters.bytes_into_guest += end - start;
                Ok(out)
            },
        )
    }

    /// `buffer.read-all`.
    pub fn buffer_read_all(&mut self, rep: u32) -> Result<Vec<u8>, ContractViolation> {
        self.serve(
            HostFunction::BufferReadAll,
            || HostArgs::Handle(rep),
            #[inline(always)]
            |s| {
                let out = s.buffer(rep)?.0.to_vec();
                s.counters.bytes_into_guest += out.len() as u64;
                Ok(out)
            },
        )
    }

    /// The guest dropped its handle to a buffer.
    #[inline]
    pub fn drop_buffer(&mut self, rep: u32) -> Result<(), ContractViolation> {
        self.drop_served(HostFunction::BufferDrop, rep)
    }

    /// Moves a buffer the guest returned (an output payload) to the caller.
    #[inline]
    pub fn take_buffer(&mut self, rep: u32) -> Result<TakenBuffer, ContractViolation> {
        // A guest that trapped in a failed host call returns nothing (a
        // mock model may try): the buffer stays, to be reclaimed.
        if let Some(v) = self.injected_trap() {
            return Err(v);
        }
        // One lookup: take the entry out, and put it back if it is not a
        // buffer (the rare, violating case).
        match self.entries.remove(rep) {
            Some(Entry::Buffer {
                bytes,
                content_type,
                budgeted,
            }) => {
                if budgeted {
                    self.held_bytes -= bytes.len() as u64;
                }
                Ok(TakenBuffer {
                    bytes,
                    content_type,
                })
            }
            Some(other) => {
                let resource = other.kind();
                self.entries.restore(rep, other);
                Err(ContractViolation::StaleHandle { resource, rep })
            }
            None => Err(ContractViolation::StaleHandle {
                resource: "buffer",
                rep,
            }),
        }
    }

    fn reserve(&mut self, capacity: u64) -> Result<(), BufferError> {
        if capacity > MAX_BUFFER_BYTES {
            return Err(BufferError::AllocationFailed(format!(
                "capacity {capacity} exceeds the {MAX_BUFFER_BYTES}-byte buffer cap"
            )));
        }
        let wanted = self.held_bytes.saturating_add(capacity);
        if wanted > self.limits.max_buffer_bytes {
            self.counters.budget_denied = Some((self.limits.max_buffer_bytes, wanted));
            return Err(BufferError::AllocationFailed(format!(
                "buffer budget exhausted: {} of {} bytes held, {capacity} more requested",
                self.held_bytes, self.limits.max_buffer_bytes
            )));
        }
        if self.entries.len() >= self.limits.max_resources {
            return Err(BufferError::AllocationFailed(format!(
                "the instance holds {} host resources, the most allowed",
                self.entries.len()
            )));
        }
        Ok(())
    }

    #[inline]
    fn insert_mutable(&mut self, data: MutData, capacity: u64, content_type: ContentType) -> u32 {
        self.held_bytes += capacity;
        self.counters.buffers_allocated += 1;
        self.insert(|| Entry::Mutable {
            data,
            capacity,
            content_type,
        })
        .expect("reserve checked the resource count")
    }

    /// `buffer-allocator.allocate`: a mutable buffer of exactly
    /// `capacity_hint` bytes of capacity.
    pub fn allocate(&mut self, capacity_hint: u64) -> Result<u32, BufferError> {
        let args = || HostArgs::Allocate {
            capacity: capacity_hint,
        };
        self.serve(
            HostFunction::Allocate,
            args,
            #[inline(always)]
            |s| {
                s.reserve(capacity_hint)?;
                Ok(s.insert_mutable(
                    MutData::Owned(Vec::new()),
                    capacity_hint,
                    ContentType::EMPTY,
                ))
            },
        )
    }

    /// `buffer-allocator.clone-into-mutable`: a mutable buffer holding the
    /// source's bytes (shared until first written) and content type, with
    /// capacity equal to the source's size.
    #[inline]
    pub fn clone_into_mutable(
        &mut self,
        source: u32,
    ) -> Result<Result<u32, BufferError>, ContractViolation> {
        self.serve(
            HostFunction::CloneIntoMutable,
            || HostArgs::Handle(source),
            #[inline(always)]
            |s| {
                let (bytes, content_type) = s.buffer(source)?;
                let (bytes, content_type) = (bytes.clone(), content_type.clone());
                let capacity = bytes.len() as u64;
                if let Err(e) = s.reserve(capacity) {
                    return Ok(Err(e));
                }
                Ok(Ok(s.insert_mutable(
                    MutData::Shared(bytes),
                    capacity,
                    content_type,
                )))
            },
        )
    }

    #[inline]
    fn mutable(
        &mut self,
        rep: u32,
    ) -> Result<(&mut MutData, &mut u64, &mut ContentType), ContractViolation> {
        match self.mutable_entry(rep)? {
            Entry::Mutable {
                data,
                capacity,
                content_type,
            } => Ok((data, capacity, content_type)),
            _ => unreachable!("mutable_entry returns a live mutable buffer"),
        }
    }

    /// The entry of a live (not frozen) mutable buffer.
    fn mutable_entry(&mut self, rep: u32) -> Result<&mut Entry, ContractViolation> {
        match self.entries.get_mut(rep) {
            Some(entry @ Entry::Mutable { .. }) => Ok(entry),
            Some(Entry::Frozen) => Err(ContractViolation::UseAfterFreeze { rep }),
            Some(other) => Err(ContractViolation::StaleHandle {
                resource: other.kind(),
                rep,
            }),
            None => Err(ContractViolation::StaleHandle {
                resource: "mutable-buffer",
                rep,
            }),
        }
    }

    /// `mutable-buffer.write`: write at `offset` (at most the current size),
    /// growing up to the capacity.
    pub fn mutable_write(
        &mut self,
        rep: u32,
        offset: u64,
        bytes: &[u8],
    ) -> Result<Result<(), BufferError>, ContractViolation> {
        let args = || HostArgs::Write {
            handle: rep,
            offset,
            bytes: bytes.len() as u64,
        };
        self.serve(
            HostFunction::MutableWrite,
            args,
            #[inline(always)]
            |s| s.write_at(rep, offset, bytes),
        )
    }

    fn write_at(
        &mut self,
        rep: u32,
        offset: u64,
        bytes: &[u8],
    ) -> Result<Result<(), BufferError>, ContractViolation> {
        let (data, capacity, _) = self.mutable(rep)?;
        let size = data.len() as u64;
        if offset > size {
            return Ok(Err(BufferError::OutOfBounds));
        }
        let end = match offset.checked_add(bytes.len() as u64) {
            Some(end) if end <= *capacity => end,
            _ => return Ok(Err(BufferError::CapacityExceeded)),
        };
        let v = data.make_owned();
        // offset <= size and end <= capacity <= 16 MiB: both fit usize.
        let (offset, end) = (offset as usize, end as usize);
        if end > v.len() {
            v.resize(end, 0);
        }
        v[offset..end].copy_from_slice(bytes);
        self.counters.bytes_out_of_guest += bytes.len() as u64;
        Ok(Ok(()))
    }

    /// `mutable-buffer.append`.
    pub fn mutable_append(
        &mut self,
        rep: u32,
        bytes: &[u8],
    ) -> Result<Result<(), BufferError>, ContractViolation> {
        let args = || HostArgs::Append {
            handle: rep,
            bytes: bytes.len() as u64,
        };
        self.serve(
            HostFunction::MutableAppend,
            args,
            #[inline(always)]
            |s| {
                let size = s.mutable(rep)?.0.len() as u64;
                s.write_at(rep, size, bytes)
            },
        )
    }

    /// `mutable-buffer.size`.
    pub fn mutable_size(&mut self, rep: u32) -> Result<u64, ContractViolation> {
        self.serve(
            HostFunction::MutableSize,
            || HostArgs::Handle(rep),
            #[inline(always)]
            |s| Ok(s.mutable(rep)?.0.len() as u64),
        )
    }

    /// `mutable-buffer.capacity`.
    pub fn mutable_capacity(&mut self, rep: u32) -> Result<u64, ContractViolation> {
        self.serve(
            HostFunction::MutableCapacity,
            || HostArgs::Handle(rep),
            #[inline(always)]
            |s| Ok(*s.mutable(rep)?.1),
        )
    }

    /// `mutable-buffer.set-content-type`.
    pub fn mutable_set_content_type(
        &mut self,
        rep: u32,
        content_type: &str,
    ) -> Result<(), ContractViolation> {
        let args = || HostArgs::SetContentType {
            handle: rep,
            content_type: content_type.into(),
        };
        self.serve(
            HostFunction::MutableSetContentType,
            args,
            #[inline(always)]
            |s| {
                let content_type = s.content_type(content_type);
                *s.mutable(rep)?.2 = content_type;
                Ok(())
            },
        )
    }

    /// `mutable-buffer.freeze`: consumes the mutable buffer (its handle
    /// stays with the guest, dead but for `drop`) and returns the rep of a
    /// new owned buffer.
    #[inline]
    pub fn mutable_freeze(&mut self, rep: u32) -> Result<u32, ContractViolation> {
        self.serve(
            HostFunction::MutableFreeze,
            || HostArgs::Handle(rep),
            #[inline(always)]
            |s| {
                // One lookup: check the kind and leave `Frozen` in its place.
                let entry = s.mutable_entry(rep)?;
                let Entry::Mutable {
                    data,
                    capacity,
                    content_type,
                } = std::mem::replace(entry, Entry::Frozen)
                else {
                    unreachable!("mutable_entry returns a live mutable buffer")
                };
                let bytes = data.freeze();
                s.held_bytes = s.held_bytes - capacity + bytes.len() as u64;
                s.insert(|| Entry::Buffer {
                    bytes,
                    content_type,
                    budgeted: true,
                })
            },
        )
    }

    /// The guest dropped its handle to a mutable buffer (frozen or not).
    #[inline]
    pub fn drop_mutable(&mut self, rep: u32) -> Result<(), ContractViolation> {
        self.drop_served(HostFunction::MutableDrop, rep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::testing::{end, store};

    #[test]
    fn reads_clamp_to_the_bytes_in_bounds() {
        let mut r = store();
        r.begin_call();
        let b = r
            .lend_buffer(Bytes::from_static(b"0123456789"), "t".into())
            .unwrap();
        assert_eq!(r.buffer_read(b, 2, 3).unwrap(), b"234");
        assert_eq!(r.buffer_read(b, 8, 100).unwrap(), b"89");
        assert_eq!(r.buffer_read(b, 10, 1).unwrap(), b"");
        assert_eq!(r.buffer_read(b, u64::MAX, u64::MAX).unwrap(), b"");
        assert_eq!(r.buffer_read(b, 0, u64::MAX).unwrap(), b"0123456789");
        assert_eq!(r.buffer_read(b, u64::MAX - 1, 2).unwrap(), b"");
        assert_eq!(r.buffer_read_all(b).unwrap(), b"0123456789");
        assert_eq!(r.buffer_size(b).unwrap(), 10);
        assert_eq!(r.buffer_content_type(b).unwrap(), "t");
        let m = end(&mut r, &[b]);
        assert_eq!(m.bytes_into_guest, 3 + 2 + 10 + 10);
        assert_eq!(m.resources_reclaimed, 0);
        assert_eq!(r.live(), 0);
    }

    #[test]
    fn writes_check_offsets_and_capacity_before_use() {
        let mut r = store();
        r.begin_call();
        let m = r.allocate(8).unwrap();
        assert_eq!(
            r.mutable_write(m, 1, b"x").unwrap(),
            Err(BufferError::OutOfBounds)
        );
        assert_eq!(
            r.mutable_write(m, u64::MAX, b"x").unwrap(),
            Err(BufferError::OutOfBounds)
        );
        assert_eq!(r.mutable_append(m, b"abcdef").unwrap(), Ok(()));
        assert_eq!(r.mutable_write(m, 4, b"XYZW").unwrap(), Ok(()));
        assert_eq!(
            r.mutable_write(m, 6, b"123").unwrap(),
            Err(BufferError::CapacityExceeded)
        );
        assert_eq!(
            r.mutable_append(m, b"!!!").unwrap(),
            Err(BufferError::CapacityExceeded)
        );
        assert_eq!(r.mutable_size(m).unwrap(), 8);
        assert_eq!(r.mutable_capacity(m).unwrap(), 8);
        r.mutable_set_content_type(m, "text/plain").unwrap();
        let b = r.mutable_freeze(m).unwrap();
        let taken = r.take_buffer(b).unwrap();
        assert_eq!(&taken.bytes[..], b"abcdXYZW");
        assert_eq!(taken.content_type, "text/plain");
        r.drop_mutable(m).unwrap();
        let metrics = end(&mut r, &[]);
        assert_eq!(metrics.bytes_out_of_guest, 6 + 4);
        assert_eq!(metrics.buffers_allocated, 1);
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn a_frozen_mutable_buffer_is_dead_but_droppable() {
        let mut r = store();
        r.begin_call();
        let m = r.allocate(4).unwrap();
        let b = r.mutable_freeze(m).unwrap();
        assert_eq!(
            r.mutable_append(m, b"x").unwrap_err(),
            ContractViolation::UseAfterFreeze { rep: m }
        );
        assert_eq!(
            r.mutable_freeze(m).unwrap_err(),
            ContractViolation::UseAfterFreeze { rep: m }
        );
        r.drop_mutable(m).unwrap();
        assert_eq!(
            r.mutable_size(m).unwrap_err(),
            ContractViolation::StaleHandle {
                resource: "mutable-buffer",
                rep: m
            }
        );
        r.drop_buffer(b).unwrap();
        assert_eq!(r.live(), 0);
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn the_budget_and_the_cap_refuse_allocations() {
        let mut r = store();
        r.begin_call();
        assert!(matches!(
            r.allocate(MAX_BUFFER_BYTES + 1),
            Err(BufferError::AllocationFailed(m)) if m.contains("cap")
        ));
        assert!(
            r.counters.budget_denied.is_none(),
            "the cap is not the budget"
        );
        let a = r.allocate(1000).unwrap();
        assert!(matches!(
            r.allocate(25),
            Err(BufferError::AllocationFailed(_))
        ));
        assert_eq!(r.counters.budget_denied, Some((1024, 1025)));
        r.drop_mutable(a).unwrap();
        let src = r
            .lend_buffer(Bytes::from(vec![1u8; 600]), ContentType::EMPTY)
            .unwrap();
        let c1 = r.clone_into_mutable(src).unwrap().unwrap();
        assert_eq!(r.mutable_capacity(c1).unwrap(), 600);
        assert!(r.clone_into_mutable(src).unwrap().is_err(), "1200 > 1024");
        end(&mut r, &[src]);
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn clone_into_mutable_shares_until_written() {
        let mut r = store();
        let src_bytes = Bytes::from_static(b"shared");
        let src = r.lend_buffer(src_bytes.clone(), "a/b".into()).unwrap();
        let m = r.clone_into_mutable(src).unwrap().unwrap();
        let b = r.mutable_freeze(m).unwrap();
        let taken = r.take_buffer(b).unwrap();
        assert_eq!(taken.bytes.as_ptr(), src_bytes.as_ptr(), "no copy");
        assert_eq!(taken.content_type, "a/b");

        let m = r.clone_into_mutable(src).unwrap().unwrap();
        r.mutable_write(m, 0, b"S").unwrap().unwrap();
        let b = r.mutable_freeze(m).unwrap();
        let taken = r.take_buffer(b).unwrap();
        assert_eq!(&taken.bytes[..], b"Shared");
        assert_eq!(&src_bytes[..], b"shared", "the source is untouched");
    }

    #[test]
    fn content_types_are_shared_not_copied() {
        let mut r = store();
        r.begin_call();
        let lent = ContentType::from("text/x-lent");
        let src = r.lend_buffer(Bytes::new(), lent.clone()).unwrap();
        // Cloned with the bytes: the same string, not a copy of it.
        let m = r.clone_into_mutable(src).unwrap().unwrap();
        let b = r.mutable_freeze(m).unwrap();
        let taken = r.take_buffer(b).unwrap();
        assert_eq!(taken.content_type.as_ptr(), lent.as_ptr());
        // Set by the guest to the input's content type: shared again.
        let m = r.allocate(0).unwrap();
        r.mutable_set_content_type(m, "text/x-lent").unwrap();
        let b = r.mutable_freeze(m).unwrap();
        let taken = r.take_buffer(b).unwrap();
        assert_eq!(taken.content_type.as_ptr(), lent.as_ptr());
        // Any other string is its own.
        let m = r.allocate(0).unwrap();
        r.mutable_set_content_type(m, "text/x-other").unwrap();
        let b = r.mutable_freeze(m).unwrap();
        let taken = r.take_buffer(b).unwrap();
        assert_eq!(taken.content_type, "text/x-other");
        assert_ne!(taken.content_type.as_ptr(), lent.as_ptr());
        end(&mut r, &[src]);
        // The next call does not match against the last call's input...
        r.begin_call();
        let again = r.content_type("text/x-lent");
        assert_eq!(again, lent);
        assert_ne!(again.as_ptr(), lent.as_ptr());
        assert_eq!(r.content_type("").as_ptr(), ContentType::EMPTY.as_ptr());
        // ...but the last string named is shared from call to call (a
        // source's), unless it is long.
        end(&mut r, &[]);
        r.begin_call();
        assert_eq!(r.content_type("text/x-lent").as_ptr(), again.as_ptr());
        let long = "x".repeat(KEEP_CONTENT_TYPE_BYTES + 1);
        assert_ne!(
            r.content_type(&long).as_ptr(),
            r.content_type(&long).as_ptr()
        );
        assert_eq!(r.content_type("text/x-lent").as_ptr(), again.as_ptr());
    }
}
