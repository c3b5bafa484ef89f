//! Code coverage of guests: which functions, and where the guest has DWARF
//! line tables which source lines, of a component's core modules ran.
//!
//! The Wasmtime backend records it when its engine is built with
//! `wasmtime::WasmtimeEngineConfig::coverage` on (feature `coverage`), and
//! `wasmtime::WasmtimeInvoker::coverage` returns what one instance ran. A [`Coverage`] holds one record per source
//! file, merges with others ([`Coverage::merge`]: coverage of a suite is the
//! merge of its runs') and writes LCOV ([`Coverage::to_lcov`]), which
//! `genhtml`, IDE coverage gutters and coverage services read.
//!
//! Source files are what the DWARF line tables name (for WAT compiled with
//! coverage on, the `.wat` file). Functions without line information are
//! listed under a record of their own per core module, named
//! `<component>#module<N>` (the component's origin, usually its path, and
//! the core module's index among the component's modules), with function
//! records only.
//!
//! Counts are of instances, not of executions: an instance records that a
//! function or line ran (once, whatever the number of times), so a count of
//! 3 after merging says three instances ran it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What ran, per source file. See the [module documentation](self).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    files: BTreeMap<String, FileCoverage>,
}

/// What ran of one source file (or, for code without line information, of
/// one core module).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileCoverage {
    functions: BTreeMap<String, FunctionCoverage>,
    lines: BTreeMap<u32, u64>,
}

/// One function of a [`FileCoverage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionCoverage {
    /// The source line the function starts at, when known.
    pub line: Option<u32>,
    /// How many instances ran it (0: never ran).
    pub hits: u64,
}

/// Totals of a [`Coverage`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoverageSummary {
    /// Functions that ran.
    pub functions_hit: usize,
    /// Functions known.
    pub functions: usize,
    /// Source lines that ran.
    pub lines_hit: usize,
    /// Source lines with code (0 when no component had line information).
    pub lines: usize,
}

impl std::fmt::Display for CoverageSummary {
    /// `3/10 functions, 12/40 lines` (lines only when some are known).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} functions", self.functions_hit, self.functions)?;
        if self.lines > 0 {
            write!(f, ", {}/{} lines", self.lines_hit, self.lines)?;
        }
        Ok(())
    }
}

impl Coverage {
    /// No files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no file is recorded.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The records, by source file name, in name order.
    pub fn files(&self) -> impl Iterator<Item = (&str, &FileCoverage)> {
        self.files.iter().map(|(n, f)| (n.as_str(), f))
    }

    /// The record of `name`, if any.
    pub fn file(&self, name: &str) -> Option<&FileCoverage> {
        self.files.get(name)
    }

    /// The first record whose name ends with `suffix` (a file name without
    /// its directory, say), if any.
    pub fn file_ending_with(&self, suffix: &str) -> Option<&FileCoverage> {
        self.files
            .iter()
            .find(|(n, _)| n.ends_with(suffix))
            .map(|(_, f)| f)
    }

    /// Adds `other`'s records to these: counts add up, functions and lines
    /// known to either are known.
    pub fn merge(&mut self, other: &Coverage) {
        for (name, file) in &other.files {
            let mine = self.files.entry(name.clone()).or_default();
            for (f, c) in &file.functions {
                mine.add_function(f, c.line, c.hits);
            }
            for (&line, &hits) in &file.lines {
                mine.add_line(line, hits);
            }
        }
    }

    /// Totals over every record.
    pub fn summary(&self) -> CoverageSummary {
        let mut s = CoverageSummary::default();
        for file in self.files.values() {
            s.functions += file.functions.len();
            s.functions_hit += file.functions.values().filter(|f| f.hits > 0).count();
            s.lines += file.lines.len();
            s.lines_hit += file.lines.values().filter(|&&h| h > 0).count();
        }
        s
    }

