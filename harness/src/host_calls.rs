//! Host-call traces in transcripts, and the expectations a scenario puts
//! on them.
//!
//! With `trace_host_calls: true` in a scenario or pipeline (the CLI's
//! `--trace-host-calls`), every transcript entry lists the contract host
//! calls the guest made during the call, one line each
//! (`host_call_trace:`), as the engine traces them
//! ([`torvyn_engine::ComponentInvoker::host_call_trace`]):
//!
//! ```yaml
//! host_call_trace:
//! - buffer.read-all(#1) -> 5 bytes
//! - 'buffer-allocator.allocate(capacity 5) -> #3'
//! ```
//!
//! A scenario can also fail on host calls it does not expect:
//!
//! ```yaml
//! expect_host_calls:            # every `process` makes exactly these, in order
//!   process: [read-all, allocate, append, freeze]
//! forbid_host_calls: [clone-into-mutable]   # no call makes these
//! ```
//!
//! An exact sequence per function says what a call of it does through the
//! host, order included (a read before the allocation it sizes): the claim
//! a component author makes about a processor, pinned as a check without
//! pinning the rest of the transcript. `forbid_host_calls` is the looser
//! claim that holds however a guest's toolchain orders its calls (a
//! Python guest's drops, say). A host function is named as the contract
//! names it (`buffer.read-all`) or by the part after the interface
//! (`read-all`) where that names one function (`size` does not: it is
//! `buffer.size` or `mutable-buffer.size`). A run that breaks an
//! expectation lists the problems in the transcript's
//! `unexpected_host_calls`, and `torvyn-sim check` exits with 1.

use std::collections::BTreeMap;

use torvyn_engine::{Function, HostFunction};

use crate::transcript::Entry;

