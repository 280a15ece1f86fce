//! ServerKeyExchange for ECDHE (RFC 8422 §5.4; the signature is RFC 5246 §4.7 `digitally-signed`).

use super::{check_len, finish, DecodeError, DigitallySigned, Need, Reader, Writer};
use crate::suite::NamedGroup;

/// `ECCurveType` named_curve (RFC 8422 §5.4), the only curve type RFC 8422 still allows.
pub const EC_CURVE_TYPE_NAMED_CURVE: u8 = 3;

/// The ServerKeyExchange body of an ECDHE key exchange: the server's ephemeral public key and
/// its signature over `client_random ‖ server_random ‖ params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchange {
    /// The curve and the server's ephemeral public key.
    pub params: ServerEcdhParams,
    /// The signature over `client_random ‖ server_random ‖ params`.
    pub signature: DigitallySigned,
}

/// `ServerECDHParams`: a named curve and the server's ephemeral public point (RFC 8422 §5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEcdhParams {
    /// `ECParameters.namedcurve`; unknown groups decode as `NamedGroup::Unknown(..)`.
    pub named_group: NamedGroup,
    /// `opaque point<1..2^8-1>`, in the group's encoding (uncompressed SEC1 for the NIST curves,
    /// 32 raw bytes for X25519).
    pub public_key: Vec<u8>,
}

impl ServerEcdhParams {
    /// Appends `curve_type(3) ‖ named_group ‖ point<1..2^8-1>`: exactly the bytes the server
    /// signs after the two randoms.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.write(&mut Writer::new(out));
    }

    /// Parses params that fill `bytes` exactly.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let params = Self::read(&mut r)?;
        finish(&r, "ServerECDHParams")?;
        Ok(params)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let curve_type = r.u8().need("ECParameters.curve_type")?;
        if curve_type != EC_CURVE_TYPE_NAMED_CURVE {
            return Err(DecodeError::UnsupportedCurveType(curve_type));
        }
        let named_group = NamedGroup::from(r.u16().need("ECParameters.namedcurve")?);
        let public_key = r.vec_u8().need("ServerECDHParams.public")?;
        check_len(public_key.len(), 1, 255, "ServerECDHParams.public")?;
        Ok(Self {
            named_group,
            public_key: public_key.to_vec(),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) {
        w.u8(EC_CURVE_TYPE_NAMED_CURVE);
        w.u16(u16::from(self.named_group));
        w.vec_u8(&self.public_key);
    }
}

