//! The DTLS 1.2 record layer (RFC 6347 §4.1): record headers, splitting a datagram into records,
//! AEAD record protection ([`protect`]), the anti-replay window ([`replay`]) and packing records
//! into datagrams ([`pack`]).
//!
//! This layer knows nothing of handshakes. Which content types and epochs are acceptable is the
//! session's business: unknown content types parse here and are dropped above.
//!
//! ```
//! use puredtls::record::{records, write_plaintext, ContentType, ProtocolVersion};
//!
//! let mut datagram = Vec::new();
//! write_plaintext(&mut datagram, ContentType::Handshake, ProtocolVersion::DTLS1_2, 0, 7, b"hello");
//! write_plaintext(&mut datagram, ContentType::Alert, ProtocolVersion::DTLS1_2, 0, 8, &[1, 0]);
//!
//! let mut it = records(&datagram);
//! let first = it.next().unwrap();
//! assert_eq!(first.header.sequence_number, 7);
//! assert_eq!(first.fragment, b"hello");
//! assert_eq!(it.next().unwrap().header.content_type, ContentType::Alert);
//! assert!(it.next().is_none());
//! assert!(!it.malformed_tail());
//! ```

pub mod pack;
pub mod protect;
pub mod replay;

pub use pack::DatagramPacker;
pub use protect::{AeadAlgorithm, ProtectError, RecordProtection};
pub use replay::ReplayWindow;

use crate::codec::{wire_enum, Reader, Writer};

wire_enum! {
    /// `ContentType` of a record (RFC 5246 §6.2.1; `tls12_cid` from RFC 9146 §4).
    pub enum ContentType: u8 {
        ChangeCipherSpec = 20,
        Alert = 21,
        Handshake = 22,
        ApplicationData = 23,
        /// A record carrying a Connection ID (RFC 9146). Its header has the CID between the
        /// sequence number and the length, which [`records`] does not parse.
        Tls12Cid = 25,
    }
}

/// `ProtocolVersion` on the wire: DTLS versions are the one's complement of the TLS ones
/// (RFC 6347 §4.1), so DTLS 1.2 is `{254, 253}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolVersion(pub u16);

impl ProtocolVersion {
    /// DTLS 1.0 (RFC 4347), still seen in HelloVerifyRequest and early ClientHello records.
    pub const DTLS1_0: Self = Self(0xfeff);
    /// DTLS 1.2 (RFC 6347).
    pub const DTLS1_2: Self = Self(0xfefd);
}

/// Length of the DTLS 1.2 record header: type(1) version(2) epoch(2) sequence_number(6) length(2).
pub const RECORD_HEADER_LEN: usize = 13;

/// The largest sequence number a 48-bit field holds. RFC 6347 §4.1: sequence numbers must not
/// wrap within an epoch, so a sender that reaches it has to stop (or change epoch).
pub const MAX_SEQUENCE_NUMBER: u64 = (1 << 48) - 1;

/// The largest plaintext fragment (RFC 5246 §6.2.1: 2^14).
pub const MAX_PLAINTEXT_LEN: usize = 1 << 14;

/// The largest fragment a record may claim (RFC 5246 §6.2.3: 2^14 + 2048 for a ciphertext).
/// A longer length field marks the rest of the datagram as malformed.
pub const MAX_CIPHERTEXT_LEN: usize = (1 << 14) + 2048;

/// The DTLSPlaintext / DTLSCiphertext header (RFC 6347 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub content_type: ContentType,
    pub version: ProtocolVersion,
    pub epoch: u16,
    /// 48-bit sequence number; only the low 48 bits are encoded.
    pub sequence_number: u64,
    /// Length of the fragment that follows the header.
    pub length: u16,
}

impl RecordHeader {
    /// The 13 header bytes. Only the low 48 bits of `sequence_number` are written; callers keep
    /// it at or below [`MAX_SEQUENCE_NUMBER`].
    pub fn encode(&self) -> [u8; RECORD_HEADER_LEN] {
        let [_, _, s0, s1, s2, s3, s4, s5] = self.sequence_number.to_be_bytes();
        let [v0, v1] = self.version.0.to_be_bytes();
        let [e0, e1] = self.epoch.to_be_bytes();
        let [l0, l1] = self.length.to_be_bytes();
        [
            u8::from(self.content_type),
            v0,
            v1,
            e0,
            e1,
            s0,
            s1,
            s2,
            s3,
            s4,
            s5,
            l0,
            l1,
        ]
    }