/// The host function `name` stands for: a contract name
/// (`buffer.read-all`, `[resource-drop]buffer`) or the part after its
/// interface (`read-all`) when that names one function.
///
/// # Errors
///
/// What is wrong with the name (unknown, or ambiguous) and the names that
/// would do.
pub fn resolve_host_function(name: &str) -> Result<HostFunction, String> {
    if let Some(f) = HostFunction::ALL.into_iter().find(|f| f.name() == name) {
        return Ok(f);
    }
    let matches: Vec<HostFunction> = HostFunction::ALL
        .into_iter()
        .filter(|f| f.name().rsplit_once('.').is_some_and(|(_, n)| n == name))
        .collect();
    match matches.as_slice() {
        [f] => Ok(*f),
        [] => Err(format!(
            "`{name}` is not a host function of the contract; name one of {}",
            HostFunction::ALL
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        several => Err(format!(
            "`{name}` is ambiguous: write {}",
            several
                .iter()
                .map(|f| format!("`{}`", f.name()))
                .collect::<Vec<_>>()
                .join(" or ")
        )),
    }
}

/// The function a call named `name` is (`process`, `pull`...).
fn resolve_call(name: &str) -> Result<Function, String> {
    Function::CALLS
        .into_iter()
        .find(|f| f.name() == name)
        .ok_or_else(|| {
            format!(
                "`{name}` is not a call the harness makes; name one of {}",
                Function::CALLS
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// What a scenario expects of the host calls of its run: the fields
/// `expect_host_calls` and `forbid_host_calls`, resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostCallExpectations {
    /// Per call function, the exact host calls each of its calls makes.
    pub sequences: Vec<(Function, Vec<HostFunction>)>,
    /// Host functions no call may make.
    pub forbidden: Vec<HostFunction>,
}

impl HostCallExpectations {
    /// The expectations of a scenario's `expect_host_calls` and
    /// `forbid_host_calls`.
    ///
    /// # Errors
    ///
    /// The first name that names no call or host function, with where it is
    /// (`expect_host_calls.process[2]`).
    pub fn resolve(
        expect: &BTreeMap<String, Vec<String>>,
        forbid: &[String],
    ) -> Result<Self, String> {
        let mut sequences = Vec::new();
        for (call, names) in expect {
            let function = resolve_call(call).map_err(|e| format!("expect_host_calls: {e}"))?;
            let hosts = names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    resolve_host_function(n)
                        .map_err(|e| format!("expect_host_calls.{call}[{i}]: {e}"))
                })
                .collect::<Result<_, _>>()?;
            sequences.push((function, hosts));
        }
        let forbidden = forbid
            .iter()
            .enumerate()
            .map(|(i, n)| {
                resolve_host_function(n).map_err(|e| format!("forbid_host_calls[{i}]: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            sequences,
            forbidden,
        })
    }

    /// Whether there is nothing to check.
    pub fn is_empty(&self) -> bool {
        self.sequences.is_empty() && self.forbidden.is_empty()
    }

    /// What the traced `entries` do that these expectations do not allow,
    /// one line per problem, each naming the entry, its call, the host call
    /// and what was expected. Empty when all is as expected.
    pub fn problems(&self, entries: &[Entry]) -> Vec<String> {
        let mut out = Vec::new();
        for e in entries {
            let Some(trace) = &e.host_call_trace else {
                continue;
            };
            let made: Vec<&str> = trace.iter().map(|l| traced_function(l)).collect();
            let at = entry_label(e);
            for (i, name) in made.iter().enumerate() {
                if let Some(f) = self.forbidden.iter().find(|f| f.name() == *name) {
                    out.push(format!(
                        "{at}: host call {i} is `{}`, which `forbid_host_calls` forbids ({})",
                        f.name(),
                        trace[i]
                    ));
                }
            }
            for (_, expected) in self.sequences.iter().filter(|(c, _)| *c == e.call) {
                let want: Vec<&str> = expected.iter().map(|f| f.name()).collect();
                if made == want {
                    continue;
                }
                let first = made.iter().zip(&want).position(|(m, w)| m != w);
                let detail = match first {
                    Some(i) => format!(
                        "host call {i} is `{}` where `{}` was expected",
                        made[i], want[i]
                    ),
                    None if made.len() > want.len() => format!(
                        "host call {} is `{}`, after the {} expected",
                        want.len(),
                        made[want.len()],
                        want.len()
                    ),
                    None => format!(
                        "it made {} host call(s) and `{}` was expected next",
                        made.len(),
                        want[made.len()]
                    ),
                };
                out.push(format!(
                    "{at}: {detail}; `expect_host_calls.{}` is [{}], the call made [{}]",
                    e.call.name(),
                    want.join(", "),
                    made.join(", ")
                ));
            }
        }
        out
    }
}

/// The host function of a trace line (`buffer.read-all(#1) -> 5 bytes`).
fn traced_function(line: &str) -> &str {
    line.split_once('(').map_or(line, |(f, _)| f)
}

/// `entry #1 (process)`, with the stage in a pipeline.
fn entry_label(e: &Entry) -> String {
    match &e.stage {
        Some(stage) => format!("entry #{} ({} of stage {stage})", e.index, e.call.name()),
        None => format!("entry #{} ({})", e.index, e.call.name()),
    }
}

/// The trace lines of the last call of `inst`.
pub(crate) fn trace_lines(calls: &[torvyn_engine::HostCall]) -> Vec<String> {
    calls.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Outcome;

    #[test]
    fn names_resolve_by_contract_name_or_unique_suffix() {
        assert_eq!(
            resolve_host_function("read-all"),
            Ok(HostFunction::BufferReadAll)
        );
        assert_eq!(
            resolve_host_function("buffer-allocator.allocate"),
            Ok(HostFunction::Allocate)
        );
        assert_eq!(
            resolve_host_function("[resource-drop]buffer"),
            Ok(HostFunction::BufferDrop)
        );
        let e = resolve_host_function("size").unwrap_err();
        assert!(e.contains("`buffer.size` or `mutable-buffer.size`"), "{e}");
        let e = resolve_host_function("nope").unwrap_err();
        assert!(e.contains("`nope`") && e.contains("buffer.read-all"), "{e}");
    }

    fn traced(call: Function, lines: &[&str]) -> Entry {
        let mut e = Entry::new(3, call, Outcome::Drop, &Default::default());
        e.host_call_trace = Some(lines.iter().map(|l| l.to_string()).collect());
        e
    }

    #[test]
    fn problems_name_the_entry_the_host_call_and_what_was_expected() {
        let expect = BTreeMap::from([(
            "process".to_string(),
            vec!["read-all".to_string(), "allocate".to_string()],
        )]);
        let x = HostCallExpectations::resolve(&expect, &["clone-into-mutable".into()]).unwrap();
        let ok = traced(
            Function::Process,
            &[
                "buffer.read-all(#1) -> 1 bytes",
                "buffer-allocator.allocate(capacity 1) -> #3",
            ],
        );
        assert!(x.problems(&[ok]).is_empty());
        let bad = traced(
            Function::Process,
            &[
                "buffer.read-all(#1) -> 1 bytes",
                "buffer-allocator.clone-into-mutable(#1) -> #3",
            ],
        );
        let p = x.problems(&[bad]);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].starts_with("entry #3 (process): host call 1 is `buffer-allocator.clone-into-mutable`, which `forbid_host_calls` forbids"),
            "{}",
            p[0]
        );
        assert!(
            p[1].contains("host call 1 is `buffer-allocator.clone-into-mutable` where `buffer-allocator.allocate` was expected"),
            "{}",
            p[1]
        );
        let short = traced(Function::Process, &["buffer.read-all(#1) -> 1 bytes"]);
        let p = x.problems(&[short]);
        assert!(
            p[0].contains("made 1 host call(s) and `buffer-allocator.allocate` was expected next"),
            "{p:?}"
        );
        // Other calls are not held to `process`'s sequence.
        assert!(x.problems(&[traced(Function::Teardown, &[])]).is_empty());
        let e =
            HostCallExpectations::resolve(&BTreeMap::from([("proces".to_string(), vec![])]), &[])
                .unwrap_err();
        assert!(e.contains("`proces` is not a call"), "{e}");
    }
}