    /// The coverage in LCOV's tracefile format: per file `SF:`, `FN:`/`FNDA:`
    /// per function (line 0 when the function's line is unknown),
    /// `FNF:`/`FNH:`, `DA:` per line with code, `LF:`/`LH:`,
    /// `end_of_record`. Deterministic: files, functions and lines in order.
    pub fn to_lcov(&self) -> String {
        let mut out = String::new();
        for (name, file) in &self.files {
            let _ = writeln!(out, "SF:{name}");
            for (f, c) in &file.functions {
                let _ = writeln!(out, "FN:{},{f}", c.line.unwrap_or(0));
            }
            for (f, c) in &file.functions {
                let _ = writeln!(out, "FNDA:{},{f}", c.hits);
            }
            let hit = file.functions.values().filter(|c| c.hits > 0).count();
            let _ = writeln!(out, "FNF:{}", file.functions.len());
            let _ = writeln!(out, "FNH:{hit}");
            for (line, hits) in &file.lines {
                let _ = writeln!(out, "DA:{line},{hits}");
            }
            let hit = file.lines.values().filter(|&&h| h > 0).count();
            let _ = writeln!(out, "LF:{}", file.lines.len());
            let _ = writeln!(out, "LH:{hit}");
            out.push_str("end_of_record\n");
        }
        out
    }

    /// The record of `name`, made empty if absent (for backends).
    #[cfg_attr(not(feature = "coverage"), allow(dead_code))]
    pub(crate) fn file_mut(&mut self, name: &str) -> &mut FileCoverage {
        if !self.files.contains_key(name) {
            self.files.insert(name.to_owned(), FileCoverage::default());
        }
        self.files.get_mut(name).expect("just inserted")
    }
}

impl FileCoverage {
    /// The functions, by name, in name order.
    pub fn functions(&self) -> impl Iterator<Item = (&str, &FunctionCoverage)> {
        self.functions.iter().map(|(n, f)| (n.as_str(), f))
    }

    /// The function `name`, if known.
    pub fn function(&self, name: &str) -> Option<&FunctionCoverage> {
        self.functions.get(name)
    }

    /// The lines with code and how many instances ran each, in line order.
    pub fn lines(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.lines.iter().map(|(&l, &h)| (l, h))
    }

    /// How many instances ran `line`; `None` when the line has no code.
    pub fn line(&self, line: u32) -> Option<u64> {
        self.lines.get(&line).copied()
    }

    #[cfg_attr(not(feature = "coverage"), allow(dead_code))]
    /// Records function `name` (starting at `line`), run by `hits`
    /// instances more.
    pub(crate) fn add_function(&mut self, name: &str, line: Option<u32>, hits: u64) {
        match self.functions.get_mut(name) {
            Some(f) => {
                f.hits += hits;
                f.line = f.line.or(line);
            }
            None => {
                self.functions
                    .insert(name.to_owned(), FunctionCoverage { line, hits });
            }
        }
    }

    #[cfg_attr(not(feature = "coverage"), allow(dead_code))]
    /// Records `line`, run by `hits` instances more.
    pub(crate) fn add_line(&mut self, line: u32, hits: u64) {
        *self.lines.entry(line).or_insert(0) += hits;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(hit: u64) -> Coverage {
        let mut c = Coverage::new();
        let f = c.file_mut("a.wat");
        f.add_function("run", Some(3), hit);
        f.add_function("other", Some(9), 0);
        f.add_line(4, hit);
        f.add_line(10, 0);
        c.file_mut("c.wasm#module0")
            .add_function("func[2]", None, 1);
        c
    }

    #[test]
    fn lcov_lists_functions_lines_and_totals_per_file() {
        let lcov = sample(1).to_lcov();
        assert_eq!(
            lcov,
            "SF:a.wat\nFN:9,other\nFN:3,run\nFNDA:0,other\nFNDA:1,run\nFNF:2\nFNH:1\n\
             DA:4,1\nDA:10,0\nLF:2\nLH:1\nend_of_record\n\
             SF:c.wasm#module0\nFN:0,func[2]\nFNDA:1,func[2]\nFNF:1\nFNH:1\nLF:0\nLH:0\n\
             end_of_record\n"
        );
    }

    #[test]
    fn merging_adds_counts_and_keeps_everything_known() {
        let mut c = sample(1);
        c.merge(&sample(0));
        c.merge(&sample(1));
        let a = c.file("a.wat").unwrap();
        assert_eq!(a.function("run").unwrap().hits, 2);
        assert_eq!(a.function("other").unwrap().hits, 0);
        assert_eq!(a.line(4), Some(2));
        assert_eq!(a.line(5), None);
        assert_eq!(
            c.file("c.wasm#module0")
                .unwrap()
                .function("func[2]")
                .unwrap()
                .hits,
            3
        );
        let s = c.summary();
        assert_eq!(
            (s.functions_hit, s.functions, s.lines_hit, s.lines),
            (2, 3, 1, 2)
        );
        assert_eq!(s.to_string(), "2/3 functions, 1/2 lines");
    }
}
