//! A deterministic network simulator for tests: one [`ClientSession`] and one server
//! [`Endpoint`] (so the cookie exchange is included) joined by two one-way links, each with its
//! own loss, exact drop pattern, duplication, delay, jitter (reordering), MTU and datagram
//! packing.
//!
//! Time is virtual: an `Instant` base advanced explicitly to the next delivery or the earliest
//! `poll_timeout` of either side; nothing sleeps. The links draw from a ChaCha20 generator
//! seeded per run, and both sides' own randomness (randoms, ECDHE keys, cookie secret) comes
//! from seeded generators too, through `config.common.random`, so a run is reproducible from
//! its seed. Keys and certificates are fixed files beside this module.
//!
//! Sessions are driven only through `handle_datagram`, `handle_timeout` and `poll_timeout`.
//!
//! Test files include it with `mod sim;`; not every file uses every helper.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use puredtls::handshake::fragment::encode_unfragmented;
use puredtls::handshake::HandshakeType;
use puredtls::record::{records, ContentType, ProtocolVersion, RecordHeader};
use puredtls::rng::RandomSource;
use puredtls::{
    CertificateDer, ClientConfig, ClientSession, Endpoint, EndpointEvent, Event, PrivateKey,
    ServerConfig, Status,
};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

pub const SERVER_CERT: &str = include_str!("certs/server.cert.pem");
pub const SERVER_KEY: &str = include_str!("certs/server.key.pem");
pub const CLIENT_CERT: &str = include_str!("certs/client.cert.pem");
pub const CLIENT_KEY: &str = include_str!("certs/client.key.pem");

// ----- deterministic randomness ---------------------------------------------------------------

/// A seeded ChaCha20 generator as the sessions' [`RandomSource`].
#[derive(Debug)]
pub struct SeededRandom(Mutex<ChaCha20Rng>);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(ChaCha20Rng::seed_from_u64(seed)))
    }
}

impl RandomSource for SeededRandom {
    fn fill(&self, dest: &mut [u8]) {
        // A poisoned lock only means another test thread panicked; the generator is intact.
        let mut rng = self.0.lock().unwrap_or_else(|e| e.into_inner());
        rng.fill_bytes(dest);
    }
}

pub fn seeded(seed: u64) -> Arc<dyn RandomSource> {
    Arc::new(SeededRandom::new(seed))
}

// ----- configurations -------------------------------------------------------------------------

fn identity(cert: &str, key: &str) -> (Vec<CertificateDer>, PrivateKey) {
    let chain = puredtls::cert::load_certificates(cert.as_bytes()).expect("fixed test cert");
    let key = PrivateKey::from_pem(key).expect("fixed test key");
    (chain, key)
}

/// The fixed server certificate chain and key.
pub fn server_identity() -> (Vec<CertificateDer>, PrivateKey) {
    identity(SERVER_CERT, SERVER_KEY)
}

/// The fixed client certificate chain and key.
pub fn client_identity() -> (Vec<CertificateDer>, PrivateKey) {
    identity(CLIENT_CERT, CLIENT_KEY)
}

/// A server config with the fixed identity and randomness seeded from `seed`.
pub fn server_config(seed: u64) -> ServerConfig {
    let (chain, key) = server_identity();
    let mut c = ServerConfig::new(chain, key).expect("server config");
    c.common.random = seeded(seed ^ 0x5e5e_5e5e_0000_0001);
    c
}

/// A client config that accepts the server's certificate, randomness seeded from `seed`.
pub fn client_config(seed: u64) -> ClientConfig {
    let mut c = ClientConfig::dangerous_accept_any_certificate();
    c.common.random = seeded(seed ^ 0xc1c1_c1c1_0000_0002);
    c
}

