//! Certificates for DTLS peer authentication: loading keys and certificates, generating
//! self-signed ones, fingerprints (WebRTC), and verifying a peer's chain.
//!
//! - [`PrivateKey`]: a P-256 ECDSA signing key, parsed once from PEM or DER (PKCS#8 or SEC1).
//! - [`load_certificates`]: one or many `CERTIFICATE` PEM blocks, or one DER certificate.
//! - [`generate_self_signed`]: a fresh key and certificate, no files needed.
//! - [`fingerprint_sha256`] / [`parse_fingerprint`]: the RFC 8122 `AB:CD:…` form used in SDP.
//! - [`verify_chain`]: RFC 5280 §6 path validation, simplified the way production TLS clients
//!   do it, with the name check of RFC 6125 (subjectAltName only).
//! - [`ServerCertVerification`]: the policy a client applies (WebPKI, pinned fingerprint,
//!   callback, or none).
//!
//! The verifier reads no clock: the caller passes the time as [`UnixTime`].
//!
//! ```
//! use puredtls::cert::{
//!     generate_self_signed, verify_chain, Purpose, ServerName, TrustAnchors, UnixTime,
//! };
//!
//! let (key, cert) = generate_self_signed(&["localhost"]).unwrap();
//! // The peer pins our self-signed certificate as its only trust anchor.
//! let anchors = TrustAnchors::from_certificates(std::slice::from_ref(&cert)).unwrap();
//! let now = UnixTime::from_system_time(std::time::SystemTime::now());
//! let name = ServerName::parse("localhost").unwrap();
//! let peer = verify_chain(&[cert], &anchors, Some(&name), now, Purpose::ServerAuth).unwrap();
//!
//! // The handshake then checks the peer's signature with the leaf key.
//! let signature = key.sign_sha256(b"ServerKeyExchange params");
//! peer.leaf_public_key.verify(0x0403, b"ServerKeyExchange params", &signature).unwrap();
//! ```

mod error;
mod generate;
mod key;
mod load;
mod name;
mod pem;
#[doc(hidden)]
pub mod testpki;
mod time;
mod verify;

pub use error::{CertError, CertificateError};
pub use generate::generate_self_signed;
pub use key::{KeyError, PrivateKey};
pub use load::{
    check_key_matches_certificate, fingerprint_sha256, load_certificates, parse_fingerprint,
    CertificateDer,
};
pub use name::ServerName;
pub use time::UnixTime;
pub use verify::{
    leaf_public_key, verify_chain, CertVerifierFn, PeerPublicKey, Purpose, ServerCertVerification,
    TrustAnchors, VerifiedPeer, MAX_CHAIN_LEN,
};
