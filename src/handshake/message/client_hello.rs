//! ClientHello (RFC 6347 §4.2.1 and §4.3.2, RFC 5246 §7.4.1.2).

use super::{check_len, finish, read_session_id, read_u16_list, write_u16_list, DecodeError, Need};
use super::{Random, Reader, Writer};
use crate::handshake::extension::Extensions;
use crate::record::ProtocolVersion;
use crate::suite::CipherSuite;

/// The ClientHello body. DTLS adds the `cookie` after `session_id` (RFC 6347 §4.2.1).
///
/// ```
/// use puredtls::handshake::extension::{Extension, Extensions};
/// use puredtls::handshake::message::ClientHello;
/// use puredtls::record::ProtocolVersion;
/// use puredtls::suite::{CipherSuite, NamedGroup};
///
/// let mut extensions = Extensions::new();
/// extensions.push(Extension::SupportedGroups(vec![NamedGroup::Secp256r1]));
/// extensions.push(Extension::ExtendedMasterSecret);
/// let hello = ClientHello {
///     client_version: ProtocolVersion::DTLS1_2,
///     random: [7; 32],
///     session_id: vec![],
///     cookie: vec![1, 2, 3],
///     cipher_suites: vec![CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256],
///     compression_methods: vec![0],
///     extensions,
/// };
/// let mut body = Vec::new();
/// hello.encode(&mut body);
///
/// // A stateless server reads the cookie from the first bytes alone.
/// let prefix = ClientHello::decode_prefix(&body[..40]).unwrap();
/// assert_eq!(prefix.cookie, [1, 2, 3]);
///
/// let decoded = ClientHello::decode(&body).unwrap();
/// assert!(decoded.extensions.has_extended_master_secret());
/// assert_eq!(decoded, hello);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// The highest version the client supports (DTLS 1.2 is `0xfefd`).
    pub client_version: ProtocolVersion,
    /// The client's random, the same in both ClientHellos of a cookie exchange.
    pub random: Random,
    /// `SessionID session_id<0..32>`.
    pub session_id: Vec<u8>,
    /// `opaque cookie<0..2^8-1>`: empty in the first ClientHello, echoed from the
    /// HelloVerifyRequest in the second.
    pub cookie: Vec<u8>,
    /// `CipherSuite cipher_suites<2..2^16-2>`, in the client's order of preference; suites this
    /// library does not know are `CipherSuite::Unknown(..)`.
    pub cipher_suites: Vec<CipherSuite>,
    /// `CompressionMethod compression_methods<1..2^8-1>`; 0 is null.
    pub compression_methods: Vec<u8>,
    /// The extensions block; absent on the wire when empty.
    pub extensions: Extensions,
}

/// The start of a ClientHello, through the cookie, borrowed from the message's first fragment.
///
/// A stateless server can check the cookie from the first fragment alone, before it buffers
/// anything for the peer (RFC 6347 §4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHelloPrefix<'a> {
    /// As [`ClientHello::client_version`].
    pub client_version: ProtocolVersion,
    /// As [`ClientHello::random`].
    pub random: &'a [u8; 32],
    /// As [`ClientHello::session_id`], at most 32 bytes.
    pub session_id: &'a [u8],
    /// As [`ClientHello::cookie`].
    pub cookie: &'a [u8],
}

impl ClientHello {
    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        w.u16(self.client_version.0);
        w.bytes(&self.random);
        w.vec_u8(&self.session_id);
        w.vec_u8(&self.cookie);
        write_u16_list(&mut w, &self.cipher_suites);
        w.vec_u8(&self.compression_methods);
        self.extensions.write(&mut w);
    }

    /// Parses a whole body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let prefix = read_prefix(&mut r)?;
        let cipher_suites = read_u16_list(&mut r, 2, "ClientHello.cipher_suites")?;
        let compression_methods = r.vec_u8().need("ClientHello.compression_methods")?;
        check_len(
            compression_methods.len(),
            1,
            255,
            "ClientHello.compression_methods",
        )?;
        let extensions = Extensions::read(&mut r)?;
        finish(&r, "ClientHello")?;
        Ok(Self {
            client_version: prefix.client_version,
            random: *prefix.random,
            session_id: prefix.session_id.to_vec(),
            cookie: prefix.cookie.to_vec(),
            cipher_suites,
            compression_methods: compression_methods.to_vec(),
            extensions,
        })
    }

    /// Parses only the fields up to and including the cookie, from a possibly partial body
    /// (the first fragment). Bytes after the cookie are ignored.
    pub fn decode_prefix(partial_body: &[u8]) -> Result<ClientHelloPrefix<'_>, DecodeError> {
        read_prefix(&mut Reader::new(partial_body))
    }
}