impl ServerKeyExchange {
    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        self.params.write(&mut w);
        self.signature.write(&mut w);
    }

    /// Parses a whole body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let params = ServerEcdhParams::read(&mut r)?;
        let signature = DigitallySigned::read(&mut r)?;
        finish(&r, "ServerKeyExchange")?;
        Ok(Self { params, signature })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::SignatureScheme;

    /// The ServerKeyExchange body (ECDHE_RSA, X25519, rsa_pss_rsae_sha256) OpenSSL 3
    /// `s_server -dtls1_2` sent in hotplace-dtls12 `dtls12mtu1500.pcapng`.
    const OPENSSL_RSA_SERVER_KEY_EXCHANGE: &str = "\
        03001d20\
        a87e6106633a420ac7294419578bdea2e98304c975a8ab44471fcec166d31a1b\
        08040100\
        91ab4ce4971f9076858d7f0b5664459cd0ec2cfe41109176a769818c569a448f5540b22b6064c0634097535f\
        38c1f5b468a66c1a4c23e3df64dc1877d4061ddcab972cd161e34d17195b2f770bec1c68bd544d60d3da1b10\
        76dcad994cff409914aade37c6ef2a90f75aef3db6996370e4e4d86ff96a1f5f13280eb5ab8bd62668491521\
        2bfbbf531953d43617563e57b4a8d9db993f0d8df81c3eaf322345734911d65cfabfb3af1d8c052a6cbb74c0\
        eaadbba1e15ce92350b62937828d88b436aa5cf682ab90a730e1ce92022f0d5c77f1b535fb48f273abe5000d\
        f1ce707a04bc18797c6508cae5f3a06c9e611c9964840f19c9c5e3dc68ba1c29696046be";

    fn encoded(ske: &ServerKeyExchange) -> Vec<u8> {
        let mut out = Vec::new();
        ske.encode(&mut out);
        out
    }

    #[test]
    fn decodes_and_re_encodes_openssl_rsa_server_key_exchange() {
        let body = hex::decode(OPENSSL_RSA_SERVER_KEY_EXCHANGE).unwrap();
        assert_eq!(body.len(), 296);
        let ske = ServerKeyExchange::decode(&body).unwrap();
        assert_eq!(ske.params.named_group, NamedGroup::X25519);
        assert_eq!(
            hex::encode(&ske.params.public_key),
            "a87e6106633a420ac7294419578bdea2e98304c975a8ab44471fcec166d31a1b"
        );
        assert_eq!(ske.signature.scheme, SignatureScheme::RsaPssRsaeSha256);
        assert_eq!(ske.signature.signature.len(), 256);
        assert_eq!(ske.signature.signature[..4], [0x91, 0xab, 0x4c, 0xe4]);
        assert_eq!(hex::encode(encoded(&ske)), hex::encode(&body));
        // The signed params are the first 36 bytes of the body.
        let mut params = Vec::new();
        ske.params.encode(&mut params);
        assert_eq!(params, body[..36]);
        assert_eq!(ServerEcdhParams::decode(&params), Ok(ske.params));
    }

    #[test]
    fn ecdsa_p256_round_trips_through_exact_bytes() {
        let mut point = vec![4];
        point.extend([0x11; 32]);
        point.extend([0x22; 32]);
        let ske = ServerKeyExchange {
            params: ServerEcdhParams {
                named_group: NamedGroup::Secp256r1,
                public_key: point,
            },
            signature: DigitallySigned {
                scheme: SignatureScheme::EcdsaSecp256r1Sha256,
                signature: vec![0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07],
            },
        };
        let wire = encoded(&ske);
        let mut want = hex::decode("03001741").unwrap();
        want.push(4);
        want.extend([0x11; 32]);
        want.extend([0x22; 32]);
        want.extend(hex::decode("040300083006020105020107").unwrap());
        assert_eq!(wire, want);
        assert_eq!(ServerKeyExchange::decode(&wire), Ok(ske));
    }

    #[test]
    fn explicit_curves_are_unsupported() {
        let mut body = hex::decode(OPENSSL_RSA_SERVER_KEY_EXCHANGE).unwrap();
        for curve_type in [1u8, 2, 0, 255] {
            body[0] = curve_type;
            assert_eq!(
                ServerKeyExchange::decode(&body),
                Err(DecodeError::UnsupportedCurveType(curve_type))
            );
            assert_eq!(
                ServerEcdhParams::decode(&body[..36]),
                Err(DecodeError::UnsupportedCurveType(curve_type))
            );
        }
    }

    #[test]
    fn malformed_is_rejected() {
        let body = hex::decode(OPENSSL_RSA_SERVER_KEY_EXCHANGE).unwrap();
        for cut in 0..body.len() {
            assert!(
                ServerKeyExchange::decode(&body[..cut]).is_err(),
                "cut {cut}"
            );
        }
        let mut trailing = body.clone();
        trailing.push(0);
        assert_eq!(
            ServerKeyExchange::decode(&trailing),
            Err(DecodeError::TrailingBytes {
                what: "ServerKeyExchange"
            })
        );
        assert_eq!(
            ServerKeyExchange::decode(&hex::decode("0300170004030000").unwrap()),
            Err(DecodeError::InvalidLength {
                what: "ServerECDHParams.public"
            })
        );
        assert_eq!(
            ServerKeyExchange::decode(&hex::decode("03001d0501020304").unwrap()),
            Err(DecodeError::Truncated {
                what: "ServerECDHParams.public"
            })
        );
        assert_eq!(
            ServerKeyExchange::decode(&hex::decode("03001d01aa0403").unwrap()),
            Err(DecodeError::Truncated {
                what: "DigitallySigned.signature"
            })
        );
    }
}
