//! Every plaintext handshake message of the hotplace-dtls12 captures (OpenSSL 3 `s_server` and
//! `s_client`, see ../shared/vectors/captures/SOURCE.md), reassembled here from its fragments and
//! decoded with the matching codec, then re-encoded to the same bytes.
//!
//! The captures live outside the repository; these tests skip with a message when they are absent.
//! The small messages are also transcribed as constants in their own modules' tests.

use std::collections::BTreeMap;

use super::*;
use crate::handshake::HandshakeType;
use crate::record::ProtocolVersion;
use crate::suite::{NamedGroup, SignatureScheme};

const YAML: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/vectors/captures/hotplace-dtls12/testvector_pcap_dtls12.yml"
);

/// One example of the YAML: its datagrams, each with `true` when it came from the client.
fn datagrams(example: &str) -> Option<Vec<(bool, Vec<u8>)>> {
    let Ok(text) = std::fs::read_to_string(YAML) else {
        eprintln!("skipping: {YAML} not found (the shared vectors are not checked out)");
        return None;
    };
    let mut current = "";
    let mut from_client = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("- example: ") {
            current = name;
        } else if let Some(dir) = line.strip_prefix("dir: ") {
            from_client = dir == "from_client";
        } else if let Some(record) = line.strip_prefix("record: ") {
            if current == example {
                out.push((from_client, hex::decode(record).expect("hex datagram")));
            }
        }
    }
    assert!(!out.is_empty(), "example {example} not in {YAML}");
    Some(out)
}

/// A handshake message put back together from its fragments.
#[derive(Debug)]
struct Message {
    from_client: bool,
    msg_type: HandshakeType,
    message_seq: u16,
    body: Vec<u8>,
}

/// Splits the datagrams into records (13-byte header, RFC 6347 §4.1) and the epoch-0 handshake
/// records into fragments (12-byte header, RFC 6347 §4.2.2), and reassembles every message.
fn reassemble(datagrams: &[(bool, Vec<u8>)]) -> Vec<Message> {
    /// msg_type, body, and which bytes of the body have arrived.
    type Partial = (u8, Vec<u8>, Vec<bool>);
    let mut partial: BTreeMap<(bool, u16), Partial> = BTreeMap::new();
    for (from_client, datagram) in datagrams {
        let mut records = Reader::new(datagram);
        while !records.is_empty() {
            let content_type = records.u8().unwrap();
            let _version = records.u16().unwrap();
            let epoch = records.u16().unwrap();
            let _sequence_number = records.u48().unwrap();
            let mut fragments = records.sub_u16().unwrap();
            if content_type != 22 || epoch != 0 {
                continue;
            }
            while !fragments.is_empty() {
                let msg_type = fragments.u8().unwrap();
                let length = fragments.u24().unwrap() as usize;
                let message_seq = fragments.u16().unwrap();
                let fragment_offset = fragments.u24().unwrap() as usize;
                let fragment = fragments.vec_u24().unwrap();
                let (t, body, filled) = partial
                    .entry((*from_client, message_seq))
                    .or_insert_with(|| (msg_type, vec![0; length], vec![false; length]));
                assert_eq!(*t, msg_type);
                assert_eq!(body.len(), length);
                let range = fragment_offset..fragment_offset + fragment.len();
                body[range.clone()].copy_from_slice(fragment);
                filled[range].iter_mut().for_each(|f| *f = true);
            }
        }
    }
    partial
        .into_iter()
        .map(|((from_client, message_seq), (t, body, filled))| {
            assert!(filled.iter().all(|&f| f), "message {message_seq} has a gap");
            Message {
                from_client,
                msg_type: HandshakeType::from(t),
                message_seq,
                body,
            }
        })
        .collect()
}

/// Decodes `body` as `msg_type` and encodes the result again.
fn re_encode(msg_type: HandshakeType, body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    match msg_type {
        HandshakeType::ClientHello => ClientHello::decode(body)?.encode(&mut out),
        HandshakeType::HelloVerifyRequest => HelloVerifyRequest::decode(body)?.encode(&mut out),
        HandshakeType::ServerHello => ServerHello::decode(body)?.encode(&mut out),
        HandshakeType::Certificate => Certificate::decode(body)?.encode(&mut out),
        HandshakeType::ServerKeyExchange => ServerKeyExchange::decode(body)?.encode(&mut out),
        HandshakeType::ServerHelloDone => ServerHelloDone::decode(body)?.encode(&mut out),
        HandshakeType::ClientKeyExchange => ClientKeyExchange::decode(body)?.encode(&mut out),
        HandshakeType::NewSessionTicket => NewSessionTicket::decode(body)?.encode(&mut out),
        other => panic!("unexpected plaintext {other:?}"),
    }
    Ok(out)
}

/// The four captures in the YAML, with the messages each holds in plaintext.
const EXAMPLES: [&str; 4] = [
    "DTLS dtls12.pcapng",
    "DTLS dtls12mtu1500.pcapng",
    "DTLS dtls12_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.pcapng",
    "DTLS dtls12_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256.pcapng",
];

