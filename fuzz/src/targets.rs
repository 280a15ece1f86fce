//! The fuzz target bodies, shared by the cargo-fuzz crate (`fuzz/fuzz_targets/*.rs`) and the
//! stable corpus replay test (`tests/fuzz_corpus.rs`), which includes this file with
//! `#[path]` next to `tests/sim`.
//!
//! Each target panics only when an invariant breaks; the library itself must never panic.
//!
//! - [`record`]: a datagram split into records; headers, protection and the replay window.
//! - [`handshake`]: fragments into the reassembler; every message decoder, with round trips.
//! - [`server`] / [`client`]: a real in-memory handshake with seeded randomness, where the
//!   input decides what happens to each datagram the target session receives: delivered,
//!   dropped, mutated, replaced, duplicated, truncated, or followed by an injected one. So
//!   the fuzzer reaches every state a real peer can lead a session into.

use std::time::Duration;

use puredtls::alert::Alert;
use puredtls::handshake::extension::Extensions;
use puredtls::handshake::fragment::fragments;
use puredtls::handshake::message::{
    Certificate, CertificateRequest, CertificateVerify, ClientHello, ClientKeyExchange, Finished,
    HelloVerifyRequest, NewSessionTicket, ServerHello, ServerKeyExchange,
};
use puredtls::handshake::reassembly::{Reassembler, ReassemblyLimits};
use puredtls::record::{
    records, AeadAlgorithm, ContentType, ProtocolVersion, RecordProtection, ReplayWindow,
    RECORD_HEADER_LEN,
};
use puredtls::suite::CipherSuite;
use puredtls::Status;

use crate::sim::{self, Dir, Link, Sim};

// ----- record ------------------------------------------------------------------------------

/// Datagram → records: framing, header round trip, AEAD open under a fixed key, the replay
/// window fed the records' sequence numbers.
pub fn record(data: &[u8]) {
    let protection =
        RecordProtection::new(AeadAlgorithm::Aes128Gcm, &[7; 16], &[9; 4]).expect("fixed key");
    let mut window = ReplayWindow::new(64 + u32::from(data.first().copied().unwrap_or(0)));
    let mut consumed = 0;
    let mut it = records(data);
    let mut out = vec![0u8; 1 << 15];
    for r in &mut it {
        let header = r.header.encode();
        assert_eq!(
            data.get(consumed..consumed + RECORD_HEADER_LEN),
            Some(&header[..]),
            "the header re-encodes to its bytes"
        );
        assert_eq!(usize::from(r.header.length), r.fragment.len());
        consumed += RECORD_HEADER_LEN + r.fragment.len();
        // Nothing here is sealed under this key: opening must fail, and never panic.
        assert!(protection.open(&r, &mut out).is_err());
        let seq = r.header.sequence_number;
        if window.check(seq) {
            window.mark(seq);
            assert!(!window.check(seq), "a marked number is a replay");
        }
        // Seal the fragment as a plaintext and open it again.
        if r.fragment.len() <= puredtls::record::MAX_PLAINTEXT_LEN {
            let mut sealed = Vec::new();
            protection
                .seal_append(
                    r.header.content_type,
                    ProtocolVersion::DTLS1_2,
                    r.header.epoch,
                    seq,
                    r.fragment,
                    &mut sealed,
                )
                .expect("seal");
            let again = records(&sealed).next().expect("one record");
            let plain = protection.open(&again, &mut out).expect("open");
            assert_eq!(plain, r.fragment);
        }
    }
    assert!(consumed <= data.len());
    assert_eq!(it.malformed_tail(), consumed < data.len());
}

// ----- handshake ---------------------------------------------------------------------------

/// Decodes `body` as `T`; if it decodes, encoding and decoding again gives the same value.
macro_rules! round_trip {
    ($t:ty, $body:expr) => {
        if let Ok(v) = <$t>::decode($body) {
            let mut out = Vec::new();
            v.encode(&mut out);
            let again = <$t>::decode(&out).expect(concat!(stringify!($t), " re-decodes"));
            assert_eq!(again, v, concat!(stringify!($t), " round trip"));
        }
    };
}

/// Every decoder on `body`.
fn decode_all(body: &[u8]) {
    round_trip!(ClientHello, body);
    round_trip!(ServerHello, body);
    round_trip!(HelloVerifyRequest, body);
    round_trip!(Certificate, body);
    round_trip!(ServerKeyExchange, body);
    round_trip!(CertificateRequest, body);
    round_trip!(CertificateVerify, body);
    round_trip!(ClientKeyExchange, body);
    round_trip!(Finished, body);
    round_trip!(NewSessionTicket, body);
    round_trip!(Extensions, body);
    let _ = ClientHello::decode_prefix(body);
    let _ = Alert::decode(body);
}

