//! The names a host gives instances and capabilities.

use std::fmt;
use std::sync::Arc;

/// The name a host gives a component instance; every fault names it.
///
/// Cloning is a reference-count increment.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId(Arc<str>);

impl ComponentId {
    /// A component id from any string.
    pub fn new(name: impl AsRef<str>) -> Self {
        Self(Arc::from(name.as_ref()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ComponentId({:?})", &*self.0)
    }
}

impl From<&str> for ComponentId {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for ComponentId {
    fn from(s: String) -> Self {
        Self(Arc::from(s))
    }
}

/// The capabilities granted to one component instance, as
/// `torvyn:capabilities/capability-query.has-capability` answers them: a
/// sorted set of names such as `wasi-random` or `wasi-filesystem-read`
/// (the runtime's convention). Nothing is granted by default.
///
/// Cloning is a reference-count increment.
///
/// ```
/// use torvyn_engine::Grants;
///
/// let grants = Grants::new(["wasi-random", "wasi-filesystem-read", "wasi-random"]);
/// assert!(grants.contains("wasi-random"));
/// assert!(!grants.contains("wasi-network-egress"));
/// assert_eq!(grants.to_string(), "wasi-filesystem-read, wasi-random");
/// assert!(Grants::default().is_empty());
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Grants(Arc<std::collections::BTreeSet<String>>);

impl Grants {
    /// The set of `names` (duplicates collapse).
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        Self(Arc::new(names.into_iter().map(Into::into).collect()))
    }

    /// Whether `name` is granted.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// The granted names, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// How many names are granted.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<S: Into<String>> FromIterator<S> for Grants {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self::new(iter)
    }
}

impl fmt::Debug for Grants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The names, comma-separated, or `(none)`.
impl fmt::Display for Grants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(none)");
        }
        for (i, name) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}
