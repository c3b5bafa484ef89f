//! Nothing here: see `benches/mock.rs`.
