//! The handshake transcript (RFC 5246 §7.4.9, RFC 6347 §4.2.6, RFC 7627 §3).
//!
//! Messages enter as if unfragmented: the 12-byte DTLS header with fragment_offset = 0 and
//! fragment_length = length, then the body. Until the suite (and so the hash) is known the
//! bytes are buffered; after that only a running hash is kept.

use crate::codec::Writer;
use crate::handshake::fragment::{encode_unfragmented, HandshakeHeader, HANDSHAKE_HEADER_LEN};
use crate::handshake::HandshakeType;
use crate::suite::hash::{HashOutput, TranscriptHash};
use crate::suite::HashAlgorithm;

#[derive(Debug)]
pub(crate) enum Transcript {
    Buffering(Vec<u8>),
    Hashing(TranscriptHash),
}

impl Default for Transcript {
    fn default() -> Self {
        Self::Buffering(Vec::new())
    }
}

impl Transcript {
    pub(crate) fn add(&mut self, msg_type: HandshakeType, message_seq: u16, body: &[u8]) {
        match self {
            Self::Buffering(buf) => encode_unfragmented(msg_type, message_seq, body, buf),
            Self::Hashing(h) => {
                let length = body.len() as u32;
                let mut header = Vec::with_capacity(HANDSHAKE_HEADER_LEN);
                HandshakeHeader {
                    msg_type,
                    length,
                    message_seq,
                    fragment_offset: 0,
                    fragment_length: length,
                }
                .encode(&mut Writer::new(&mut header));
                h.update(&header);
                h.update(body);
            }
        }
    }

    /// Switches to a running hash once the suite is known.
    pub(crate) fn start_hash(&mut self, alg: HashAlgorithm) {
        if let Self::Buffering(buf) = self {
            let mut h = TranscriptHash::new(alg);
            h.update(buf);
            *self = Self::Hashing(h);
        }
    }

    /// Forgets everything: the first ClientHello and the HelloVerifyRequest are not part of
    /// the transcript (RFC 6347 §4.2.1).
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }

    /// The hash of everything so far; `None` before `start_hash`.
    pub(crate) fn current(&self) -> Option<HashOutput> {
        match self {
            Self::Buffering(_) => None,
            Self::Hashing(h) => Some(h.current()),
        }
    }
}
