//! The handshake transcript (RFC 5246 §7.4.9, RFC 6347 §4.2.6, RFC 7627 §3).
//!
//! Messages enter as if unfragmented: the 12-byte DTLS header with fragment_offset = 0 and
//! fragment_length = length, then the body. The bytes are kept (a few KiB, freed when the
//! handshake ends) rather than a running hash, because a TLS 1.2 CertificateVerify is signed
//! with the signature scheme's own hash, which may differ from the suite's PRF hash; hashing a
//! few KiB again costs microseconds next to the ~300 µs of elliptic-curve work.

use crate::handshake::fragment::encode_unfragmented;
use crate::handshake::HandshakeType;
use crate::suite::hash::{hash, HashOutput};
use crate::suite::HashAlgorithm;

#[derive(Debug, Default)]
pub(crate) struct Transcript {
    bytes: Vec<u8>,
}

impl Transcript {
    pub(crate) fn add(&mut self, msg_type: HandshakeType, message_seq: u16, body: &[u8]) {
        encode_unfragmented(msg_type, message_seq, body, &mut self.bytes);
    }

    /// Forgets everything: the first ClientHello and the HelloVerifyRequest are not part of
    /// the transcript (RFC 6347 §4.2.1).
    pub(crate) fn reset(&mut self) {
        self.bytes.clear();
    }

    /// The messages so far, for signing (CertificateVerify).
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn hash(&self, alg: HashAlgorithm) -> HashOutput {
        hash(alg, &self.bytes)
    }

    /// Frees the buffer once the handshake is over.
    pub(crate) fn clear(&mut self) {
        self.bytes = Vec::new();
    }
}