/// A server that requires a client certificate (any) and a client that has one.
pub fn client_auth_configs(seed: u64) -> (ClientConfig, ServerConfig) {
    let mut s = server_config(seed);
    s.client_auth = puredtls::ClientAuth::Required(
        puredtls::ServerCertVerification::DangerousAcceptAnyCertificate,
    );
    let (chain, key) = client_identity();
    let c = client_config(seed)
        .with_client_certificate(chain, key)
        .expect("client identity");
    (c, s)
}

// ----- links ------------------------------------------------------------------------------------

/// Which way a datagram travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dir {
    ToServer,
    ToClient,
}

impl Dir {
    fn index(self) -> usize {
        match self {
            Dir::ToServer => 0,
            Dir::ToClient => 1,
        }
    }
}

/// The behaviour of one direction.
#[derive(Debug, Clone, Default)]
pub struct Link {
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Exact datagrams to lose: 0-based positions in the order the sender emitted them
    /// (after packing, before duplication).
    pub drop: BTreeSet<usize>,
    /// Probability that a datagram is delivered twice (the copy gets its own jitter).
    pub duplicate: f64,
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Uniform extra delay in `[0, jitter)` per datagram: datagrams sent together arrive in a
    /// shuffled order.
    pub jitter: Duration,
    /// Datagrams longer than this are lost, as a path MTU would.
    pub mtu: Option<usize>,
    /// Coalesce the datagrams of one call into as few datagrams as fit `pack_limit`.
    pub pack: bool,
    pub pack_limit: usize,
}

impl Link {
    pub fn perfect() -> Self {
        Self {
            delay: Duration::from_millis(10),
            ..Self::default()
        }
    }

    pub fn lossy(loss: f64) -> Self {
        Self {
            loss,
            ..Self::perfect()
        }
    }

    pub fn dropping(positions: &[usize]) -> Self {
        Self {
            drop: positions.iter().copied().collect(),
            ..Self::perfect()
        }
    }
}

/// Counters of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Datagrams the sender emitted (after packing).
    pub sent: usize,
    pub lost: usize,
    pub too_big: usize,
    pub duplicated: usize,
    pub delivered: usize,
    pub injected: usize,
}

/// What a test hook does with a datagram the sender emitted.
pub type Tamper = Box<dyn FnMut(Dir, usize, &[u8]) -> Vec<Vec<u8>>>;

#[derive(Debug, PartialEq, Eq)]
struct InFlight {
    at: Instant,
    order: u64,
    dir: Dir,
    bytes: Vec<u8>,
}

impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> Ordering {
        // Earliest first in a max-heap.
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One datagram as an endpoint emitted it.
#[derive(Debug, Clone)]
pub struct Sent {
    pub dir: Dir,
    /// Virtual time since the start.
    pub at: Duration,
    pub bytes: Vec<u8>,
}

// ----- the simulator ----------------------------------------------------------------------------

/// A client and a server endpoint joined by two simulated links.
pub struct Sim {
    pub start: Instant,
    pub now: Instant,
    pub client: ClientSession,
    pub server: Endpoint,
    pub client_addr: SocketAddr,
    pub links: [Link; 2],
    pub stats: [LinkStats; 2],
    rng: ChaCha20Rng,
    queue: BinaryHeap<InFlight>,
    order: u64,
    /// Optional hook on every emitted datagram: returns what goes on the link instead
    /// (nothing to drop it, several to split or add).
    pub tamper: Option<Tamper>,
    /// Every datagram emitted by either side, when `record` is set (the default).
    pub record: bool,
    pub log: Vec<Sent>,
    pub client_rx: Vec<Vec<u8>>,
    pub server_rx: Vec<Vec<u8>>,
    pub client_events: Vec<Event>,
    pub server_events: Vec<EndpointEvent>,
    /// Server datagrams addressed to anyone but the client (e.g. answers to injected traffic).
    pub server_to_others: Vec<(SocketAddr, Vec<u8>)>,
    /// Calls made into the sessions; a guard against livelock.
    pub calls: u64,
    /// Print every delivery and timer to stderr (for debugging a seed).
    pub trace: bool,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("elapsed", &self.elapsed())
            .field("client", &self.client.status())
            .field("server", &self.server_status())
            .field("stats", &self.stats)
            .finish()
    }
}

