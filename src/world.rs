//! What a guest reads from the outside world, and what it writes to it:
//! the per-instance tap that logs and gives back the values of its WASI
//! clocks and random generators, and its stdout and stderr, one call at a
//! time.
//!
//! Cold path for calls that make no such read: the tap is touched only by
//! the guest's own clock and random calls (and writes to stdout/stderr),
//! never by the call frame, so a call that reads nothing costs what it
//! cost without the tap. Backend-neutral: the Wasmtime backend's WASI
//! clocks, random generators and captured output go through it
//! (`src/wasmtime/wasi.rs`), and so do a mock model's
//! `MockCtx` clock and random reads (feature `mock`).
//!
//! The tap's modes are documented on [`CallWorld`], what a user sees of it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A WASI function a guest reads the outside world through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorldInterface {
    /// `wasi:clocks/wall-clock.now`.
    WallClockNow,
    /// `wasi:clocks/wall-clock.resolution`.
    WallClockResolution,
    /// `wasi:clocks/monotonic-clock.now`.
    MonotonicClockNow,
    /// `wasi:clocks/monotonic-clock.resolution`.
    MonotonicClockResolution,
    /// `wasi:random/random.get-random-bytes`.
    RandomBytes,
    /// `wasi:random/random.get-random-u64`.
    RandomU64,
    /// `wasi:random/insecure.get-insecure-random-bytes`.
    InsecureRandomBytes,
    /// `wasi:random/insecure.get-insecure-random-u64`.
    InsecureRandomU64,
}

impl WorldInterface {
    /// Every interface, in declaration order.
    pub const ALL: [Self; 8] = [
        Self::WallClockNow,
        Self::WallClockResolution,
        Self::MonotonicClockNow,
        Self::MonotonicClockResolution,
        Self::RandomBytes,
        Self::RandomU64,
        Self::InsecureRandomBytes,
        Self::InsecureRandomU64,
    ];

    /// The WASI name: `wasi:clocks/wall-clock.now`.
    pub fn name(self) -> &'static str {
        match self {
            Self::WallClockNow => "wasi:clocks/wall-clock.now",
            Self::WallClockResolution => "wasi:clocks/wall-clock.resolution",
            Self::MonotonicClockNow => "wasi:clocks/monotonic-clock.now",
            Self::MonotonicClockResolution => "wasi:clocks/monotonic-clock.resolution",
            Self::RandomBytes => "wasi:random/random.get-random-bytes",
            Self::RandomU64 => "wasi:random/random.get-random-u64",
            Self::InsecureRandomBytes => "wasi:random/insecure.get-insecure-random-bytes",
            Self::InsecureRandomU64 => "wasi:random/insecure.get-insecure-random-u64",
        }
    }

    /// The key of a read of it in a recording (`wall`, `mono`, `random`...;
    /// see [`crate::record`]).
    pub fn key(self) -> &'static str {
        match self {
            Self::WallClockNow => "wall",
            Self::WallClockResolution => "wall_res",
            Self::MonotonicClockNow => "mono",
            Self::MonotonicClockResolution => "mono_res",
            Self::RandomBytes => "random",
            Self::RandomU64 => "random_u64",
            Self::InsecureRandomBytes => "insecure",
            Self::InsecureRandomU64 => "insecure_u64",
        }
    }

    /// The interface whose [`WorldInterface::key`] is `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.key() == key)
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for WorldInterface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One value a guest read from the outside world.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WorldRead {
    /// `wasi:clocks/wall-clock.now`: time since the Unix epoch.
    WallClockNow(Duration),
    /// `wasi:clocks/wall-clock.resolution`.
    WallClockResolution(Duration),
    /// `wasi:clocks/monotonic-clock.now`, in nanoseconds.
    MonotonicClockNow(u64),
    /// `wasi:clocks/monotonic-clock.resolution`, in nanoseconds.
    MonotonicClockResolution(u64),
    /// `wasi:random/random.get-random-bytes`: the bytes (see the module
    /// docs for calls that follow each other).
    RandomBytes(Vec<u8>),
    /// `wasi:random/random.get-random-u64`.
    RandomU64(u64),
    /// `wasi:random/insecure.get-insecure-random-bytes`.
    InsecureRandomBytes(Vec<u8>),
    /// `wasi:random/insecure.get-insecure-random-u64`.
    InsecureRandomU64(u64),
}