#[test]
fn every_plaintext_handshake_message_decodes_and_re_encodes() {
    for example in EXAMPLES {
        let Some(datagrams) = datagrams(example) else {
            return;
        };
        let messages = reassemble(&datagrams);
        let seen: Vec<(bool, HandshakeType, u16)> = messages
            .iter()
            .map(|m| (m.from_client, m.msg_type, m.message_seq))
            .collect();
        assert_eq!(
            seen,
            [
                (false, HandshakeType::HelloVerifyRequest, 0),
                (false, HandshakeType::ServerHello, 1),
                (false, HandshakeType::Certificate, 2),
                (false, HandshakeType::ServerKeyExchange, 3),
                (false, HandshakeType::ServerHelloDone, 4),
                (false, HandshakeType::NewSessionTicket, 5),
                (true, HandshakeType::ClientHello, 0),
                (true, HandshakeType::ClientHello, 1),
                (true, HandshakeType::ClientKeyExchange, 2),
            ],
            "{example}"
        );
        for m in &messages {
            assert_eq!(
                re_encode(m.msg_type, &m.body).map(hex::encode),
                Ok(hex::encode(&m.body)),
                "{example} {:?}",
                m.msg_type
            );
        }
    }
}

fn find(messages: &[Message], from_client: bool, message_seq: u16) -> &[u8] {
    &messages
        .iter()
        .find(|m| m.from_client == from_client && m.message_seq == message_seq)
        .unwrap()
        .body
}

#[test]
fn fragmented_flight_of_dtls12_capture() {
    let Some(datagrams) = datagrams("DTLS dtls12.pcapng") else {
        return;
    };
    let messages = reassemble(&datagrams);

    // ClientHello #1 was sent in two fragments (183 + 8 bytes), #2 (with the cookie) likewise.
    let ch1 = ClientHello::decode(find(&messages, true, 0)).unwrap();
    let ch2 = ClientHello::decode(find(&messages, true, 1)).unwrap();
    let hvr = HelloVerifyRequest::decode(find(&messages, false, 0)).unwrap();
    assert_eq!(hvr.server_version, ProtocolVersion::DTLS1_0);
    assert_eq!(
        hex::encode(&hvr.cookie),
        "d8321d16e272e53cbc26772dff69a256edcdcc0a"
    );
    assert!(ch1.cookie.is_empty());
    assert_eq!(ch2.cookie, hvr.cookie);
    assert_eq!(ch1.random, ch2.random, "RFC 6347 §4.2.1: same random");
    assert_eq!(
        hex::encode(ch2.random),
        "9fc7e253870b87faa821b77616c4c36f606f82ed8cd786d70af2d4236e992e07"
    );
    assert_eq!(ch1.cipher_suites, ch2.cipher_suites);
    assert_eq!(ch1.extensions, ch2.extensions);
    assert!(ch2.extensions.has_extended_master_secret());

    let sh = ServerHello::decode(find(&messages, false, 1)).unwrap();
    assert_eq!(u16::from(sh.cipher_suite), 0xc027);
    assert!(sh.extensions.has_extended_master_secret());
    assert_eq!(sh.extensions.renegotiation_info(), Some(&[][..]));

    // The Certificate came in six fragments across six datagrams.
    let cert = Certificate::decode(find(&messages, false, 2)).unwrap();
    assert_eq!(cert.certificate_list.len(), 1);
    let der = &cert.certificate_list[0];
    assert_eq!(der.len(), 0x360);
    assert_eq!(
        der[..4],
        [0x30, 0x82, 0x03, 0x5c],
        "DER SEQUENCE of 0x35c bytes"
    );
    // x509 SAN dNSName "test.princeb612.pe" is inside.
    assert!(der.windows(18).any(|w| w == b"test.princeb612.pe"));

    // The ServerKeyExchange spans two datagrams: ECDHE over X25519, signed with RSA-PSS.
    let ske = ServerKeyExchange::decode(find(&messages, false, 3)).unwrap();
    assert_eq!(ske.params.named_group, NamedGroup::X25519);
    assert_eq!(ske.params.public_key.len(), 32);
    assert_eq!(ske.signature.scheme, SignatureScheme::RsaPssRsaeSha256);
    assert_eq!(ske.signature.signature.len(), 256);

    let cke = ClientKeyExchange::decode(find(&messages, true, 2)).unwrap();
    assert_eq!(cke.public_key.len(), 32);
}

#[test]
fn reassembled_certificate_matches_the_unfragmented_one() {
    let (Some(fragmented), Some(whole)) = (
        datagrams("DTLS dtls12.pcapng"),
        datagrams("DTLS dtls12mtu1500.pcapng"),
    ) else {
        return;
    };
    // Same server certificate in both runs: one sent in six fragments, one in a single record.
    let a = reassemble(&fragmented);
    let b = reassemble(&whole);
    assert_eq!(find(&a, false, 2), find(&b, false, 2));
    assert_eq!(find(&a, false, 2).len(), 0x366);
}

#[test]
fn mutated_capture_messages_are_rejected_or_re_encode_exactly() {
    let Some(datagrams) = datagrams("DTLS dtls12mtu1500.pcapng") else {
        return;
    };
    for m in reassemble(&datagrams) {
        for pos in 0..m.body.len() {
            for value in [0x00, 0x01, 0x03, 0x7f, 0xff, m.body[pos] ^ 0x80] {
                let mut mutated = m.body.clone();
                mutated[pos] = value;
                if let Ok(out) = re_encode(m.msg_type, &mutated) {
                    assert_eq!(out, mutated, "{:?} byte {pos} = {value:#04x}", m.msg_type);
                }
            }
        }
        for cut in 0..m.body.len() {
            // Only a hello cut exactly before its optional extensions may still decode.
            if let Ok(out) = re_encode(m.msg_type, &m.body[..cut]) {
                assert_eq!(out, &m.body[..cut]);
                assert!(
                    matches!(
                        m.msg_type,
                        HandshakeType::ClientHello | HandshakeType::ServerHello
                    ),
                    "{:?} cut at {cut} decoded",
                    m.msg_type
                );
            }
        }
    }
}
