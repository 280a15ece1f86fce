//! ClientKeyExchange for ECDHE (RFC 8422 §5.7).

use super::{check_len, finish, DecodeError, Need, Reader, Writer};

/// The ClientKeyExchange body of an ECDHE key exchange: `ClientECDiffieHellmanPublic` with the
/// explicit encoding, i.e. the client's ephemeral public point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKeyExchange {
    /// `opaque point<1..2^8-1>`, in the encoding of the group the server chose.
    pub public_key: Vec<u8>,
}

impl ClientKeyExchange {
    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        Writer::new(out).vec_u8(&self.public_key);
    }

    /// Parses a whole body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let point = r.vec_u8().need("ClientECDiffieHellmanPublic.ecdh_Yc")?;
        check_len(point.len(), 1, 255, "ClientECDiffieHellmanPublic.ecdh_Yc")?;
        finish(&r, "ClientKeyExchange")?;
        Ok(Self {
            public_key: point.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ClientKeyExchange body (an X25519 key) OpenSSL 3 `s_client -dtls1_2` sent in
    /// hotplace-dtls12 `dtls12mtu1500.pcapng`.
    const OPENSSL_CLIENT_KEY_EXCHANGE: &str =
        "20b76b262b2ac4b6a40530de2d618d6fcc0a8a3fca9898ec0b499048cefbf8b165";

    #[test]
    fn decodes_and_re_encodes_openssl_client_key_exchange() {
        let body = hex::decode(OPENSSL_CLIENT_KEY_EXCHANGE).unwrap();
        let cke = ClientKeyExchange::decode(&body).unwrap();
        assert_eq!(cke.public_key.len(), 32);
        assert_eq!(cke.public_key[..], body[1..]);
        let mut out = Vec::new();
        cke.encode(&mut out);
        assert_eq!(out, body);
    }

    #[test]
    fn p256_point_round_trips() {
        let mut point = vec![4];
        point.extend(1..=64u8);
        let cke = ClientKeyExchange { public_key: point };
        let mut out = Vec::new();
        cke.encode(&mut out);
        assert_eq!(out[..2], [65, 4]);
        assert_eq!(out.len(), 66);
        assert_eq!(ClientKeyExchange::decode(&out), Ok(cke));
    }

    #[test]
    fn malformed_is_rejected() {
        assert_eq!(
            ClientKeyExchange::decode(&[0]),
            Err(DecodeError::InvalidLength {
                what: "ClientECDiffieHellmanPublic.ecdh_Yc"
            })
        );
        assert_eq!(
            ClientKeyExchange::decode(&[]),
            Err(DecodeError::Truncated {
                what: "ClientECDiffieHellmanPublic.ecdh_Yc"
            })
        );
        assert_eq!(
            ClientKeyExchange::decode(&[2, 1]),
            Err(DecodeError::Truncated {
                what: "ClientECDiffieHellmanPublic.ecdh_Yc"
            })
        );
        assert_eq!(
            ClientKeyExchange::decode(&[1, 1, 1]),
            Err(DecodeError::TrailingBytes {
                what: "ClientKeyExchange"
            })
        );
    }
}
