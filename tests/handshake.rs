//! The DTLS 1.2 handshake (RFC 6347 on RFC 5246) as a checklist of behaviours, driven through
//! the public sans-IO API with in-memory datagrams.
//!
//! Datagrams are inspected and tampered with in flight by the small wire parser below (13-byte
//! record header, 12-byte handshake header), independent of the library's own parsers. Time
//! is a fixed base `Instant` advanced explicitly; randomness is seeded.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use puredtls::alert::{AlertDescription, AlertLevel};
use puredtls::cert::generate_self_signed;
use puredtls::handshake::extension::{Extension, ExtensionType, Extensions};
use puredtls::handshake::message::{ClientHello, ServerHello};
use puredtls::record::ProtocolVersion;
use puredtls::rng::RandomSource;
use puredtls::server::Ignored;
use puredtls::suite::{CipherSuite, NamedGroup, SignatureScheme};
use puredtls::{
    Accept, CertificateDer, ClientConfig, ClientSession, Endpoint, EndpointEvent, Error, Event,
    Output, PrivateKey, Server, ServerCertVerification, ServerConfig, ServerSession, Status,
};

// ----- wire constants (RFC 5246 §6.2.1, §7.4; RFC 6347 §4.1, §4.3.2) ---------------------------

const CT_CHANGE_CIPHER_SPEC: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APPLICATION_DATA: u8 = 23;

const HT_HELLO_REQUEST: u8 = 0;
const HT_CLIENT_HELLO: u8 = 1;
const HT_SERVER_HELLO: u8 = 2;
const HT_HELLO_VERIFY_REQUEST: u8 = 3;
const HT_CERTIFICATE: u8 = 11;
const HT_SERVER_KEY_EXCHANGE: u8 = 12;
const HT_SERVER_HELLO_DONE: u8 = 14;
const HT_FINISHED: u8 = 20;

const DTLS1_0: u16 = 0xfeff;
const DTLS1_2: u16 = 0xfefd;

const EXT_SERVER_NAME: u16 = 0x0000;
const EXT_EXTENDED_MASTER_SECRET: u16 = 0x0017;
const EXT_RENEGOTIATION_INFO: u16 = 0xff01;
/// An extension type no one has registered; a server must ignore it.
const EXT_UNASSIGNED: u16 = 0xfafa;

/// Record bytes AES-GCM adds: 8-byte explicit nonce and 16-byte tag (RFC 5288 §3).
const GCM_OVERHEAD: usize = 24;

// ----- a seeded random source --------------------------------------------------------------

#[derive(Debug)]
struct Seeded(Mutex<ChaCha20Rng>);

impl RandomSource for Seeded {
    fn fill(&self, dest: &mut [u8]) {
        self.0.lock().unwrap().fill_bytes(dest);
    }
}

fn seeded(seed: u64) -> Arc<dyn RandomSource> {
    Arc::new(Seeded(Mutex::new(ChaCha20Rng::seed_from_u64(seed))))
}

// ----- configs -----------------------------------------------------------------------------

/// One server identity for the whole file: key generation is the slow part of a config.
fn identity() -> &'static (PrivateKey, CertificateDer) {
    static ID: OnceLock<(PrivateKey, CertificateDer)> = OnceLock::new();
    ID.get_or_init(|| generate_self_signed(&["localhost"]).unwrap())
}

fn server_config() -> ServerConfig {
    let (key, cert) = identity().clone();
    let mut config = ServerConfig::new(vec![cert], key).unwrap();
    config.common.random = seeded(1);
    config
}

fn client_config() -> ClientConfig {
    client_config_seeded(2)
}

fn client_config_seeded(seed: u64) -> ClientConfig {
    let mut config = ClientConfig::dangerous_accept_any_certificate();
    config.common.random = seeded(seed);
    config
}

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn other_peer() -> SocketAddr {
    "127.0.0.1:40001".parse().unwrap()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

// ----- the wire, parsed by hand ------------------------------------------------------------

/// One record: `type(1) version(2) epoch(2) sequence_number(6) length(2)` then the fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rec {
    content_type: u8,
    version: u16,
    epoch: u16,
    seq: u64,
    payload: Vec<u8>,
}

impl Rec {
    fn plaintext(content_type: u8, epoch: u16, seq: u64, payload: Vec<u8>) -> Self {
        Self {
            content_type,
            version: DTLS1_2,
            epoch,
            seq,
            payload,
        }
    }
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, b| (acc << 8) | u64::from(*b))
}

fn records(datagram: &[u8]) -> Vec<Rec> {
    let mut out = Vec::new();
    let mut rest = datagram;
    while !rest.is_empty() {
        assert!(
            rest.len() >= 13,
            "truncated record header in {datagram:02x?}"
        );
        let len = be(&rest[11..13]) as usize;
        out.push(Rec {
            content_type: rest[0],
            version: be(&rest[1..3]) as u16,
            epoch: be(&rest[3..5]) as u16,
            seq: be(&rest[5..11]),
            payload: rest[13..13 + len].to_vec(),
        });
        rest = &rest[13 + len..];
    }
    out
}

fn datagram(records: &[Rec]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        out.push(r.content_type);
        out.extend_from_slice(&r.version.to_be_bytes());
        out.extend_from_slice(&r.epoch.to_be_bytes());
        out.extend_from_slice(&r.seq.to_be_bytes()[2..]);
        out.extend_from_slice(&(r.payload.len() as u16).to_be_bytes());
        out.extend_from_slice(&r.payload);
    }
    out
}

/// One handshake fragment: `msg_type(1) length(3) message_seq(2) fragment_offset(3)
/// fragment_length(3)` then the fragment body.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Frag {
    msg_type: u8,
    length: u32,
    message_seq: u16,
    offset: u32,
    body: Vec<u8>,
}

impl Frag {
    /// A whole message in one fragment.
    fn whole(msg_type: u8, message_seq: u16, body: Vec<u8>) -> Self {
        Self {
            msg_type,
            length: body.len() as u32,
            message_seq,
            offset: 0,
            body,
        }
    }
}

fn frags(payload: &[u8]) -> Vec<Frag> {
    let mut out = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        assert!(rest.len() >= 12, "truncated handshake header");
        let frag_len = be(&rest[9..12]) as usize;
        out.push(Frag {
            msg_type: rest[0],
            length: be(&rest[1..4]) as u32,
            message_seq: be(&rest[4..6]) as u16,
            offset: be(&rest[6..9]) as u32,
            body: rest[12..12 + frag_len].to_vec(),
        });
        rest = &rest[12 + frag_len..];
    }
    out
}

fn frag_bytes(frags: &[Frag]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frags {
        out.push(f.msg_type);
        out.extend_from_slice(&f.length.to_be_bytes()[1..]);
        out.extend_from_slice(&f.message_seq.to_be_bytes());
        out.extend_from_slice(&f.offset.to_be_bytes()[1..]);
        out.extend_from_slice(&(f.body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&f.body);
    }
    out
}

/// Every plaintext handshake fragment in `datagrams`, with the record it came in.
fn handshake_frags(datagrams: &[Vec<u8>]) -> Vec<(Rec, Frag)> {
    let mut out = Vec::new();
    for d in datagrams {
        for r in records(d) {
            if r.content_type == CT_HANDSHAKE && r.epoch == 0 {
                for f in frags(&r.payload) {
                    out.push((r.clone(), f));
                }
            }
        }
    }
    out
}

/// The whole body of the one unfragmented message of `msg_type` in `datagrams`.
fn message(datagrams: &[Vec<u8>], msg_type: u8) -> Frag {
    let found: Vec<Frag> = handshake_frags(datagrams)
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| f.msg_type == msg_type)
        .collect();
    assert_eq!(found.len(), 1, "expected one message of type {msg_type}");
    let f = found.into_iter().next().unwrap();
    assert_eq!(
        f.length as usize,
        f.body.len(),
        "message {msg_type} is fragmented"
    );
    f
}

/// Applies `change` to every plaintext handshake fragment of `msg_type`, rewriting the
/// lengths; returns how many fragments were changed.
fn tamper(datagrams: &mut [Vec<u8>], msg_type: u8, mut change: impl FnMut(&mut Frag)) -> usize {
    let mut changed = 0;
    for d in datagrams.iter_mut() {
        let mut recs = records(d);
        for r in recs.iter_mut() {
            if r.content_type != CT_HANDSHAKE || r.epoch != 0 {
                continue;
            }
            let mut fs = frags(&r.payload);
            for f in fs.iter_mut().filter(|f| f.msg_type == msg_type) {
                change(f);
                changed += 1;
            }
            r.payload = frag_bytes(&fs);
        }
        *d = datagram(&recs);
    }
    changed
}

/// Offsets of each extension's type field in a hello body, with the type.
fn extension_types(body: &[u8], client_hello: bool) -> Vec<(usize, u16)> {
    let mut at = 2 + 32;
    at += 1 + body[at] as usize; // session_id
    if client_hello {
        at += 1 + body[at] as usize; // cookie
        at += 2 + be(&body[at..at + 2]) as usize; // cipher_suites
        at += 1 + body[at] as usize; // compression_methods
    } else {
        at += 2 + 1; // cipher_suite, compression_method
    }
    let end = at + 2 + be(&body[at..at + 2]) as usize;
    at += 2;
    let mut out = Vec::new();
    while at < end {
        out.push((at, be(&body[at..at + 2]) as u16));
        at += 4 + be(&body[at + 2..at + 4]) as usize;
    }
    assert_eq!(at, end, "extension block does not add up");
    out
}

/// Changes the type of extension `from` in a hello body to `to` (same length, so only the
/// meaning changes).
fn rename_extension(body: &mut [u8], client_hello: bool, from: u16, to: u16) {
    let (at, _) = extension_types(body, client_hello)
        .into_iter()
        .find(|(_, t)| *t == from)
        .unwrap_or_else(|| panic!("no extension {from:#06x}"));
    body[at..at + 2].copy_from_slice(&to.to_be_bytes());
}

/// The alerts sent in plaintext (epoch 0) records, as (level, description).
fn plaintext_alerts(datagrams: &[Vec<u8>]) -> Vec<(u8, u8)> {
    datagrams
        .iter()
        .flat_map(|d| records(d))
        .filter(|r| r.content_type == CT_ALERT)
        .map(|r| {
            assert_eq!(r.epoch, 0, "alert is not plaintext");
            assert_eq!(r.payload.len(), 2, "alert payload is two bytes");
            (r.payload[0], r.payload[1])
        })
        .collect()
}