/// Handshake record payloads: fragments into a small reassembler, messages out in order,
/// each decoded by the decoder of its type; and every decoder on the raw input.
pub fn handshake(data: &[u8]) {
    let limits = ReassemblyLimits {
        max_message_len: 4096,
        max_future_messages: 4,
        max_buffered_bytes: 8192,
    };
    let mut reassembler = Reassembler::new(limits);
    let mut expected_seq = 0u16;
    for (i, fragment) in fragments(data).enumerate() {
        let Ok(fragment) = fragment else { break };
        let h = fragment.header;
        assert_eq!(fragment.body.len(), h.fragment_length as usize);
        assert!(h.fragment_offset + h.fragment_length <= h.length);
        let _ = reassembler.insert(&fragment, (i % 2) as u16);
        assert!(reassembler.buffered_bytes() <= limits.max_buffered_bytes);
        while let Some(m) = reassembler.pop() {
            assert_eq!(m.message_seq, expected_seq, "messages come out in order");
            expected_seq = expected_seq.wrapping_add(1);
            assert!(m.body.len() <= limits.max_message_len as usize);
            decode_all(&m.body);
        }
    }
    decode_all(data);
}

// ----- sessions ----------------------------------------------------------------------------

/// Reads the fuzz input as a sequence of decisions.
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.data.split_first()?;
        self.data = rest;
        Some(*first)
    }

    fn u16(&mut self) -> u16 {
        let hi = self.byte().unwrap_or(0);
        let lo = self.byte().unwrap_or(0);
        u16::from_be_bytes([hi, lo])
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }
}

/// What the input does to one datagram on its way to the target; the opcodes.
pub mod op {
    pub const PASS: u8 = 0;
    pub const DROP: u8 = 2;
    /// Then a count byte and (u16 position, byte) pairs, XORed in.
    pub const MUTATE: u8 = 3;
    /// Then a u16 length and that many bytes.
    pub const REPLACE: u8 = 4;
    /// Then a u16 length and that many bytes, delivered after the datagram.
    pub const INJECT_AFTER: u8 = 5;
    pub const DUPLICATE: u8 = 6;
    /// Then a u16 position.
    pub const TRUNCATE: u8 = 7;
}

fn apply(input: &mut Input<'_>, d: &[u8]) -> Vec<Vec<u8>> {
    let Some(b) = input.byte() else {
        return vec![d.to_vec()];
    };
    match b % 8 {
        op::DROP => Vec::new(),
        op::MUTATE => {
            let mut d = d.to_vec();
            let n = 1 + input.byte().unwrap_or(0) % 8;
            for _ in 0..n {
                let pos = usize::from(input.u16());
                let v = input.byte().unwrap_or(0xff);
                if !d.is_empty() {
                    let at = pos % d.len();
                    d[at] ^= v;
                }
            }
            vec![d]
        }
        op::REPLACE => {
            let len = usize::from(input.u16()) % 2048;
            vec![input.bytes(len).to_vec()]
        }
        op::INJECT_AFTER => {
            let len = usize::from(input.u16()) % 2048;
            vec![d.to_vec(), input.bytes(len).to_vec()]
        }
        op::DUPLICATE => vec![d.to_vec(), d.to_vec()],
        op::TRUNCATE => {
            let at = usize::from(input.u16()) % (d.len() + 1);
            vec![d[..at].to_vec()]
        }
        _ => vec![d.to_vec()],
    }
}

/// The first input byte picks the configuration: bit 0 client certificate, bit 1 MTU 256,
/// bit 2 AES-256-GCM only, bits 3-4 the seed.
pub fn session_sim(mode: u8) -> Sim {
    let seed = u64::from((mode >> 3) & 3);
    let (mut c, mut s) = if mode & 1 != 0 {
        sim::client_auth_configs(seed)
    } else {
        (sim::client_config(seed), sim::server_config(seed))
    };
    for common in [&mut c.common, &mut s.common] {
        if mode & 2 != 0 {
            common.mtu = 256;
        }
        if mode & 4 != 0 {
            common.cipher_suites = vec![CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384];
        }
        common.timers.handshake_timeout = Duration::from_secs(20);
    }
    Sim::new(seed, c, s, Link::perfect(), Link::perfect())
}