impl WorldRead {
    /// The interface read.
    pub fn interface(&self) -> WorldInterface {
        match self {
            Self::WallClockNow(_) => WorldInterface::WallClockNow,
            Self::WallClockResolution(_) => WorldInterface::WallClockResolution,
            Self::MonotonicClockNow(_) => WorldInterface::MonotonicClockNow,
            Self::MonotonicClockResolution(_) => WorldInterface::MonotonicClockResolution,
            Self::RandomBytes(_) => WorldInterface::RandomBytes,
            Self::RandomU64(_) => WorldInterface::RandomU64,
            Self::InsecureRandomBytes(_) => WorldInterface::InsecureRandomBytes,
            Self::InsecureRandomU64(_) => WorldInterface::InsecureRandomU64,
        }
    }

    /// The value of a wall-clock read.
    fn duration(self) -> Option<Duration> {
        match self {
            Self::WallClockNow(d) | Self::WallClockResolution(d) => Some(d),
            _ => None,
        }
    }

    /// The value of a monotonic-clock or `get-*-random-u64` read.
    fn number(self) -> Option<u64> {
        match self {
            Self::MonotonicClockNow(n)
            | Self::MonotonicClockResolution(n)
            | Self::RandomU64(n)
            | Self::InsecureRandomU64(n) => Some(n),
            _ => None,
        }
    }
}

/// What one call read from the outside world and wrote to stdout and
/// stderr ([`crate::ComponentInvoker::take_world`]). Empty (and nothing
/// allocated) for a call that did neither.
///
/// Every instance has a tap through which its WASI clocks and random
/// generators, and its stdout and stderr, go. It has three modes:
///
/// - **off** (the default): every read is the live value (the engine's
///   [`crate::Clock`], its seeded or OS generator); one relaxed atomic load
///   more than reading the source directly;
/// - **logging** ([`crate::ComponentInvoker::log_world`]): every read is
///   live and logged, in order, with what the guest wrote;
///   [`crate::ComponentInvoker::take_world`] takes the log after each call
///   (the [`crate::record::Recorder`] does);
/// - **scripted** ([`crate::ComponentInvoker::script_world`]): logging, and
///   the next reads are given the values of a script (what a recorded call
///   read), **per interface, in order**: the first `wall-clock.now` the
///   guest makes gets the first recorded `wall-clock.now`, and so on. When
///   the script has no more values of an interface, the guest gets live
///   values. A replay compares the log with the script to find where the
///   guest read differently.
///
/// Random bytes are logged as the guest's generator hands them out: one
/// read of `wasi:random/random.get-random-bytes` is one run of bytes, and
/// two such calls with no other read between them log as one run of their
/// bytes together (the generator sees bytes, not calls). Given back, the
/// bytes are the same either way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallWorld {
    /// The values read, in order.
    pub reads: Vec<WorldRead>,
    /// The bytes written to stdout (on Wasmtime, at most
    /// `max_captured_output` of them per call).
    pub stdout: Vec<u8>,
    /// The bytes written to stderr (the same cap).
    pub stderr: Vec<u8>,
}

impl CallWorld {
    /// Whether the call read and wrote nothing.
    pub fn is_empty(&self) -> bool {
        self.reads.is_empty() && self.stdout.is_empty() && self.stderr.is_empty()
    }
}

/// Where an instance's clocks and randomness come from: a recording's
/// header keeps it (`world`), and a replay gives the insecure seed back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldInfo {
    /// `system` or `virtual`: the engine clock's kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    /// The run's seed ([`crate::RandomSource::Seeded`]); none with the
    /// operating system's randomness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The value `wasi:random/insecure-seed.insecure-seed` answers (fixed
    /// for the instance's life), as 32 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_seed: Option<String>,
}

impl WorldInfo {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.clock.is_none() && self.seed.is_none() && self.insecure_seed.is_none()
    }

    /// [`WorldInfo::insecure_seed`] as a number.
    pub fn insecure_seed_value(&self) -> Option<u128> {
        let hex = self.insecure_seed.as_deref()?;
        let digits = hex.len() == 32 && hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        digits.then(|| u128::from_str_radix(hex, 16).ok()).flatten()
    }

    /// `seed` as [`WorldInfo::insecure_seed`] writes it.
    pub fn insecure_seed_hex(seed: u128) -> String {
        format!("{seed:032x}")
    }
}

