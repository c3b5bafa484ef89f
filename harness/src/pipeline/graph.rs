//! A pipeline's stages as a graph: edges, router ports, topological order.

use std::collections::BTreeMap;

use torvyn_engine::Role;

use super::{Pipeline, StageSpec};

impl Pipeline {
    /// The pipeline's graph: where each stage's elements go, checked
    /// (targets exist, no cycle, every stage reachable) and in topological
    /// order. An error says what is wrong and what to write.
    pub fn graph(&self) -> Result<Graph, String> {
        let names = self.stage_names();
        let slots: Vec<Role> = self.stages().map(|(r, _)| r).collect();
        let specs: Vec<&StageSpec> = self.stages().map(|(_, s)| s).collect();
        let n = names.len();
        let sinks: Vec<usize> = (0..n).filter(|i| slots[*i] == Role::Sink).collect();
        if sinks.is_empty() {
            return Err("has no sink; add `sink: {component: ...}` (or `sinks: [...]`)".into());
        }
        let index = |name: &str, from: &str| -> Result<usize, String> {
            match names.iter().position(|n| n == name) {
                Some(0) => Err(format!(
                    "stage `{from}` sends elements to the source `{name}`; a source takes none"
                )),
                Some(i) => Ok(i),
                None => Err(format!(
                    "stage `{from}` sends elements to `{name}`, which is no stage of the \
                     pipeline (stages: {})",
                    names.join(", ")
                )),
            }
        };
        let middles = self.processors.len();
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut ports: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); n];
        for i in 0..n {
            let (spec, name) = (specs[i], &names[i]);
            if slots[i] == Role::Sink {
                if !spec.to.is_empty() || !spec.ports.is_empty() {
                    return Err(format!(
                        "sink `{name}` has `to:` or `ports:`; a sink sends elements nowhere"
                    ));
                }
                continue;
            }
            if !spec.ports.is_empty() && !spec.to.is_empty() {
                return Err(format!(
                    "stage `{name}` has both `ports:` (a router's) and `to:`; a router sends \
                     elements only to the stages of its ports"
                ));
            }
            if !spec.ports.is_empty() {
                for (port, target) in &spec.ports {
                    let t = index(target, name)?;
                    ports[i].insert(port.clone(), t);
                    if !edges[i].contains(&t) {
                        edges[i].push(t);
                    }
                }
            } else if !spec.to.is_empty() {
                for target in &spec.to {
                    let t = index(target, name)?;
                    if !edges[i].contains(&t) {
                        edges[i].push(t);
                    }
                }
            } else if i < middles {
                // The source (0) and each middle stage feed the next stage.
                edges[i].push(i + 1);
            } else if sinks.len() == 1 {
                edges[i].push(sinks[0]);
            } else {
                return Err(format!(
                    "stage `{name}` has no `to:` and the pipeline has {} sinks; say where its \
                     elements go (`to: [{}]`)",
                    sinks.len(),
                    sinks
                        .iter()
                        .map(|s| names[*s].as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if edges[i].contains(&i) {
                return Err(format!("stage `{name}` sends elements to itself"));
            }
        }
        // Kahn's algorithm, taking the lowest file position first, so the
        // order is stable and a linear pipeline keeps its file order.
        let mut indegree = vec![0usize; n];
        for e in &edges {
            for t in e {
                indegree[*t] += 1;
            }
        }
        let mut ready: std::collections::BTreeSet<usize> =
            (0..n).filter(|i| indegree[*i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for t in &edges[i] {
                indegree[*t] -= 1;
                if indegree[*t] == 0 {
                    ready.insert(*t);
                }
            }
        }
        if order.len() < n {
            let cycle: Vec<&str> = (0..n)
                .filter(|i| indegree[*i] > 0)
                .map(|i| names[i].as_str())
                .collect();
            return Err(format!(
                "its stages form a cycle ({}); elements must flow from the source to the sinks",
                cycle.join(", ")
            ));
        }
        let mut reached = vec![false; n];
        let mut stack = vec![0];
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut reached[i], true) {
                stack.extend(&edges[i]);
            }
        }
        if let Some(i) = (0..n).find(|i| !reached[*i]) {
            return Err(format!(
                "stage `{}` never receives an element: no stage sends to it (name it in a \
                 `to:` or a router's `ports:`)",
                names[i]
            ));
        }
        Ok(Graph {
            names,
            slots,
            edges,
            ports,
            order,
        })
    }
}

/// A pipeline's stages as a graph (see [`Pipeline::graph`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    /// Stage names, in file order (index 0: the source).
    pub names: Vec<String>,
    /// Each stage's slot in the file: source, middle (reported as
    /// processor until its exports are read) or sink.
    pub slots: Vec<Role>,
    /// Where each stage's elements go, by index.
    pub edges: Vec<Vec<usize>>,
    /// Routers: port name → stage index.
    pub ports: Vec<BTreeMap<String, usize>>,
    /// Every stage in topological order (the source first).
    pub order: Vec<usize>,
}

impl Graph {
    /// Whether a sink can still be reached from the source through stages
    /// that take elements (`stopped[i]` is `None`).
    pub(super) fn flows(&self, stopped: &[Option<String>]) -> bool {
        let mut seen = vec![false; self.names.len()];
        let mut stack = vec![0];
        while let Some(i) = stack.pop() {
            if stopped[i].is_some() || std::mem::replace(&mut seen[i], true) {
                continue;
            }
            if self.slots[i] == Role::Sink {
                return true;
            }
            stack.extend(&self.edges[i]);
        }
        false
    }
}