fn fatal(description: AlertDescription) -> (u8, u8) {
    (u8::from(AlertLevel::Fatal), u8::from(description))
}

/// The one datagram holding one plaintext fatal alert.
fn assert_single_plaintext_fatal(datagrams: &[Vec<u8>], description: AlertDescription) {
    assert_eq!(datagrams.len(), 1, "one datagram: the alert");
    let recs = records(&datagrams[0]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].content_type, CT_ALERT);
    assert_eq!(recs[0].version, DTLS1_2);
    assert_eq!(recs[0].epoch, 0);
    assert_eq!(plaintext_alerts(datagrams), vec![fatal(description)]);
}

// ----- driving sessions --------------------------------------------------------------------

#[derive(Debug, Default)]
struct Taken {
    datagrams: Vec<Vec<u8>>,
    app: Vec<Vec<u8>>,
    events: Vec<Event>,
}

fn take(out: &Output<'_>) -> Taken {
    Taken {
        datagrams: out.transmits().map(<[u8]>::to_vec).collect(),
        app: out.app_data().map(<[u8]>::to_vec).collect(),
        events: out.events().to_vec(),
    }
}

fn collect(out: &Output<'_>) -> Vec<Vec<u8>> {
    out.transmits().map(<[u8]>::to_vec).collect()
}

/// A client, the front door and (once a cookie came back) the server session, with the
/// datagrams in flight between them. Tests move datagrams flight by flight and may tamper with
/// them in between.
struct Pair {
    now: Instant,
    client: ClientSession,
    server: Server,
    session: Option<Box<ServerSession>>,
    to_server: Vec<Vec<u8>>,
    to_client: Vec<Vec<u8>>,
    client_events: Vec<Event>,
    server_events: Vec<Event>,
    client_app: Vec<Vec<u8>>,
    server_app: Vec<Vec<u8>>,
}

impl Pair {
    fn new(server_cfg: ServerConfig, client_cfg: ClientConfig) -> Self {
        let now = Instant::now();
        let server = Server::new(Arc::new(server_cfg)).unwrap();
        let mut client = ClientSession::new(Arc::new(client_cfg), now).unwrap();
        let to_server = collect(&client.poll_output());
        Self {
            now,
            client,
            server,
            session: None,
            to_server,
            to_client: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            client_app: Vec::new(),
            server_app: Vec::new(),
        }
    }

    fn default_configs() -> Self {
        Self::new(server_config(), client_config())
    }

    fn session(&self) -> &ServerSession {
        self.session.as_deref().expect("no server session yet")
    }

    fn session_mut(&mut self) -> &mut ServerSession {
        self.session.as_deref_mut().expect("no server session yet")
    }

    fn server_receive(&mut self, d: &[u8]) {
        let taken = if let Some(s) = self.session.as_deref_mut() {
            take(&s.handle_datagram(self.now, d))
        } else {
            match self.server.accept(self.now, peer(), d) {
                Accept::HelloVerifyRequest(hvr) => Taken {
                    datagrams: vec![hvr.to_vec()],
                    ..Taken::default()
                },
                Accept::NewSession(mut s) => {
                    let t = take(&s.poll_output());
                    self.session = Some(s);
                    t
                }
                Accept::Ignored(why) => panic!("front door ignored a datagram: {why:?}"),
            }
        };
        self.to_client.extend(taken.datagrams);
        self.server_app.extend(taken.app);
        self.server_events.extend(taken.events);
    }

    fn client_receive(&mut self, d: &[u8]) {
        let taken = take(&self.client.handle_datagram(self.now, d));
        self.to_server.extend(taken.datagrams);
        self.client_app.extend(taken.app);
        self.client_events.extend(taken.events);
    }

    fn flush_to_server(&mut self) {
        for d in std::mem::take(&mut self.to_server) {
            self.server_receive(&d);
        }
    }

    fn flush_to_client(&mut self) {
        for d in std::mem::take(&mut self.to_client) {
            self.client_receive(&d);
        }
    }

    /// ClientHello → HelloVerifyRequest → ClientHello with cookie: the server's first flight
    /// is then in `to_client`.
    fn through_cookie_exchange(&mut self) {
        self.flush_to_server();
        self.flush_to_client();
        self.flush_to_server();
        assert!(
            self.session.is_some(),
            "the cookie exchange made no session"
        );
    }

    /// Moves datagrams until nothing is in flight.
    fn run(&mut self) {
        for _ in 0..20 {
            if self.to_server.is_empty() && self.to_client.is_empty() {
                return;
            }
            self.flush_to_server();
            self.flush_to_client();
        }
        panic!("datagrams still in flight after 20 rounds");
    }

    fn client_timeout(&mut self, at: Instant) {
        self.now = at;
        let taken = take(&self.client.handle_timeout(at));
        self.to_server.extend(taken.datagrams);
        self.client_events.extend(taken.events);
    }

    fn server_timeout(&mut self, at: Instant) {
        self.now = at;
        let taken = take(&self.session_mut().handle_timeout(at));
        self.to_client.extend(taken.datagrams);
        self.server_events.extend(taken.events);
    }

    fn both_connected(&self) -> bool {
        self.client.status() == &Status::Connected
            && self
                .session
                .as_ref()
                .is_some_and(|s| s.status() == &Status::Connected)
    }
}

/// Runs a clean handshake to completion.
fn connected_pair(server_cfg: ServerConfig, client_cfg: ClientConfig) -> Pair {
    let mut pair = Pair::new(server_cfg, client_cfg);
    pair.run();
    assert!(
        pair.both_connected(),
        "no handshake: client {:?}, server {:?}",
        pair.client.status(),
        pair.session.as_ref().map(|s| s.status().clone())
    );
    assert_eq!(pair.client_events, vec![Event::Connected]);
    assert_eq!(pair.server_events, vec![Event::Connected]);
    pair
}

/// The existing helper: the cookie exchange and handshake to completion.
fn connect(server_cfg: ServerConfig, client_cfg: ClientConfig) -> (ClientSession, ServerSession) {
    let pair = connected_pair(server_cfg, client_cfg);
    (pair.client, *pair.session.unwrap())
}

// ----- hand-made ClientHellos --------------------------------------------------------------

/// A ClientHello like the one our client sends.
fn our_hello(random: u8) -> ClientHello {
    let mut extensions = Extensions::new();
    extensions.push(Extension::SupportedGroups(vec![NamedGroup::Secp256r1]));
    extensions.push(Extension::EcPointFormats(vec![0]));
    extensions.push(Extension::SignatureAlgorithms(vec![
        SignatureScheme::EcdsaSecp256r1Sha256,
    ]));
    extensions.push(Extension::ExtendedMasterSecret);
    extensions.push(Extension::RenegotiationInfo(Vec::new()));
    ClientHello {
        client_version: ProtocolVersion::DTLS1_2,
        random: [random; 32],
        session_id: Vec::new(),
        cookie: Vec::new(),
        cipher_suites: vec![
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ],
        compression_methods: vec![0],
        extensions,
    }
}

fn hello_datagram(hello: &ClientHello, message_seq: u16, record_seq: u64) -> Vec<u8> {
    let mut body = Vec::new();
    hello.encode(&mut body);
    let frag = Frag::whole(HT_CLIENT_HELLO, message_seq, body);
    datagram(&[Rec::plaintext(
        CT_HANDSHAKE,
        0,
        record_seq,
        frag_bytes(&[frag]),
    )])
}

/// The cookie of a HelloVerifyRequest datagram.
fn cookie_of(hvr: &[u8]) -> Vec<u8> {
    let body = message(&[hvr.to_vec()], HT_HELLO_VERIFY_REQUEST).body;
    assert_eq!(be(&body[0..2]) as u16, DTLS1_0, "server_version");
    let len = body[2] as usize;
    assert_eq!(body.len(), 3 + len);
    body[3..].to_vec()
}

/// Sends `hello` without a cookie, then with the cookie of the HelloVerifyRequest: the
/// session the front door made from it, and that session's first output.
fn crafted_session(hello: ClientHello) -> (Box<ServerSession>, Vec<Vec<u8>>) {
    let now = Instant::now();
    let mut server = Server::new(Arc::new(server_config())).unwrap();
    let hvr = match server.accept(now, peer(), &hello_datagram(&hello, 0, 0)) {
        Accept::HelloVerifyRequest(hvr) => hvr.to_vec(),
        other => panic!("expected a HelloVerifyRequest, got {}", kind(&other)),
    };
    let mut second = hello;
    second.cookie = cookie_of(&hvr);
    match server.accept(now, peer(), &hello_datagram(&second, 1, 1)) {
        Accept::NewSession(mut s) => {
            let out = collect(&s.poll_output());
            (s, out)
        }
        other => panic!("expected a session, got {}", kind(&other)),
    }
}

/// What the front door did, without the session's (long) debug output.
fn kind(accept: &Accept<'_>) -> String {
    match accept {
        Accept::HelloVerifyRequest(_) => "HelloVerifyRequest".into(),
        Accept::NewSession(s) => format!("NewSession({:?})", s.status()),
        Accept::Ignored(why) => format!("Ignored({why:?})"),
    }
}

fn server_hello_of(flight: &[Vec<u8>]) -> ServerHello {
    ServerHello::decode(&message(flight, HT_SERVER_HELLO).body).unwrap()
}

// ===== a clean handshake ====================================================================

#[test]
fn handshake_aes128_gcm_and_app_data_both_ways() {
    let (mut client, mut server) = connect(server_config(), client_config());
    assert_eq!(
        client.cipher_suite(),
        Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
    );
    assert_eq!(client.cipher_suite(), server.cipher_suite());
    let now = Instant::now();
    let d = collect(&client.send(b"ping").unwrap());
    assert_eq!(d.len(), 1);
    let got = take(&server.handle_datagram(now, &d[0])).app;
    assert_eq!(got, vec![b"ping".to_vec()]);
    let d = collect(&server.send(b"pong").unwrap());
    let out = client.handle_datagram(now, &d[0]);
    assert_eq!(out.app_data().collect::<Vec<_>>(), vec![&b"pong"[..]]);
}

#[test]
fn handshake_aes256_gcm_sha384() {
    let mut server_cfg = server_config();
    server_cfg.common.cipher_suites = vec![CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384];
    let (client, server) = connect(server_cfg, client_config());
    assert_eq!(
        client.cipher_suite(),
        Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)
    );
    assert_eq!(server.cipher_suite(), client.cipher_suite());
}