pub fn client_addr() -> SocketAddr {
    "127.0.0.1:40000".parse().expect("address")
}

impl Sim {
    /// A client (started now, its first ClientHello on the wire) and a fresh server endpoint.
    pub fn new(
        seed: u64,
        client: ClientConfig,
        server: ServerConfig,
        to_server: Link,
        to_client: Link,
    ) -> Self {
        let start = Instant::now();
        let server = Endpoint::new(Arc::new(server)).expect("server endpoint");
        let client = ClientSession::new(Arc::new(client), start).expect("client session");
        let mut sim = Self {
            start,
            now: start,
            client,
            server,
            client_addr: client_addr(),
            links: [to_server, to_client],
            stats: [LinkStats::default(); 2],
            rng: ChaCha20Rng::seed_from_u64(seed),
            queue: BinaryHeap::new(),
            order: 0,
            tamper: None,
            record: true,
            log: Vec::new(),
            client_rx: Vec::new(),
            server_rx: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            server_to_others: Vec::new(),
            calls: 0,
            trace: false,
        };
        let first: Vec<Vec<u8>> = sim
            .client
            .poll_output()
            .transmits()
            .map(<[u8]>::to_vec)
            .collect();
        sim.transmit(Dir::ToServer, first);
        sim
    }

    /// Default configs for `seed` over the given links.
    pub fn with_links(seed: u64, to_server: Link, to_client: Link) -> Self {
        Self::new(
            seed,
            client_config(seed),
            server_config(seed),
            to_server,
            to_client,
        )
    }

    /// Default configs over perfect links (10 ms each way).
    pub fn perfect(seed: u64) -> Self {
        Self::with_links(seed, Link::perfect(), Link::perfect())
    }

