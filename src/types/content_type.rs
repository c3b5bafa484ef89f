//! Content types: a MIME-like label, shared without copying.

use std::fmt;
use std::sync::Arc;

/// A content type such as `application/json` (the contract's
/// `content-type` strings): immutable and shared.
///
/// Cloning is a reference-count increment, or a pointer copy for a
/// [`ContentType::from_static`] one, never a copy of the string. An
/// element's content type is lent to the guest with its payload, kept on the
/// buffers cloned from it and returned on the outputs; with a `String` each
/// of those steps was an allocation. It reads as a `str` (`Deref`,
/// `AsRef<str>`, `Display`) and compares with `str`, `&str` and `String`.
///
/// ```
/// use torvyn_engine::ContentType;
///
/// const JSON: ContentType = ContentType::from_static("application/json");
/// let owned = ContentType::from(String::from("application/json"));
/// assert_eq!(JSON, owned);
/// assert_eq!(owned, "application/json");
/// assert!(owned.starts_with("application/"));
/// assert!(ContentType::default().is_empty());
/// ```
#[derive(Clone)]
pub struct ContentType(ContentRepr);

#[derive(Clone)]
enum ContentRepr {
    Static(&'static str),
    Shared(Arc<str>),
}

impl ContentType {
    /// No content type (the empty string the contract uses for "unset").
    pub const EMPTY: Self = Self::from_static("");

    /// A content type from a string literal: no allocation, ever.
    pub const fn from_static(s: &'static str) -> Self {
        Self(ContentRepr::Static(s))
    }

    /// The content type as a string slice.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            ContentRepr::Static(s) => s,
            ContentRepr::Shared(s) => s,
        }
    }
}

impl Default for ContentType {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl std::ops::Deref for ContentType {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for ContentType {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for ContentType {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// As the string itself (`"text/plain"`), so a `Debug` of an element reads
/// as it did when this was a `String`.
impl fmt::Debug for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for ContentType {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ContentType {}

impl std::hash::Hash for ContentType {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for ContentType {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ContentType {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

macro_rules! content_type_eq {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for ContentType {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<ContentType> for $other {
            fn eq(&self, other: &ContentType) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}
content_type_eq!(str, &str, String);

impl From<&str> for ContentType {
    fn from(s: &str) -> Self {
        Self(ContentRepr::Shared(Arc::from(s)))
    }
}

impl From<&String> for ContentType {
    fn from(s: &String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<String> for ContentType {
    fn from(s: String) -> Self {
        Self(ContentRepr::Shared(Arc::from(s)))
    }
}

impl From<Arc<str>> for ContentType {
    fn from(s: Arc<str>) -> Self {
        Self(ContentRepr::Shared(s))
    }
}

impl From<ContentType> for String {
    fn from(c: ContentType) -> Self {
        c.as_str().to_owned()
    }
}
