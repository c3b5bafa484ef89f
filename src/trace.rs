//! Spans and events through `tracing` (feature `tracing-support`).
//!
//! Hot path. With the feature on, every invocation runs inside a
//! `torvyn.invoke` span (component, function) that records fuel, duration
//! and outcome when the call ends, and faults are logged as events; cold-path
//! operations get `torvyn.cold` spans (`operation` = `compile` or
//! `instantiate`), and each compiled-component cache lookup a `torvyn.cache`
//! span recording the tier that answered (a compile on a miss runs inside
//! it); rejected cache entries are logged as events. With the
//! feature off this module is empty stand-ins that compile to nothing: the
//! callers do not change.

#[cfg(feature = "tracing-support")]
mod imp {
    use tracing::Level;
    use tracing::field::Empty;
    use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};

    use crate::types::{ComponentId, Function, InvocationMetrics};

    /// The span of one invocation; `None` while `debug` is off.
    pub(crate) struct CallSpan(Option<tracing::span::EnteredSpan>);

    /// Enters the span of a call. While no subscriber takes `debug`, the
    /// span is not built: checking the level first (one atomic load) is what
    /// `debug_span!` does before anything else, and building, entering,
    /// recording into and dropping a disabled span cost ~50 instructions a
    /// call (callgrind, `examples/call_loop.rs pull`).
    #[inline]
    pub(crate) fn call(component: &ComponentId, function: Function) -> CallSpan {
        if Level::DEBUG > STATIC_MAX_LEVEL || Level::DEBUG > LevelFilter::current() {
            return CallSpan(None);
        }
        CallSpan(Some(
            tracing::debug_span!(
                "torvyn.invoke",
                component = %component,
                function = function.name(),
                fuel = Empty,
                duration_ns = Empty,
                outcome = Empty,
            )
            .entered(),
        ))
    }

    impl CallSpan {
        /// Records what the call cost and how it ended; `fault` is the
        /// message of an engine fault, if there was one.
        #[inline]
        pub(crate) fn finish(
            self,
            metrics: &InvocationMetrics,
            outcome: &str,
            fault: Option<&dyn std::fmt::Display>,
        ) {
            if let Some(span) = &self.0 {
                span.record("fuel", metrics.fuel_consumed);
                span.record("duration_ns", metrics.duration.as_nanos() as u64);
                span.record("outcome", outcome);
            }
            if let Some(fault) = fault {
                tracing::warn!(%fault, "guest call faulted");
            }
        }
    }

    /// The span of a cold-path operation (`compile`, `instantiate`).
    pub(crate) fn cold(operation: &'static str, subject: &str) -> tracing::span::EnteredSpan {
        tracing::info_span!("torvyn.cold", operation, subject).entered()
    }

    /// The span of one compiled-component cache lookup.
    pub(crate) struct CacheSpan(tracing::span::EnteredSpan);

    /// Enters the span of a cache lookup for `key`.
    pub(crate) fn cache_lookup(key: &dyn std::fmt::Display) -> CacheSpan {
        CacheSpan(tracing::info_span!("torvyn.cache", key = %key, tier = Empty).entered())
    }

    impl CacheSpan {
        /// Records which tier answered (`memory`, `disk`, `compiled`), or
        /// `failed`.
        pub(crate) fn finish(self, tier: &'static str) {
            self.0.record("tier", tier);
        }
    }
}

#[cfg(not(feature = "tracing-support"))]
mod imp {
    use crate::types::{ComponentId, Function, InvocationMetrics};

    /// No span: tracing is off.
    pub(crate) struct CallSpan;

    /// Nothing to enter: tracing is off.
    #[inline(always)]
    pub(crate) fn call(_component: &ComponentId, _function: Function) -> CallSpan {
        CallSpan
    }

    impl CallSpan {
        /// Nothing to record: tracing is off.
        #[inline(always)]
        pub(crate) fn finish(
            self,
            _metrics: &InvocationMetrics,
            _outcome: &str,
            _fault: Option<&dyn std::fmt::Display>,
        ) {
        }
    }

    /// No span: tracing is off.
    pub(crate) struct ColdSpan;

    /// Nothing to enter: tracing is off.
    #[inline(always)]
    pub(crate) fn cold(_operation: &'static str, _subject: &str) -> ColdSpan {
        ColdSpan
    }

    /// No span: tracing is off.
    pub(crate) struct CacheSpan;

    /// Nothing to enter: tracing is off.
    #[inline(always)]
    pub(crate) fn cache_lookup(_key: &dyn std::fmt::Display) -> CacheSpan {
        CacheSpan
    }

    impl CacheSpan {
        /// Nothing to record: tracing is off.
        #[inline(always)]
        pub(crate) fn finish(self, _tier: &'static str) {}
    }
}

pub(crate) use imp::*;

/// The name of an outcome for the span: `ok`, the guest error's kind or the
/// fault's kind.
pub(crate) fn outcome_name<T>(outcome: &Result<T, crate::InvokeError>) -> &'static str {
    match outcome {
        Ok(_) => "ok",
        Err(crate::InvokeError::Guest(e)) => e.kind(),
        Err(crate::InvokeError::Fault(f)) => f.kind.name(),
    }
}