/// `virtual` or `system`: the kind of `clock`, as [`WorldInfo::clock`]
/// names it.
pub(crate) fn clock_name(clock: &crate::Clock) -> &'static str {
    if clock.is_virtual() {
        "virtual"
    } else {
        "system"
    }
}

/// The recorded values a scripted tap gives back: one queue per interface.
#[derive(Default)]
struct Script {
    values: [VecDeque<WorldRead>; 8],
    /// The bytes of each bytes interface, every run together.
    random_bytes: VecDeque<u8>,
    insecure_bytes: VecDeque<u8>,
}

impl Script {
    fn of(reads: &[WorldRead]) -> Self {
        let mut s = Self::default();
        for r in reads {
            match r {
                WorldRead::RandomBytes(b) => s.random_bytes.extend(b),
                WorldRead::InsecureRandomBytes(b) => s.insecure_bytes.extend(b),
                other => s.values[other.interface().index()].push_back(other.clone()),
            }
        }
        s
    }
}

struct TapState {
    logging: bool,
    script: Option<Script>,
    current: CallWorld,
    /// The most bytes of stdout (and of stderr) logged per call.
    output_cap: usize,
}

impl Default for TapState {
    fn default() -> Self {
        Self {
            logging: false,
            script: None,
            current: CallWorld::default(),
            output_cap: usize::MAX,
        }
    }
}

#[derive(Default)]
struct TapInner {
    /// Logging or scripted: reads take the slow path.
    on: AtomicBool,
    /// Something was logged since the last take.
    dirty: AtomicBool,
    state: Mutex<TapState>,
}

/// One instance's tap (see the module docs). Clones share it: the WASI
/// clocks, generators and output streams hold clones, the invoker another.
#[derive(Clone, Default)]
pub(crate) struct WorldTap(Arc<TapInner>);

