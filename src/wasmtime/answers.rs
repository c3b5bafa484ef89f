//! The answers of `route` and `flush`, lifted whole within the call and
//! refused, before anything unbounded is copied, when they break a bound.
//!
//! Cold for most hosts (a router's or an aggregator's calls only; the hot
//! `process` and `pull` lift their answers with Wasmtime's own types).
//!
//! Wasmtime 48's `TypedFunc::call` lifts the answer and then runs the
//! guest's post-return (`cabi_post_return`), in which a guest frees the
//! memory of its answer, before it returns. So every byte of an answer has
//! to be read while lifting: a view of guest memory kept for after the
//! call (`WasmList`, `WasmStr`) reads whatever the guest's allocator put
//! there since. The types here are [`Lift`] implementations that copy a
//! `route` or `flush` answer during lifting and check it against the
//! [`Limits`] as they go, which they find in a thread-local the invoker sets
//! around the call ([`within`]): lifting runs on the calling thread, inside
//! `TypedFunc::call`.
//!
//! What the canonical ABI lifts is bounded by the guest's memory: a string
//! or a list must lie within it (Wasmtime checks, and so do these types),
//! and the memory is at most `limits.max_memory_bytes`. One string, or one
//! list's elements, can therefore not be larger than the memory. Only
//! aliasing multiplies it: a list whose elements all name the same large
//! string. The lists here bound that: a `route` answer's names are counted
//! (`max_route_ports`) and their bytes summed (`max_route_bytes`) from
//! their lengths alone, and a `flush` answer's elements are counted
//! (`max_flush_outputs`) and its content types summed (against
//! `max_memory_bytes`) before a single string is copied. An answer over a
//! bound is refused with no string copied, and the guest's call still
//! completes normally (post-return runs): an answer over a bound does not
//! poison the instance.

use std::cell::Cell;

use wasmtime::ValRaw;
use wasmtime::component::__internal::{
    CanonicalAbiInfo, InstanceType, InterfaceType, LiftContext, wasmtime_environ,
};
use wasmtime::component::{ComponentType, Lift, Resource};
use wasmtime_environ::component::StringEncoding;

use super::bindings::GuestBuffer;
use super::bindings::torvyn::streaming::types;
use crate::config::Limits;
use crate::invoke::{self, OverBound};

thread_local! {
    /// The limits of the `route` or `flush` call running on this thread.
    static BOUNDS: Cell<Option<Limits>> = const { Cell::new(None) };
}

/// Runs `call` (a typed call of `route` or `flush`) with `limits` as the
/// bounds its answer is lifted against, restoring whatever was set before.
pub(crate) fn within<R>(limits: &Limits, call: impl FnOnce() -> R) -> R {
    struct Restore(Option<Limits>);
    impl Drop for Restore {
        fn drop(&mut self) {
            BOUNDS.set(self.0);
        }
    }
    let _restore = Restore(BOUNDS.replace(Some(*limits)));
    call()
}

/// The limits [`within`] set: an answer lifted outside it is an engine
/// bug, reported as a failed call rather than lifted unbounded.
fn bounds() -> wasmtime::Result<Limits> {
    BOUNDS.get().ok_or_else(|| {
        wasmtime::Error::msg(
            "engine bug: a `route` or `flush` answer was lifted without its bounds; \
             report it with the component that answered",
        )
    })
}

/// A guest's `(ptr, len)` pair in memory (4-byte little-endian each).
fn pair(bytes: &[u8]) -> (usize, usize) {
    let word = |at: usize| {
        let mut w = [0; 4];
        w.copy_from_slice(&bytes[at..at + 4]);
        u32::from_le_bytes(w) as usize
    };
    (word(0), word(4))
}

/// A guest's `(ptr, len)` pair in flat form.
fn flat_pair(src: &[ValRaw; 2]) -> (usize, usize) {
    (src[0].get_u32() as usize, src[1].get_u32() as usize)
}

/// The bytes of `len` elements of `T` at `ptr`: in memory and aligned, or
/// the error Wasmtime gives for such a list.
fn list_bytes<'a, T: ComponentType>(
    cx: &LiftContext<'a>,
    ptr: usize,
    len: usize,
) -> wasmtime::Result<&'a [u8]> {
    let memory = cx.memory();
    let bytes = len
        .checked_mul(T::SIZE32)
        .and_then(|size| memory.get(ptr..)?.get(..size))
        .ok_or_else(|| wasmtime::Error::msg("list pointer/length out of bounds of memory"))?;
    if !ptr.is_multiple_of(T::ALIGN32 as usize) {
        return Err(wasmtime::Error::msg("list pointer is not aligned"));
    }
    Ok(bytes)
}

/// The element type of a list type.
fn element(cx: &LiftContext<'_>, ty: InterfaceType) -> wasmtime::Result<InterfaceType> {
    match ty {
        InterfaceType::List(i) => Ok(cx.types[i].element),
        _ => Err(wasmtime::Error::msg(
            "engine bug: a list answer of another type",
        )),
    }
}

