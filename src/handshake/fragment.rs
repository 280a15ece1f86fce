//! The 12-byte DTLS handshake header, fragmentation of outgoing messages and parsing of
//! incoming fragments (RFC 6347 §4.2.2, §4.2.3).

use crate::codec::{Reader, Writer};
use crate::handshake::HandshakeType;

pub const HANDSHAKE_HEADER_LEN: usize = 12;

/// Largest value of a 24-bit length field.
const MAX_U24: u32 = (1 << 24) - 1;

/// `struct { HandshakeType msg_type; uint24 length; uint16 message_seq; uint24 fragment_offset;
/// uint24 fragment_length; }` (RFC 6347 §4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeHeader {
    pub msg_type: HandshakeType,
    pub length: u32,
    pub message_seq: u16,
    pub fragment_offset: u32,
    pub fragment_length: u32,
}

impl HandshakeHeader {
    pub fn decode(r: &mut Reader<'_>) -> Option<Self> {
        Some(Self {
            msg_type: HandshakeType::from(r.u8()?),
            length: r.u24()?,
            message_seq: r.u16()?,
            fragment_offset: r.u24()?,
            fragment_length: r.u24()?,
        })
    }

    pub fn encode(&self, w: &mut Writer<'_>) {
        w.u8(self.msg_type.into());
        w.u24(self.length);
        w.u16(self.message_seq);
        w.u24(self.fragment_offset);
        w.u24(self.fragment_length);
    }

    /// The header of the whole message as if it had not been fragmented, which is what the
    /// transcript hash covers (RFC 6347 §4.2.6).
    pub fn unfragmented(&self) -> Self {
        Self {
            fragment_offset: 0,
            fragment_length: self.length,
            ..*self
        }
    }

    /// True when this fragment carries the whole message.
    pub fn is_complete_message(&self) -> bool {
        self.fragment_offset == 0 && self.fragment_length == self.length
    }
}

/// One handshake fragment as it came off the wire, borrowing the record's plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeFragment<'a> {
    pub header: HandshakeHeader,
    pub body: &'a [u8],
}

/// Why a handshake record's payload could not be split into fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentError {
    /// Fewer than 12 bytes, or a body shorter than `fragment_length`.
    Truncated,
    /// `fragment_offset + fragment_length` exceeds the message `length`.
    OutOfBounds,
}

/// Iterates the handshake fragments packed in one record (a record may carry several messages
/// or fragments back to back). After the first malformed fragment it yields one `Err` and stops.
#[derive(Debug, Clone)]
pub struct Fragments<'a> {
    reader: Reader<'a>,
    failed: bool,
}

pub fn fragments(record_payload: &[u8]) -> Fragments<'_> {
    Fragments {
        reader: Reader::new(record_payload),
        failed: false,
    }
}

impl<'a> Iterator for Fragments<'a> {
    type Item = Result<HandshakeFragment<'a>, FragmentError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.reader.is_empty() {
            return None;
        }
        let parsed = HandshakeHeader::decode(&mut self.reader)
            .ok_or(FragmentError::Truncated)
            .and_then(|header| {
                let end = header
                    .fragment_offset
                    .checked_add(header.fragment_length)
                    .ok_or(FragmentError::OutOfBounds)?;
                if end > header.length {
                    return Err(FragmentError::OutOfBounds);
                }
                let len = usize::try_from(header.fragment_length)
                    .map_err(|_| FragmentError::Truncated)?;
                let body = self.reader.take(len).ok_or(FragmentError::Truncated)?;
                Ok(HandshakeFragment { header, body })
            });
        if parsed.is_err() {
            self.failed = true;
        }
        Some(parsed)
    }
}

