//! `digitally-signed` structs in TLS 1.2 (RFC 5246 §4.7 and §7.4.1.4.1).

use super::{finish, DecodeError, Need, Reader, Writer};
use crate::suite::SignatureScheme;

/// A signature with the algorithm that made it: `SignatureAndHashAlgorithm algorithm;
/// opaque signature<0..2^16-1>`.
///
/// Decoding accepts any scheme, known or not; which ones are acceptable is for the verifier
/// to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitallySigned {
    /// `SignatureAndHashAlgorithm algorithm`, which TLS 1.3 names SignatureScheme.
    pub scheme: SignatureScheme,
    /// `opaque signature<0..2^16-1>`; for ECDSA a DER `Ecdsa-Sig-Value` (RFC 8422 §5.4).
    pub signature: Vec<u8>,
}

impl DigitallySigned {
    /// Appends the struct.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.write(&mut Writer::new(out));
    }

    /// Parses a struct that fills `bytes` exactly.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let signed = Self::read(&mut r)?;
        finish(&r, "DigitallySigned")?;
        Ok(signed)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let scheme = SignatureScheme::from(r.u16().need("DigitallySigned.algorithm")?);
        let signature = r.vec_u16().need("DigitallySigned.signature")?.to_vec();
        Ok(Self { scheme, signature })
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) {
        w.u16(u16::from(self.scheme));
        w.vec_u16(&self.signature);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_exact_bytes() {
        for (signed, wire) in [
            (
                DigitallySigned {
                    scheme: SignatureScheme::EcdsaSecp256r1Sha256,
                    signature: vec![0x30, 0x06, 2, 1, 1, 2, 1, 2],
                },
                "040300083006020101020102".to_owned(),
            ),
            (
                DigitallySigned {
                    scheme: SignatureScheme::Unknown(0x0101),
                    signature: vec![],
                },
                "01010000".to_owned(),
            ),
        ] {
            let mut out = Vec::new();
            signed.encode(&mut out);
            assert_eq!(hex::encode(&out), wire);
            assert_eq!(DigitallySigned::decode(&out), Ok(signed));
        }
    }

    #[test]
    fn malformed_is_rejected() {
        assert_eq!(
            DigitallySigned::decode(&[4, 3, 0, 2, 0xaa]),
            Err(DecodeError::Truncated {
                what: "DigitallySigned.signature"
            })
        );
        assert_eq!(
            DigitallySigned::decode(&[4, 3, 0, 0, 0xaa]),
            Err(DecodeError::TrailingBytes {
                what: "DigitallySigned"
            })
        );
        assert_eq!(
            DigitallySigned::decode(&[4]),
            Err(DecodeError::Truncated {
                what: "DigitallySigned.algorithm"
            })
        );
    }
}
