//! CertificateVerify (RFC 5246 §7.4.8).

use super::{finish, DecodeError, DigitallySigned, Reader, Writer};

/// The CertificateVerify body: the client's signature over the handshake messages so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateVerify {
    /// The signature and the scheme that made it.
    pub signature: DigitallySigned,
}

impl CertificateVerify {
    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.signature.write(&mut Writer::new(out));
    }

    /// Parses a whole body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let signature = DigitallySigned::read(&mut r)?;
        finish(&r, "CertificateVerify")?;
        Ok(Self { signature })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::SignatureScheme;

    #[test]
    fn round_trips_through_exact_bytes() {
        let cv = CertificateVerify {
            signature: DigitallySigned {
                scheme: SignatureScheme::EcdsaSecp256r1Sha256,
                signature: vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02],
            },
        };
        let mut out = Vec::new();
        cv.encode(&mut out);
        assert_eq!(hex::encode(&out), "040300083006020101020102");
        assert_eq!(CertificateVerify::decode(&out), Ok(cv));
    }

    #[test]
    fn malformed_is_rejected() {
        assert_eq!(
            CertificateVerify::decode(&hex::decode("0403000830060201010201").unwrap()),
            Err(DecodeError::Truncated {
                what: "DigitallySigned.signature"
            })
        );
        assert_eq!(
            CertificateVerify::decode(&hex::decode("04030000ff").unwrap()),
            Err(DecodeError::TrailingBytes {
                what: "CertificateVerify"
            })
        );
    }
}
