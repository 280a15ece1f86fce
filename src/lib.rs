//! # puredtls
//!
//! DTLS 1.2 (RFC 6347) in pure Rust on RustCrypto primitives, as a sans-IO core: sessions
//! consume datagrams and the current `Instant` and hand back datagrams to send.
#![forbid(unsafe_code)]
#![deny(missing_debug_implementations)]

pub mod alert;
pub mod cert;
pub mod codec;
pub mod config;
pub mod cookie;
pub mod error;
pub mod handshake;
pub mod record;
pub mod rng;
pub mod server;
pub(crate) mod session;
pub mod suite;

#[cfg(feature = "std")]
pub mod net;

mod client;

pub use cert::{CertificateDer, PrivateKey, ServerCertVerification, TrustAnchors};
pub use client::ClientSession;
pub use config::{ClientAuth, ClientConfig, CommonConfig, ServerConfig, Timers};
pub use error::Error;
pub use server::{
    Accept, Endpoint, EndpointEvent, EndpointOutput, Server, ServerSession, Transmit,
};
pub use session::{Event, Output, Stats, Status};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