#[test]
fn exporter_gives_both_sides_the_same_keying_material() {
    let (client, server) = connect(server_config(), client_config());
    let mut a = [0u8; 40];
    let mut b = [0u8; 40];
    client
        .export_keying_material(b"EXTRACTOR-dtls_srtp", None, &mut a)
        .unwrap();
    server
        .export_keying_material(b"EXTRACTOR-dtls_srtp", None, &mut b)
        .unwrap();
    assert_eq!(a, b);
    assert_ne!(a, [0u8; 40]);
    let mut c = [0u8; 40];
    server
        .export_keying_material(b"EXTRACTOR-dtls_srtp", Some(b"ctx"), &mut c)
        .unwrap();
    assert_ne!(b, c, "the context changes the output");
}

#[test]
fn close_notify_both_ways() {
    let (mut client, mut server) = connect(server_config(), client_config());
    let now = Instant::now();
    let d = collect(&client.close());
    assert_eq!(client.status(), &Status::Closed);
    let out = server.handle_datagram(now, &d[0]);
    assert_eq!(out.events(), &[Event::PeerClosed]);
    let reply = collect(&out);
    assert_eq!(reply.len(), 1, "close_notify is answered with close_notify");
    assert_eq!(server.status(), &Status::Closed);
    assert_eq!(server.send(b"x").unwrap_err(), Error::Closed);
}

// ===== the cookie exchange (RFC 6347 §4.2.1) ================================================

#[test]
fn cookie_first_client_hello_gets_a_stateless_hello_verify_request() {
    let t0 = Instant::now();
    let mut server = Server::new(Arc::new(server_config())).unwrap();
    let mut client = ClientSession::new(Arc::new(client_config()), t0).unwrap();
    let ch1 = collect(&client.poll_output());
    assert_eq!(ch1.len(), 1);
    let ch1_rec = records(&ch1[0]);
    assert_eq!(ch1_rec.len(), 1);
    assert_eq!(
        (ch1_rec[0].content_type, ch1_rec[0].epoch, ch1_rec[0].seq),
        (CT_HANDSHAKE, 0, 0)
    );
    let ch1_msg = message(&ch1, HT_CLIENT_HELLO);
    assert_eq!(ch1_msg.message_seq, 0);
    assert!(ClientHello::decode(&ch1_msg.body)
        .unwrap()
        .cookie
        .is_empty());

    let hvr = match server.accept(t0, peer(), &ch1[0]) {
        Accept::HelloVerifyRequest(hvr) => hvr.to_vec(),
        other => panic!("expected a HelloVerifyRequest, got {}", kind(&other)),
    };
    let stats = server.stats();
    assert_eq!(
        (
            stats.hello_verify_requests,
            stats.sessions_created,
            stats.ignored
        ),
        (1, 0, 0)
    );
    let hvr_recs = records(&hvr);
    assert_eq!(hvr_recs.len(), 1, "one record");
    assert_eq!(hvr_recs[0].content_type, CT_HANDSHAKE);
    assert_eq!(hvr_recs[0].version, DTLS1_0, "record version 0xfeff");
    assert_eq!(hvr_recs[0].epoch, 0);
    assert_eq!(
        hvr_recs[0].seq, ch1_rec[0].seq,
        "the ClientHello's record number"
    );
    let hvr_msg = message(std::slice::from_ref(&hvr), HT_HELLO_VERIFY_REQUEST);
    assert_eq!(hvr_msg.message_seq, ch1_msg.message_seq);
    let cookie = cookie_of(&hvr);
    assert_eq!(cookie.len(), puredtls::cookie::COOKIE_LEN);

    // The client repeats its ClientHello after 1 s with the next record number: the answer is
    // the same HelloVerifyRequest (same cookie: nothing about the first one was remembered)
    // carrying the new record number.
    assert_eq!(client.poll_timeout(), Some(t0 + secs(1)));
    let ch1_again = collect(&client.handle_timeout(t0 + secs(1)));
    assert_eq!(ch1_again.len(), 1);
    assert_eq!(records(&ch1_again[0])[0].seq, 1);
    assert_eq!(message(&ch1_again, HT_CLIENT_HELLO), ch1_msg);
    let hvr_again = match server.accept(t0 + secs(1), peer(), &ch1_again[0]) {
        Accept::HelloVerifyRequest(hvr) => hvr.to_vec(),
        other => panic!("expected a HelloVerifyRequest, got {}", kind(&other)),
    };
    let mut expected = records(&hvr);
    expected[0].seq = 1;
    assert_eq!(hvr_again, datagram(&expected));
    // The very same datagram once more: a byte-identical answer.
    match server.accept(t0 + secs(1), peer(), &ch1_again[0]) {
        Accept::HelloVerifyRequest(hvr) => assert_eq!(hvr, &hvr_again[..]),
        other => panic!("expected a HelloVerifyRequest, got {}", kind(&other)),
    }
    let stats = server.stats();
    assert_eq!(
        (stats.hello_verify_requests, stats.sessions_created),
        (3, 0)
    );

    // The endpoint keeps no session for a cookie-less ClientHello either.
    let mut endpoint = Endpoint::new(Arc::new(server_config())).unwrap();
    let out = endpoint.handle_datagram(t0, peer(), &ch1[0]);
    assert_eq!(out.transmits().len(), 1);
    assert_eq!(out.transmits()[0].peer, peer());
    assert!(out.events().is_empty());
    assert!(endpoint.is_empty());
    assert_eq!(endpoint.front_door_stats().hello_verify_requests, 1);
}

#[test]
fn cookie_round_trip_creates_the_session_and_server_hello_continues_the_numbers() {
    let mut pair = Pair::default_configs();
    pair.flush_to_server();
    pair.flush_to_client();
    // The second ClientHello: same random, the cookie, the next message_seq.
    let ch2 = pair.to_server.clone();
    assert_eq!(ch2.len(), 1);
    let ch2_rec = records(&ch2[0]).remove(0);
    let ch2_msg = message(&ch2, HT_CLIENT_HELLO);
    assert_eq!(ch2_msg.message_seq, 1);
    let hello = ClientHello::decode(&ch2_msg.body).unwrap();
    assert_eq!(hello.cookie.len(), puredtls::cookie::COOKIE_LEN);

    pair.flush_to_server();
    let stats = pair.server.stats();
    assert_eq!(
        (stats.hello_verify_requests, stats.sessions_created),
        (1, 1)
    );
    assert_eq!(pair.session().status(), &Status::Handshaking);
    // RFC 6347 §4.2.1: the server's initial ServerHello takes the ClientHello's record
    // number; §4.2.2: its message_seq follows the HelloVerifyRequest's.
    let flight = pair.to_client.clone();
    let frags = handshake_frags(&flight);
    let (sh_rec, sh) = frags
        .iter()
        .find(|(_, f)| f.msg_type == HT_SERVER_HELLO)
        .unwrap();
    assert_eq!(sh_rec.seq, ch2_rec.seq, "ServerHello record number");
    assert_eq!(sh_rec.version, DTLS1_2);
    assert_eq!(sh.message_seq, 1);
    // Then the numbers increase normally: the flight's messages are 1, 2, 3, 4.
    let kinds: Vec<(u8, u16)> = frags
        .iter()
        .map(|(_, f)| (f.msg_type, f.message_seq))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (HT_SERVER_HELLO, 1),
            (HT_CERTIFICATE, 2),
            (HT_SERVER_KEY_EXCHANGE, 3),
            (HT_SERVER_HELLO_DONE, 4)
        ]
    );
    let seqs: Vec<u64> = flight
        .iter()
        .flat_map(|d| records(d))
        .map(|r| r.seq)
        .collect();
    let expected: Vec<u64> = (ch2_rec.seq..ch2_rec.seq + seqs.len() as u64).collect();
    assert_eq!(seqs, expected);
    pair.run();
    assert!(pair.both_connected());
}

// ===== cookies bound to the address and to time =============================================

/// The client's second ClientHello (with its cookie), and the front door that issued it.
fn second_client_hello(server_cfg: ServerConfig, t0: Instant) -> (Server, Vec<u8>) {
    let mut server = Server::new(Arc::new(server_cfg)).unwrap();
    let mut client = ClientSession::new(Arc::new(client_config()), t0).unwrap();
    let ch1 = collect(&client.poll_output());
    let hvr = match server.accept(t0, peer(), &ch1[0]) {
        Accept::HelloVerifyRequest(hvr) => hvr.to_vec(),
        other => panic!("expected a HelloVerifyRequest, got {}", kind(&other)),
    };
    let ch2 = collect(&client.handle_datagram(t0, &hvr));
    assert_eq!(ch2.len(), 1);
    (server, ch2.into_iter().next().unwrap())
}

fn expect_hvr(server: &mut Server, now: Instant, from: SocketAddr, d: &[u8]) {
    match server.accept(now, from, d) {
        Accept::HelloVerifyRequest(_) => {}
        other => panic!(
            "expected a HelloVerifyRequest (cookie refused), got {}",
            kind(&other)
        ),
    }
}

fn expect_session(server: &mut Server, now: Instant, from: SocketAddr, d: &[u8]) {
    match server.accept(now, from, d) {
        Accept::NewSession(s) => assert_eq!(s.peer(), from),
        other => panic!("expected a session (cookie accepted), got {}", kind(&other)),
    }
}

#[test]
fn cookie_from_another_address_is_refused() {
    let t0 = Instant::now();
    let (mut server, ch2) = second_client_hello(server_config(), t0);
    expect_hvr(&mut server, t0, other_peer(), &ch2);
    let stats = server.stats();
    assert_eq!(
        (stats.hello_verify_requests, stats.sessions_created),
        (2, 0)
    );
    // From the address it was issued to, the same datagram is accepted.
    expect_session(&mut server, t0, peer(), &ch2);
    assert_eq!(server.stats().sessions_created, 1);
}

#[test]
fn cookie_survives_one_secret_rotation_and_dies_after_two() {
    let t0 = Instant::now();
    let (mut server, ch2) = second_client_hello(server_config(), t0);
    server.rotate_cookie_secret(&[7; 32]);
    expect_session(&mut server, t0, peer(), &ch2);
    server.rotate_cookie_secret(&[8; 32]);
    expect_hvr(&mut server, t0, peer(), &ch2);
    let stats = server.stats();
    assert_eq!(
        (stats.hello_verify_requests, stats.sessions_created),
        (2, 1)
    );
}