/// Appends the fragments of one message, each as header + body, to `out`, calling `emit` after
/// each one so the caller can wrap it in a record. `max_body` is the largest fragment body that
/// fits the caller's record budget; it is at least 1.
///
/// An empty body (ServerHelloDone) still produces one fragment.
pub fn for_each_fragment(
    msg_type: HandshakeType,
    message_seq: u16,
    body: &[u8],
    max_body: usize,
    mut emit: impl FnMut(&[u8]),
) {
    let max_body = max_body.max(1);
    let length = u32::try_from(body.len()).unwrap_or(MAX_U24).min(MAX_U24);
    let mut scratch = Vec::with_capacity(HANDSHAKE_HEADER_LEN + body.len().min(max_body));
    let mut offset = 0usize;
    loop {
        let chunk = body
            .get(offset..)
            .map(|rest| &rest[..rest.len().min(max_body)])
            .unwrap_or_default();
        scratch.clear();
        let mut w = Writer::new(&mut scratch);
        HandshakeHeader {
            msg_type,
            length,
            message_seq,
            fragment_offset: offset as u32,
            fragment_length: chunk.len() as u32,
        }
        .encode(&mut w);
        w.bytes(chunk);
        emit(&scratch);
        offset += chunk.len();
        if offset >= body.len() {
            break;
        }
    }
}

/// Encodes a whole message with an unfragmented header: the form the transcript hash covers.
pub fn encode_unfragmented(
    msg_type: HandshakeType,
    message_seq: u16,
    body: &[u8],
    out: &mut Vec<u8>,
) {
    let length = u32::try_from(body.len()).unwrap_or(MAX_U24).min(MAX_U24);
    let mut w = Writer::new(out);
    HandshakeHeader {
        msg_type,
        length,
        message_seq,
        fragment_offset: 0,
        fragment_length: length,
    }
    .encode(&mut w);
    w.bytes(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let h = HandshakeHeader {
            msg_type: HandshakeType::Certificate,
            length: 0x01_0203,
            message_seq: 0x0405,
            fragment_offset: 0x06_0708,
            fragment_length: 0x09_0a0b,
        };
        let mut out = Vec::new();
        h.encode(&mut Writer::new(&mut out));
        assert_eq!(out, [11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(HandshakeHeader::decode(&mut Reader::new(&out)), Some(h));
    }

    #[test]
    fn fragments_cover_the_body_exactly() {
        let body: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut pieces = Vec::new();
        for_each_fragment(HandshakeType::Certificate, 3, &body, 300, |f| {
            pieces.push(f.to_vec())
        });
        assert_eq!(pieces.len(), 4);
        let mut rebuilt = Vec::new();
        for p in &pieces {
            let mut it = fragments(p);
            let f = it.next().unwrap().unwrap();
            assert!(it.next().is_none());
            assert_eq!(f.header.length, 1000);
            assert_eq!(f.header.message_seq, 3);
            assert_eq!(f.header.fragment_offset as usize, rebuilt.len());
            assert!(f.body.len() <= 300);
            rebuilt.extend_from_slice(f.body);
        }
        assert_eq!(rebuilt, body);
    }

    #[test]
    fn empty_message_is_one_fragment() {
        let mut pieces = Vec::new();
        for_each_fragment(HandshakeType::ServerHelloDone, 4, &[], 100, |f| {
            pieces.push(f.to_vec())
        });
        assert_eq!(pieces, vec![vec![14, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0]]);
    }

    #[test]
    fn several_messages_in_one_record() {
        let mut payload = Vec::new();
        encode_unfragmented(HandshakeType::ServerHello, 1, &[1, 2, 3], &mut payload);
        encode_unfragmented(HandshakeType::ServerHelloDone, 2, &[], &mut payload);
        let all: Vec<_> = fragments(&payload).collect::<Result<_, _>>().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].body, &[1, 2, 3]);
        assert_eq!(all[1].header.msg_type, HandshakeType::ServerHelloDone);
    }

    #[test]
    fn malformed_fragments_stop_iteration() {
        // fragment_offset + fragment_length > length
        let bad = [1, 0, 0, 4, 0, 0, 0, 0, 3, 0, 0, 2, 9, 9];
        let mut it = fragments(&bad);
        assert_eq!(it.next(), Some(Err(FragmentError::OutOfBounds)));
        assert_eq!(it.next(), None);
        // body shorter than fragment_length; and every truncation of a good one
        let mut good = Vec::new();
        encode_unfragmented(HandshakeType::Finished, 5, &[7; 12], &mut good);
        for cut in 1..good.len() {
            let mut it = fragments(&good[..cut]);
            assert_eq!(
                it.next(),
                Some(Err(FragmentError::Truncated)),
                "cut at {cut}"
            );
            assert_eq!(it.next(), None);
        }
    }
}
