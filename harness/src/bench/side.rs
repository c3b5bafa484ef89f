//! The two sides of a comparison: an instance ([`Driver`]: the engine's
//! or the mock's invoker, or the baseline's instance) fed the inputs in
//! turn ([`Feed`]), timed over `n` calls, with `--keep-going`'s count of
//! refused calls ([`Side`]).
//!
//! Hot path: [`Side::run`] is the timed loop; a call that fails leaves it
//! through a cold branch.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use torvyn_engine::mock::MockInvoker;
use torvyn_engine::wasmtime::WasmtimeInvoker;
use torvyn_engine::{InvokeError, ProcessResult, StreamElement};

use super::{BaselineCallError, BaselineInstance, BenchInput, Sent};

/// The function a comparison calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Drive {
    Process,
    Push,
    Pull,
}

impl Drive {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Process => "process",
            Self::Push => "push",
            Self::Pull => "pull",
        }
    }
}

/// The payloads in turn, and what was sent since the last restart.
pub(super) struct Feed<'a> {
    inputs: &'a [BenchInput],
    next: usize,
    sequence: u64,
    pub(super) sent: Sent,
}

impl<'a> Feed<'a> {
    fn new(inputs: &'a [BenchInput]) -> Self {
        Self {
            inputs,
            next: 0,
            sequence: 0,
            sent: Sent::default(),
        }
    }

    /// The next input, its index and the sequence number to send it with.
    #[inline]
    fn take(&mut self, drive: Drive) -> (usize, &'a BenchInput, u64) {
        let index = self.next;
        self.next = if index + 1 == self.inputs.len() {
            0
        } else {
            index + 1
        };
        let input = &self.inputs[index];
        self.sent.calls += 1;
        if drive != Drive::Pull {
            self.sent.bytes += input.payload.len() as u64;
        }
        let sequence = self.sequence;
        self.sequence += 1;
        (index, input, sequence)
    }
}

/// One side's instance: a call with an input, its guest output, its errors.
pub(super) trait Driver {
    type Error: fmt::Display;

    fn call(&mut self, drive: Drive, sequence: u64, input: &BenchInput) -> Result<(), Self::Error>;

    /// Whether `--keep-going` counts `e` and goes on: a `process-error`
    /// other than `fatal`.
    fn countable(e: &Self::Error) -> bool;

    /// Forgets the guest output captured so far, so the next failure's
    /// stderr is its own and the capture never fills up.
    fn clear_output(&mut self) {}

    /// The guest's stderr since the last [`Driver::clear_output`].
    fn stderr(&mut self) -> Vec<u8> {
        Vec::new()
    }
}

/// The engine's (or the mock's) instance.
pub(super) struct EngineDriver<'a, I>(pub(super) &'a mut I);

impl<I: Synchronous> Driver for EngineDriver<'_, I> {
    type Error = InvokeError;

    #[inline]
    fn call(&mut self, drive: Drive, sequence: u64, input: &BenchInput) -> Result<(), InvokeError> {
        let element =
            || StreamElement::new(sequence, input.payload.clone(), input.content_type.clone());
        match drive {
            Drive::Process => self.0.process_now(element()).outcome.map(drop),
            Drive::Push => self.0.push_now(element()).outcome.map(drop),
            Drive::Pull => self.0.pull_now().outcome.map(drop),
        }
    }

    fn countable(e: &InvokeError) -> bool {
        matches!(e, InvokeError::Guest(g) if !g.is_fatal())
    }

    fn clear_output(&mut self) {
        self.0.clear_output_now();
    }

    fn stderr(&mut self) -> Vec<u8> {
        self.0.stderr_now()
    }
}

/// The baseline's instance.
pub(super) struct BaselineDriver<'a>(pub(super) &'a mut BaselineInstance);

impl Driver for BaselineDriver<'_> {
    type Error = BaselineCallError;

    #[inline]
    fn call(
        &mut self,
        drive: Drive,
        sequence: u64,
        input: &BenchInput,
    ) -> Result<(), BaselineCallError> {
        match drive {
            Drive::Process => self
                .0
                .process(sequence, &input.payload, input.content_type.as_str())
                .map(drop),
            Drive::Push => self
                .0
                .push(sequence, &input.payload, input.content_type.as_str())
                .map(drop),
            Drive::Pull => self.0.pull().map(drop),
        }
    }

    fn countable(e: &BaselineCallError) -> bool {
        matches!(e, BaselineCallError::Guest { fatal: false, .. })
    }
}

/// Where a side stopped: the input it sent, and the error.
pub(super) struct Stop<E> {
    pub(super) input: usize,
    pub(super) error: E,
}

/// One side of a comparison: its instance, the inputs in turn, and with
/// `keep_going` the count of refused calls per input.
pub(super) struct Side<'a, D: Driver> {
    pub(super) driver: D,
    drive: Drive,
    pub(super) feed: Feed<'a>,
    keep_going: bool,
    /// Refused calls per input since the last restart (empty unless
    /// `keep_going`).
    pub(super) refused: Vec<u64>,
    /// The first refusal of each refused input, ever.
    pub(super) first_refusal: BTreeMap<usize, String>,
}

