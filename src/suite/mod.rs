//! Cipher suites: the suite table and the cryptography a DTLS 1.2 handshake needs.
//!
//! - [`prf`]: the TLS 1.2 PRF (RFC 5246 §5), master secret (§8.1) and extended master secret
//!   (RFC 7627 §4), key block (§6.3), Finished `verify_data` (§7.4.9), the RFC 5705 exporter.
//! - [`hash`]: the running handshake transcript hash.
//! - [`ecdhe`]: ephemeral ECDH over P-256 with peer-point validation (RFC 8422 §5.10, §5.11).
//! - [`ecdsa`]: ECDSA signing (P-256, deterministic per RFC 6979) and verification (P-256, P-384).
//!
//! The table [`SUITES`] is open: adding a suite (CCM-8, ChaCha20-Poly1305, PSK) is one row.
//!
//! # The key schedule of one handshake
//!
//! ```
//! use puredtls::suite::{self, prf, CipherSuite, EcdheKeyPair, TranscriptHash};
//!
//! # fn main() -> Result<(), puredtls::suite::CryptoError> {
//! let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
//! let info = suite::lookup(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256).unwrap();
//! let (client_random, server_random) = ([1u8; 32], [2u8; 32]);
//!
//! // ServerKeyExchange / ClientKeyExchange carry the public points (RFC 8422 §5.4, §5.7).
//! let server = EcdheKeyPair::generate(&mut rng);
//! let client = EcdheKeyPair::generate(&mut rng);
//! let server_point = server.public_key().to_vec();
//! let pms = server.agree(client.public_key())?;
//! assert_eq!(client.agree(&server_point)?.as_bytes(), pms.as_bytes());
//!
//! // Extended master secret over the transcript through ClientKeyExchange (RFC 7627).
//! let mut transcript = TranscriptHash::new(info.hash);
//! transcript.update(b"...handshake messages through ClientKeyExchange...");
//! let ms = prf::extended_master_secret(info.hash, &pms, transcript.current().as_ref());
//!
//! let keys = prf::key_block(info, &ms, &client_random, &server_random);
//! assert_eq!((keys.client_write_key().len(), keys.client_write_iv().len()), (16, 4));
//!
//! let verify_data = prf::finished_verify_data(info.hash, &ms, true, transcript.current().as_ref());
//! assert!(prf::verify_data_matches(&verify_data, &verify_data));
//! # Ok(())
//! # }
//! ```

use core::fmt;

use crate::codec::wire_enum;

pub mod ecdhe;
pub mod ecdsa;
pub mod hash;
pub mod prf;

pub use ecdhe::EcdheKeyPair;
pub use ecdsa::SigningKey;
pub use hash::{HashOutput, TranscriptHash};
pub use prf::{ExportError, KeyBlock, MasterSecret, PreMasterSecret};

wire_enum! {
    /// `CipherSuite` code points (RFC 5246 §A.5; RFC 5289 §3.2 for the ECDHE-ECDSA GCM suites;
    /// RFC 5746 §3.3 for the SCSV).
    #[allow(non_camel_case_types)]
    pub enum CipherSuite: u16 {
        /// Mandatory for WebRTC (RFC 8827); RFC 5289.
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b,
        /// RFC 5289; the PRF uses SHA-384.
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c,
        /// Signalling value, not a suite: "I support secure renegotiation" (RFC 5746 §3.3).
        TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff,
    }
}

wire_enum! {
    /// `NamedCurve` / `NamedGroup` code points (RFC 8422 §5.1.1).
    pub enum NamedGroup: u16 {
        Secp256r1 = 23,
        Secp384r1 = 24,
        Secp521r1 = 25,
        X25519 = 29,
    }
}

