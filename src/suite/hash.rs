//! Hashes: one-shot [`hash`] and the running handshake [`TranscriptHash`] (RFC 5246 §7.4.9,
//! RFC 6347 §4.2.6, RFC 7627 §3).

use core::fmt;

use sha2::{Digest, Sha256, Sha384};

use super::HashAlgorithm;

/// Longest output of any [`HashAlgorithm`] (SHA-384).
pub const MAX_HASH_LEN: usize = 48;

/// A hash or HMAC output of up to 48 bytes, held without allocation.
///
/// Transcript hashes are public values; do not keep secrets in this type (it is `Copy` and is
/// not zeroized).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HashOutput {
    bytes: [u8; MAX_HASH_LEN],
    len: usize,
}

impl HashOutput {
    /// Copies `bytes` (at most 48; longer input is truncated to 48).
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut out = Self {
            bytes: [0; MAX_HASH_LEN],
            len: bytes.len().min(MAX_HASH_LEN),
        };
        for (dst, src) in out.bytes.iter_mut().zip(bytes) {
            *dst = *src;
        }
        out
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True only for an empty output (which no hash produces).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl AsRef<[u8]> for HashOutput {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for HashOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashOutput(")?;
        for b in self.as_slice() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// Hashes `data` in one call.
pub fn hash(alg: HashAlgorithm, data: &[u8]) -> HashOutput {
    match alg {
        HashAlgorithm::Sha256 => HashOutput::from_slice(&Sha256::digest(data)),
        HashAlgorithm::Sha384 => HashOutput::from_slice(&Sha384::digest(data)),
    }
}

/// The running hash of the handshake messages.
///
/// The caller feeds each handshake message as RFC 6347 §4.2.6 prescribes (12-byte DTLS header
/// written as if unfragmented; the first ClientHello and HelloVerifyRequest left out).
/// [`TranscriptHash::current`] does not consume the state, so the same transcript gives the
/// session hash for extended master secret (RFC 7627 §3), then both Finished hashes.
#[derive(Clone)]
pub enum TranscriptHash {
    Sha256(Sha256),
    Sha384(Sha384),
}

impl TranscriptHash {
    /// An empty transcript.
    pub fn new(alg: HashAlgorithm) -> Self {
        match alg {
            HashAlgorithm::Sha256 => Self::Sha256(Sha256::new()),
            HashAlgorithm::Sha384 => Self::Sha384(Sha384::new()),
        }
    }

    /// The hash this transcript runs.
    pub fn algorithm(&self) -> HashAlgorithm {
        match self {
            Self::Sha256(_) => HashAlgorithm::Sha256,
            Self::Sha384(_) => HashAlgorithm::Sha384,
        }
    }

    /// Appends bytes to the transcript.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
        }
    }

    /// The hash of everything fed so far; the transcript keeps running.
    pub fn current(&self) -> HashOutput {
        match self {
            Self::Sha256(h) => HashOutput::from_slice(&h.clone().finalize()),
            Self::Sha384(h) => HashOutput::from_slice(&h.clone().finalize()),
        }
    }
}

impl fmt::Debug for TranscriptHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TranscriptHash")
            .field(&self.algorithm())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn one_shot_hash_matches_fips_180_abc() {
        // FIPS 180-2 appendix B.1 / D.1: SHA-256("abc"), SHA-384("abc").
        assert_eq!(
            hash(HashAlgorithm::Sha256, b"abc").as_ref(),
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            hash(HashAlgorithm::Sha384, b"abc").as_ref(),
            hex(
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
                 8086072ba1e7cc2358baeca134c825a7"
            )
        );
    }

    #[test]
    fn transcript_current_does_not_consume_and_tracks_updates() {
        for alg in [HashAlgorithm::Sha256, HashAlgorithm::Sha384] {
            let mut t = TranscriptHash::new(alg);
            assert_eq!(t.algorithm(), alg);
            t.update(b"a");
            let after_a = t.current();
            assert_eq!(after_a, t.current(), "current() twice gives the same hash");
            assert_eq!(after_a, hash(alg, b"a"));
            t.update(b"bc");
            assert_eq!(
                t.current(),
                hash(alg, b"abc"),
                "split updates equal one-shot"
            );
            assert_eq!(t.current().len(), alg.output_len());
            let fork = t.clone();
            t.update(b"d");
            assert_eq!(fork.current(), hash(alg, b"abc"), "a clone is independent");
            assert_eq!(t.current(), hash(alg, b"abcd"));
        }
    }

    #[test]
    fn hash_output_debug_is_hex() {
        let h = HashOutput::from_slice(&[0xde, 0xad]);
        assert_eq!(format!("{h:?}"), "HashOutput(dead)");
        assert_eq!(h.len(), 2);
        assert!(!h.is_empty());
        assert_eq!(
            HashOutput::from_slice(&[7; 60]).len(),
            48,
            "capped at 48 bytes"
        );
    }
}