    /// Starts a new client (e.g. a restarted process) from the same address; the old one is
    /// dropped and traffic still in flight to it reaches the new one.
    pub fn restart_client(&mut self, config: ClientConfig) {
        self.client = ClientSession::new(Arc::new(config), self.now).expect("client session");
        let first: Vec<Vec<u8>> = self
            .client
            .poll_output()
            .transmits()
            .map(<[u8]>::to_vec)
            .collect();
        self.transmit(Dir::ToServer, first);
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    pub fn server_status(&self) -> Option<Status> {
        self.server
            .session(&self.client_addr)
            .map(|s| s.status().clone())
    }

    pub fn is_connected(&self) -> bool {
        self.client.status() == &Status::Connected
            && self.server_status() == Some(Status::Connected)
    }

    pub fn client_stats(&self) -> puredtls::Stats {
        *self.client.stats()
    }

    pub fn server_stats(&self) -> Option<puredtls::Stats> {
        self.server.session(&self.client_addr).map(|s| *s.stats())
    }

    /// Datagrams waiting on the links.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// Hands datagrams an endpoint emitted to the link of `dir`.
    pub fn transmit(&mut self, dir: Dir, datagrams: Vec<Vec<u8>>) {
        let link = self.links[dir.index()].clone();
        let datagrams = if link.pack {
            pack(datagrams, link.pack_limit)
        } else {
            datagrams
        };
        for d in datagrams {
            let index = self.stats[dir.index()].sent;
            self.stats[dir.index()].sent += 1;
            if self.record {
                self.log.push(Sent {
                    dir,
                    at: self.elapsed(),
                    bytes: d.clone(),
                });
            }
            if self.trace {
                eprintln!(
                    "{:>10.3?} send #{index} {dir:?} {} bytes {:?}",
                    self.elapsed(),
                    d.len(),
                    describe(&d)
                );
            }
            let out = match self.tamper.as_mut() {
                Some(t) => t(dir, index, &d),
                None => vec![d],
            };
            for d in out {
                self.put_on_link(dir, index, &link, d);
            }
        }
    }

    fn put_on_link(&mut self, dir: Dir, index: usize, link: &Link, d: Vec<u8>) {
        let stats = &mut self.stats[dir.index()];
        if link.mtu.is_some_and(|m| d.len() > m) {
            stats.too_big += 1;
            return;
        }
        // Draw every random value whatever the settings, so the pattern of one setting does not
        // shift when another changes.
        let lose = self.rng.next_u64();
        let dup = self.rng.next_u64();
        let j1 = self.rng.next_u64();
        let j2 = self.rng.next_u64();
        if link.drop.contains(&index) || chance(lose, link.loss) {
            stats.lost += 1;
            return;
        }
        let copies = if chance(dup, link.duplicate) {
            stats.duplicated += 1;
            2
        } else {
            1
        };
        for j in [j1, j2].into_iter().take(copies) {
            let at = self.now + link.delay + jitter(j, link.jitter);
            self.schedule(at, dir, d.clone());
        }
    }

    fn schedule(&mut self, at: Instant, dir: Dir, bytes: Vec<u8>) {
        self.order += 1;
        self.queue.push(InFlight {
            at,
            order: self.order,
            dir,
            bytes,
        });
    }

    /// Puts a datagram on the wire towards `dir`'s receiver, arriving after `after`, bypassing
    /// the link (an attacker or another host).
    pub fn inject(&mut self, dir: Dir, after: Duration, bytes: Vec<u8>) {
        self.stats[dir.index()].injected += 1;
        let at = self.now + after;
        self.schedule(at, dir, bytes);
    }

    /// Delivers a datagram to the server now, as if from `from`.
    pub fn deliver_to_server_from(&mut self, from: SocketAddr, bytes: &[u8]) {
        self.calls += 1;
        let out = self.server.handle_datagram(self.now, from, bytes);
        let mut tx = Vec::new();
        let mut rx = Vec::new();
        for t in out.transmits() {
            tx.push((t.peer, out.datagram(t).to_vec()));
        }
        for (peer, data) in out.app_data() {
            rx.push((peer, data.to_vec()));
        }
        let events = out.events().to_vec();
        self.after_server(tx, rx, events);
    }

    /// Delivers a datagram to the client now.
    pub fn deliver_to_client(&mut self, bytes: &[u8]) {
        self.calls += 1;
        let out = self.client.handle_datagram(self.now, bytes);
        let (tx, rx, ev) = split_output(&out);
        self.after_client(tx, rx, ev);
    }

    fn after_client(&mut self, tx: Vec<Vec<u8>>, rx: Vec<Vec<u8>>, events: Vec<Event>) {
        self.client_rx.extend(rx);
        self.client_events.extend(events);
        self.transmit(Dir::ToServer, tx);
    }

    fn after_server(
        &mut self,
        tx: Vec<(SocketAddr, Vec<u8>)>,
        rx: Vec<(SocketAddr, Vec<u8>)>,
        events: Vec<EndpointEvent>,
    ) {
        let client = self.client_addr;
        self.server_rx
            .extend(rx.into_iter().filter(|(p, _)| *p == client).map(|(_, d)| d));
        self.server_events.extend(events);
        let mut mine = Vec::new();
        for (peer, d) in tx {
            if peer == client {
                mine.push(d);
            } else {
                self.server_to_others.push((peer, d));
            }
        }
        self.transmit(Dir::ToClient, mine);
    }

    /// The next instant something happens: a delivery or a due timer.
    pub fn next_event(&self) -> Option<Instant> {
        [
            self.queue.peek().map(|d| d.at),
            self.client.poll_timeout(),
            self.server.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Advances virtual time to the next event and handles everything due then. False when
    /// nothing is left to happen.
    pub fn step(&mut self) -> bool {
        let Some(at) = self.next_event() else {
            return false;
        };
        self.advance_to(at);
        true
    }

    /// Moves the clock to `at` (never backwards), delivering and running timers on the way.
    pub fn advance_to(&mut self, at: Instant) {
        if at > self.now {
            self.now = at;
        }
        while self.queue.peek().is_some_and(|d| d.at <= self.now) {
            let Some(d) = self.queue.pop() else { break };
            self.stats[d.dir.index()].delivered += 1;
            if self.trace {
                eprintln!(
                    "{:>10.3?} deliver {:?} {:?}",
                    self.elapsed(),
                    d.dir,
                    describe(&d.bytes)
                );
            }
            match d.dir {
                Dir::ToServer => {
                    let from = self.client_addr;
                    self.deliver_to_server_from(from, &d.bytes);
                }
                Dir::ToClient => self.deliver_to_client(&d.bytes),
            }
        }
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            if self.trace {
                eprintln!("{:>10.3?} client timeout", self.elapsed());
            }
            self.calls += 1;
            let out = self.client.handle_timeout(self.now);
            let (tx, rx, ev) = split_output(&out);
            self.after_client(tx, rx, ev);
        }
        if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
            if self.trace {
                eprintln!("{:>10.3?} server timeout", self.elapsed());
            }
            self.calls += 1;
            let out = self.server.handle_timeout(self.now);
            let mut tx = Vec::new();
            for t in out.transmits() {
                tx.push((t.peer, out.datagram(t).to_vec()));
            }
            let rx: Vec<_> = out.app_data().map(|(p, d)| (p, d.to_vec())).collect();
            let events = out.events().to_vec();
            self.after_server(tx, rx, events);
        }
    }

    /// Steps until `done` holds (true) or `limit` of virtual time passed or nothing is left to
    /// happen (false).
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Sim) -> bool) -> bool {
        let deadline = self.start + limit;
        loop {
            if done(self) {
                return true;
            }
            assert!(
                self.calls < 1_000_000,
                "livelock: a million calls into the sessions ({self:?})"
            );
            match self.next_event() {
                Some(at) if at <= deadline => self.advance_to(at),
                _ => return done(self),
            }
        }
    }

    /// Runs the handshake until both sides are connected; returns the virtual time it took.
    pub fn connect(&mut self, limit: Duration) -> Result<Duration, String> {
        if self.run_until(limit, |s| s.is_connected()) {
            Ok(self.elapsed())
        } else {
            Err(format!(
                "no handshake after {:?}: client {:?}, server {:?}, links {:?}",
                self.elapsed(),
                self.client.status(),
                self.server_status(),
                self.stats
            ))
        }
    }

    /// Runs until no datagram is in flight and neither session has a timer pending other than
    /// the endpoint's idle expiry (or `limit` of virtual time passed).
    pub fn settle(&mut self, limit: Duration) -> bool {
        let addr = self.client_addr;
        self.run_until(limit, |s| {
            s.queue.is_empty()
                && s.client.poll_timeout().is_none()
                && s.server
                    .session(&addr)
                    .is_none_or(|x| x.poll_timeout().is_none())
        })
    }

    /// Sends application data from the client over the link.
    pub fn client_send(&mut self, data: &[u8]) {
        let tx: Vec<Vec<u8>> = self
            .client
            .send(data)
            .expect("client send")
            .transmits()
            .map(<[u8]>::to_vec)
            .collect();
        self.transmit(Dir::ToServer, tx);
    }

    /// Sends application data from the server over the link.
    pub fn server_send(&mut self, data: &[u8]) {
        let addr = self.client_addr;
        let out = self.server.send(addr, data).expect("server send");
        let tx: Vec<Vec<u8>> = out
            .transmits()
            .iter()
            .map(|t| out.datagram(t).to_vec())
            .collect();
        self.transmit(Dir::ToClient, tx);
    }

    /// Checks that data flows both ways over the current links: sends, runs for `limit`, and
    /// returns whether each side received exactly what was sent.
    pub fn exchange(&mut self, limit: Duration) -> bool {
        let a = format!("ping {}", self.calls).into_bytes();
        let b = format!("pong {}", self.calls).into_bytes();
        let (ca, sa) = (self.client_rx.len(), self.server_rx.len());
        self.client_send(&a);
        self.server_send(&b);
        let deadline = self.elapsed() + limit;
        self.run_until(deadline, |s| {
            s.server_rx.len() > sa && s.client_rx.len() > ca
        });
        self.server_rx.get(sa..) == Some(&[a][..]) && self.client_rx.get(ca..) == Some(&[b][..])
    }
}