/// A string of a guest's answer, left in its memory: where it is, not yet
/// checked. [`GuestStr::units`] checks it; [`GuestStr::copy`] copies it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GuestStr {
    ptr: usize,
    len: usize,
}

/// Compact UTF-16's tag on a string's length: set for UTF-16, clear for
/// Latin-1 (the canonical ABI's `latin1+utf16`).
const UTF16_TAG: usize = 1 << 31;

impl GuestStr {
    /// Checks the string lies within the guest's memory, aligned for its
    /// encoding, as Wasmtime does, and returns its length in code units:
    /// what its UTF-8 copy holds at least (exactly, for UTF-8). Reads no
    /// byte of it.
    fn units(self, cx: &LiftContext<'_>) -> wasmtime::Result<usize> {
        let (units, bytes, align) = match cx.options().string_encoding {
            StringEncoding::Utf8 => (self.len, Some(self.len), 1),
            StringEncoding::Utf16 => (self.len, self.len.checked_mul(2), 2),
            StringEncoding::CompactUtf16 if self.len & UTF16_TAG == 0 => {
                (self.len, Some(self.len), 2)
            }
            StringEncoding::CompactUtf16 => {
                let units = self.len ^ UTF16_TAG;
                (units, units.checked_mul(2), 2)
            }
        };
        if !self.ptr.is_multiple_of(align) {
            return Err(wasmtime::Error::msg(format!(
                "string pointer not aligned to {align}"
            )));
        }
        match bytes.and_then(|b| self.ptr.checked_add(b)) {
            Some(end) if end <= cx.memory().len() => Ok(units),
            _ => Err(wasmtime::Error::msg(
                "string pointer/length out of bounds of memory",
            )),
        }
    }

    /// Copies the string (checked by [`GuestStr::units`]) into the host,
    /// validating it. UTF-8 is copied here; another encoding is transcoded
    /// by Wasmtime's own lifting.
    fn copy(self, cx: &mut LiftContext<'_>) -> wasmtime::Result<String> {
        if let StringEncoding::Utf8 = cx.options().string_encoding {
            let bytes = cx
                .memory()
                .get(self.ptr..)
                .and_then(|m| m.get(..self.len))
                .ok_or_else(|| {
                    wasmtime::Error::msg("string pointer/length out of bounds of memory")
                })?;
            return Ok(std::str::from_utf8(bytes)?.to_owned());
        }
        let flat = [ValRaw::u32(self.ptr as u32), ValRaw::u32(self.len as u32)];
        <String as Lift>::linear_lift_from_flat(cx, InterfaceType::String, &flat)
    }
}

// SAFETY: a `string` is a pointer pair, flat and in memory, as
// `ComponentType for str` (whose type check this is) declares it.
unsafe impl ComponentType for GuestStr {
    type Lower = [ValRaw; 2];

    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <str as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: reads the pointer pair as Wasmtime's `WasmStr` does; nothing
// else is read until it is checked.
unsafe impl Lift for GuestStr {
    fn linear_lift_from_flat(
        _cx: &mut LiftContext<'_>,
        _ty: InterfaceType,
        src: &Self::Lower,
    ) -> wasmtime::Result<Self> {
        let (ptr, len) = flat_pair(src);
        Ok(Self { ptr, len })
    }