#[test]
fn cookie_expires_two_rotation_periods_after_it_was_issued() {
    let t0 = Instant::now();
    let mut cfg = server_config();
    cfg.cookie_rotation = secs(10);
    // The rotation clock starts at the first datagram (t0): the secret rotates at t0 + 10 s,
    // after which the cookie's secret is the previous one and still verifies...
    let (mut server, ch2) = second_client_hello(cfg.clone(), t0);
    expect_session(&mut server, t0 + secs(10), peer(), &ch2);
    let (mut server, ch2) = second_client_hello(cfg.clone(), t0);
    expect_session(&mut server, t0 + secs(19), peer(), &ch2);
    // ...until two periods have passed.
    let (mut server, ch2) = second_client_hello(cfg, t0);
    expect_hvr(&mut server, t0 + secs(20), peer(), &ch2);
    assert_eq!(server.stats().sessions_created, 0);
}

#[test]
fn cookie_rotation_keeps_its_schedule_when_traffic_is_sparse() {
    let t0 = Instant::now();
    let mut cfg = server_config();
    cfg.cookie_rotation = secs(10);
    let (mut server, ch2) = second_client_hello(cfg, t0);
    // A datagram at t0 + 19 s rotates the secret that was due at t0 + 10 s...
    expect_session(&mut server, t0 + secs(19), peer(), &ch2);
    // ...and the next rotation is still due at t0 + 20 s, two periods after the cookie.
    expect_hvr(&mut server, t0 + secs(20), peer(), &ch2);
}

// ===== a tampered Finished and transcript ===================================================

#[test]
fn finished_with_a_flipped_ciphertext_byte_is_dropped_as_a_bad_mac() {
    let mut pair = Pair::default_configs();
    pair.through_cookie_exchange();
    pair.flush_to_client();
    // The client's flight: ClientKeyExchange, ChangeCipherSpec (epoch 0), Finished (epoch 1).
    let flight = pair.to_server.clone();
    let kinds: Vec<(u8, u16)> = flight
        .iter()
        .flat_map(|d| records(d))
        .map(|r| (r.content_type, r.epoch))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (CT_HANDSHAKE, 0),
            (CT_CHANGE_CIPHER_SPEC, 0),
            (CT_HANDSHAKE, 1)
        ]
    );
    let mut recs = records(&flight[0]);
    *recs[2].payload.last_mut().unwrap() ^= 0x01;
    pair.to_server = vec![datagram(&recs)];
    pair.flush_to_server();
    let s = pair.session();
    assert_eq!(s.status(), &Status::Handshaking);
    assert_eq!(s.stats().dropped_bad_mac, 1);
    assert_eq!(
        s.stats().records_received,
        4,
        "the ClientHello and the three records"
    );
    assert!(pair.to_client.is_empty(), "no answer to a forged record");
    assert!(pair.server_events.is_empty());

    // The client repeats its flight after 1 s; this time it is intact and both connect.
    pair.client_timeout(pair.now + secs(1));
    assert_eq!(pair.client.stats().retransmissions, 1);
    pair.flush_to_server();
    assert_eq!(pair.session().status(), &Status::Connected);
    assert_eq!(pair.server_events, vec![Event::Connected]);
    // One answer: the server's final flight, sent once though the datagram also repeated the
    // already-processed ClientKeyExchange.
    assert_eq!(pair.to_client.len(), 1);
    assert_eq!(pair.session().stats().retransmissions, 0);
    pair.flush_to_client();
    assert!(pair.both_connected());
}

#[test]
fn server_hello_random_tampered_fails_the_client_with_bad_signature() {
    // The ServerKeyExchange signature covers both randoms (RFC 8422 §5.4), so a changed
    // server random is caught there, before any key is derived.
    let mut pair = Pair::default_configs();
    pair.through_cookie_exchange();
    let changed = tamper(&mut pair.to_client, HT_SERVER_HELLO, |f| {
        f.body[2 + 31] ^= 0x80
    });
    assert_eq!(changed, 1);
    pair.flush_to_client();
    assert_eq!(pair.client.status(), &Status::Failed(Error::BadSignature));
    assert_eq!(pair.client_events, vec![Event::Failed(Error::BadSignature)]);
    assert_single_plaintext_fatal(&pair.to_server, AlertDescription::DecryptError);
    pair.flush_to_server();
    let alert = Error::AlertReceived(AlertDescription::DecryptError);
    assert_eq!(pair.session().status(), &Status::Failed(alert.clone()));
    assert_eq!(pair.server_events, vec![Event::Failed(alert)]);
    assert!(pair.to_client.is_empty(), "no alert in answer to an alert");
}

#[test]
fn server_hello_stripped_of_ems_splits_the_keys_so_the_finished_is_dropped_and_both_time_out() {
    // The client does not insist on the extended master secret; an attacker renames the
    // server's extended_master_secret to an (allowed) empty server_name. The client then
    // derives the RFC 5246 master secret, the server the RFC 7627 one: no Finished verifies.
    let mut server_cfg = server_config();
    server_cfg.common.timers.handshake_timeout = secs(10);
    let mut client_cfg = client_config();
    client_cfg.common.require_extended_master_secret = false;
    client_cfg.common.timers.handshake_timeout = secs(10);
    let mut pair = Pair::new(server_cfg, client_cfg);
    let t0 = pair.now;
    pair.through_cookie_exchange();
    let changed = tamper(&mut pair.to_client, HT_SERVER_HELLO, |f| {
        rename_extension(
            &mut f.body,
            false,
            EXT_EXTENDED_MASTER_SECRET,
            EXT_SERVER_NAME,
        )
    });
    assert_eq!(changed, 1);
    pair.flush_to_client();
    assert_eq!(pair.client.status(), &Status::Handshaking);
    pair.flush_to_server();
    assert_eq!(pair.session().stats().dropped_bad_mac, 1);
    assert_eq!(pair.session().status(), &Status::Handshaking);
    assert!(pair.to_client.is_empty());

    // Both sides keep retransmitting into the void until their handshake clocks run out.
    while let Some(at) = [pair.client.poll_timeout(), pair.session().poll_timeout()]
        .into_iter()
        .flatten()
        .min()
    {
        if pair.client.poll_timeout() == Some(at) {
            pair.client_timeout(at);
        }
        if pair.session().poll_timeout() == Some(at) {
            pair.server_timeout(at);
        }
        pair.run();
        assert!(at <= t0 + secs(10));
    }
    assert_eq!(
        pair.client.status(),
        &Status::Failed(Error::HandshakeTimeout)
    );
    assert_eq!(
        pair.session().status(),
        &Status::Failed(Error::HandshakeTimeout)
    );
    assert_eq!(
        pair.client_events,
        vec![Event::Failed(Error::HandshakeTimeout)]
    );
    assert_eq!(
        pair.server_events,
        vec![Event::Failed(Error::HandshakeTimeout)]
    );
    // The client sent its flight at 0 s and again at 1, 3 and 7 s (the next, at 15 s, is past
    // the deadline); every Finished failed its MAC. The server, whose flight the client had
    // acknowledged, resent nothing.
    assert_eq!(pair.client.stats().retransmissions, 3);
    assert_eq!(pair.session().stats().dropped_bad_mac, 4);
    assert_eq!(pair.session().stats().retransmissions, 0);
    assert_eq!(pair.client.stats().app_records_received, 0);
}

#[test]
fn client_hello_tampered_after_the_cookie_fails_the_server_with_bad_finished() {
    // The cookie binds only version, random and session_id; the rest of the ClientHello is
    // protected by the Finished messages. With the extended master secret off on both sides
    // an attacker who renames the client's extended_master_secret leaves both sides with the
    // same keys but different transcripts: the Finished decrypts and does not verify.
    let mut server_cfg = server_config();
    server_cfg.common.require_extended_master_secret = false;
    let mut client_cfg = client_config();
    client_cfg.common.require_extended_master_secret = false;
    let mut pair = Pair::new(server_cfg, client_cfg);
    pair.flush_to_server();
    pair.flush_to_client();
    let changed = tamper(&mut pair.to_server, HT_CLIENT_HELLO, |f| {
        rename_extension(
            &mut f.body,
            true,
            EXT_EXTENDED_MASTER_SECRET,
            EXT_UNASSIGNED,
        )
    });
    assert_eq!(changed, 1);
    pair.flush_to_server();
    let extensions = server_hello_of(&pair.to_client).extensions;
    assert!(!extensions.has_extended_master_secret());
    pair.flush_to_client();
    pair.flush_to_server();
    let s = pair.session();
    assert_eq!(s.status(), &Status::Failed(Error::BadFinished));
    assert_eq!(s.stats().dropped_bad_mac, 0, "the Finished decrypted");
    assert_eq!(pair.server_events, vec![Event::Failed(Error::BadFinished)]);
    // The server has not sent its ChangeCipherSpec, so its alert is plaintext.
    assert_single_plaintext_fatal(&pair.to_client, AlertDescription::DecryptError);
    pair.flush_to_client();
    let alert = Error::AlertReceived(AlertDescription::DecryptError);
    assert_eq!(pair.client.status(), &Status::Failed(alert.clone()));
    assert_eq!(pair.client_events, vec![Event::Failed(alert)]);
}

// ===== a tampered ServerKeyExchange =========================================================

#[test]
fn server_key_exchange_signature_tampered_fails_with_bad_signature_and_decrypt_error() {
    let mut pair = Pair::default_configs();
    pair.through_cookie_exchange();
    let changed = tamper(&mut pair.to_client, HT_SERVER_KEY_EXCHANGE, |f| {
        *f.body.last_mut().unwrap() ^= 0x01
    });
    assert_eq!(changed, 1);
    pair.flush_to_client();
    assert_eq!(pair.client.status(), &Status::Failed(Error::BadSignature));
    assert_eq!(pair.client_events, vec![Event::Failed(Error::BadSignature)]);
    assert_eq!(pair.client.poll_timeout(), None);
    assert_single_plaintext_fatal(&pair.to_server, AlertDescription::DecryptError);
    // A failed session is finished: nothing more comes out of it.
    let again = collect(&pair.client.handle_timeout(pair.now + secs(5)));
    assert!(again.is_empty());
    assert_eq!(pair.client.send(b"x").unwrap_err(), Error::Closed);
}

// ===== replay and plaintext after the handshake =============================================

