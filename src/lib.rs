//! # puredtls
//!
//! DTLS 1.2 (RFC 6347) in pure Rust on RustCrypto primitives, as a sans-IO core: sessions
//! consume datagrams and the current `Instant` and hand back datagrams to send.
#![forbid(unsafe_code)]
#![deny(missing_debug_implementations)]

pub mod cert;
pub mod codec;