wire_enum! {
    /// Signature algorithms as one `u16`.
    ///
    /// TLS 1.2 sends a `SignatureAndHashAlgorithm` pair `(hash, signature)` (RFC 5246 §7.4.1.4.1);
    /// read as a big-endian `u16` it is the TLS 1.3 `SignatureScheme` code point
    /// (RFC 8446 §4.2.3): `(sha256 = 4, ecdsa = 3)` is `0x0403`. In TLS 1.2 the ECDSA schemes name
    /// only the hash; the curve is the one of the signer's key.
    pub enum SignatureScheme: u16 {
        EcdsaSecp256r1Sha256 = 0x0403,
        EcdsaSecp384r1Sha384 = 0x0503,
        EcdsaSecp521r1Sha512 = 0x0603,
        Ed25519 = 0x0807,
        RsaPssRsaeSha256 = 0x0804,
        RsaPkcs1Sha256 = 0x0401,
    }
}

/// The hash of a suite's PRF and of its handshake transcript (RFC 5246 §5, §7.4.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
}

impl HashAlgorithm {
    /// Length in bytes of this hash's output.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
        }
    }
}

/// The AEAD that protects records under a suite.
///
/// The record layer has its own algorithm type; this one only names the cipher in [`SUITES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BulkCipher {
    /// AEAD_AES_128_GCM (RFC 5116 §5.1).
    Aes128Gcm,
    /// AEAD_AES_256_GCM (RFC 5116 §5.2).
    Aes256Gcm,
}

impl BulkCipher {
    /// Key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::Aes256Gcm => 32,
        }
    }
}

/// Everything the key schedule and the record layer need to know about one suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuiteInfo {
    pub suite: CipherSuite,
    /// Hash of the PRF and of the transcript.
    pub hash: HashAlgorithm,
    pub cipher: BulkCipher,
    /// `enc_key_length`: bytes of each write key in the key block.
    pub key_len: usize,
    /// `fixed_iv_length`: bytes of each implicit IV in the key block. For GCM this is the
    /// 4-byte salt of the nonce (RFC 5288 §3).
    pub fixed_iv_len: usize,
    /// `record_iv_length`: bytes of explicit nonce carried in each record (8 for GCM, RFC 5288 §3).
    pub explicit_nonce_len: usize,
    /// The OpenSSL name, e.g. `ECDHE-ECDSA-AES128-GCM-SHA256`.
    pub name: &'static str,
}

impl SuiteInfo {
    /// Bytes of key block this suite consumes: two write keys and two IVs (AEAD suites have no
    /// MAC keys, RFC 5246 §6.3).
    pub const fn key_block_len(&self) -> usize {
        2 * self.key_len + 2 * self.fixed_iv_len
    }
}

/// Every suite this library can negotiate, in our order of preference.
pub static SUITES: &[SuiteInfo] = &[
    SuiteInfo {
        suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        hash: HashAlgorithm::Sha256,
        cipher: BulkCipher::Aes128Gcm,
        key_len: 16,
        fixed_iv_len: 4,
        explicit_nonce_len: 8,
        name: "ECDHE-ECDSA-AES128-GCM-SHA256",
    },
    SuiteInfo {
        suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        hash: HashAlgorithm::Sha384,
        cipher: BulkCipher::Aes256Gcm,
        key_len: 32,
        fixed_iv_len: 4,
        explicit_nonce_len: 8,
        name: "ECDHE-ECDSA-AES256-GCM-SHA384",
    },
];

/// The table row for `suite`, or `None` if this library does not implement it (the SCSV and
/// unknown values included).
pub fn lookup(suite: CipherSuite) -> Option<&'static SuiteInfo> {
    SUITES.iter().find(|info| info.suite == suite)
}