#[test]
fn replayed_application_record_is_delivered_once() {
    let mut pair = connected_pair(server_config(), client_config());
    let d = collect(&pair.client.send(b"once").unwrap());
    assert_eq!(d.len(), 1);
    pair.server_receive(&d[0]);
    pair.server_receive(&d[0]);
    assert_eq!(pair.server_app, vec![b"once".to_vec()]);
    let stats = *pair.session().stats();
    assert_eq!(stats.dropped_replay, 1);
    assert_eq!(stats.app_records_received, 1);
    assert_eq!(pair.session().status(), &Status::Connected);
}

#[test]
fn plaintext_application_data_after_connect_is_dropped() {
    let mut pair = connected_pair(server_config(), client_config());
    let before = *pair.session().stats();
    let forged = datagram(&[Rec::plaintext(
        CT_APPLICATION_DATA,
        0,
        1000,
        b"plaintext".to_vec(),
    )]);
    pair.server_receive(&forged);
    assert!(pair.server_app.is_empty());
    assert!(pair.to_client.is_empty());
    let stats = *pair.session().stats();
    assert_eq!(stats.dropped_unexpected, before.dropped_unexpected + 1);
    assert_eq!(stats.app_records_received, 0);
    assert_eq!(pair.session().status(), &Status::Connected);
}

#[test]
fn plaintext_handshake_messages_after_connect_do_not_change_status() {
    let mut pair = connected_pair(server_config(), client_config());
    // The server has read the client's messages 0..=3 (two ClientHellos, ClientKeyExchange,
    // Finished); forged plaintext messages with the next numbers must not reach its state
    // machine.
    let before = *pair.session().stats();
    let finished = Frag::whole(HT_FINISHED, 4, vec![0; 12]);
    let mut hello = Vec::new();
    our_hello(9).encode(&mut hello);
    let hello = Frag::whole(HT_CLIENT_HELLO, 5, hello);
    for (seq, frag) in [(2000, finished), (2001, hello)] {
        let forged = datagram(&[Rec::plaintext(CT_HANDSHAKE, 0, seq, frag_bytes(&[frag]))]);
        pair.server_receive(&forged);
    }
    assert_eq!(pair.session().status(), &Status::Connected);
    assert_eq!(pair.server_events, vec![Event::Connected], "nothing since");
    assert!(pair.to_client.is_empty(), "no alert, no flight");
    assert_eq!(
        pair.session().stats().dropped_unexpected,
        before.dropped_unexpected + 2
    );

    // The client has read the server's messages 0..=5 (HelloVerifyRequest, ServerHello,
    // Certificate, ServerKeyExchange, ServerHelloDone, Finished): a plaintext HelloRequest and
    // Finished numbered 6 and 7.
    let before = *pair.client.stats();
    let forged = datagram(&[
        Rec::plaintext(
            CT_HANDSHAKE,
            0,
            3000,
            frag_bytes(&[Frag::whole(HT_HELLO_REQUEST, 6, Vec::new())]),
        ),
        Rec::plaintext(
            CT_HANDSHAKE,
            0,
            3001,
            frag_bytes(&[Frag::whole(HT_FINISHED, 7, vec![0; 12])]),
        ),
    ]);
    pair.client_receive(&forged);
    assert_eq!(pair.client.status(), &Status::Connected);
    assert!(pair.to_server.is_empty());
    assert_eq!(
        pair.client.stats().dropped_unexpected,
        before.dropped_unexpected + 2
    );

    // Application data still flows both ways.
    let d = collect(&pair.client.send(b"still here").unwrap());
    pair.server_receive(&d[0]);
    assert_eq!(pair.server_app, vec![b"still here".to_vec()]);
}

// ===== retransmission (RFC 6347 §4.2.4) =====================================================

#[test]
fn repeated_final_flight_does_not_start_a_retransmission_loop() {
    // The client's timer fires while the server's final flight is on its way (a round trip
    // longer than the first timeout): the server answers the repeated flight with its final
    // flight again (RFC 6347 §4.2.4, FINISHED state). The client, connected by then, must
    // not answer that: the server would answer again, and so on for ever.
    let mut pair = Pair::default_configs();
    pair.through_cookie_exchange();
    pair.flush_to_client();
    pair.flush_to_server();
    assert_eq!(pair.session().status(), &Status::Connected);
    let final_flight = std::mem::take(&mut pair.to_client);
    pair.client_timeout(pair.now + secs(1));
    assert_eq!(pair.client.stats().retransmissions, 1);
    for d in &final_flight {
        pair.client_receive(d);
    }
    assert!(pair.both_connected());
    pair.flush_to_server();
    assert_eq!(
        pair.session().stats().retransmissions,
        1,
        "final flight resent once"
    );
    assert_eq!(pair.to_client.len(), 1);
    pair.flush_to_client();
    assert!(
        pair.to_server.is_empty(),
        "the connected client answered a repeated final flight"
    );
    assert_eq!(pair.client.stats().retransmissions, 1);
    assert_eq!(pair.client.poll_timeout(), None);
    assert!(pair.both_connected());
}

#[test]
fn repeated_client_key_exchange_does_not_make_the_server_resend_an_acknowledged_flight() {
    // The server has the client's ClientKeyExchange, so its own first flight got through; a
    // repeat of the client's flight whose Finished again fails must not bring it back.
    let mut pair = Pair::default_configs();
    pair.through_cookie_exchange();
    pair.flush_to_client();
    let mut recs = records(&pair.to_server[0]);
    *recs[2].payload.last_mut().unwrap() ^= 0x01;
    let forged = datagram(&recs);
    pair.to_server = vec![forged.clone()];
    pair.flush_to_server();
    // The same broken flight again, with fresh record numbers (as a retransmission has).
    for r in recs.iter_mut() {
        r.seq += 3;
    }
    pair.server_receive(&datagram(&recs));
    let s = pair.session();
    assert_eq!(s.stats().dropped_bad_mac, 2);
    assert_eq!(s.stats().retransmissions, 0);
    assert!(pair.to_client.is_empty());
    assert_eq!(s.status(), &Status::Handshaking);
}

#[test]
fn client_retransmits_with_a_doubling_capped_timer_then_times_out() {
    let mut client_cfg = client_config();
    client_cfg.common.timers.initial_retransmit = secs(1);
    client_cfg.common.timers.max_retransmit = secs(4);
    client_cfg.common.timers.handshake_timeout = secs(20);
    let mut pair = Pair::new(server_config(), client_cfg);
    let t0 = pair.now;
    assert_eq!(pair.client.poll_timeout(), Some(t0 + secs(1)));
    pair.flush_to_server();
    // The HelloVerifyRequest arrives after 500 ms: the new ClientHello restarts the timer.
    pair.now = t0 + ms(500);
    pair.flush_to_client();
    let ch2 = pair.to_server.clone();
    assert_eq!(pair.client.poll_timeout(), Some(t0 + ms(1500)));
    pair.flush_to_server();
    pair.to_client.clear(); // the server's first flight is lost

    // Not yet due: nothing happens.
    pair.client_timeout(t0 + ms(1499));
    assert!(pair.to_server.is_empty());
    assert_eq!(pair.client.poll_timeout(), Some(t0 + ms(1500)));

    // Due at 1.5, 3.5, 7.5, 11.5, 15.5, 19.5 s: the interval doubles (1, 2, 4 s) and stays at
    // the 4 s cap; the timer after the last (23.5 s) is past the handshake deadline (20 s).
    let mut record_seqs = Vec::new();
    let schedule = [
        (1500, 3500),
        (3500, 7500),
        (7500, 11_500),
        (11_500, 15_500),
        (15_500, 19_500),
        (19_500, 20_000),
    ];
    for (n, (at, next)) in schedule.into_iter().enumerate() {
        pair.client_timeout(t0 + ms(at));
        let sent = std::mem::take(&mut pair.to_server);
        assert_eq!(sent.len(), 1, "one ClientHello at {at} ms");
        assert_eq!(
            message(&sent, HT_CLIENT_HELLO),
            message(&ch2, HT_CLIENT_HELLO),
            "the same message (message_seq 1, same body)"
        );
        record_seqs.push(records(&sent[0])[0].seq);
        assert_eq!(pair.client.stats().retransmissions, n as u64 + 1);
        assert_eq!(pair.client.poll_timeout(), Some(t0 + ms(next)));
        assert_eq!(pair.client.status(), &Status::Handshaking);
    }
    let first = records(&ch2[0])[0].seq;
    assert_eq!(
        record_seqs,
        (first + 1..first + 7).collect::<Vec<_>>(),
        "fresh record numbers"
    );

    pair.client_timeout(t0 + secs(20));
    assert!(pair.to_server.is_empty(), "no alert for a timeout");
    assert_eq!(
        pair.client.status(),
        &Status::Failed(Error::HandshakeTimeout)
    );
    assert_eq!(
        pair.client_events,
        vec![Event::Failed(Error::HandshakeTimeout)]
    );
    assert_eq!(pair.client.poll_timeout(), None);
    // Nothing after the end.
    pair.client_timeout(t0 + secs(100));
    assert!(pair.to_server.is_empty());
    assert_eq!(pair.client_events.len(), 1);
}

#[test]
fn server_retransmits_its_flight_on_its_timer_and_when_the_client_hello_is_repeated() {
    let mut pair = Pair::default_configs();
    let t0 = pair.now;
    pair.through_cookie_exchange();
    let flight = std::mem::take(&mut pair.to_client); // lost
    let messages = |datagrams: &[Vec<u8>]| -> Vec<Frag> {
        handshake_frags(datagrams)
            .into_iter()
            .map(|(_, f)| f)
            .collect()
    };
    assert_eq!(pair.session().poll_timeout(), Some(t0 + secs(1)));

    // The client's repeated ClientHello (its timer fired first) brings the flight back at once,
    // without touching the server's timer.
    pair.client_timeout(t0 + secs(1));
    pair.flush_to_server();
    assert_eq!(messages(&pair.to_client), messages(&flight));
    assert_eq!(pair.session().stats().retransmissions, 1);
    assert_eq!(pair.session().poll_timeout(), Some(t0 + secs(1)));
    pair.to_client.clear(); // lost again

    // The server's own timer: 1 s, then 2 s more.
    pair.server_timeout(t0 + secs(1));
    assert_eq!(messages(&pair.to_client), messages(&flight));
    assert_eq!(pair.session().stats().retransmissions, 2);
    assert_eq!(pair.session().poll_timeout(), Some(t0 + secs(3)));
    // Every transmission numbers its records afresh.
    let seqs =
        |d: &[Vec<u8>]| -> Vec<u64> { d.iter().flat_map(|d| records(d)).map(|r| r.seq).collect() };
    let (a, b) = (seqs(&flight), seqs(&pair.to_client));
    assert!(b.iter().all(|s| !a.contains(s)), "{a:?} then {b:?}");

    // This time it arrives; the client's answer acknowledges it and stops the timer.
    pair.flush_to_client();
    pair.flush_to_server();
    assert_eq!(pair.session().status(), &Status::Connected);
    assert_eq!(pair.session().poll_timeout(), None);
    pair.flush_to_client();
    assert!(pair.both_connected());
    assert_eq!(pair.client.poll_timeout(), None);
}

