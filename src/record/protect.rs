//! AEAD record protection: AES-GCM as RFC 5288 §3 defines it for TLS 1.2, with the DTLS
//! sequence number (epoch ‖ 48-bit sequence_number, RFC 6347 §4.1.2.1) in place of TLS's
//! implicit 64-bit counter.
//!
//! A protected record is `header(13) ‖ explicit_nonce(8) ‖ ciphertext ‖ tag(16)`, where
//!
//! - nonce = salt(4, the `client/server_write_IV` from the key block) ‖ explicit_nonce(8);
//!   we send epoch(2) ‖ sequence_number(6) as the explicit part, so a nonce never repeats under
//!   one key as long as sequence numbers do not (RFC 5288 §6.1, RFC 9325 §7.2.1);
//! - additional_data = epoch(2) ‖ sequence_number(6) ‖ type(1) ‖ version(2) ‖ length(2), with
//!   the length of the *plaintext* (RFC 5246 §6.2.3.3).
//!
//! ```
//! use puredtls::record::{records, AeadAlgorithm, ContentType, ProtocolVersion, RecordProtection};
//!
//! let key = [0x11; 16];
//! let salt = [0x22; 4];
//! let sender = RecordProtection::new(AeadAlgorithm::Aes128Gcm, &key, &salt).unwrap();
//! let receiver = RecordProtection::new(AeadAlgorithm::Aes128Gcm, &key, &salt).unwrap();
//!
//! let mut datagram = [0u8; 128];
//! let n = sender
//!     .seal(ContentType::ApplicationData, ProtocolVersion::DTLS1_2, 1, 0, b"ping", &mut datagram)
//!     .unwrap();
//! assert_eq!(n, 13 + 8 + 4 + 16);
//!
//! let record = records(&datagram[..n]).next().unwrap();
//! let mut plaintext = [0u8; 64];
//! assert_eq!(receiver.open(&record, &mut plaintext).unwrap(), b"ping");
//! ```

use core::fmt;

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aes::{Aes128Enc, Aes256Enc};
use aes_gcm::{AeadInOut, AesGcm, KeyInit, Nonce, Tag};
use zeroize::Zeroizing;

use super::{
    ContentType, ProtocolVersion, Record, RecordHeader, MAX_PLAINTEXT_LEN, MAX_SEQUENCE_NUMBER,
    RECORD_HEADER_LEN,
};

const FIXED_IV_LEN: usize = 4;
const EXPLICIT_NONCE_LEN: usize = 8;
const TAG_LEN: usize = 16;
const AAD_LEN: usize = 13;

/// The AEAD algorithms this record layer protects records with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AeadAlgorithm {
    /// AEAD_AES_128_GCM (RFC 5116 §5.1), as in TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.
    Aes128Gcm,
    /// AEAD_AES_256_GCM (RFC 5116 §5.2), as in TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384.
    Aes256Gcm,
}

impl AeadAlgorithm {
    /// Length of `client/server_write_key`.
    pub const fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::Aes256Gcm => 32,
        }
    }

    /// Length of `client/server_write_IV`, the implicit salt (RFC 5288 §3).
    pub const fn fixed_iv_len(self) -> usize {
        FIXED_IV_LEN
    }

    /// Length of the nonce_explicit carried in each record (RFC 5288 §3).
    pub const fn explicit_nonce_len(self) -> usize {
        EXPLICIT_NONCE_LEN
    }

    /// Length of the authentication tag.
    pub const fn tag_len(self) -> usize {
        TAG_LEN
    }

    /// Bytes a protected fragment has beyond its plaintext: explicit nonce plus tag.
    pub const fn overhead(self) -> usize {
        self.explicit_nonce_len() + self.tag_len()
    }
}

/// Why a record could not be protected or unprotected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtectError {
    /// The write key does not have the length the algorithm needs.
    BadKeyLength { expected: usize, actual: usize },
    /// The fixed IV (salt) does not have the length the algorithm needs.
    BadFixedIvLength { expected: usize, actual: usize },
    /// The output buffer cannot hold the result.
    OutputTooSmall { needed: usize, available: usize },
    /// The fragment is shorter than explicit nonce plus tag, so it cannot be a protected record.
    RecordTooShort,
    /// The tag did not verify: the record was forged, corrupted, or protected under other keys.
    Authentication,
    /// The plaintext is (or would decrypt to) more than 2^14 bytes (RFC 5246 §6.2.1).
    PlaintextTooLong,
    /// The sequence number is past 2^48-1: sending it would reuse a nonce.
    SequenceNumberExhausted,
}