    /// Reads a 13-byte header; `None` if fewer than 13 bytes are left. It checks neither the
    /// content type, the version nor the length: [`records`] bounds the length.
    pub fn decode(r: &mut Reader) -> Option<Self> {
        // One bounds check for the whole header: it is parsed for every record received.
        let [t, v0, v1, e0, e1, s0, s1, s2, s3, s4, s5, l0, l1] =
            r.take_array::<RECORD_HEADER_LEN>()?;
        Some(Self {
            content_type: ContentType::from(t),
            version: ProtocolVersion(u16::from_be_bytes([v0, v1])),
            epoch: u16::from_be_bytes([e0, e1]),
            sequence_number: u64::from_be_bytes([0, 0, s0, s1, s2, s3, s4, s5]),
            length: u16::from_be_bytes([l0, l1]),
        })
    }
}

/// One record of a datagram: its header and the fragment bytes (still protected if the epoch
/// is not 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub header: RecordHeader,
    pub fragment: &'a [u8],
}

/// Splits one datagram into records (RFC 6347 §4.1: a record never spans datagrams, and several
/// may share one).
///
/// A record whose header is bad (truncated, a length past the end of the datagram, or a length
/// over [`MAX_CIPHERTEXT_LEN`]) ends parsing of the datagram: nothing after it can be framed.
/// The records before it are still yielded (RFC 6347 §4.1.2.7), and
/// [`Records::malformed_tail`] says afterwards that the datagram ended badly.
pub fn records(datagram: &[u8]) -> Records<'_> {
    Records {
        reader: Reader::new(datagram),
        malformed_tail: false,
    }
}

/// Iterator over the records of a datagram; see [`records`].
#[derive(Debug, Clone)]
pub struct Records<'a> {
    reader: Reader<'a>,
    malformed_tail: bool,
}

impl<'a> Records<'a> {
    /// True once iteration stopped on bytes that do not frame a record (the caller counts them
    /// as one invalid record and drops them).
    pub fn malformed_tail(&self) -> bool {
        self.malformed_tail
    }

    fn parse_next(&mut self) -> Option<Record<'a>> {
        let header = RecordHeader::decode(&mut self.reader)?;
        if usize::from(header.length) > MAX_CIPHERTEXT_LEN {
            return None;
        }
        let fragment = self.reader.take(usize::from(header.length))?;
        Some(Record { header, fragment })
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        if self.malformed_tail || self.reader.is_empty() {
            return None;
        }
        let record = self.parse_next();
        if record.is_none() {
            self.malformed_tail = true;
            // Nothing after a bad header can be framed: stop for good.
            self.reader.take_rest();
        }
        record
    }
}

impl core::iter::FusedIterator for Records<'_> {}

