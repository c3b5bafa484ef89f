//! The compiler choice of the Wasmtime backend, present in every build so a
//! configuration file or a command line can name it when the backend is
//! off (the mock-only build reads the same files).
//!
//! Cold path: read once, when an engine is built.

use std::fmt;

/// Which compiler turns WebAssembly into machine code.
///
/// Only the Wasmtime backend (feature `wasmtime-backend`) compiles; the type
/// exists without it so that hosts and files that name a strategy build
/// either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
pub enum CompilationStrategy {
    /// The optimizing compiler: slower to compile, faster code.
    #[default]
    Cranelift,
    /// The baseline compiler: compiles several times faster, slower code.
    Winch,
}

impl CompilationStrategy {
    /// Every strategy, the default first.
    pub const ALL: [CompilationStrategy; 2] = [Self::Cranelift, Self::Winch];

    /// The strategy's lower-case name (`cranelift`, `winch`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Cranelift => "cranelift",
            Self::Winch => "winch",
        }
    }

    /// The strategy named `name` ([`CompilationStrategy::name`]), if one is.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// One line on what the strategy is for (what `--help` lists).
    pub fn describe(self) -> &'static str {
        match self {
            Self::Cranelift => "The optimizing compiler: slower to compile, faster code",
            Self::Winch => "The baseline compiler: compiles several times faster, slower code",
        }
    }
}

impl fmt::Display for CompilationStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::CompilationStrategy;

    #[test]
    fn every_strategy_is_found_by_its_name_and_no_other() {
        for s in CompilationStrategy::ALL {
            assert_eq!(CompilationStrategy::from_name(s.name()), Some(s));
            assert_eq!(s.to_string(), s.name());
        }
        assert_eq!(CompilationStrategy::from_name("Cranelift"), None);
        assert_eq!(CompilationStrategy::from_name("llvm"), None);
    }
}
