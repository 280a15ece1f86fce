//! ServerHello (RFC 5246 §7.4.1.3).

use super::{finish, read_session_id, DecodeError, Need, Random, Reader, Writer};
use crate::handshake::extension::Extensions;
use crate::record::ProtocolVersion;
use crate::suite::CipherSuite;

/// The ServerHello body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The negotiated version.
    pub server_version: ProtocolVersion,
    /// The server's random.
    pub random: Random,
    /// `SessionID session_id<0..32>`.
    pub session_id: Vec<u8>,
    /// The suite the server chose from the ClientHello's list.
    pub cipher_suite: CipherSuite,
    /// The compression method chosen; always null (0) with this library.
    pub compression_method: u8,
    /// The extensions block; absent on the wire when empty.
    pub extensions: Extensions,
}

impl ServerHello {
    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        w.u16(self.server_version.0);
        w.bytes(&self.random);
        w.vec_u8(&self.session_id);
        w.u16(u16::from(self.cipher_suite));
        w.u8(self.compression_method);
        self.extensions.write(&mut w);
    }

    /// Parses a whole body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let server_version = ProtocolVersion(r.u16().need("ServerHello.server_version")?);
        let random = r.take_array::<32>().need("ServerHello.random")?;
        let session_id = read_session_id(&mut r, "ServerHello.session_id")?.to_vec();
        let cipher_suite = CipherSuite::from(r.u16().need("ServerHello.cipher_suite")?);
        let compression_method = r.u8().need("ServerHello.compression_method")?;
        let extensions = Extensions::read(&mut r)?;
        finish(&r, "ServerHello")?;
        Ok(Self {
            server_version,
            random,
            session_id,
            cipher_suite,
            compression_method,
            extensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::extension::{Extension, ExtensionType};

    /// The ServerHello body OpenSSL 3 `s_server -dtls1_2` sent in hotplace-dtls12
    /// `dtls12mtu1500.pcapng` (testvector_pcap_dtls12.yml).
    const OPENSSL_SERVER_HELLO: &str = "\
        fefdc46ff0c6f8f20e8f160531f285b01afb36aea5f01b2b9bde69aa0899844561b0\
        00\
        c027\
        00\
        0019ff01000100000b000403000102002300000016000000170000";

    #[test]
    fn decodes_and_re_encodes_openssl_server_hello() {
        let body = hex::decode(OPENSSL_SERVER_HELLO).unwrap();
        assert_eq!(body.len(), 0x41);
        let sh = ServerHello::decode(&body).unwrap();
        assert_eq!(sh.server_version, ProtocolVersion::DTLS1_2);
        assert_eq!(
            hex::encode(sh.random),
            "c46ff0c6f8f20e8f160531f285b01afb36aea5f01b2b9bde69aa0899844561b0"
        );
        assert!(sh.session_id.is_empty());
        // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, a suite we do not implement.
        assert_eq!(sh.cipher_suite, CipherSuite::Unknown(0xc027));
        assert_eq!(sh.compression_method, 0);
        assert_eq!(
            sh.extensions.0,
            vec![
                Extension::RenegotiationInfo(vec![]),
                Extension::EcPointFormats(vec![0, 1, 2]),
                Extension::Unknown {
                    extension_type: ExtensionType::SessionTicket,
                    data: vec![]
                },
                Extension::Unknown {
                    extension_type: ExtensionType::EncryptThenMac,
                    data: vec![]
                },
                Extension::ExtendedMasterSecret,
            ]
        );
        let mut out = Vec::new();
        sh.encode(&mut out);
        assert_eq!(hex::encode(out), hex::encode(&body));
    }

    #[test]
    fn constructed_round_trips_with_and_without_extensions() {
        let mut sh = ServerHello {
            server_version: ProtocolVersion::DTLS1_2,
            random: [0x11; 32],
            session_id: vec![0x22; 32],
            cipher_suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            compression_method: 0,
            extensions: Extensions::new(),
        };
        let mut out = Vec::new();
        sh.encode(&mut out);
        assert_eq!(
            out.len(),
            2 + 32 + 1 + 32 + 2 + 1,
            "no extensions block at all"
        );
        assert_eq!(out[out.len() - 3..], [0xc0, 0x2b, 0x00]);
        assert_eq!(ServerHello::decode(&out), Ok(sh.clone()));

        sh.extensions.push(Extension::RenegotiationInfo(vec![]));
        sh.extensions.push(Extension::ExtendedMasterSecret);
        sh.extensions.push(Extension::EcPointFormats(vec![0]));
        sh.extensions.push(Extension::ServerName(String::new()));
        let mut out = Vec::new();
        sh.encode(&mut out);
        assert_eq!(
            hex::encode(&out[2 + 32 + 1 + 32 + 2 + 1..]),
            "0013ff0100010000170000000b0002010000000000"
        );
        assert_eq!(ServerHello::decode(&out), Ok(sh));
    }

    #[test]
    fn malformed_is_rejected() {
        let body = hex::decode(OPENSSL_SERVER_HELLO).unwrap();
        for cut in 0..body.len() {
            // Cutting right after compression_method (byte 38) leaves a valid hello without
            // extensions; every other cut is an error.
            assert_eq!(
                ServerHello::decode(&body[..cut]).is_ok(),
                cut == 38,
                "cut {cut}"
            );
        }
        let mut bad = body.clone();
        bad[34] = 33;
        assert_eq!(
            ServerHello::decode(&bad),
            Err(DecodeError::Truncated {
                what: "ServerHello.session_id"
            })
        );
        let mut bad = body;
        bad.push(0);
        assert_eq!(
            ServerHello::decode(&bad),
            Err(DecodeError::TrailingBytes {
                what: "ServerHello"
            })
        );
        let mut sid33 = hex::decode("fefd").unwrap();
        sid33.extend([0; 32]);
        sid33.push(33);
        sid33.extend([0; 33]);
        sid33.extend([0xc0, 0x2b, 0]);
        assert_eq!(
            ServerHello::decode(&sid33),
            Err(DecodeError::InvalidLength {
                what: "ServerHello.session_id"
            })
        );
    }
}