// ===== fragmentation, duplication and reordering ============================================

#[test]
fn fragmented_flights_duplicated_and_reversed_still_complete() {
    let mut server_cfg = server_config();
    server_cfg.common.mtu = 256;
    let mut client_cfg = client_config();
    client_cfg.common.mtu = 256;
    let mut pair = Pair::new(server_cfg, client_cfg);
    pair.flush_to_server();
    pair.flush_to_client();
    pair.flush_to_server();

    let flight = pair.to_client.clone();
    assert!(
        flight.iter().all(|d| d.len() <= 256),
        "every datagram fits the MTU"
    );
    assert!(flight.len() >= 3, "several datagrams: {}", flight.len());
    assert!(
        flight.iter().any(|d| records(d).len() >= 2),
        "several records in one datagram"
    );
    let certificate: Vec<Frag> = handshake_frags(&flight)
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| f.msg_type == HT_CERTIFICATE)
        .collect();
    assert!(certificate.len() >= 2, "the Certificate is fragmented");
    let total: usize = certificate.iter().map(|f| f.body.len()).sum();
    assert_eq!(total, certificate[0].length as usize);

    // Every datagram twice, last first.
    let mangle = |flight: Vec<Vec<u8>>| -> Vec<Vec<u8>> {
        flight
            .into_iter()
            .rev()
            .flat_map(|d| [d.clone(), d])
            .collect()
    };
    let count = |flight: &[Vec<u8>]| flight.iter().map(|d| records(d).len() as u64).sum::<u64>();
    let flight_records = count(&flight);
    pair.to_client = mangle(flight);
    pair.flush_to_client();
    assert_eq!(pair.client.status(), &Status::Handshaking);
    let stats = *pair.client.stats();
    assert_eq!(stats.dropped_fragments, 0);
    assert_eq!(
        stats.dropped_replay, flight_records,
        "every copy is a replay"
    );
    assert_eq!(stats.retransmissions, 0, "copies are not repeats");
    assert!(pair.to_server.iter().all(|d| d.len() <= 256));
    let flight_records = count(&pair.to_server);
    pair.to_server = mangle(std::mem::take(&mut pair.to_server));
    pair.flush_to_server();
    assert_eq!(pair.session().status(), &Status::Connected);
    // The copy of the ChangeCipherSpec is not a replay: an epoch-0 record that brings no new
    // handshake data never moves the replay window (a forged one could otherwise poison it), so
    // the copy is dropped as unexpected instead.
    let s = *pair.session().stats();
    assert_eq!(
        (s.dropped_replay, s.dropped_unexpected),
        (flight_records - 1, 1)
    );
    pair.to_client = mangle(std::mem::take(&mut pair.to_client));
    pair.flush_to_client();
    assert!(pair.both_connected());
    assert_eq!(pair.client_events, vec![Event::Connected]);
    assert_eq!(pair.server_events, vec![Event::Connected]);

    let d = collect(&pair.session_mut().send(b"after the storm").unwrap());
    pair.client_receive(&d[0]);
    assert_eq!(pair.client_app, vec![b"after the storm".to_vec()]);
}

// ===== epochs ===============================================================================

#[test]
fn record_of_an_unknown_epoch_is_dropped() {
    let mut pair = connected_pair(server_config(), client_config());
    let before = *pair.session().stats();
    let forged = datagram(&[Rec::plaintext(CT_APPLICATION_DATA, 2, 0, vec![0x55; 40])]);
    pair.server_receive(&forged);
    let stats = *pair.session().stats();
    assert_eq!(stats.dropped_epoch, before.dropped_epoch + 1);
    assert_eq!(stats.records_received, before.records_received + 1);
    assert!(pair.server_app.is_empty());
    assert_eq!(pair.session().status(), &Status::Connected);
}

#[test]
fn application_data_before_the_finished_is_not_delivered() {
    let mut pair = Pair::default_configs();
    pair.through_cookie_exchange();
    pair.flush_to_client();
    pair.flush_to_server();
    assert_eq!(pair.session().status(), &Status::Connected);
    // The server may send right after its Finished; reordering makes its data arrive first.
    let final_flight = std::mem::take(&mut pair.to_client);
    let early = collect(&pair.session_mut().send(b"too early").unwrap());
    pair.client_receive(&early[0]);
    assert_eq!(
        pair.client.stats().buffered_next_epoch,
        1,
        "held until the CCS"
    );
    for d in &final_flight {
        pair.client_receive(d);
    }
    assert_eq!(pair.client.status(), &Status::Connected);
    assert!(
        pair.client_app.is_empty(),
        "read before the Finished: not delivered"
    );
    let stats = *pair.client.stats();
    assert_eq!(stats.dropped_unexpected, 1);
    assert_eq!(stats.app_records_received, 0);
    // Data sent now arrives.
    let later = collect(&pair.session_mut().send(b"in time").unwrap());
    pair.client_receive(&later[0]);
    assert_eq!(pair.client_app, vec![b"in time".to_vec()]);
}

// ===== send =================================================================================

#[test]
fn send_is_refused_before_connect_after_close_and_when_too_large() {
    let mut pair = Pair::default_configs();
    assert_eq!(pair.client.send(b"early").unwrap_err(), Error::NotConnected);
    pair.run();
    assert!(pair.both_connected());

    // MTU 1200 minus the 13-byte header and AES-GCM's 24 bytes.
    let max = 1200 - 13 - GCM_OVERHEAD;
    assert_eq!(pair.client.max_payload(), max);
    assert_eq!(pair.session().max_payload(), max);
    assert_eq!(
        pair.client.send(&vec![0; max + 1]).unwrap_err(),
        Error::MessageTooLarge { len: max + 1, max }
    );
    let full = collect(&pair.client.send(&vec![7; max]).unwrap());
    assert_eq!(full.len(), 1);
    assert_eq!(full[0].len(), 1200, "a full record fills the MTU exactly");
    pair.server_receive(&full[0]);
    assert_eq!(pair.server_app, vec![vec![7; max]]);

    let bye = collect(&pair.client.close());
    assert_eq!(bye.len(), 1);
    assert_eq!(pair.client.send(b"late").unwrap_err(), Error::Closed);
    pair.server_receive(&bye[0]);
    assert_eq!(pair.session().status(), &Status::Closed);
    assert_eq!(pair.session_mut().send(b"late").unwrap_err(), Error::Closed);
}

// ===== negotiation: extended master secret, suites, groups, extensions ======================

#[test]
fn ems_is_negotiated_even_when_the_client_does_not_require_it() {
    let mut client_cfg = client_config();
    client_cfg.common.require_extended_master_secret = false;
    let mut pair = Pair::new(server_config(), client_cfg);
    pair.flush_to_server();
    pair.flush_to_client();
    let hello = message(&pair.to_server, HT_CLIENT_HELLO);
    pair.flush_to_server();
    assert!(ClientHello::decode(&hello.body)
        .unwrap()
        .extensions
        .has_extended_master_secret());
    assert!(server_hello_of(&pair.to_client)
        .extensions
        .has_extended_master_secret());
    pair.run();
    assert!(pair.both_connected());
}

#[test]
fn server_refuses_a_client_hello_without_ems() {
    let mut hello = our_hello(1);
    hello
        .extensions
        .0
        .retain(|e| e != &Extension::ExtendedMasterSecret);
    let (session, out) = crafted_session(hello);
    assert_eq!(
        session.status(),
        &Status::Failed(Error::ExtendedMasterSecretRequired)
    );
    assert_single_plaintext_fatal(&out, AlertDescription::HandshakeFailure);
    assert_eq!(session.poll_timeout(), None);
}

#[test]
fn server_accepts_a_client_hello_without_ems_when_allowed() {
    let mut hello = our_hello(1);
    hello
        .extensions
        .0
        .retain(|e| e != &Extension::ExtendedMasterSecret);
    let now = Instant::now();
    let mut cfg = server_config();
    cfg.common.require_extended_master_secret = false;
    let mut server = Server::new(Arc::new(cfg)).unwrap();
    let hvr = match server.accept(now, peer(), &hello_datagram(&hello, 0, 0)) {
        Accept::HelloVerifyRequest(hvr) => hvr.to_vec(),
        other => panic!("expected a HelloVerifyRequest, got {}", kind(&other)),
    };
    hello.cookie = cookie_of(&hvr);
    let Accept::NewSession(mut session) = server.accept(now, peer(), &hello_datagram(&hello, 1, 1))
    else {
        panic!("expected a session");
    };
    assert_eq!(session.status(), &Status::Handshaking);
    let flight = collect(&session.poll_output());
    assert!(!server_hello_of(&flight)
        .extensions
        .has_extended_master_secret());
}

#[test]
fn client_refuses_a_server_hello_without_ems() {
    let mut pair = Pair::default_configs();
    pair.through_cookie_exchange();
    // Renamed to an empty server_name, which the client accepts, so only the missing
    // extended_master_secret is wrong.
    let changed = tamper(&mut pair.to_client, HT_SERVER_HELLO, |f| {
        rename_extension(
            &mut f.body,
            false,
            EXT_EXTENDED_MASTER_SECRET,
            EXT_SERVER_NAME,
        )
    });
    assert_eq!(changed, 1);
    pair.flush_to_client();
    assert_eq!(
        pair.client.status(),
        &Status::Failed(Error::ExtendedMasterSecretRequired)
    );
    assert_single_plaintext_fatal(&pair.to_server, AlertDescription::HandshakeFailure);
}

