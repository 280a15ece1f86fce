//! CertificateRequest (RFC 5246 §7.4.4; RFC 8422 §5.5 for ecdsa_sign).

use super::{check_len, finish, read_u16_list, write_u16_list, DecodeError, Need, Reader, Writer};
use crate::codec::wire_enum;
use crate::suite::SignatureScheme;

wire_enum! {
    /// `ClientCertificateType`: the kinds of client certificate the server accepts.
    pub enum ClientCertificateType: u8 {
        RsaSign = 1,
        EcdsaSign = 64,
    }
}

/// The CertificateRequest body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    /// `ClientCertificateType certificate_types<1..2^8-1>`.
    pub certificate_types: Vec<ClientCertificateType>,
    /// `SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>`.
    pub supported_signature_algorithms: Vec<SignatureScheme>,
    /// `DistinguishedName certificate_authorities<0..2^16-1>`, each a DER-encoded X.501
    /// `DistinguishedName<1..2^16-1>`; empty means any CA.
    pub certificate_authorities: Vec<Vec<u8>>,
}

impl CertificateRequest {
    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        let types = w.begin_vec(1);
        for &t in &self.certificate_types {
            w.u8(u8::from(t));
        }
        w.end_vec(types);
        write_u16_list(&mut w, &self.supported_signature_algorithms);
        let cas = w.begin_vec(2);
        for dn in &self.certificate_authorities {
            w.vec_u16(dn);
        }
        w.end_vec(cas);
    }

    /// Parses a whole body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let types = r.vec_u8().need("CertificateRequest.certificate_types")?;
        check_len(types.len(), 1, 255, "CertificateRequest.certificate_types")?;
        let certificate_types = types
            .iter()
            .map(|&t| ClientCertificateType::from(t))
            .collect();
        let supported_signature_algorithms = read_u16_list(
            &mut r,
            2,
            "CertificateRequest.supported_signature_algorithms",
        )?;
        let mut cas = r
            .sub_u16()
            .need("CertificateRequest.certificate_authorities")?;
        let mut certificate_authorities = Vec::new();
        while !cas.is_empty() {
            let dn = cas.vec_u16().need("CertificateRequest.DistinguishedName")?;
            check_len(
                dn.len(),
                1,
                usize::MAX,
                "CertificateRequest.DistinguishedName",
            )?;
            certificate_authorities.push(dn.to_vec());
        }
        finish(&r, "CertificateRequest")?;
        Ok(Self {
            certificate_types,
            supported_signature_algorithms,
            certificate_authorities,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(cr: &CertificateRequest) -> Vec<u8> {
        let mut out = Vec::new();
        cr.encode(&mut out);
        out
    }

    #[test]
    fn round_trips_through_exact_bytes() {
        let cr = CertificateRequest {
            certificate_types: vec![
                ClientCertificateType::RsaSign,
                ClientCertificateType::EcdsaSign,
            ],
            supported_signature_algorithms: vec![
                SignatureScheme::EcdsaSecp256r1Sha256,
                SignatureScheme::RsaPssRsaeSha256,
            ],
            certificate_authorities: vec![],
        };
        let wire = encoded(&cr);
        assert_eq!(hex::encode(&wire), "0201400004040308040000");
        assert_eq!(CertificateRequest::decode(&wire), Ok(cr));

        let cr = CertificateRequest {
            certificate_types: vec![ClientCertificateType::Unknown(2)],
            supported_signature_algorithms: vec![SignatureScheme::Unknown(0x0203)],
            certificate_authorities: vec![vec![0x30, 0x00], vec![0x30, 0x01, 0x05]],
        };
        let wire = encoded(&cr);
        assert_eq!(hex::encode(&wire), "0102000202030009000230000003300105");
        assert_eq!(CertificateRequest::decode(&wire), Ok(cr));
    }

    #[test]
    fn malformed_is_rejected() {
        let cases: &[(&str, DecodeError)] = &[
            (
                "00000204030000",
                DecodeError::InvalidLength {
                    what: "CertificateRequest.certificate_types",
                },
            ),
            (
                "014000000000",
                DecodeError::InvalidLength {
                    what: "CertificateRequest.supported_signature_algorithms",
                },
            ),
            (
                "0140000304030000",
                DecodeError::InvalidLength {
                    what: "CertificateRequest.supported_signature_algorithms",
                },
            ),
            (
                "01400002040300020000",
                DecodeError::InvalidLength {
                    what: "CertificateRequest.DistinguishedName",
                },
            ),
            (
                "0140000204030003000230",
                DecodeError::Truncated {
                    what: "CertificateRequest.DistinguishedName",
                },
            ),
            (
                "014000020403000100",
                DecodeError::Truncated {
                    what: "CertificateRequest.DistinguishedName",
                },
            ),
            (
                "0140000204030000ff",
                DecodeError::TrailingBytes {
                    what: "CertificateRequest",
                },
            ),
            (
                "01400002040300",
                DecodeError::Truncated {
                    what: "CertificateRequest.certificate_authorities",
                },
            ),
        ];
        for (wire, want) in cases {
            assert_eq!(
                CertificateRequest::decode(&hex::decode(wire).unwrap()),
                Err(*want),
                "{wire}"
            );
        }
    }
}