impl fmt::Display for ProtectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadKeyLength { expected, actual } => write!(
                f,
                "record protection key is {actual} bytes but the cipher needs {expected}; \
                 check the key block split for the negotiated suite"
            ),
            Self::BadFixedIvLength { expected, actual } => write!(
                f,
                "record protection fixed IV is {actual} bytes but the cipher needs {expected}; \
                 check the key block split for the negotiated suite"
            ),
            Self::OutputTooSmall { needed, available } => write!(
                f,
                "output buffer has {available} bytes but the record needs {needed}; \
                 pass a larger buffer"
            ),
            Self::RecordTooShort => f.write_str(
                "protected record is shorter than its explicit nonce and tag; \
                 it is malformed and should be dropped",
            ),
            Self::Authentication => f.write_str(
                "record failed authentication (forged, corrupted, or under other keys); \
                 it should be dropped",
            ),
            Self::PlaintextTooLong => f.write_str(
                "record plaintext exceeds 2^14 bytes; fragment the data into smaller records",
            ),
            Self::SequenceNumberExhausted => f.write_str(
                "record sequence number passed 2^48-1 in this epoch; \
                 the connection must be closed or rekeyed before sending more",
            ),
        }
    }
}

impl std::error::Error for ProtectError {}

/// AES-128-GCM over the encryption-only AES key schedule: GCM never runs the block cipher
/// backwards, and the decryption round keys would double the AES state (176 B of 352 B).
type Aes128GcmEnc = AesGcm<Aes128Enc, U12>;
/// AES-256-GCM, encryption-only key schedule likewise.
type Aes256GcmEnc = AesGcm<Aes256Enc, U12>;

/// The AES key schedule and GHASH key, expanded once. Zeroized on drop (aes-gcm's `zeroize`
/// feature). Boxed, so that the `RecordProtection` and every `Option` of it a session keeps is
/// a few words (the expanded key is 320 or 384 bytes, and empty slots would pay for it).
enum Cipher {
    Aes128(Box<Aes128GcmEnc>),
    Aes256(Box<Aes256GcmEnc>),
}

// The expanded keys must be wiped when a `Cipher` is dropped.
const _: () = {
    const fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    zeroized_on_drop::<Aes128GcmEnc>();
    zeroized_on_drop::<Aes256GcmEnc>();
};

/// One direction's record protection state: the expanded cipher and the 4-byte salt.
///
/// Built once per epoch and direction from the key block (RFC 5246 §6.3); all key material is
/// zeroized when it is dropped. Sealing and opening never allocate.
pub struct RecordProtection {
    alg: AeadAlgorithm,
    cipher: Cipher,
    salt: Zeroizing<[u8; FIXED_IV_LEN]>,
}

impl fmt::Debug for RecordProtection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("RecordProtection")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl RecordProtection {
    /// Expands `key` for `alg` and keeps `fixed_iv` as the nonce salt.
    pub fn new(alg: AeadAlgorithm, key: &[u8], fixed_iv: &[u8]) -> Result<Self, ProtectError> {
        if key.len() != alg.key_len() {
            return Err(ProtectError::BadKeyLength {
                expected: alg.key_len(),
                actual: key.len(),
            });
        }
        let salt: [u8; FIXED_IV_LEN] =
            fixed_iv
                .try_into()
                .map_err(|_| ProtectError::BadFixedIvLength {
                    expected: FIXED_IV_LEN,
                    actual: fixed_iv.len(),
                })?;
        let bad_key = |_| ProtectError::BadKeyLength {
            expected: alg.key_len(),
            actual: key.len(),
        };
        let cipher = match alg {
            AeadAlgorithm::Aes128Gcm => Cipher::Aes128(Box::new(
                Aes128GcmEnc::new_from_slice(key).map_err(bad_key)?,
            )),
            AeadAlgorithm::Aes256Gcm => Cipher::Aes256(Box::new(
                Aes256GcmEnc::new_from_slice(key).map_err(bad_key)?,
            )),
        };
        Ok(Self {
            alg,
            cipher,
            salt: Zeroizing::new(salt),
        })
    }

    /// The algorithm this state was built for.
    pub fn algorithm(&self) -> AeadAlgorithm {
        self.alg
    }

    /// Length of the whole protected record (header included) for a plaintext of `plaintext_len`.
    pub fn sealed_len(&self, plaintext_len: usize) -> usize {
        (RECORD_HEADER_LEN + self.alg.overhead()).saturating_add(plaintext_len)
    }