impl<'a, D: Driver> Side<'a, D> {
    pub(super) fn new(driver: D, drive: Drive, inputs: &'a [BenchInput], keep_going: bool) -> Self {
        Self {
            driver,
            drive,
            feed: Feed::new(inputs),
            keep_going,
            refused: if keep_going {
                vec![0; inputs.len()]
            } else {
                Vec::new()
            },
            first_refusal: BTreeMap::new(),
        }
    }

    /// `n` calls, the inputs in turn; the time they took.
    pub(super) fn run(&mut self, n: u64) -> Result<Duration, Stop<D::Error>> {
        let start = Instant::now();
        for _ in 0..n {
            self.one()?;
        }
        Ok(start.elapsed())
    }

    #[inline]
    fn one(&mut self) -> Result<(), Stop<D::Error>> {
        let (index, input, sequence) = self.feed.take(self.drive);
        match self.driver.call(self.drive, sequence, input) {
            Ok(()) => Ok(()),
            Err(error) if self.keep_going && D::countable(&error) => {
                self.refuse(index, &error);
                Ok(())
            }
            Err(error) => Err(Stop {
                input: index,
                error,
            }),
        }
    }

    #[cold]
    fn refuse(&mut self, index: usize, error: &D::Error) {
        self.refused[index] += 1;
        self.first_refusal
            .entry(index)
            .or_insert_with(|| error.to_string());
    }

    /// One call per input, in order, each with its own guest output (none
    /// of it timed): a failing input is found at once, with its stderr.
    pub(super) fn check(&mut self) -> Result<(), Stop<D::Error>> {
        for _ in 0..self.feed.inputs.len() {
            self.driver.clear_output();
            self.one()?;
        }
        Ok(())
    }

    /// Back to the first input, with nothing sent or refused yet.
    pub(super) fn restart(&mut self) {
        self.feed.next = 0;
        self.feed.sent = Sent::default();
        self.refused.iter_mut().for_each(|n| *n = 0);
    }
}

/// The other side of a comparison, whichever it is: its errors as text.
pub(super) trait OtherSide {
    fn run(&mut self, n: u64) -> Result<Duration, Stop<String>>;
    fn restart(&mut self);
    fn sent(&self) -> Sent;
    fn refused(&self) -> Vec<u64>;
}

impl<D: Driver> OtherSide for Side<'_, D> {
    fn run(&mut self, n: u64) -> Result<Duration, Stop<String>> {
        Side::run(self, n).map_err(|stop| Stop {
            input: stop.input,
            error: stop.error.to_string(),
        })
    }

    fn restart(&mut self) {
        Side::restart(self);
    }

    fn sent(&self) -> Sent {
        self.feed.sent
    }

    fn refused(&self) -> Vec<u64> {
        self.refused.clone()
    }
}

/// The synchronous calls both invokers offer (`*_sync`), so a comparison
/// measures the same path on each, without an executor.
pub(super) trait Synchronous {
    fn process_now(&mut self, el: StreamElement) -> torvyn_engine::Invocation<ProcessResult>;
    fn push_now(
        &mut self,
        el: StreamElement,
    ) -> torvyn_engine::Invocation<torvyn_engine::BackpressureSignal>;
    fn pull_now(&mut self) -> torvyn_engine::Invocation<Option<torvyn_engine::OutputElement>>;
    /// Forgets the captured guest output.
    fn clear_output_now(&mut self);
    /// The captured guest stderr (none for the mock).
    fn stderr_now(&mut self) -> Vec<u8>;
}

impl Synchronous for WasmtimeInvoker {
    fn process_now(&mut self, el: StreamElement) -> torvyn_engine::Invocation<ProcessResult> {
        self.process_sync(el)
    }
    fn push_now(
        &mut self,
        el: StreamElement,
    ) -> torvyn_engine::Invocation<torvyn_engine::BackpressureSignal> {
        self.push_sync(el)
    }
    fn pull_now(&mut self) -> torvyn_engine::Invocation<Option<torvyn_engine::OutputElement>> {
        self.pull_sync()
    }
    fn clear_output_now(&mut self) {
        let _ = (self.take_stdout(), self.take_stderr());
    }
    fn stderr_now(&mut self) -> Vec<u8> {
        self.take_stderr().bytes
    }
}

impl Synchronous for MockInvoker {
    fn process_now(&mut self, el: StreamElement) -> torvyn_engine::Invocation<ProcessResult> {
        self.process_sync(el)
    }
    fn push_now(
        &mut self,
        el: StreamElement,
    ) -> torvyn_engine::Invocation<torvyn_engine::BackpressureSignal> {
        self.push_sync(el)
    }
    fn pull_now(&mut self) -> torvyn_engine::Invocation<Option<torvyn_engine::OutputElement>> {
        self.pull_sync()
    }
    fn clear_output_now(&mut self) {}
    fn stderr_now(&mut self) -> Vec<u8> {
        Vec::new()
    }
}
