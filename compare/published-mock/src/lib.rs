//! What `benches/mock.rs` and `examples/mock_loop.rs` share: our mock set up
//! the way both measure it.
#![deny(missing_docs)]

use ours::mock::{JournalMode, MockEngine, MockEngineConfig, MockInvoker, models};
use ours::{Bytes, ComponentId, ContentType, WasmEngine as _};

/// The content type every measured element carries.
pub const CONTENT_TYPE: &str = "text/plain";

/// The same content type as a `const` [`ContentType`]: no allocation per
/// element.
pub const STATIC_TYPE: ContentType = ContentType::from_static(CONTENT_TYPE);

/// A payload of `len` bytes (`abcdefgh` repeated).
pub fn payload(len: usize) -> Bytes {
    Bytes::from(
        b"abcdefgh"
            .iter()
            .copied()
            .cycle()
            .take(len)
            .collect::<Vec<u8>>(),
    )
}

/// Our mock engine with the `passthrough` model and an instance of it.
pub fn our_instance(journal: JournalMode) -> (MockEngine, MockInvoker) {
    let engine = MockEngine::new(MockEngineConfig {
        journal,
        ..MockEngineConfig::default()
    })
    .expect("the default mock configuration is valid");
    engine.register(models::passthrough_component());
    let compiled = engine
        .compile(&MockEngine::component_bytes("passthrough"))
        .expect("the passthrough model is registered");
    let inv = engine
        .instantiate(&compiled, ComponentId::new("passthrough"))
        .expect("a mock instance");
    (engine, inv)
}