/// A cryptographic operation on peer or key material failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The peer's ECDHE public key is not an uncompressed point on the negotiated curve.
    InvalidPeerPublicKey,
    /// A signature did not verify, or is not a DER-encoded ECDSA signature.
    BadSignature,
    /// This library does not implement the signature scheme.
    UnsupportedScheme(SignatureScheme),
    /// A key could not be used; the text says why.
    InvalidKey(&'static str),
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidPeerPublicKey => f.write_str(
                "the peer's ECDHE public key is not a valid uncompressed point on the negotiated \
                 curve (RFC 8422 §5.11); the peer is broken or malicious, so the handshake must be \
                 aborted with an illegal_parameter alert",
            ),
            Self::BadSignature => f.write_str(
                "the signature does not verify with the peer's public key: the peer does not hold \
                 the private key of its certificate, or the signed data was altered in transit",
            ),
            Self::UnsupportedScheme(scheme) => write!(
                f,
                "signature scheme {scheme:?} is not supported; offer only ECDSA with SHA-256, \
                 SHA-384 or SHA-512 on P-256 or P-384 keys in signature_algorithms"
            ),
            Self::InvalidKey(why) => write!(f, "unusable key: {why}"),
        }
    }
}

impl std::error::Error for CryptoError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_both_gcm_suites_and_not_the_scsv() {
        let a = lookup(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256).unwrap();
        assert_eq!(
            (a.hash, a.cipher, a.key_len, a.fixed_iv_len),
            (HashAlgorithm::Sha256, BulkCipher::Aes128Gcm, 16, 4)
        );
        assert_eq!(a.name, "ECDHE-ECDSA-AES128-GCM-SHA256");
        assert_eq!(a.key_block_len(), 40);
        let b = lookup(CipherSuite::from(0xc02c)).unwrap();
        assert_eq!(
            (b.hash, b.cipher, b.key_len, b.fixed_iv_len),
            (HashAlgorithm::Sha384, BulkCipher::Aes256Gcm, 32, 4)
        );
        assert_eq!(b.name, "ECDHE-ECDSA-AES256-GCM-SHA384");
        assert_eq!(b.key_block_len(), 72);
        assert_eq!(lookup(CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV), None);
        assert_eq!(lookup(CipherSuite::from(0xc02f)), None);
    }

    #[test]
    fn table_is_consistent() {
        for info in SUITES {
            assert_eq!(info.key_len, info.cipher.key_len(), "{}", info.name);
            assert!(
                info.key_block_len() <= prf::MAX_KEY_BLOCK_LEN,
                "{}",
                info.name
            );
            assert_eq!(lookup(info.suite), Some(info));
        }
    }

    #[test]
    fn wire_values_match_the_rfcs() {
        assert_eq!(
            u16::from(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
            0xc02b
        );
        assert_eq!(
            u16::from(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
            0xc02c
        );
        assert_eq!(
            u16::from(CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV),
            0x00ff
        );
        assert_eq!(NamedGroup::from(23), NamedGroup::Secp256r1);
        assert_eq!(u16::from(NamedGroup::X25519), 29);
        // TLS 1.2 (hash, signature) pairs: sha256 = 4, sha384 = 5, ecdsa = 3, rsa = 1.
        assert_eq!(
            SignatureScheme::from(u16::from_be_bytes([4, 3])),
            SignatureScheme::EcdsaSecp256r1Sha256
        );
        assert_eq!(
            SignatureScheme::from(u16::from_be_bytes([5, 3])),
            SignatureScheme::EcdsaSecp384r1Sha384
        );
        assert_eq!(
            SignatureScheme::from(u16::from_be_bytes([4, 1])),
            SignatureScheme::RsaPkcs1Sha256
        );
        assert_eq!(
            SignatureScheme::from(0x0201),
            SignatureScheme::Unknown(0x0201)
        );
    }

    #[test]
    fn hash_output_lengths() {
        assert_eq!(HashAlgorithm::Sha256.output_len(), 32);
        assert_eq!(HashAlgorithm::Sha384.output_len(), 48);
    }

    #[test]
    fn errors_explain_themselves() {
        let msg = CryptoError::UnsupportedScheme(SignatureScheme::Ed25519).to_string();
        assert!(
            msg.contains("Ed25519") && msg.contains("signature_algorithms"),
            "{msg}"
        );
        assert!(CryptoError::InvalidPeerPublicKey
            .to_string()
            .contains("illegal_parameter"));
        assert_eq!(
            CryptoError::InvalidKey("the scalar is zero").to_string(),
            "unusable key: the scalar is zero"
        );
    }
}