impl std::fmt::Debug for WorldTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldTap")
            .field("on", &self.0.on.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl WorldTap {
    /// A tap that logs at most `cap` bytes of stdout (and of stderr) per
    /// call: what the instance's captured output keeps
    /// (`max_captured_output`), so a guest flooding its stdout does not
    /// flood a recording either.
    #[cfg_attr(
        all(not(feature = "wasmtime-backend"), not(test)),
        expect(
            dead_code,
            reason = "the Wasmtime backend's captured output has a cap; a mock model has none"
        )
    )]
    pub fn with_output_cap(cap: usize) -> Self {
        let tap = Self::default();
        tap.state().output_cap = cap;
        tap
    }

    fn state(&self) -> MutexGuard<'_, TapState> {
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[inline]
    fn on(&self) -> bool {
        self.0.on.load(Ordering::Relaxed)
    }

    /// Starts or stops logging (stopping drops any script and the log).
    pub fn log(&self, on: bool) {
        let mut s = self.state();
        s.logging = on;
        if !on {
            s.script = None;
            s.current = CallWorld::default();
            self.0.dirty.store(false, Ordering::Relaxed);
        }
        self.0.on.store(on, Ordering::Relaxed);
    }

    /// Gives the next reads back from `reads` (per interface, in order;
    /// live values when an interface's run out), logging on; replaces the
    /// script before.
    pub fn script(&self, reads: &[WorldRead]) {
        let mut s = self.state();
        s.logging = true;
        s.script = Some(Script::of(reads));
        self.0.on.store(true, Ordering::Relaxed);
    }

    /// What was logged since the last take; empty, without taking the
    /// lock, when nothing was.
    pub fn take(&self) -> CallWorld {
        if !self.0.dirty.load(Ordering::Relaxed) {
            return CallWorld::default();
        }
        let mut s = self.state();
        self.0.dirty.store(false, Ordering::Relaxed);
        std::mem::take(&mut s.current)
    }

    /// A read of `interface`: the script's next value of it, else `live`;
    /// logged.
    #[cold]
    fn read_slow(&self, interface: WorldInterface, live: impl FnOnce() -> WorldRead) -> WorldRead {
        let mut s = self.state();
        let scripted = s
            .script
            .as_mut()
            .and_then(|sc| sc.values[interface.index()].pop_front());
        let value = scripted.unwrap_or_else(live);
        if s.logging {
            s.current.reads.push(value.clone());
            self.0.dirty.store(true, Ordering::Relaxed);
        }
        value
    }

    /// A read of `interface`: `live` when the tap is off; else the
    /// script's next value of it, or `live`, logged. `wrap` and `unwrap`
    /// move the value into a [`WorldRead`] and out of it (a script's queue
    /// holds reads of its own interface only, so `unwrap` finds it).
    #[inline]
    fn read<T>(
        &self,
        interface: WorldInterface,
        live: impl FnOnce() -> T,
        wrap: fn(T) -> WorldRead,
        unwrap: fn(WorldRead) -> Option<T>,
    ) -> T {
        if !self.on() {
            return live();
        }
        unwrap(self.read_slow(interface, || wrap(live())))
            .expect("a queue holds reads of its own interface")
    }

    /// `wasi:clocks/wall-clock.now`.
    #[inline]
    pub fn wall_clock_now(&self, live: impl FnOnce() -> Duration) -> Duration {
        use WorldRead::WallClockNow as R;
        self.read(WorldInterface::WallClockNow, live, R, WorldRead::duration)
    }

    /// `wasi:clocks/wall-clock.resolution`.
    #[inline]
    #[cfg_attr(
        not(feature = "wasmtime-backend"),
        expect(
            dead_code,
            reason = "the Wasmtime backend's WASI calls it; a mock model has no such call"
        )
    )]
    pub fn wall_clock_resolution(&self, live: impl FnOnce() -> Duration) -> Duration {
        use WorldRead::WallClockResolution as R;
        self.read(
            WorldInterface::WallClockResolution,
            live,
            R,
            WorldRead::duration,
        )
    }

    /// `wasi:clocks/monotonic-clock.now`.
    #[inline]
    pub fn monotonic_clock_now(&self, live: impl FnOnce() -> u64) -> u64 {
        use WorldRead::MonotonicClockNow as R;
        self.read(
            WorldInterface::MonotonicClockNow,
            live,
            R,
            WorldRead::number,
        )
    }

    /// `wasi:clocks/monotonic-clock.resolution`.
    #[inline]
    #[cfg_attr(
        not(feature = "wasmtime-backend"),
        expect(
            dead_code,
            reason = "the Wasmtime backend's WASI calls it; a mock model has no such call"
        )
    )]
    pub fn monotonic_clock_resolution(&self, live: impl FnOnce() -> u64) -> u64 {
        use WorldRead::MonotonicClockResolution as R;
        self.read(
            WorldInterface::MonotonicClockResolution,
            live,
            R,
            WorldRead::number,
        )
    }

    /// `get-random-u64` (`insecure`: of `wasi:random/insecure`).
    #[inline]
    pub fn random_u64(&self, insecure: bool, live: impl FnOnce() -> u64) -> u64 {
        let (interface, wrap): (_, fn(u64) -> WorldRead) = if insecure {
            (
                WorldInterface::InsecureRandomU64,
                WorldRead::InsecureRandomU64,
            )
        } else {
            (WorldInterface::RandomU64, WorldRead::RandomU64)
        };
        self.read(interface, live, wrap, WorldRead::number)
    }

    /// Fills `buf` with random bytes (`insecure`: of
    /// `wasi:random/insecure`): scripted bytes first, then `live` for the
    /// rest. `join`: bytes the generator hands out one at a time join the
    /// run logged just before them, if it is of the same interface (see the
    /// module docs); otherwise they are a read of their own.
    #[inline]
    pub fn random_bytes(
        &self,
        insecure: bool,
        join: bool,
        buf: &mut [u8],
        live: impl FnOnce(&mut [u8]),
    ) {
        if !self.on() {
            return live(buf);
        }
        self.random_bytes_slow(insecure, join, buf, live);
    }

    #[cold]
    fn random_bytes_slow(
        &self,
        insecure: bool,
        join: bool,
        buf: &mut [u8],
        live: impl FnOnce(&mut [u8]),
    ) {
        let mut s = self.state();
        let mut served = 0;
        if let Some(script) = s.script.as_mut() {
            let queue = if insecure {
                &mut script.insecure_bytes
            } else {
                &mut script.random_bytes
            };
            while served < buf.len() {
                match queue.pop_front() {
                    Some(b) => buf[served] = b,
                    None => break,
                }
                served += 1;
            }
        }
        if served < buf.len() {
            live(&mut buf[served..]);
        }
        if !s.logging {
            return;
        }
        let reads = &mut s.current.reads;
        match reads.last_mut() {
            Some(WorldRead::InsecureRandomBytes(run)) if join && insecure => {
                run.extend_from_slice(buf)
            }
            Some(WorldRead::RandomBytes(run)) if join && !insecure => run.extend_from_slice(buf),
            _ if insecure => reads.push(WorldRead::InsecureRandomBytes(buf.to_vec())),
            _ => reads.push(WorldRead::RandomBytes(buf.to_vec())),
        }
        self.0.dirty.store(true, Ordering::Relaxed);
    }

    /// Logs bytes the guest wrote to stdout (`stderr`: to stderr).
    #[inline]
    #[cfg_attr(
        all(not(feature = "wasmtime-backend"), not(test)),
        expect(
            dead_code,
            reason = "the Wasmtime backend's WASI calls it; a mock model has no such call"
        )
    )]
    pub fn wrote(&self, stderr: bool, bytes: &[u8]) {
        if self.on() && !bytes.is_empty() {
            self.wrote_slow(stderr, bytes);
        }
    }

    #[cold]
    fn wrote_slow(&self, stderr: bool, bytes: &[u8]) {
        let mut s = self.state();
        if s.logging {
            let cap = s.output_cap;
            let out = if stderr {
                &mut s.current.stderr
            } else {
                &mut s.current.stdout
            };
            let kept = cap.saturating_sub(out.len()).min(bytes.len());
            out.extend_from_slice(&bytes[..kept]);
            self.0.dirty.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_reads_live_and_logs_nothing() {
        let tap = WorldTap::default();
        assert_eq!(tap.monotonic_clock_now(|| 5), 5);
        tap.wrote(false, b"hi");
        assert!(tap.take().is_empty());
    }

    #[test]
    fn logging_keeps_every_read_in_order_and_joins_byte_runs() {
        let tap = WorldTap::default();
        tap.log(true);
        assert_eq!(
            tap.wall_clock_now(|| Duration::from_secs(3)),
            Duration::from_secs(3)
        );
        let mut b = [0u8; 1];
        for v in [1, 2] {
            tap.random_bytes(false, true, &mut b, |x| x[0] = v);
        }
        tap.random_bytes(false, false, &mut b, |x| x[0] = 3);
        assert_eq!(tap.random_u64(true, || 9), 9);
        tap.wrote(true, b"err");
        let w = tap.take();
        let capped = WorldTap::with_output_cap(4);
        capped.log(true);
        capped.wrote(false, b"abc");
        capped.wrote(false, b"def");
        assert_eq!(capped.take().stdout, b"abcd", "at most the cap per call");
        assert_eq!(
            w.reads,
            [
                WorldRead::WallClockNow(Duration::from_secs(3)),
                WorldRead::RandomBytes(vec![1, 2]),
                WorldRead::RandomBytes(vec![3]),
                WorldRead::InsecureRandomU64(9),
            ]
        );
        assert_eq!(w.stderr, b"err");
        assert!(tap.take().is_empty(), "a take empties the log");
    }

    #[test]
    fn a_script_gives_values_back_per_interface_then_live_ones() {
        let tap = WorldTap::default();
        tap.script(&[
            WorldRead::MonotonicClockNow(10),
            WorldRead::WallClockNow(Duration::from_nanos(7)),
            WorldRead::RandomBytes(vec![4, 5]),
        ]);
        // Another order than the script's, one read more, bytes split.
        assert_eq!(
            tap.wall_clock_now(|| Duration::ZERO),
            Duration::from_nanos(7)
        );
        assert_eq!(
            tap.wall_clock_now(|| Duration::from_secs(1)),
            Duration::from_secs(1)
        );
        assert_eq!(tap.monotonic_clock_now(|| 0), 10);
        let mut b = [0u8; 3];
        tap.random_bytes(false, false, &mut b, |x| x.fill(9));
        assert_eq!(b, [4, 5, 9], "recorded bytes, then live ones");
        assert_eq!(
            tap.take().reads.len(),
            4,
            "the reads as the guest made them"
        );
    }
}