#[test]
fn no_common_cipher_suite_fails_with_handshake_failure() {
    let mut hello = our_hello(1);
    // TLS_RSA_WITH_AES_128_GCM_SHA256 and TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8.
    hello.cipher_suites = vec![CipherSuite::from(0x009c), CipherSuite::from(0xc0ae)];
    let (session, out) = crafted_session(hello);
    assert_eq!(
        session.status(),
        &Status::Failed(Error::NoCommonCipherSuite {
            offered: vec![0x009c, 0xc0ae]
        })
    );
    assert_single_plaintext_fatal(&out, AlertDescription::HandshakeFailure);
}

#[test]
fn dtls_1_0_only_client_hello_is_ignored_by_the_front_door() {
    let mut hello = our_hello(1);
    hello.client_version = ProtocolVersion::DTLS1_0;
    let mut server = Server::new(Arc::new(server_config())).unwrap();
    match server.accept(Instant::now(), peer(), &hello_datagram(&hello, 0, 0)) {
        Accept::Ignored(why) => assert_eq!(why, Ignored::UnsupportedVersion),
        other => panic!("expected Ignored, got {}", kind(&other)),
    }
    let stats = server.stats();
    assert_eq!(
        (
            stats.hello_verify_requests,
            stats.sessions_created,
            stats.ignored
        ),
        (0, 0, 1)
    );
}

#[test]
fn unknown_suites_groups_and_extensions_are_skipped() {
    let mut hello = our_hello(1);
    hello.cipher_suites = vec![
        CipherSuite::from(0xcca9), // ECDHE-ECDSA-CHACHA20-POLY1305
        CipherSuite::from(0x1301), // TLS 1.3's TLS_AES_128_GCM_SHA256
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ];
    hello.extensions.push(Extension::SupportedGroups(vec![
        NamedGroup::from(0x11ec), // X25519MLKEM768
        NamedGroup::X25519,
        NamedGroup::Secp256r1,
    ]));
    hello.extensions.push(Extension::SignatureAlgorithms(vec![
        SignatureScheme::Ed25519,
        SignatureScheme::from(0x0905), // unassigned
        SignatureScheme::EcdsaSecp256r1Sha256,
    ]));
    hello.extensions.push(Extension::Unknown {
        extension_type: ExtensionType::from(EXT_UNASSIGNED),
        data: vec![1, 2, 3],
    });
    let (session, out) = crafted_session(hello);
    assert_eq!(session.status(), &Status::Handshaking);
    let sh = server_hello_of(&out);
    // The server's preference order decides among the suites both know.
    assert_eq!(
        sh.cipher_suite,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    );
    assert_eq!(u16::from(sh.cipher_suite), 0xc02b);
    assert!(sh
        .extensions
        .get(ExtensionType::from(EXT_UNASSIGNED))
        .is_none());
    // The key exchange is on secp256r1 (named_curve 23, RFC 8422 §5.4).
    let ske = message(&out, HT_SERVER_KEY_EXCHANGE).body;
    assert_eq!(&ske[..3], &[3, 0, 23]);
    assert_eq!(message(&out, HT_SERVER_HELLO_DONE).body, Vec::<u8>::new());
}

#[test]
fn duplicate_extension_fails_with_decode_error() {
    let mut hello = our_hello(1);
    // Extensions::push refuses duplicates; build the list by hand.
    hello.extensions.0.push(Extension::ExtendedMasterSecret);
    let (session, out) = crafted_session(hello);
    assert_eq!(
        session.status(),
        &Status::Failed(Error::Decode {
            message: "ClientHello",
            detail: "the peer sent the ExtendedMasterSecret extension twice in one hello \
                     (RFC 5246 §7.4.1.4 forbids this)"
                .into()
        })
    );
    assert_single_plaintext_fatal(&out, AlertDescription::DecodeError);
}

#[test]
fn non_empty_renegotiation_info_fails_with_handshake_failure() {
    let mut hello = our_hello(1);
    hello
        .extensions
        .push(Extension::RenegotiationInfo(vec![0xaa; 12]));
    let (session, out) = crafted_session(hello);
    assert_eq!(
        session.status(),
        &Status::Failed(Error::SecureRenegotiationFailed)
    );
    assert_single_plaintext_fatal(&out, AlertDescription::HandshakeFailure);
}