fn split_output(out: &puredtls::Output<'_>) -> (Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<Event>) {
    (
        out.transmits().map(<[u8]>::to_vec).collect(),
        out.app_data().map(<[u8]>::to_vec).collect(),
        out.events().to_vec(),
    )
}

/// True with probability `p`, from one uniform 64-bit draw.
fn chance(draw: u64, p: f64) -> bool {
    p > 0.0 && (draw as f64) < p * (u64::MAX as f64)
}

fn jitter(draw: u64, max: Duration) -> Duration {
    let nanos = max.as_nanos() as u64;
    if nanos == 0 {
        Duration::ZERO
    } else {
        Duration::from_nanos(draw % nanos)
    }
}

/// Concatenates consecutive datagrams while they fit `limit` bytes (several records in one
/// datagram, RFC 6347 §4.1.1).
pub fn pack(datagrams: Vec<Vec<u8>>, limit: usize) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for d in datagrams {
        match out.last_mut() {
            Some(last) if last.len() + d.len() <= limit => last.extend_from_slice(&d),
            _ => out.push(d),
        }
    }
    out
}

// ----- wire helpers for hand-made traffic ------------------------------------------------------

/// The records of a datagram, each re-encoded as its own byte string.
pub fn split_records(datagram: &[u8]) -> Vec<Vec<u8>> {
    records(datagram)
        .map(|r| {
            let mut v = r.header.encode().to_vec();
            v.extend_from_slice(r.fragment);
            v
        })
        .collect()
}