    /// Writes a complete protected record (13-byte header, 8-byte explicit nonce = epoch ‖
    /// sequence_number, ciphertext, tag) at the start of `out` and returns its length.
    ///
    /// Errors: `PlaintextTooLong` over 2^14 bytes, `SequenceNumberExhausted` past 2^48-1,
    /// `OutputTooSmall` if `out` is shorter than [`RecordProtection::sealed_len`]. On error
    /// nothing has been written to `out`.
    pub fn seal(
        &self,
        content_type: ContentType,
        version: ProtocolVersion,
        epoch: u16,
        sequence_number: u64,
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, ProtectError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(ProtectError::PlaintextTooLong);
        }
        if sequence_number > MAX_SEQUENCE_NUMBER {
            return Err(ProtectError::SequenceNumberExhausted);
        }
        let needed = self.sealed_len(plaintext.len());
        let available = out.len();
        let record = out
            .get_mut(..needed)
            .ok_or(ProtectError::OutputTooSmall { needed, available })?;
        let body = record
            .get_mut(RECORD_HEADER_LEN + EXPLICIT_NONCE_LEN..needed - TAG_LEN)
            .ok_or(ProtectError::OutputTooSmall { needed, available })?;
        body.copy_from_slice(plaintext);
        self.seal_in_place(content_type, version, epoch, sequence_number, record)?;
        Ok(needed)
    }

    /// [`RecordProtection::seal`] with the plaintext already in place: `record` is the whole
    /// record, `header(13) ‖ explicit nonce(8) ‖ plaintext ‖ tag(16)`, and only the plaintext
    /// bytes matter on entry. Encrypts them in place and fills in the header, explicit nonce
    /// and tag; a caller that builds the record in its output buffer copies the plaintext once.
    ///
    /// Errors as [`RecordProtection::seal`] (`OutputTooSmall` for a `record` shorter than
    /// header, nonce and tag); on error `record` is unchanged.
    pub fn seal_in_place(
        &self,
        content_type: ContentType,
        version: ProtocolVersion,
        epoch: u16,
        sequence_number: u64,
        record: &mut [u8],
    ) -> Result<(), ProtectError> {
        let needed = self.sealed_len(0);
        let available = record.len();
        let too_small = ProtectError::OutputTooSmall { needed, available };
        let (header_out, rest) = record
            .split_first_chunk_mut::<RECORD_HEADER_LEN>()
            .ok_or(too_small)?;
        let (explicit_out, rest) = rest
            .split_first_chunk_mut::<EXPLICIT_NONCE_LEN>()
            .ok_or(too_small)?;
        let (body, tag_out) = rest.split_last_chunk_mut::<TAG_LEN>().ok_or(too_small)?;
        if body.len() > MAX_PLAINTEXT_LEN {
            return Err(ProtectError::PlaintextTooLong);
        }
        if sequence_number > MAX_SEQUENCE_NUMBER {
            return Err(ProtectError::SequenceNumberExhausted);
        }

        // Both lengths are bounded by 2^14 + 24 above, so they fit in u16.
        let plaintext_len = body.len() as u16;
        let fragment_len = (available - RECORD_HEADER_LEN) as u16;
        let explicit = explicit_nonce(epoch, sequence_number);
        let aad = additional_data(&explicit, content_type, version, plaintext_len);
        let nonce = self.nonce(&explicit);

        let buf = InOutBuf::from(body);
        let tag = match &self.cipher {
            Cipher::Aes128(c) => encrypt(&**c, &nonce, &aad, buf),
            Cipher::Aes256(c) => encrypt(&**c, &nonce, &aad, buf),
        }
        // Only reachable for inputs far over 2^14 bytes, which were refused above.
        .ok_or(ProtectError::PlaintextTooLong)?;

        *header_out = RecordHeader {
            content_type,
            version,
            epoch,
            sequence_number,
            length: fragment_len,
        }
        .encode();
        *explicit_out = explicit;
        *tag_out = tag;
        Ok(())
    }

    /// [`RecordProtection::seal`], appending the record to `out` (for building flights).
    /// On error `out` is left as it was.
    pub fn seal_append(
        &self,
        content_type: ContentType,
        version: ProtocolVersion,
        epoch: u16,
        sequence_number: u64,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ProtectError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(ProtectError::PlaintextTooLong);
        }
        let start = out.len();
        out.resize(start + self.sealed_len(plaintext.len()), 0);
        let tail = out.get_mut(start..).unwrap_or_default();
        match self.seal(
            content_type,
            version,
            epoch,
            sequence_number,
            plaintext,
            tail,
        ) {
            Ok(_) => Ok(()),
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// Authenticates and decrypts `record.fragment` into the start of `out`, returning the
    /// plaintext. The explicit nonce is taken from the record as it is carried (RFC 5288 §3);
    /// the epoch, sequence number, type and version in the additional data come from the
    /// record's header, so tampering with any of them fails authentication.
    ///
    /// `out` needs `fragment.len() - 24` bytes. Nothing is written to `out` unless the tag
    /// verifies.
    pub fn open<'o>(
        &self,
        record: &Record<'_>,
        out: &'o mut [u8],
    ) -> Result<&'o [u8], ProtectError> {
        let (explicit, rest) = record
            .fragment
            .split_first_chunk::<EXPLICIT_NONCE_LEN>()
            .ok_or(ProtectError::RecordTooShort)?;
        let (ciphertext, tag) = rest
            .split_last_chunk::<TAG_LEN>()
            .ok_or(ProtectError::RecordTooShort)?;
        if ciphertext.len() > MAX_PLAINTEXT_LEN {
            return Err(ProtectError::PlaintextTooLong);
        }
        let needed = ciphertext.len();
        let available = out.len();
        let out = out
            .get_mut(..needed)
            .ok_or(ProtectError::OutputTooSmall { needed, available })?;

        let h = &record.header;
        let aad = additional_data(
            &explicit_nonce(h.epoch, h.sequence_number),
            h.content_type,
            h.version,
            needed as u16,
        );
        let nonce = self.nonce(explicit);
        let tag = Tag::<U16>::from(*tag);
        let buf = InOutBuf::new(ciphertext, &mut *out)
            .map_err(|_| ProtectError::OutputTooSmall { needed, available })?;
        let ok = match &self.cipher {
            Cipher::Aes128(c) => c.decrypt_inout_detached(&nonce, &aad, buf, &tag),
            Cipher::Aes256(c) => c.decrypt_inout_detached(&nonce, &aad, buf, &tag),
        };
        ok.map_err(|_| ProtectError::Authentication)?;
        Ok(out)
    }

    /// [`RecordProtection::open`] in place: `fragment` is a copy of the record's fragment
    /// (`explicit nonce ‖ ciphertext ‖ tag`) that `header` came with. On success the plaintext
    /// is decrypted where the ciphertext was, and its range within `fragment` is returned; if
    /// the tag does not verify, `fragment` is unchanged.
    pub fn open_in_place(
        &self,
        header: &RecordHeader,
        fragment: &mut [u8],
    ) -> Result<core::ops::Range<usize>, ProtectError> {
        let (explicit, rest) = fragment
            .split_first_chunk_mut::<EXPLICIT_NONCE_LEN>()
            .ok_or(ProtectError::RecordTooShort)?;
        let (ciphertext, tag) = rest
            .split_last_chunk_mut::<TAG_LEN>()
            .ok_or(ProtectError::RecordTooShort)?;
        if ciphertext.len() > MAX_PLAINTEXT_LEN {
            return Err(ProtectError::PlaintextTooLong);
        }
        let len = ciphertext.len();
        let aad = additional_data(
            &explicit_nonce(header.epoch, header.sequence_number),
            header.content_type,
            header.version,
            len as u16,
        );
        let nonce = self.nonce(explicit);
        let tag = Tag::<U16>::from(*tag);
        let buf = InOutBuf::from(ciphertext);
        let ok = match &self.cipher {
            Cipher::Aes128(c) => c.decrypt_inout_detached(&nonce, &aad, buf, &tag),
            Cipher::Aes256(c) => c.decrypt_inout_detached(&nonce, &aad, buf, &tag),
        };
        ok.map_err(|_| ProtectError::Authentication)?;
        Ok(EXPLICIT_NONCE_LEN..EXPLICIT_NONCE_LEN + len)
    }

    /// salt ‖ explicit nonce (RFC 5288 §3).
    fn nonce(&self, explicit: &[u8; EXPLICIT_NONCE_LEN]) -> Nonce<U12> {
        let mut n = [0u8; FIXED_IV_LEN + EXPLICIT_NONCE_LEN];
        let (salt, rest) = n.split_at_mut(FIXED_IV_LEN);
        salt.copy_from_slice(&*self.salt);
        rest.copy_from_slice(explicit);
        Nonce::<U12>::from(n)
    }
}