/// Appends an unprotected record (a DTLSPlaintext, used in epoch 0) to `out`.
///
/// `payload` must be at most [`MAX_PLAINTEXT_LEN`] bytes (the handshake layer fragments to the
/// MTU, far below that) and `sequence_number` at most [`MAX_SEQUENCE_NUMBER`]. Both are checked
/// in debug builds; a release build writes a longer payload with its length saturated at 2^16-1,
/// which the peer rejects.
pub fn write_plaintext(
    out: &mut Vec<u8>,
    content_type: ContentType,
    version: ProtocolVersion,
    epoch: u16,
    sequence_number: u64,
    payload: &[u8],
) {
    debug_assert!(
        payload.len() <= MAX_PLAINTEXT_LEN,
        "record payload over 2^14 bytes"
    );
    debug_assert!(
        sequence_number <= MAX_SEQUENCE_NUMBER,
        "sequence number over 48 bits"
    );
    let header = RecordHeader {
        content_type,
        version,
        epoch,
        sequence_number,
        length: u16::try_from(payload.len()).unwrap_or(u16::MAX),
    };
    out.reserve(RECORD_HEADER_LEN + payload.len());
    let mut w = Writer::new(out);
    w.bytes(&header.encode());
    w.bytes(payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(seq: u64, length: u16) -> RecordHeader {
        RecordHeader {
            content_type: ContentType::Handshake,
            version: ProtocolVersion::DTLS1_2,
            epoch: 0x0102,
            sequence_number: seq,
            length,
        }
    }

    #[test]
    fn header_encodes_rfc6347_layout_and_round_trips() {
        let h = RecordHeader {
            content_type: ContentType::ApplicationData,
            version: ProtocolVersion::DTLS1_2,
            epoch: 0xabcd,
            sequence_number: 0x0000_1122_3344_5566,
            length: 0x0304,
        };
        let bytes = h.encode();
        assert_eq!(
            bytes,
            [23, 0xfe, 0xfd, 0xab, 0xcd, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x03, 0x04]
        );
        let mut r = Reader::new(&bytes);
        assert_eq!(RecordHeader::decode(&mut r), Some(h));
        assert!(r.is_empty());
    }

    #[test]
    fn header_round_trips_extremes_and_unknown_type() {
        for h in [
            RecordHeader {
                content_type: ContentType::Unknown(0),
                version: ProtocolVersion(0),
                epoch: 0,
                sequence_number: 0,
                length: 0,
            },
            RecordHeader {
                content_type: ContentType::Unknown(255),
                version: ProtocolVersion(0xffff),
                epoch: u16::MAX,
                sequence_number: MAX_SEQUENCE_NUMBER,
                length: u16::MAX,
            },
            RecordHeader {
                content_type: ContentType::Tls12Cid,
                version: ProtocolVersion::DTLS1_0,
                ..header(1, 2)
            },
        ] {
            let bytes = h.encode();
            assert_eq!(RecordHeader::decode(&mut Reader::new(&bytes)), Some(h));
        }
        assert_eq!(header(MAX_SEQUENCE_NUMBER, 0).encode()[5..11], [0xff; 6]);
    }

    #[test]
    fn header_decode_of_truncated_input_is_none() {
        let bytes = header(5, 9).encode();
        for cut in 0..RECORD_HEADER_LEN {
            assert_eq!(RecordHeader::decode(&mut Reader::new(&bytes[..cut])), None);
        }
    }

    #[test]
    fn splits_a_datagram_of_three_records() {
        let mut d = Vec::new();
        write_plaintext(
            &mut d,
            ContentType::Handshake,
            ProtocolVersion::DTLS1_0,
            0,
            0,
            b"one",
        );
        write_plaintext(
            &mut d,
            ContentType::ChangeCipherSpec,
            ProtocolVersion::DTLS1_2,
            0,
            1,
            &[1],
        );
        write_plaintext(
            &mut d,
            ContentType::Unknown(99),
            ProtocolVersion::DTLS1_2,
            3,
            2,
            b"",
        );
        assert_eq!(d.len(), 3 * RECORD_HEADER_LEN + 4);

        let mut it = records(&d);
        let got: Vec<Record<'_>> = it.by_ref().collect();
        assert!(!it.malformed_tail());
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].header.content_type, ContentType::Handshake);
        assert_eq!(got[0].header.version, ProtocolVersion::DTLS1_0);
        assert_eq!(got[0].header.length, 3);
        assert_eq!(got[0].fragment, b"one");
        assert_eq!(got[1].header.content_type, ContentType::ChangeCipherSpec);
        assert_eq!(got[1].header.sequence_number, 1);
        assert_eq!(got[1].fragment, [1]);
        assert_eq!(got[2].header.content_type, ContentType::Unknown(99));
        assert_eq!(got[2].header.epoch, 3);
        assert_eq!(got[2].header.sequence_number, 2);
        assert_eq!(got[2].fragment, b"");
    }

    #[test]
    fn empty_datagram_has_no_records_and_no_bad_tail() {
        let mut it = records(&[]);
        assert_eq!(it.next(), None);
        assert!(!it.malformed_tail());
    }

    fn two_good_records() -> Vec<u8> {
        let mut d = Vec::new();
        write_plaintext(
            &mut d,
            ContentType::Handshake,
            ProtocolVersion::DTLS1_2,
            0,
            10,
            b"ab",
        );
        write_plaintext(
            &mut d,
            ContentType::Alert,
            ProtocolVersion::DTLS1_2,
            0,
            11,
            b"cd",
        );
        d
    }

    fn assert_two_good_then_bad(d: &[u8]) {
        let mut it = records(d);
        assert!(!it.malformed_tail());
        let a = it.next().expect("first good record");
        assert_eq!((a.header.sequence_number, a.fragment), (10, &b"ab"[..]));
        let b = it.next().expect("second good record");
        assert_eq!((b.header.sequence_number, b.fragment), (11, &b"cd"[..]));
        assert!(
            !it.malformed_tail(),
            "not known to be bad before reaching the tail"
        );
        assert_eq!(it.next(), None);
        assert!(it.malformed_tail());
        assert_eq!(it.next(), None, "stays finished");
        assert!(it.malformed_tail());
    }

    #[test]
    fn truncated_header_tail_keeps_records_before_it() {
        let good = two_good_records();
        let next = header(12, 0).encode();
        for cut in 1..RECORD_HEADER_LEN {
            let mut d = good.clone();
            d.extend_from_slice(&next[..cut]);
            assert_two_good_then_bad(&d);
        }
    }

    #[test]
    fn length_past_end_keeps_records_before_it() {
        let mut d = two_good_records();
        d.extend_from_slice(&header(12, 5).encode());
        d.extend_from_slice(b"1234"); // one byte short
        assert_two_good_then_bad(&d);
        // The same record with its last byte is fine.
        d.push(b'5');
        let got: Vec<_> = records(&d).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].fragment, b"12345");
    }

    #[test]
    fn oversize_length_keeps_records_before_it() {
        // Even when the bytes are there, a length over 2^14 + 2048 is malformed.
        let over = MAX_CIPHERTEXT_LEN + 1;
        let mut d = two_good_records();
        d.extend_from_slice(&header(12, over as u16).encode());
        d.resize(d.len() + over, 0);
        assert_two_good_then_bad(&d);

        // Exactly at the bound is accepted.
        let mut d = Vec::new();
        d.extend_from_slice(&header(12, MAX_CIPHERTEXT_LEN as u16).encode());
        d.resize(d.len() + MAX_CIPHERTEXT_LEN, 7);
        let mut it = records(&d);
        assert_eq!(
            it.next().map(|r| r.fragment.len()),
            Some(MAX_CIPHERTEXT_LEN)
        );
        assert_eq!(it.next(), None);
        assert!(!it.malformed_tail());
    }

    #[test]
    fn bad_first_record_yields_nothing() {
        let mut it = records(&[22, 0xfe, 0xfd]);
        assert_eq!(it.next(), None);
        assert!(it.malformed_tail());
    }

    #[test]
    fn write_plaintext_appends_without_touching_earlier_bytes() {
        let mut out = vec![0xee];
        write_plaintext(
            &mut out,
            ContentType::Handshake,
            ProtocolVersion::DTLS1_2,
            0,
            0x0102_0304_0506,
            &[9, 8],
        );
        assert_eq!(
            out,
            [0xee, 22, 0xfe, 0xfd, 0, 0, 1, 2, 3, 4, 5, 6, 0, 2, 9, 8]
        );
    }

    #[test]
    fn any_bytes_split_into_a_re_serializable_prefix() {
        // Property: the records yielded re-serialize to exactly a prefix of the datagram, and
        // malformed_tail is set precisely when that prefix is not the whole datagram.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut clean, mut bad) = (0, 0);
        for _ in 0..3000 {
            let mut d = Vec::new();
            for _ in 0..next() % 4 {
                let len = (next() % 40) as usize;
                let payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                write_plaintext(
                    &mut d,
                    ContentType::from(next() as u8),
                    ProtocolVersion(next() as u16),
                    0,
                    next() & MAX_SEQUENCE_NUMBER,
                    &payload,
                );
            }
            // Corrupt some datagrams: random bytes appended, a byte flipped, or a cut.
            match next() % 4 {
                0 => d.extend((0..next() % 30).map(|_| next() as u8)),
                1 if !d.is_empty() => {
                    let i = (next() as usize) % d.len();
                    d[i] ^= next() as u8;
                }
                2 => d.truncate((next() as usize) % (d.len() + 1)),
                _ => {}
            }
            let mut it = records(&d);
            let mut again = Vec::new();
            for r in it.by_ref() {
                assert_eq!(usize::from(r.header.length), r.fragment.len());
                again.extend_from_slice(&r.header.encode());
                again.extend_from_slice(r.fragment);
            }
            assert_eq!(again[..], d[..again.len()]);
            assert_eq!(it.malformed_tail(), again.len() != d.len());
            if it.malformed_tail() {
                bad += 1
            } else {
                clean += 1
            }
        }
        assert!(clean > 1000 && bad > 500, "{clean} {bad}");
    }
}