/// `(content_type, epoch, first handshake msg_type if plaintext handshake)` of each record.
pub fn describe(datagram: &[u8]) -> Vec<(ContentType, u16, Option<HandshakeType>)> {
    records(datagram)
        .map(|r| {
            let hs = (r.header.content_type == ContentType::Handshake && r.header.epoch == 0)
                .then(|| r.fragment.first().map(|b| HandshakeType::from(*b)))
                .flatten();
            (r.header.content_type, r.header.epoch, hs)
        })
        .collect()
}

/// One plaintext record (any payload up to 2^16 - 1 bytes, even past what a peer may send).
pub fn plaintext(content_type: ContentType, epoch: u16, seq: u64, payload: &[u8]) -> Vec<u8> {
    let header = RecordHeader {
        content_type,
        version: ProtocolVersion::DTLS1_2,
        epoch,
        sequence_number: seq,
        length: u16::try_from(payload.len()).expect("record payload over 2^16 - 1 bytes"),
    };
    let mut out = header.encode().to_vec();
    out.extend_from_slice(payload);
    out
}

/// One plaintext record carrying one whole handshake message.
pub fn handshake_record(
    epoch: u16,
    seq: u64,
    msg_type: HandshakeType,
    message_seq: u16,
    body: &[u8],
) -> Vec<u8> {
    let mut payload = Vec::new();
    encode_unfragmented(msg_type, message_seq, body, &mut payload);
    plaintext(ContentType::Handshake, epoch, seq, &payload)
}

/// A plaintext ChangeCipherSpec record.
pub fn ccs_record(epoch: u16, seq: u64) -> Vec<u8> {
    plaintext(ContentType::ChangeCipherSpec, epoch, seq, &[1])
}