    fn linear_lift_from_memory(
        _cx: &mut LiftContext<'_>,
        _ty: InterfaceType,
        bytes: &[u8],
    ) -> wasmtime::Result<Self> {
        let (ptr, len) = pair(bytes);
        Ok(Self { ptr, len })
    }
}

/// An `element-meta` with its content type still in guest memory.
#[derive(ComponentType, Lift)]
#[component(record)]
struct RawMeta {
    sequence: u64,
    #[component(name = "timestamp-ns")]
    timestamp_ns: u64,
    #[component(name = "content-type")]
    content_type: GuestStr,
}

/// An `output-element` of a `flush` answer: lifting it takes its
/// `own<buffer>` handle out of the guest's table, and copies nothing.
#[derive(ComponentType, Lift)]
#[component(record)]
struct RawOutput {
    meta: RawMeta,
    payload: Resource<GuestBuffer>,
}

/// A `route` answer (`list<string>`): the port names, copied, or the bound
/// the answer broke.
pub(crate) enum RouteAnswer {
    /// Within the bounds: every name.
    Names(Vec<String>),
    /// Over a bound; nothing was copied.
    Refused(OverBound),
}

impl RouteAnswer {
    fn lift(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        ptr: usize,
        len: usize,
    ) -> wasmtime::Result<Self> {
        let limits = bounds()?;
        let elem = element(cx, ty)?;
        let bytes = list_bytes::<GuestStr>(cx, ptr, len)?;
        // Its length first: a flood is refused without reading an element.
        if let Err(over) = invoke::check_route(len, [], &limits) {
            return Ok(Self::Refused(over));
        }
        let names = bytes
            .chunks_exact(GuestStr::SIZE32)
            .map(|b| GuestStr::linear_lift_from_memory(cx, elem, b))
            .collect::<wasmtime::Result<Vec<_>>>()?;
        // Their bytes from their lengths, before any is copied.
        let units = names
            .iter()
            .map(|s| s.units(cx))
            .collect::<wasmtime::Result<Vec<_>>>()?;
        if let Err(over) = invoke::check_route(len, units, &limits) {
            return Ok(Self::Refused(over));
        }
        let names = names
            .into_iter()
            .map(|s| s.copy(cx))
            .collect::<wasmtime::Result<Vec<_>>>()?;
        // Transcoded from UTF-16 a name can be longer than its units.
        if let Err(over) = invoke::check_route(len, names.iter().map(String::len), &limits) {
            return Ok(Self::Refused(over));
        }
        Ok(Self::Names(names))
    }
}

/// A `flush` answer (`list<output-element>`): its elements with their
/// content types copied, or the bound it broke.
pub(crate) enum FlushAnswer {
    /// Within the bounds: every element, its buffer's handle lifted (the
    /// host's now) and its content type copied.
    Outputs(Vec<types::OutputElement>),
    /// Over a bound; no content type was copied. The buffers' handles
    /// were lifted all the same, so the end of the call reclaims them.
    Refused(OverBound),
}

impl FlushAnswer {
    fn lift(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        ptr: usize,
        len: usize,
    ) -> wasmtime::Result<Self> {
        let limits = bounds()?;
        let elem = element(cx, ty)?;
        let bytes = list_bytes::<RawOutput>(cx, ptr, len)?;
        let elements = bytes.chunks_exact(RawOutput::SIZE32);
        if let Err(over) = invoke::check_flush(len, [], &limits) {
            // The guest handed its `own<buffer>` handles over in the
            // answer. Lifted, each leaves the guest's handle table (the end
            // of the call reclaims the buffer behind it); left there, they
            // would stay live in the store, and a guest that floods refused
            // answers would reach Wasmtime's store-wide handle limit
            // (100 000) and trap after some twenty calls. Lifting an
            // element reads no payload bytes and copies no string: O(1)
            // memory, one step per handle the guest itself made.
            for b in elements {
                let _ = RawOutput::linear_lift_from_memory(cx, elem, b);
            }
            return Ok(Self::Refused(over));
        }
        let outs = elements
            .map(|b| RawOutput::linear_lift_from_memory(cx, elem, b))
            .collect::<wasmtime::Result<Vec<_>>>()?;
        // The content types' bytes from their lengths, before any is
        // copied: a million elements naming the same string are refused
        // without copying it once.
        let units = outs
            .iter()
            .map(|o| o.meta.content_type.units(cx))
            .collect::<wasmtime::Result<Vec<_>>>()?;
        if let Err(over) = invoke::check_flush(len, units, &limits) {
            return Ok(Self::Refused(over));
        }
        let outs = outs
            .into_iter()
            .map(|o| {
                Ok(types::OutputElement {
                    meta: types::ElementMeta {
                        sequence: o.meta.sequence,
                        timestamp_ns: o.meta.timestamp_ns,
                        content_type: o.meta.content_type.copy(cx)?,
                    },
                    payload: o.payload,
                })
            })
            .collect::<wasmtime::Result<Vec<_>>>()?;
        let copied = outs.iter().map(|o| o.meta.content_type.len());
        if let Err(over) = invoke::check_flush(len, copied, &limits) {
            return Ok(Self::Refused(over));
        }
        Ok(Self::Outputs(outs))
    }
}

/// The `ComponentType` and `Lift` of a list answer `$answer` of `$elem`s,
/// lifted by its own `lift(cx, ty, ptr, len)`.
///
/// SAFETY (of the impls it writes): a list is a pointer pair, as
/// `ComponentType for [T]` (whose type check this is) declares it; and
/// `lift` checks the list lies within memory before it reads an element,
/// as Wasmtime's `WasmList` does.
macro_rules! list_answer {
    ($answer:ty, $elem:ty) => {
        // SAFETY: see the macro's docs.
        unsafe impl ComponentType for $answer {
            type Lower = [ValRaw; 2];

            const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;

            fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
                <[$elem] as ComponentType>::typecheck(ty, types)
            }
        }

        // SAFETY: see the macro's docs.
        unsafe impl Lift for $answer {
            fn linear_lift_from_flat(
                cx: &mut LiftContext<'_>,
                ty: InterfaceType,
                src: &Self::Lower,
            ) -> wasmtime::Result<Self> {
                let (ptr, len) = flat_pair(src);
                Self::lift(cx, ty, ptr, len)
            }

            fn linear_lift_from_memory(
                cx: &mut LiftContext<'_>,
                ty: InterfaceType,
                bytes: &[u8],
            ) -> wasmtime::Result<Self> {
                let (ptr, len) = pair(bytes);
                Self::lift(cx, ty, ptr, len)
            }
        }
    };
}

list_answer!(RouteAnswer, GuestStr);
list_answer!(FlushAnswer, RawOutput);