fn encrypt<A>(
    cipher: &A,
    nonce: &Nonce<U12>,
    aad: &[u8; AAD_LEN],
    buf: InOutBuf<'_, '_, u8>,
) -> Option<[u8; TAG_LEN]>
where
    A: AeadInOut<NonceSize = U12, TagSize = U16>,
{
    let tag = cipher.encrypt_inout_detached(nonce, aad, buf).ok()?;
    Some(tag.into())
}

/// The DTLS 64-bit sequence number: epoch(2) ‖ sequence_number(6) (RFC 6347 §4.1.2.1).
fn explicit_nonce(epoch: u16, sequence_number: u64) -> [u8; EXPLICIT_NONCE_LEN] {
    let masked = sequence_number & MAX_SEQUENCE_NUMBER;
    (u64::from(epoch) << 48 | masked).to_be_bytes()
}

/// additional_data = seq_num(8) ‖ type(1) ‖ version(2) ‖ length(2) (RFC 5246 §6.2.3.3, with
/// the DTLS seq_num of RFC 6347 §4.1.2.1).
fn additional_data(
    seq_num: &[u8; EXPLICIT_NONCE_LEN],
    content_type: ContentType,
    version: ProtocolVersion,
    plaintext_len: u16,
) -> [u8; AAD_LEN] {
    let [s0, s1, s2, s3, s4, s5, s6, s7] = *seq_num;
    let [v0, v1] = version.0.to_be_bytes();
    let [l0, l1] = plaintext_len.to_be_bytes();
    [
        s0,
        s1,
        s2,
        s3,
        s4,
        s5,
        s6,
        s7,
        u8::from(content_type),
        v0,
        v1,
        l0,
        l1,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::records;
    use aes_gcm::aead::{Aead, Payload};
    use aes_gcm::Aes128Gcm;

    const ALGS: [AeadAlgorithm; 2] = [AeadAlgorithm::Aes128Gcm, AeadAlgorithm::Aes256Gcm];

    fn prot(alg: AeadAlgorithm) -> RecordProtection {
        let key: Vec<u8> = (0..alg.key_len() as u8).collect();
        RecordProtection::new(alg, &key, &[0xa0, 0xa1, 0xa2, 0xa3]).unwrap()
    }

    fn sealed(p: &RecordProtection, epoch: u16, seq: u64, pt: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        p.seal_append(
            ContentType::ApplicationData,
            ProtocolVersion::DTLS1_2,
            epoch,
            seq,
            pt,
            &mut out,
        )
        .unwrap();
        out
    }

    /// An epoch-1 application_data record framing `fragment`, as `records` would yield it.
    fn app_record(fragment: &[u8]) -> Record<'_> {
        Record {
            header: RecordHeader {
                content_type: ContentType::ApplicationData,
                version: ProtocolVersion::DTLS1_2,
                epoch: 1,
                sequence_number: 0,
                length: fragment.len() as u16,
            },
            fragment,
        }
    }

    fn open_datagram(p: &RecordProtection, d: &[u8]) -> Result<Vec<u8>, ProtectError> {
        let mut it = records(d);
        let record = it.next().expect("one record frames");
        assert!(it.next().is_none());
        let mut out = [0u8; MAX_PLAINTEXT_LEN];
        p.open(&record, &mut out).map(<[u8]>::to_vec)
    }

    #[test]
    fn algorithm_sizes() {
        assert_eq!(AeadAlgorithm::Aes128Gcm.key_len(), 16);
        assert_eq!(AeadAlgorithm::Aes256Gcm.key_len(), 32);
        for alg in ALGS {
            assert_eq!(alg.fixed_iv_len(), 4);
            assert_eq!(alg.explicit_nonce_len(), 8);
            assert_eq!(alg.tag_len(), 16);
            assert_eq!(alg.overhead(), 24);
            assert_eq!(prot(alg).algorithm(), alg);
            assert_eq!(prot(alg).sealed_len(100), 13 + 24 + 100);
        }
    }

    #[test]
    fn seal_in_place_writes_the_same_record_as_seal() {
        for alg in ALGS {
            let p = prot(alg);
            for pt in [&b""[..], b"x", &[0x5a; 1200]] {
                let expected = sealed(&p, 1, 77, pt);
                let mut record = vec![0xee; 13 + 8];
                record.extend_from_slice(pt);
                record.extend_from_slice(&[0xee; 16]);
                p.seal_in_place(
                    ContentType::ApplicationData,
                    ProtocolVersion::DTLS1_2,
                    1,
                    77,
                    &mut record,
                )
                .unwrap();
                assert_eq!(record, expected, "{alg:?}, {} bytes", pt.len());
            }
        }
    }

    #[test]
    fn seal_in_place_refuses_what_seal_refuses_and_leaves_the_record() {
        let p = prot(AeadAlgorithm::Aes128Gcm);
        let seal = |seq: u64, record: &mut [u8]| {
            p.seal_in_place(
                ContentType::ApplicationData,
                ProtocolVersion::DTLS1_2,
                1,
                seq,
                record,
            )
        };
        let mut short = [7u8; 36];
        assert_eq!(
            seal(0, &mut short),
            Err(ProtectError::OutputTooSmall {
                needed: 37,
                available: 36
            })
        );
        assert_eq!(short, [7u8; 36]);
        let mut long = vec![7u8; 37 + MAX_PLAINTEXT_LEN + 1];
        assert_eq!(seal(0, &mut long), Err(ProtectError::PlaintextTooLong));
        assert!(long.iter().all(|&b| b == 7));
        let mut ok = [7u8; 40];
        assert_eq!(
            seal(MAX_SEQUENCE_NUMBER + 1, &mut ok),
            Err(ProtectError::SequenceNumberExhausted)
        );
        assert_eq!(ok, [7u8; 40]);
    }

    #[test]
    fn open_in_place_decrypts_where_the_ciphertext_was() {
        for alg in ALGS {
            let p = prot(alg);
            let d = sealed(&p, 1, 9, b"in place");
            let record = records(&d).next().unwrap();
            let mut fragment = record.fragment.to_vec();
            let range = p.open_in_place(&record.header, &mut fragment).unwrap();
            assert_eq!(range, 8..16);
            assert_eq!(&fragment[range], b"in place");
        }
    }

    #[test]
    fn open_in_place_leaves_a_forged_fragment_unchanged() {
        let p = prot(AeadAlgorithm::Aes128Gcm);
        let d = sealed(&p, 1, 9, b"in place");
        let record = records(&d).next().unwrap();
        let mut fragment = record.fragment.to_vec();
        *fragment.last_mut().unwrap() ^= 1;
        let forged = fragment.clone();
        assert_eq!(
            p.open_in_place(&record.header, &mut fragment),
            Err(ProtectError::Authentication)
        );
        assert_eq!(fragment, forged);
        let mut header = record.header;
        header.sequence_number = 10;
        let mut fragment = record.fragment.to_vec();
        assert_eq!(
            p.open_in_place(&header, &mut fragment),
            Err(ProtectError::Authentication),
            "the header is authenticated"
        );
        assert_eq!(
            p.open_in_place(&record.header, &mut [0u8; 23]),
            Err(ProtectError::RecordTooShort)
        );
    }

    #[test]
    fn new_rejects_wrong_lengths() {
        assert_eq!(
            RecordProtection::new(AeadAlgorithm::Aes128Gcm, &[0; 32], &[0; 4]).unwrap_err(),
            ProtectError::BadKeyLength {
                expected: 16,
                actual: 32
            }
        );
        assert_eq!(
            RecordProtection::new(AeadAlgorithm::Aes256Gcm, &[0; 16], &[0; 4]).unwrap_err(),
            ProtectError::BadKeyLength {
                expected: 32,
                actual: 16
            }
        );
        assert_eq!(
            RecordProtection::new(AeadAlgorithm::Aes128Gcm, &[0; 16], &[0; 12]).unwrap_err(),
            ProtectError::BadFixedIvLength {
                expected: 4,
                actual: 12
            }
        );
        assert_eq!(
            RecordProtection::new(AeadAlgorithm::Aes256Gcm, &[0; 32], &[]).unwrap_err(),
            ProtectError::BadFixedIvLength {
                expected: 4,
                actual: 0
            }
        );
    }

    #[test]
    fn seal_open_round_trip_both_key_sizes() {
        for alg in ALGS {
            let p = prot(alg);
            for len in [0usize, 1, 15, 16, 17, 1000, MAX_PLAINTEXT_LEN] {
                let pt: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let d = sealed(&p, 3, 0x0000_0102_0304_0506, &pt);
                assert_eq!(d.len(), 13 + 8 + len + 16);
                let r = records(&d).next().unwrap();
                assert_eq!(r.header.content_type, ContentType::ApplicationData);
                assert_eq!(r.header.epoch, 3);
                assert_eq!(r.header.sequence_number, 0x0102_0304_0506);
                assert_eq!(usize::from(r.header.length), 8 + len + 16);
                assert_eq!(
                    r.fragment[..8],
                    [0, 3, 1, 2, 3, 4, 5, 6],
                    "explicit nonce = epoch‖seq"
                );
                if len > 0 {
                    assert_ne!(
                        r.fragment[8..8 + len],
                        pt[..],
                        "ciphertext is not the plaintext"
                    );
                }
                assert_eq!(open_datagram(&p, &d).unwrap(), pt, "{alg:?} len {len}");
            }
        }
    }

    #[test]
    fn keys_of_other_size_or_value_do_not_open() {
        let d = sealed(&prot(AeadAlgorithm::Aes128Gcm), 1, 1, b"data");
        let other_key = RecordProtection::new(
            AeadAlgorithm::Aes128Gcm,
            &[9; 16],
            &[0xa0, 0xa1, 0xa2, 0xa3],
        )
        .unwrap();
        assert_eq!(
            open_datagram(&other_key, &d),
            Err(ProtectError::Authentication)
        );
        let other_salt = RecordProtection::new(
            AeadAlgorithm::Aes128Gcm,
            &(0..16).collect::<Vec<u8>>(),
            &[0xa0, 0xa1, 0xa2, 0xa4],
        )
        .unwrap();
        assert_eq!(
            open_datagram(&other_salt, &d),
            Err(ProtectError::Authentication)
        );
    }

    // Expected records computed independently with Python `cryptography` (OpenSSL's AES-GCM):
    //   nonce = salt ‖ epoch ‖ seq, aad = epoch ‖ seq ‖ type ‖ fefd ‖ len(pt),
    //   record = type ‖ fefd ‖ epoch ‖ seq ‖ len(8 + ct + tag) ‖ epoch ‖ seq ‖ ct ‖ tag.
    const KAT_128: &str = "17fefd000100000000000500310001000000000005\
        bc7f23e340e386e7d437d69c1b6f6b84aefe7e148e8a9f0e2b792da0f1bdb32bd257fce38afc559b3b";
    const KAT_256: &str = "16fefd0203fedcba987654001c0203fedcba987654\
        0bc904bb1d49742d6c187d68ac6db5f5ee0abe6a";

    #[test]
    fn known_answer_aes128_gcm() {
        let key: Vec<u8> = (0..16).collect();
        let p = RecordProtection::new(
            AeadAlgorithm::Aes128Gcm,
            &key,
            &hex::decode("a0a1a2a3").unwrap(),
        )
        .unwrap();
        let pt = b"puredtls record layer KAT";
        let mut out = [0u8; 62];
        let n = p
            .seal(
                ContentType::ApplicationData,
                ProtocolVersion::DTLS1_2,
                1,
                5,
                pt,
                &mut out,
            )
            .unwrap();
        assert_eq!(n, 62);
        assert_eq!(hex::encode(out), KAT_128);

        // The same bytes from the raw crate with the nonce and AAD spelled out byte by byte.
        let nonce = hex::decode(
            "a0a1a2a3" /* salt */.to_owned() + "0001" /* epoch */ + "000000000005", /* seq */
        )
        .unwrap();
        let aad = hex::decode(
            "0001".to_owned() + "000000000005" + "17" /* type */ + "fefd" + "0019", /* 25 */
        )
        .unwrap();
        let raw = Aes128Gcm::new_from_slice(&key)
            .unwrap()
            .encrypt(
                &Nonce::<U12>::try_from(&nonce[..]).unwrap(),
                Payload { msg: pt, aad: &aad },
            )
            .unwrap();
        assert_eq!(
            out[21..],
            raw[..],
            "ciphertext ‖ tag follow header and explicit nonce"
        );

        assert_eq!(open_datagram(&p, &out).unwrap(), pt);
    }

    #[test]
    fn known_answer_aes256_gcm() {
        let key: Vec<u8> = (0x20..0x40).collect();
        let p = RecordProtection::new(AeadAlgorithm::Aes256Gcm, &key, &[0xb0, 0xb1, 0xb2, 0xb3])
            .unwrap();
        let pt = [0x14, 0, 0, 0x0c];
        let mut out = Vec::new();
        p.seal_append(
            ContentType::Handshake,
            ProtocolVersion::DTLS1_2,
            0x0203,
            0xfedc_ba98_7654,
            &pt,
            &mut out,
        )
        .unwrap();
        assert_eq!(hex::encode(&out), KAT_256);
        assert_eq!(open_datagram(&p, &out).unwrap(), pt);
    }

    #[test]
    fn tampering_with_any_byte_fails_authentication() {
        for alg in ALGS {
            let p = prot(alg);
            let d = sealed(&p, 2, 77, b"attack at dawn");
            // Every header byte except the length (changing it breaks framing, tested below),
            // every explicit nonce byte, every ciphertext byte, every tag byte.
            for i in (0..11).chain(13..d.len()) {
                for flip in [0x01u8, 0x80] {
                    let mut t = d.clone();
                    t[i] ^= flip;
                    assert_eq!(
                        open_datagram(&p, &t),
                        Err(ProtectError::Authentication),
                        "{alg:?}: byte {i} ^ {flip:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn tampering_with_length_to_drop_tag_bytes_fails() {
        let p = prot(AeadAlgorithm::Aes128Gcm);
        let d = sealed(&p, 2, 77, b"attack at dawn");
        // Claim one byte less: the record still frames, the last tag byte moves out.
        let mut t = d.clone();
        t[12] -= 1;
        let mut it = records(&t);
        let r = it.next().unwrap();
        let mut out = [0u8; 64];
        assert_eq!(p.open(&r, &mut out), Err(ProtectError::Authentication));
    }

    #[test]
    fn failed_open_writes_nothing() {
        let p = prot(AeadAlgorithm::Aes128Gcm);
        let mut d = sealed(&p, 1, 1, b"secret");
        let last = d.len() - 1;
        d[last] ^= 1;
        let r = records(&d).next().unwrap();
        let mut out = [0x55u8; 16];
        assert_eq!(p.open(&r, &mut out), Err(ProtectError::Authentication));
        assert_eq!(out, [0x55; 16]);
    }

    #[test]
    fn seal_output_too_small_is_an_error_and_writes_nothing() {
        for alg in ALGS {
            let p = prot(alg);
            let needed = 13 + 8 + 5 + 16;
            let seal_hello = |out: &mut [u8]| {
                p.seal(
                    ContentType::Alert,
                    ProtocolVersion::DTLS1_2,
                    1,
                    0,
                    b"hello",
                    out,
                )
            };
            for available in [0, 1, 13, 21, needed - 1] {
                let mut out = vec![0xcc; available];
                assert_eq!(
                    seal_hello(&mut out),
                    Err(ProtectError::OutputTooSmall { needed, available })
                );
                assert!(out.iter().all(|&b| b == 0xcc));
            }
            let mut out = vec![0xcc; needed + 3];
            assert_eq!(seal_hello(&mut out), Ok(needed));
            assert_eq!(
                out[needed..],
                [0xcc; 3],
                "bytes past the record are untouched"
            );
        }
    }

    #[test]
    fn open_output_too_small_is_an_error() {
        let p = prot(AeadAlgorithm::Aes256Gcm);
        let d = sealed(&p, 1, 9, b"twelve bytes");
        let r = records(&d).next().unwrap();
        let mut out = [0u8; 11];
        assert_eq!(
            p.open(&r, &mut out),
            Err(ProtectError::OutputTooSmall {
                needed: 12,
                available: 11
            })
        );
        let mut out = [0u8; 12];
        assert_eq!(p.open(&r, &mut out), Ok(&b"twelve bytes"[..]));
    }

    #[test]
    fn open_of_fragment_shorter_than_nonce_and_tag_errors() {
        let p = prot(AeadAlgorithm::Aes128Gcm);
        let bytes = [0u8; 24];
        for len in 0..24 {
            let r = app_record(&bytes[..len]);
            assert_eq!(
                p.open(&r, &mut [0u8; 64]),
                Err(ProtectError::RecordTooShort),
                "len {len}"
            );
        }
        // Exactly nonce + tag is an empty plaintext: it frames, and fails only on the tag.
        let r = app_record(&bytes);
        assert_eq!(p.open(&r, &mut []), Err(ProtectError::Authentication));
    }

    #[test]
    fn empty_plaintext_round_trips_into_empty_output() {
        let p = prot(AeadAlgorithm::Aes128Gcm);
        let d = sealed(&p, 1, 0, b"");
        let r = records(&d).next().unwrap();
        assert_eq!(p.open(&r, &mut []), Ok(&b""[..]));
    }

    #[test]
    fn oversize_plaintext_is_refused() {
        let p = prot(AeadAlgorithm::Aes128Gcm);
        let pt = vec![0u8; MAX_PLAINTEXT_LEN + 1];
        let mut out = vec![0u8; MAX_PLAINTEXT_LEN + 100];
        assert_eq!(
            p.seal(
                ContentType::ApplicationData,
                ProtocolVersion::DTLS1_2,
                1,
                0,
                &pt,
                &mut out
            ),
            Err(ProtectError::PlaintextTooLong)
        );
        let mut v = vec![1, 2];
        assert_eq!(
            p.seal_append(
                ContentType::ApplicationData,
                ProtocolVersion::DTLS1_2,
                1,
                0,
                &pt,
                &mut v
            ),
            Err(ProtectError::PlaintextTooLong)
        );
        assert_eq!(v, [1, 2], "seal_append leaves the vector as it was");

        // A received fragment that would decrypt to over 2^14 bytes is refused before decrypting.
        let frag = vec![0u8; 8 + MAX_PLAINTEXT_LEN + 1 + 16];
        let r = app_record(&frag);
        assert_eq!(p.open(&r, &mut out), Err(ProtectError::PlaintextTooLong));
    }

    #[test]
    fn sequence_number_past_48_bits_is_refused() {
        let p = prot(AeadAlgorithm::Aes128Gcm);
        let mut out = [0u8; 64];
        let ok = p.seal(
            ContentType::ApplicationData,
            ProtocolVersion::DTLS1_2,
            1,
            MAX_SEQUENCE_NUMBER,
            b"x",
            &mut out,
        );
        assert_eq!(ok, Ok(13 + 8 + 1 + 16));
        assert_eq!(out[13..21], [0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            p.seal(
                ContentType::ApplicationData,
                ProtocolVersion::DTLS1_2,
                1,
                MAX_SEQUENCE_NUMBER + 1,
                b"x",
                &mut out
            ),
            Err(ProtectError::SequenceNumberExhausted)
        );
        let mut v = Vec::new();
        assert_eq!(
            p.seal_append(
                ContentType::ApplicationData,
                ProtocolVersion::DTLS1_2,
                1,
                u64::MAX,
                b"x",
                &mut v
            ),
            Err(ProtectError::SequenceNumberExhausted)
        );
        assert!(v.is_empty());
    }

    #[test]
    fn seal_append_appends_after_existing_records() {
        let p = prot(AeadAlgorithm::Aes128Gcm);
        let mut d = sealed(&p, 1, 0, b"first");
        p.seal_append(
            ContentType::Handshake,
            ProtocolVersion::DTLS1_2,
            1,
            1,
            b"second",
            &mut d,
        )
        .unwrap();
        let rs: Vec<_> = records(&d).collect();
        assert_eq!(rs.len(), 2);
        let mut out = [0u8; 16];
        assert_eq!(p.open(&rs[0], &mut out).unwrap(), b"first");
        assert_eq!(p.open(&rs[1], &mut out).unwrap(), b"second");
        assert_eq!(rs[1].header.content_type, ContentType::Handshake);
    }

    #[test]
    fn debug_does_not_print_key_material() {
        let s = format!("{:?}", prot(AeadAlgorithm::Aes128Gcm));
        assert_eq!(s, "RecordProtection { alg: Aes128Gcm, .. }");
    }

    #[test]
    fn errors_explain_what_to_do() {
        let e = ProtectError::OutputTooSmall {
            needed: 50,
            available: 10,
        };
        assert_eq!(
            e.to_string(),
            "output buffer has 10 bytes but the record needs 50; pass a larger buffer"
        );
    }
}