fn read_prefix<'a>(r: &mut Reader<'a>) -> Result<ClientHelloPrefix<'a>, DecodeError> {
    let client_version = ProtocolVersion(r.u16().need("ClientHello.client_version")?);
    let random = r
        .take(32)
        .and_then(|b| <&[u8; 32]>::try_from(b).ok())
        .need("ClientHello.random")?;
    let session_id = read_session_id(r, "ClientHello.session_id")?;
    let cookie = r.vec_u8().need("ClientHello.cookie")?;
    Ok(ClientHelloPrefix {
        client_version,
        random,
        session_id,
        cookie,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::handshake::extension::{Extension, ExtensionType};
    use crate::suite::{NamedGroup, SignatureScheme};

    /// The second ClientHello body (with the cookie) that OpenSSL 3 `s_client -dtls1_2` sent in
    /// hotplace-dtls12 `dtls12mtu1500.pcapng` (testvector_pcap_dtls12.yml), without its 13-byte
    /// record header and 12-byte handshake header.
    pub(crate) const OPENSSL_CLIENT_HELLO: &str = "\
        fefd72d43426a55aa0095ff3ac7c6990fec0008dad754d097cf70458cb9e49b28927\
        00\
        14b52e2656f9713d40974c59ece489b32f573757ce\
        0036c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac014\
        0039c009c0130033009d009c003d003c0035002f\
        0100\
        005d\
        ff01000100\
        000b000403000102\
        000a000c000a001d0017001e00190018\
        00230000\
        00160000\
        00170000\
        000d0030002e04030503060308070808081a081b081c0809080a080b0804080508060401\
        05010601030303010302040205020602";

    /// Offset of the extensions block in [`OPENSSL_CLIENT_HELLO`].
    const EXTENSIONS_AT: usize = 2 + 32 + 1 + 21 + 2 + 0x36 + 2;

    fn body() -> Vec<u8> {
        hex::decode(OPENSSL_CLIENT_HELLO).unwrap()
    }

    fn minimal() -> ClientHello {
        ClientHello {
            client_version: ProtocolVersion::DTLS1_2,
            random: [7; 32],
            session_id: vec![],
            cookie: vec![],
            cipher_suites: vec![CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256],
            compression_methods: vec![0],
            extensions: Extensions::new(),
        }
    }

    fn encoded(ch: &ClientHello) -> Vec<u8> {
        let mut out = Vec::new();
        ch.encode(&mut out);
        out
    }

    #[test]
    fn decodes_openssl_client_hello() {
        let body = body();
        assert_eq!(body.len(), 0xd1, "the handshake header says 209 bytes");
        let ch = ClientHello::decode(&body).unwrap();
        assert_eq!(ch.client_version, ProtocolVersion::DTLS1_2);
        assert_eq!(
            hex::encode(ch.random),
            "72d43426a55aa0095ff3ac7c6990fec0008dad754d097cf70458cb9e49b28927"
        );
        assert!(ch.session_id.is_empty());
        assert_eq!(
            hex::encode(&ch.cookie),
            "b52e2656f9713d40974c59ece489b32f573757ce"
        );
        let suites: Vec<u16> = ch.cipher_suites.iter().map(|&s| s.into()).collect();
        assert_eq!(
            suites,
            [
                0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e, 0xc024,
                0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013,
                0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f
            ]
        );
        assert_eq!(
            ch.cipher_suites[0],
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        );
        assert_eq!(
            ch.cipher_suites[6],
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        );
        assert_eq!(ch.cipher_suites[1], CipherSuite::Unknown(0xc030));
        // OpenSSL signals secure renegotiation with the extension, not the SCSV (RFC 5746 §3.4).
        assert!(!ch
            .cipher_suites
            .contains(&CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV));
        assert_eq!(ch.compression_methods, [0]);

        let e = &ch.extensions;
        assert_eq!(
            e.0.iter().map(|x| x.extension_type()).collect::<Vec<_>>(),
            [
                ExtensionType::RenegotiationInfo,
                ExtensionType::EcPointFormats,
                ExtensionType::SupportedGroups,
                ExtensionType::SessionTicket,
                ExtensionType::EncryptThenMac,
                ExtensionType::ExtendedMasterSecret,
                ExtensionType::SignatureAlgorithms,
            ]
        );
        assert_eq!(e.renegotiation_info(), Some(&[][..]));
        assert!(e.has_extended_master_secret());
        assert_eq!(e.ec_point_formats(), Some(&[0u8, 1, 2][..]));
        assert_eq!(
            e.supported_groups(),
            Some(
                &[
                    NamedGroup::X25519,
                    NamedGroup::Secp256r1,
                    NamedGroup::Unknown(30), // x448
                    NamedGroup::Secp521r1,
                    NamedGroup::Secp384r1,
                ][..]
            )
        );
        let schemes = e.signature_algorithms().unwrap();
        assert_eq!(schemes.len(), 23);
        assert_eq!(schemes[0], SignatureScheme::EcdsaSecp256r1Sha256);
        assert_eq!(schemes[1], SignatureScheme::EcdsaSecp384r1Sha384);
        assert_eq!(schemes[3], SignatureScheme::Ed25519);
        assert_eq!(schemes[4], SignatureScheme::Unknown(0x0808)); // ed448
        assert_eq!(schemes[11], SignatureScheme::RsaPssRsaeSha256);
        assert_eq!(schemes[14], SignatureScheme::RsaPkcs1Sha256);
        assert_eq!(e.server_name(), None);
        assert_eq!(
            e.get(ExtensionType::SessionTicket),
            Some(&Extension::Unknown {
                extension_type: ExtensionType::SessionTicket,
                data: vec![]
            })
        );
    }

    #[test]
    fn openssl_client_hello_re_encodes_to_the_same_bytes() {
        let body = body();
        let ch = ClientHello::decode(&body).unwrap();
        assert_eq!(hex::encode(encoded(&ch)), hex::encode(&body));
    }

    #[test]
    fn constructed_client_hello_round_trips() {
        let mut ch = minimal();
        assert_eq!(
            hex::encode(encoded(&ch)),
            concat!(
                "fefd",
                "0707070707070707070707070707070707070707070707070707070707070707",
                "00",
                "00",
                "0002c02b",
                "0100"
            )
        );
        assert_eq!(ClientHello::decode(&encoded(&ch)), Ok(ch.clone()));

        ch.session_id = vec![1; 32];
        ch.cookie = vec![2; 32];
        ch.cipher_suites.push(CipherSuite::Unknown(0x1301));
        ch.cipher_suites
            .push(CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
        ch.extensions
            .push(Extension::ServerName("a.example".into()));
        ch.extensions.push(Extension::ExtendedMasterSecret);
        assert_eq!(ClientHello::decode(&encoded(&ch)), Ok(ch));
    }

    #[test]
    fn cookie_of_255_bytes_works() {
        let mut ch = minimal();
        ch.cookie = (0..=254).collect();
        let wire = encoded(&ch);
        assert_eq!(wire[2 + 32 + 1], 255, "cookie length byte");
        assert_eq!(wire.len(), 2 + 32 + 1 + 1 + 255 + 4 + 2);
        let back = ClientHello::decode(&wire).unwrap();
        assert_eq!(back.cookie.len(), 255);
        assert_eq!(back, ch);
        assert_eq!(
            ClientHello::decode_prefix(&wire).unwrap().cookie,
            &ch.cookie[..]
        );
    }

    #[test]
    fn truncation_at_every_byte_is_an_error_except_before_the_optional_extensions() {
        let body = body();
        for cut in 0..body.len() {
            let result = ClientHello::decode(&body[..cut]);
            if cut == EXTENSIONS_AT {
                // Cut exactly where the extensions start: a valid hello without extensions.
                let ch = result.unwrap();
                assert!(ch.extensions.is_empty());
                assert_eq!(ch.cipher_suites.len(), 27);
            } else {
                assert!(result.is_err(), "cut at {cut} decoded: {result:?}");
            }
        }
        assert_eq!(
            ClientHello::decode(&body[..EXTENSIONS_AT + 1]),
            Err(DecodeError::Truncated { what: "extensions" })
        );
        assert_eq!(
            ClientHello::decode(&body[..EXTENSIONS_AT - 1]),
            Err(DecodeError::Truncated {
                what: "ClientHello.compression_methods"
            })
        );
    }

    #[test]
    fn every_single_byte_mutation_is_rejected_or_re_encodes_exactly() {
        let body = body();
        let mut accepted = 0;
        for pos in 0..body.len() {
            for value in [
                0x00,
                0x01,
                0x02,
                0x20,
                0x7f,
                0x80,
                0xfe,
                0xff,
                body[pos] ^ 1,
            ] {
                let mut mutated = body.clone();
                mutated[pos] = value;
                if let Ok(ch) = ClientHello::decode(&mutated) {
                    accepted += 1;
                    assert_eq!(encoded(&ch), mutated, "byte {pos} = {value:#04x}");
                }
            }
        }
        // Mutating a random, cookie, suite or group byte still gives a valid hello.
        assert!(accepted > 1000, "{accepted}");
    }

    #[test]
    fn trailing_byte_is_an_error() {
        let mut body = body();
        body.push(0);
        assert_eq!(
            ClientHello::decode(&body),
            Err(DecodeError::TrailingBytes {
                what: "ClientHello"
            })
        );
    }

    #[test]
    fn oversize_session_id_is_an_error() {
        let mut ch = minimal();
        ch.session_id = vec![9; 33];
        let wire = encoded(&ch);
        assert_eq!(
            ClientHello::decode(&wire),
            Err(DecodeError::InvalidLength {
                what: "ClientHello.session_id"
            })
        );
        assert_eq!(
            ClientHello::decode_prefix(&wire),
            Err(DecodeError::InvalidLength {
                what: "ClientHello.session_id"
            })
        );
    }

    #[test]
    fn cookie_length_past_the_end_is_an_error() {
        let mut body = body();
        body[35] = 200; // cookie length: 36 + 200 > 209
        assert_eq!(
            ClientHello::decode(&body),
            Err(DecodeError::Truncated {
                what: "ClientHello.cookie"
            })
        );
        assert_eq!(
            ClientHello::decode_prefix(&body[..60]),
            Err(DecodeError::Truncated {
                what: "ClientHello.cookie"
            })
        );
    }

    #[test]
    fn decode_prefix_reads_the_cookie_from_the_first_60_bytes() {
        let body = body();
        let prefix = ClientHello::decode_prefix(&body[..60]).unwrap();
        assert_eq!(prefix.client_version, ProtocolVersion::DTLS1_2);
        assert_eq!(prefix.random[..], body[2..34]);
        assert_eq!(prefix.session_id, b"");
        assert_eq!(
            hex::encode(prefix.cookie),
            "b52e2656f9713d40974c59ece489b32f573757ce"
        );
        // The first ClientHello has no cookie; its prefix ends 36 bytes in.
        let mut first = minimal();
        first.random = *prefix.random;
        let wire = encoded(&first);
        let prefix = ClientHello::decode_prefix(&wire[..36]).unwrap();
        assert_eq!(prefix.cookie, b"");
        assert_eq!(
            ClientHello::decode_prefix(&wire[..35]),
            Err(DecodeError::Truncated {
                what: "ClientHello.cookie"
            })
        );
        assert_eq!(
            ClientHello::decode_prefix(&wire[..20]),
            Err(DecodeError::Truncated {
                what: "ClientHello.random"
            })
        );
    }

    #[test]
    fn duplicate_extension_is_an_error() {
        let mut ch = minimal();
        ch.extensions = Extensions(vec![
            Extension::ExtendedMasterSecret,
            Extension::RenegotiationInfo(vec![]),
            Extension::ExtendedMasterSecret,
        ]);
        assert_eq!(
            ClientHello::decode(&encoded(&ch)),
            Err(DecodeError::DuplicateExtension(
                ExtensionType::ExtendedMasterSecret
            ))
        );
    }

    #[test]
    fn extension_block_length_that_disagrees_with_its_content_is_an_error() {
        let body = body();
        assert_eq!(body[EXTENSIONS_AT..EXTENSIONS_AT + 2], [0x00, 0x5d]);
        for (len, want) in [
            // The block ends inside signature_algorithms.
            (
                0x5c,
                DecodeError::Truncated {
                    what: "Extension.extension_data",
                },
            ),
            // The block ends one byte after the first extension: a 1-byte extension_type.
            (
                0x06,
                DecodeError::Truncated {
                    what: "Extension.extension_type",
                },
            ),
            // The block claims more than the body holds.
            (0x5e, DecodeError::Truncated { what: "extensions" }),
        ] {
            let mut bad = body.clone();
            bad[EXTENSIONS_AT + 1] = len;
            assert_eq!(ClientHello::decode(&bad), Err(want), "block length {len}");
        }
        // A block that ends early, followed by the rest as stray bytes.
        let mut bad = body.clone();
        bad[EXTENSIONS_AT + 1] = 0x05; // just renegotiation_info
        assert_eq!(
            ClientHello::decode(&bad),
            Err(DecodeError::TrailingBytes {
                what: "ClientHello"
            })
        );
    }

    #[test]
    fn malformed_lists_are_errors() {
        let mut ch = minimal();
        ch.cipher_suites.clear();
        assert_eq!(
            ClientHello::decode(&encoded(&ch)),
            Err(DecodeError::InvalidLength {
                what: "ClientHello.cipher_suites"
            })
        );
        let mut ch = minimal();
        ch.compression_methods.clear();
        assert_eq!(
            ClientHello::decode(&encoded(&ch)),
            Err(DecodeError::InvalidLength {
                what: "ClientHello.compression_methods"
            })
        );
        // An odd cipher_suites length.
        let mut wire = encoded(&minimal());
        let at = 2 + 32 + 1 + 1;
        wire[at + 1] = 3;
        wire.insert(at + 4, 0);
        assert_eq!(
            ClientHello::decode(&wire),
            Err(DecodeError::InvalidLength {
                what: "ClientHello.cipher_suites"
            })
        );
    }
}
