//! Certificate (RFC 5246 §7.4.2 and §7.4.6).

use super::{finish, DecodeError, Need, Reader, Writer};

/// The Certificate body: the sender's chain, leaf first, each entry DER.
///
/// An empty list is valid: it is how a client without a certificate answers a
/// CertificateRequest (RFC 5246 §7.4.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Certificate {
    /// `ASN.1Cert certificate_list<0..2^24-1>`, each `opaque ASN.1Cert<1..2^24-1>`.
    pub certificate_list: Vec<Vec<u8>>,
}

impl Certificate {
    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        let list = w.begin_vec(3);
        for cert in &self.certificate_list {
            w.vec_u24(cert);
        }
        w.end_vec(list);
    }

    /// Parses a whole body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let mut list = r.sub_u24().need("Certificate.certificate_list")?;
        finish(&r, "Certificate")?;
        let mut certificate_list = Vec::new();
        while !list.is_empty() {
            let cert = list.vec_u24().need("Certificate.ASN.1Cert")?;
            if cert.is_empty() {
                return Err(DecodeError::InvalidLength {
                    what: "Certificate.ASN.1Cert",
                });
            }
            certificate_list.push(cert.to_vec());
        }
        Ok(Self { certificate_list })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(c: &Certificate) -> Vec<u8> {
        let mut out = Vec::new();
        c.encode(&mut out);
        out
    }

    #[test]
    fn empty_list_is_three_zero_bytes() {
        let empty = Certificate::default();
        assert_eq!(encoded(&empty), [0, 0, 0]);
        assert_eq!(Certificate::decode(&[0, 0, 0]), Ok(empty));
    }

    #[test]
    fn chain_round_trips_through_exact_bytes() {
        let chain = Certificate {
            certificate_list: vec![vec![0x30, 0x03, 1, 2, 3], vec![0x30, 0x00]],
        };
        let wire = encoded(&chain);
        assert_eq!(hex::encode(&wire), "00000d00000530030102030000023000");
        assert_eq!(Certificate::decode(&wire), Ok(chain));
    }

    #[test]
    fn malformed_is_rejected() {
        let cases: &[(&str, DecodeError)] = &[
            (
                "00000300000000",
                DecodeError::TrailingBytes {
                    what: "Certificate",
                },
            ),
            (
                "000003000000",
                DecodeError::InvalidLength {
                    what: "Certificate.ASN.1Cert",
                },
            ),
            // The entry claims 5 bytes but the list holds 4 after its length.
            (
                "00000700000530030102",
                DecodeError::Truncated {
                    what: "Certificate.ASN.1Cert",
                },
            ),
            // The list claims more than the body holds.
            (
                "0000090000053003010203",
                DecodeError::Truncated {
                    what: "Certificate.certificate_list",
                },
            ),
            (
                "0000",
                DecodeError::Truncated {
                    what: "Certificate.certificate_list",
                },
            ),
        ];
        for (wire, want) in cases {
            assert_eq!(
                Certificate::decode(&hex::decode(wire).unwrap()),
                Err(*want),
                "{wire}"
            );
        }
    }
}