#[test]
fn renegotiation_info_is_answered_only_when_the_client_signals_it() {
    let renegotiation_info = |hello: ClientHello| -> Option<Vec<u8>> {
        let (session, out) = crafted_session(hello);
        assert_eq!(session.status(), &Status::Handshaking);
        let sh = server_hello_of(&out);
        let types: Vec<u16> = sh
            .extensions
            .0
            .iter()
            .map(|e| u16::from(e.extension_type()))
            .collect();
        assert_eq!(
            types
                .iter()
                .filter(|t| **t == EXT_RENEGOTIATION_INFO)
                .count(),
            usize::from(sh.extensions.renegotiation_info().is_some())
        );
        sh.extensions.renegotiation_info().map(<[u8]>::to_vec)
    };
    // The empty extension (RFC 5746 §3.4).
    assert_eq!(renegotiation_info(our_hello(1)), Some(Vec::new()));
    // The signalling suite instead (RFC 5746 §3.3).
    let mut scsv = our_hello(2);
    scsv.extensions
        .0
        .retain(|e| e.extension_type() != ExtensionType::RenegotiationInfo);
    scsv.cipher_suites
        .push(CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
    assert_eq!(renegotiation_info(scsv), Some(Vec::new()));
    // Neither: the server must not send it.
    let mut neither = our_hello(3);
    neither
        .extensions
        .0
        .retain(|e| e.extension_type() != ExtensionType::RenegotiationInfo);
    assert_eq!(renegotiation_info(neither), None);
}

#[test]
fn server_name_is_exposed_by_the_server_session() {
    let mut hello = our_hello(1);
    hello
        .extensions
        .push(Extension::ServerName("game.example.com".into()));
    let (session, _) = crafted_session(hello);
    assert_eq!(session.server_name(), Some("game.example.com"));

    // Our client sends the configured name...
    let with_name = |name: &str| {
        let mut cfg = ClientConfig::with_verification(
            ServerCertVerification::DangerousAcceptAnyCertificate,
            Some(name.into()),
        );
        cfg.common.random = seeded(2);
        cfg
    };
    let pair = connected_pair(server_config(), with_name("localhost"));
    assert_eq!(pair.session().server_name(), Some("localhost"));
    // ...but never an IP address (RFC 6066 §3).
    let pair = connected_pair(server_config(), with_name("127.0.0.1"));
    assert_eq!(pair.session().server_name(), None);
    let pair = connected_pair(server_config(), client_config());
    assert_eq!(pair.session().server_name(), None);
}

// ===== the endpoint: routing by peer ========================================================

#[derive(Debug, Default)]
struct EpTaken {
    to: Vec<(SocketAddr, Vec<u8>)>,
    app: Vec<(SocketAddr, Vec<u8>)>,
    events: Vec<EndpointEvent>,
}

fn ep_take(out: &puredtls::EndpointOutput<'_>) -> EpTaken {
    EpTaken {
        to: out
            .transmits()
            .iter()
            .map(|t| (t.peer, out.datagram(t).to_vec()))
            .collect(),
        app: out.app_data().map(|(p, d)| (p, d.to_vec())).collect(),
        events: out.events().to_vec(),
    }
}

fn ep_feed(endpoint: &mut Endpoint, now: Instant, from: SocketAddr, d: &[u8]) -> EpTaken {
    ep_take(&endpoint.handle_datagram(now, from, d))
}

/// Moves datagrams between `client` (at `from`) and the endpoint until nothing is in flight;
/// returns the endpoint's events.
fn ep_exchange(
    endpoint: &mut Endpoint,
    client: &mut ClientSession,
    from: SocketAddr,
    now: Instant,
    mut to_endpoint: Vec<Vec<u8>>,
) -> Vec<EndpointEvent> {
    let mut events = Vec::new();
    for _ in 0..10 {
        if to_endpoint.is_empty() {
            return events;
        }
        let mut to_client = Vec::new();
        for d in to_endpoint.drain(..) {
            let t = ep_feed(endpoint, now, from, &d);
            assert!(
                t.to.iter().all(|(p, _)| *p == from),
                "sent to the wrong peer"
            );
            to_client.extend(t.to.into_iter().map(|(_, d)| d));
            events.extend(t.events);
        }
        for d in to_client {
            to_endpoint.extend(collect(&client.handle_datagram(now, &d)));
        }
    }
    panic!("datagrams still in flight");
}

fn ep_connect(endpoint: &mut Endpoint, seed: u64, from: SocketAddr, now: Instant) -> ClientSession {
    let mut client = ClientSession::new(Arc::new(client_config_seeded(seed)), now).unwrap();
    let first = collect(&client.poll_output());
    let events = ep_exchange(endpoint, &mut client, from, now, first);
    assert_eq!(
        events,
        vec![
            EndpointEvent::Accepted(from),
            EndpointEvent::Session(from, Event::Connected)
        ]
    );
    assert_eq!(client.status(), &Status::Connected);
    client
}

#[test]
fn endpoint_creates_the_session_only_at_the_client_hello_fragment_with_the_cookie() {
    let t0 = Instant::now();
    let mut endpoint = Endpoint::new(Arc::new(server_config())).unwrap();
    let mut client_cfg = client_config();
    client_cfg.common.mtu = 128;
    let mut client = ClientSession::new(Arc::new(client_cfg), t0).unwrap();
    let mut hvr = Vec::new();
    for d in collect(&client.poll_output()) {
        hvr.extend(ep_feed(&mut endpoint, t0, peer(), &d).to);
    }
    assert_eq!(hvr.len(), 1, "one HelloVerifyRequest");
    assert!(endpoint.is_empty());
    let ch2 = collect(&client.handle_datagram(t0, &hvr[0].1));
    assert_eq!(
        ch2.len(),
        2,
        "the ClientHello with its cookie takes two datagrams"
    );
    let parts: Vec<Frag> = handshake_frags(&ch2).into_iter().map(|(_, f)| f).collect();
    assert_eq!(parts.len(), 2);
    assert_eq!((parts[0].msg_type, parts[0].offset), (HT_CLIENT_HELLO, 0));
    assert_eq!(parts[1].offset as usize, parts[0].body.len());
    assert!(parts[0].body.len() < parts[0].length as usize);
    let prefix = ClientHello::decode_prefix(&parts[0].body).unwrap();
    assert_eq!(prefix.cookie.len(), puredtls::cookie::COOKIE_LEN);

    // The second fragment alone, before any session: nothing to do.
    let fresh = &mut Endpoint::new(Arc::new(server_config())).unwrap();
    let t = ep_feed(fresh, t0, peer(), &ch2[1]);
    assert!(t.to.is_empty() && t.events.is_empty());
    assert!(fresh.is_empty());
    assert_eq!(fresh.front_door_stats().ignored, 1);

    // The first fragment carries the cookie: the session exists from then on.
    let t = ep_feed(&mut endpoint, t0, peer(), &ch2[0]);
    assert_eq!(t.events, vec![EndpointEvent::Accepted(peer())]);
    assert!(t.to.is_empty(), "the ClientHello is not complete yet");
    assert_eq!(endpoint.len(), 1);
    assert_eq!(
        endpoint.session(&peer()).unwrap().status(),
        &Status::Handshaking
    );
    // The same fragment again (a retransmission) goes to that session; it does not replace it.
    let t = ep_feed(&mut endpoint, t0, peer(), &ch2[0]);
    assert!(t.events.is_empty(), "{:?}", t.events);
    assert!(t.to.is_empty());
    assert_eq!(endpoint.front_door_stats().sessions_created, 1);

    // The second fragment completes it, and the server answers.
    let t = ep_feed(&mut endpoint, t0, peer(), &ch2[1]);
    assert!(t.events.is_empty());
    let flight: Vec<Vec<u8>> = t.to.into_iter().map(|(_, d)| d).collect();
    assert_eq!(
        server_hello_of(&flight).cipher_suite,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    );
    let mut to_endpoint = Vec::new();
    for d in &flight {
        to_endpoint.extend(collect(&client.handle_datagram(t0, d)));
    }
    let events = ep_exchange(&mut endpoint, &mut client, peer(), t0, to_endpoint);
    assert_eq!(
        events,
        vec![EndpointEvent::Session(peer(), Event::Connected)]
    );
    assert_eq!(client.status(), &Status::Connected);
}

#[test]
fn endpoint_answers_a_cookieless_client_hello_from_a_connected_peer_without_disturbing_it() {
    let t0 = Instant::now();
    let mut endpoint = Endpoint::new(Arc::new(server_config())).unwrap();
    let mut old = ep_connect(&mut endpoint, 2, peer(), t0);

    // A new client on the same address and port (e.g. the application restarted).
    let mut new = ClientSession::new(Arc::new(client_config_seeded(3)), t0).unwrap();
    let ch1 = collect(&new.poll_output());
    let t = ep_feed(&mut endpoint, t0, peer(), &ch1[0]);
    assert_eq!(t.to.len(), 1);
    let hvr = t.to[0].1.clone();
    assert_eq!(cookie_of(&hvr).len(), puredtls::cookie::COOKIE_LEN);
    assert!(t.events.is_empty());
    assert_eq!(endpoint.len(), 1);
    assert_eq!(
        endpoint.session(&peer()).unwrap().status(),
        &Status::Connected
    );
    let d = collect(&old.send(b"old association").unwrap());
    let t = ep_feed(&mut endpoint, t0, peer(), &d[0]);
    assert_eq!(t.app, vec![(peer(), b"old association".to_vec())]);
    let t = ep_take(&endpoint.send(peer(), b"to the old one").unwrap());
    let got = take(&old.handle_datagram(t0, &t.to[0].1)).app;
    assert_eq!(got, vec![b"to the old one".to_vec()]);

    // With the cookie the new client proved it is at that address: its handshake replaces the
    // old association (RFC 6347 §4.2.8).
    let ch2 = collect(&new.handle_datagram(t0, &hvr));
    let t = ep_feed(&mut endpoint, t0, peer(), &ch2[0]);
    assert_eq!(
        t.events,
        vec![
            EndpointEvent::Replaced(peer()),
            EndpointEvent::Accepted(peer())
        ]
    );
    let mut to_endpoint = Vec::new();
    for (_, d) in &t.to {
        to_endpoint.extend(collect(&new.handle_datagram(t0, d)));
    }
    let events = ep_exchange(&mut endpoint, &mut new, peer(), t0, to_endpoint);
    assert_eq!(
        events,
        vec![EndpointEvent::Session(peer(), Event::Connected)]
    );
    assert_eq!(endpoint.len(), 1);
    let d = collect(&new.send(b"new association").unwrap());
    let t = ep_feed(&mut endpoint, t0, peer(), &d[0]);
    assert_eq!(t.app, vec![(peer(), b"new association".to_vec())]);
    // The old client's records no longer decrypt anywhere.
    let d = collect(&old.send(b"stale").unwrap());
    let t = ep_feed(&mut endpoint, t0, peer(), &d[0]);
    assert!(t.app.is_empty() && t.to.is_empty() && t.events.is_empty());
    assert_eq!(
        endpoint.session(&peer()).unwrap().stats().dropped_bad_mac,
        1
    );
}

#[test]
fn endpoint_expires_idle_sessions() {
    let t0 = Instant::now();
    let mut cfg = server_config();
    cfg.idle_timeout = secs(30);
    let mut endpoint = Endpoint::new(Arc::new(cfg)).unwrap();
    let mut client = ep_connect(&mut endpoint, 2, peer(), t0);
    assert_eq!(endpoint.poll_timeout(), Some(t0 + secs(30)));
    // Traffic pushes expiry back.
    let d = collect(&client.send(b"alive").unwrap());
    ep_feed(&mut endpoint, t0 + secs(10), peer(), &d[0]);
    assert_eq!(endpoint.poll_timeout(), Some(t0 + secs(40)));
    let t = ep_take(&endpoint.handle_timeout(t0 + secs(39)));
    assert!(t.events.is_empty() && t.to.is_empty());
    assert_eq!(endpoint.len(), 1);
    let t = ep_take(&endpoint.handle_timeout(t0 + secs(40)));
    assert_eq!(t.events, vec![EndpointEvent::Expired(peer())]);
    assert!(t.to.is_empty());
    assert!(endpoint.is_empty());
    assert_eq!(endpoint.poll_timeout(), None);
    // Its records now reach the front door, which ignores them.
    let d = collect(&client.send(b"anyone?").unwrap());
    let t = ep_feed(&mut endpoint, t0 + secs(41), peer(), &d[0]);
    assert!(t.events.is_empty() && t.to.is_empty() && t.app.is_empty());
    assert_eq!(endpoint.front_door_stats().ignored, 1);
    assert_eq!(endpoint.send(peer(), b"x").unwrap_err(), Error::Closed);
}

#[test]
fn endpoint_refuses_sessions_beyond_max_sessions() {
    let t0 = Instant::now();
    let mut cfg = server_config();
    cfg.max_sessions = 1;
    let mut endpoint = Endpoint::new(Arc::new(cfg)).unwrap();
    let mut first = ep_connect(&mut endpoint, 2, peer(), t0);

    let mut second = ClientSession::new(Arc::new(client_config_seeded(3)), t0).unwrap();
    let ch1 = collect(&second.poll_output());
    let t = ep_feed(&mut endpoint, t0, other_peer(), &ch1[0]);
    assert_eq!(
        t.to.len(),
        1,
        "the cookie exchange is stateless, so it still happens"
    );
    let ch2 = collect(&second.handle_datagram(t0, &t.to[0].1));
    let t = ep_feed(&mut endpoint, t0, other_peer(), &ch2[0]);
    assert_eq!(t.events, vec![EndpointEvent::Refused(other_peer())]);
    assert!(t.to.is_empty());
    assert_eq!(endpoint.len(), 1);
    assert_eq!(
        endpoint.front_door_stats().sessions_created,
        1,
        "a refused ClientHello costs no handshake work"
    );
    assert!(endpoint.session(&other_peer()).is_none());

    let d = collect(&first.send(b"unaffected").unwrap());
    let t = ep_feed(&mut endpoint, t0, peer(), &d[0]);
    assert_eq!(t.app, vec![(peer(), b"unaffected".to_vec())]);
}

/// The endpoint's `poll_timeout` is the earliest of its sessions' deadlines after every call,
/// though it keeps them in a lazily updated heap.
#[test]
fn endpoint_poll_timeout_is_the_earliest_session_deadline() {
    let t0 = Instant::now();
    let mut cfg = server_config();
    cfg.idle_timeout = secs(3600);
    let mut endpoint = Endpoint::new(Arc::new(cfg)).unwrap();
    let earliest = |endpoint: &Endpoint| {
        let peers: Vec<SocketAddr> = endpoint.peers().copied().collect();
        peers
            .iter()
            .filter_map(|p| endpoint.session(p).and_then(|s| s.poll_timeout()))
            .min()
    };
    // Three handshakes left waiting for the client's second flight, started 100 ms apart.
    let mut clients = Vec::new();
    for i in 0..3u16 {
        let at = t0 + Duration::from_millis(100 * u64::from(i));
        let from: SocketAddr = format!("127.0.0.1:{}", 41000 + i).parse().unwrap();
        let mut client =
            ClientSession::new(Arc::new(client_config_seeded(10 + u64::from(i))), at).unwrap();
        let ch1 = collect(&client.poll_output());
        let hvr = ep_feed(&mut endpoint, at, from, &ch1[0]).to;
        let ch2 = collect(&client.handle_datagram(at, &hvr[0].1));
        let flight = ep_feed(&mut endpoint, at, from, &ch2[0]);
        assert!(!flight.to.is_empty());
        assert_eq!(endpoint.poll_timeout(), earliest(&endpoint));
        clients.push(client);
    }
    assert_eq!(endpoint.poll_timeout(), Some(t0 + secs(1)));
    // Each expiry retransmits one session's flight and moves its deadline 2 s later.
    let mut resent = Vec::new();
    for _ in 0..6 {
        let now = endpoint.poll_timeout().unwrap();
        let out = ep_take(&endpoint.handle_timeout(now));
        resent.extend(out.to.iter().map(|(p, _)| *p));
        assert_eq!(endpoint.poll_timeout(), earliest(&endpoint));
    }
    let order: Vec<u16> = resent.iter().map(|p| p.port() - 41000).collect();
    assert_eq!(order, vec![0, 1, 2, 0, 1, 2], "{resent:?}");
    // A session that goes away takes its deadline with it.
    ep_take(&endpoint.close("127.0.0.1:41000".parse().unwrap()));
    assert_eq!(endpoint.poll_timeout(), earliest(&endpoint));
    assert_eq!(endpoint.len(), 2);
}
