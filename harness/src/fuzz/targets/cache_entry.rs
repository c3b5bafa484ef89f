//! The `cache_entry` target: arbitrary bytes as a disk cache entry.

use arbitrary::Unstructured;

use crate::fuzz::Verdict;
use crate::fuzz::generate::{self};
use crate::fuzz::spy::EntryEngine;
use crate::fuzz::world::{self};

/// Target `cache_entry`: arbitrary bytes as the disk cache entry of a
/// compiled component (on the mock engine, or one input in 32 on Wasmtime
/// with Winch, whose recompile per rejected entry is slow) ([`generate::cache_entry`]: raw bytes, edits of the valid
/// entry, its header over a foreign payload, or the valid entry). Oracle:
/// nothing that `serialize` did not produce reaches `deserialize`
/// ([`crate::fuzz::spy::SpyEngine`]); an entry other than the valid one is
/// rejected and recompiled; nothing panics; afterwards the entry is valid
/// again.
pub fn cache_entry(data: &[u8]) -> Verdict {
    let _case = world::case();
    let mut u = Unstructured::new(data);
    let case = (|| -> arbitrary::Result<_> {
        let engine = if generate::one_in(&mut u, 32)? {
            EntryEngine::Wasmtime
        } else {
            EntryEngine::Mock
        };
        Ok((engine, generate::cache_entry(&mut u)?))
    })();
    let Ok((engine, case)) = case else {
        return Verdict::Discarded;
    };
    crate::fuzz::spy::check_entry(engine, &case);
    Verdict::Checked
}
