//! HelloVerifyRequest (RFC 6347 §4.2.1).

use super::{finish, DecodeError, Need, Reader, Writer};
use crate::record::ProtocolVersion;

/// The server's stateless cookie challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloVerifyRequest {
    /// RFC 6347 §4.2.1: a DTLS 1.2 server SHOULD send DTLS 1.0 (`0xfeff`) here, since the
    /// version is not yet negotiated.
    pub server_version: ProtocolVersion,
    /// `opaque cookie<0..2^8-1>`.
    pub cookie: Vec<u8>,
}

impl HelloVerifyRequest {
    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        w.u16(self.server_version.0);
        w.vec_u8(&self.cookie);
    }

    /// Parses a whole body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let server_version = ProtocolVersion(r.u16().need("HelloVerifyRequest.server_version")?);
        let cookie = r.vec_u8().need("HelloVerifyRequest.cookie")?.to_vec();
        finish(&r, "HelloVerifyRequest")?;
        Ok(Self {
            server_version,
            cookie,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The HelloVerifyRequest body OpenSSL 3 `s_server -dtls1_2` sent in hotplace-dtls12
    /// `dtls12mtu1500.pcapng` (testvector_pcap_dtls12.yml).
    const OPENSSL_HELLO_VERIFY_REQUEST: &str = "feff14b52e2656f9713d40974c59ece489b32f573757ce";

    #[test]
    fn decodes_and_re_encodes_openssl_hello_verify_request() {
        let body = hex::decode(OPENSSL_HELLO_VERIFY_REQUEST).unwrap();
        let hvr = HelloVerifyRequest::decode(&body).unwrap();
        assert_eq!(hvr.server_version, ProtocolVersion::DTLS1_0);
        assert_eq!(
            hex::encode(&hvr.cookie),
            "b52e2656f9713d40974c59ece489b32f573757ce"
        );
        // The same cookie the second ClientHello echoes.
        let ch = super::super::ClientHello::decode(
            &hex::decode(super::super::client_hello::tests::OPENSSL_CLIENT_HELLO).unwrap(),
        )
        .unwrap();
        assert_eq!(ch.cookie, hvr.cookie);
        let mut out = Vec::new();
        hvr.encode(&mut out);
        assert_eq!(out, body);
    }

    #[test]
    fn constructed_round_trips() {
        for cookie in [vec![], vec![0xab; 32], vec![0x5a; 255]] {
            let hvr = HelloVerifyRequest {
                server_version: ProtocolVersion::DTLS1_0,
                cookie,
            };
            let mut out = Vec::new();
            hvr.encode(&mut out);
            assert_eq!(out[..3], [0xfe, 0xff, hvr.cookie.len() as u8]);
            assert_eq!(out.len(), 3 + hvr.cookie.len());
            assert_eq!(HelloVerifyRequest::decode(&out), Ok(hvr));
        }
    }

    #[test]
    fn malformed_is_rejected() {
        assert_eq!(
            HelloVerifyRequest::decode(&hex::decode("feff05aabbcc").unwrap()),
            Err(DecodeError::Truncated {
                what: "HelloVerifyRequest.cookie"
            })
        );
        assert_eq!(
            HelloVerifyRequest::decode(&hex::decode("feff01aabb").unwrap()),
            Err(DecodeError::TrailingBytes {
                what: "HelloVerifyRequest"
            })
        );
        assert_eq!(
            HelloVerifyRequest::decode(&[0xfe]),
            Err(DecodeError::Truncated {
                what: "HelloVerifyRequest.server_version"
            })
        );
    }
}