/// Runs a handshake where the input rules the datagrams travelling `toward` the target.
fn session(data: &[u8], toward: Dir) {
    let mode = data.first().copied().unwrap_or(0);
    let mut sim = session_sim(mode);
    let rest = data.get(1..).unwrap_or_default().to_vec();
    let mut pos = 0;
    sim.tamper = Some(Box::new(move |dir, _, d| {
        if dir != toward {
            return vec![d.to_vec()];
        }
        let mut input = Input {
            data: rest.get(pos..).unwrap_or_default(),
        };
        let out = apply(&mut input, d);
        pos = rest.len() - input.data.len();
        out
    }));
    sim.run_until(Duration::from_secs(30), |s| {
        s.is_connected() && s.in_flight() == 0
    });
    // The honest side never sent application data: nothing may have been delivered.
    assert!(
        sim.server_rx.is_empty(),
        "forged application data reached the server"
    );
    assert!(
        sim.client_rx.is_empty(),
        "forged application data reached the client"
    );
    let client = sim.client.status().clone();
    let server = sim.server_status();
    if client == Status::Connected && server == Some(Status::Connected) {
        // Both verified the other's Finished, so both hold the same keys.
        sim.tamper = None;
        sim.links = [Link::perfect(), Link::perfect()];
        assert!(
            sim.exchange(Duration::from_secs(1)),
            "connected but no data flows"
        );
    }
    if client == Status::Connected {
        assert!(sim.client.poll_timeout().is_none());
    }
}

/// The server session (and its front door) fed what the input makes of a real client's
/// datagrams.
pub fn server(data: &[u8]) {
    session(data, Dir::ToServer);
}

/// The client fed what the input makes of a real server's datagrams.
pub fn client(data: &[u8]) {
    session(data, Dir::ToClient);
}

// ----- seed corpus -------------------------------------------------------------------------

/// A seed corpus from real handshakes: `(target, name, bytes)`.
pub fn seed_corpus() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    for mode in [0u8, 1, 2, 3, 4, 7] {
        let mut sim = session_sim(mode);
        sim.connect(Duration::from_secs(5))
            .expect("clean handshake");
        assert!(sim.exchange(Duration::from_secs(1)));
        for (i, sent) in sim.log.iter().enumerate() {
            let dir = match sent.dir {
                Dir::ToServer => "c2s",
                Dir::ToClient => "s2c",
            };
            out.push((
                "record",
                format!("mode{mode}-{i:02}-{dir}"),
                sent.bytes.clone(),
            ));
            for (j, r) in records(&sent.bytes).enumerate() {
                if r.header.content_type == ContentType::Handshake && r.header.epoch == 0 {
                    out.push((
                        "handshake",
                        format!("mode{mode}-{i:02}-{j}-{dir}"),
                        r.fragment.to_vec(),
                    ));
                }
            }
        }
        let to_server: Vec<&[u8]> = sim
            .log
            .iter()
            .filter(|s| s.dir == Dir::ToServer)
            .map(|s| s.bytes.as_slice())
            .collect();
        let to_client: Vec<&[u8]> = sim
            .log
            .iter()
            .filter(|s| s.dir == Dir::ToClient)
            .map(|s| s.bytes.as_slice())
            .collect();
        for (target, flights) in [("server", &to_server), ("client", &to_client)] {
            // Everything delivered.
            out.push((target, format!("mode{mode}-clean"), vec![mode]));
            for k in 0..flights.len() {
                let pass = vec![op::PASS; k];
                // Lose datagram k, then a repeat of its predecessor arrives.
                out.push((
                    target,
                    format!("mode{mode}-drop{k}"),
                    [vec![mode], pass.clone(), vec![op::DROP]].concat(),
                ));
                // Datagram k replaced by the real datagram after it (a flight too early).
                if let Some(next) = flights.get(k + 1) {
                    let len = (next.len() as u16).to_be_bytes();
                    out.push((
                        target,
                        format!("mode{mode}-early{k}"),
                        [
                            vec![mode],
                            pass.clone(),
                            vec![op::REPLACE, len[0], len[1]],
                            next.to_vec(),
                        ]
                        .concat(),
                    ));
                }
                // Datagram k with one bit flipped.
                out.push((
                    target,
                    format!("mode{mode}-flip{k}"),
                    [vec![mode], pass, vec![op::MUTATE, 0, 0xff, 0xf0, 0x01]].concat(),
                ));
            }
        }
    }
    out
}
