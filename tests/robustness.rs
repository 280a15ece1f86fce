//! Hostile input: random byte strings and mutations of real datagrams, fed to a fresh server
//! (front door and endpoint), to handshaking sessions in every state and to established
//! sessions; and floods that must not make anything allocate without bound.
//!
//! Inputs come from a seeded ChaCha20 generator (a failure prints the iteration, and the run
//! is reproducible). A counting global allocator measures the bytes each thread holds.

mod sim;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use puredtls::handshake::reassembly::ReassemblyLimits;
use puredtls::handshake::HandshakeType;
use puredtls::record::{ContentType, MAX_CIPHERTEXT_LEN, RECORD_HEADER_LEN};
use puredtls::{Accept, Endpoint, Server, Status};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sim::*;

// ----- a per-thread counting allocator ------------------------------------------------------

struct Counting;

thread_local! {
    /// Bytes this thread allocated and has not freed (tests run on several threads).
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // During thread teardown the slot may be gone; those bytes do not matter.
    let _ = LIVE.try_with(|c| c.set(c.get() + delta));
}

// SAFETY: every call forwards to the system allocator unchanged; the counter only observes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes the current thread holds.
fn live_bytes() -> isize {
    LIVE.with(Cell::get)
}

// ----- input generation ----------------------------------------------------------------------

/// Seeded generator of hostile datagrams.
struct Gen {
    rng: ChaCha20Rng,
    corpus: Vec<Vec<u8>>,
}

impl Gen {
    fn new(seed: u64, corpus: Vec<Vec<u8>>) -> Self {
        Self {
            rng: ChaCha20Rng::seed_from_u64(seed),
            corpus,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.rng.next_u64() % n as u64) as usize
        }
    }

    fn coin(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn byte(&mut self) -> u8 {
        self.rng.next_u64() as u8
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.rng.fill_bytes(&mut v);
        v
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// A random byte string, mostly short.
    fn random_bytes(&mut self) -> Vec<u8> {
        let len = match self.below(10) {
            0..=2 => self.below(16),
            3..=6 => 16 + self.below(100),
            _ => 100 + self.below(1400),
        };
        self.bytes(len)
    }

    /// Records with plausible headers and random or handshake-shaped payloads.
    fn random_records(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..1 + self.below(4) {
            let content_type = if self.coin(90) {
                self.pick(&[20u8, 21, 22, 23])
            } else {
                self.byte()
            };
            let version: u16 = match self.below(10) {
                0..=6 => 0xfefd,
                7 | 8 => 0xfeff,
                _ => self.rng.next_u64() as u16,
            };
            let epoch: u16 = match self.below(10) {
                0..=4 => 0,
                5..=7 => 1,
                8 => 2,
                _ => self.rng.next_u64() as u16,
            };
            let seq = if self.coin(80) {
                self.below(200) as u64
            } else {
                self.rng.next_u64() & 0xffff_ffff_ffff
            };
            let payload = if content_type == 22 && self.coin(80) {
                self.handshake_fragment()
            } else {
                let n = self.below(200);
                self.bytes(n)
            };
            let mut rec = plaintext(ContentType::from(content_type), epoch, seq, &payload);
            rec[1..3].copy_from_slice(&version.to_be_bytes());
            if self.coin(10) {
                let len = self.rng.next_u64() as u16;
                rec[11..13].copy_from_slice(&len.to_be_bytes());
            }
            out.extend_from_slice(&rec);
        }
        out
    }

    /// One handshake fragment: header fields consistent or not, any message type.
    fn handshake_fragment(&mut self) -> Vec<u8> {
        let msg_type = self.pick(&[0u8, 1, 2, 3, 4, 11, 12, 13, 14, 15, 16, 20, 99]);
        let body_len = self.below(300);
        let length = if self.coin(70) {
            body_len as u32
        } else {
            (self.rng.next_u64() as u32) & 0xff_ffff
        };
        let offset = if self.coin(70) {
            0
        } else {
            (self.rng.next_u64() as u32) & 0xff_ffff
        };
        let frag_len = if self.coin(80) {
            body_len as u32
        } else {
            (self.rng.next_u64() as u32) & 0xff_ffff
        };
        let message_seq = if self.coin(80) {
            self.below(12) as u16
        } else {
            self.rng.next_u64() as u16
        };
        let mut v = vec![msg_type];
        v.extend_from_slice(&length.to_be_bytes()[1..]);
        v.extend_from_slice(&message_seq.to_be_bytes());
        v.extend_from_slice(&offset.to_be_bytes()[1..]);
        v.extend_from_slice(&frag_len.to_be_bytes()[1..]);
        v.extend(self.bytes(body_len));
        v
    }

    /// A real datagram changed in one to four ways.
    fn mutation(&mut self) -> Vec<u8> {
        let i = self.below(self.corpus.len());
        let mut d = self.corpus[i].clone();
        for _ in 0..1 + self.below(4) {
            self.mutate(&mut d);
        }
        d
    }

    fn mutate(&mut self, d: &mut Vec<u8>) {
        let len = d.len();
        match self.below(12) {
            0 if len > 0 => {
                let at = self.below(len);
                d[at] ^= 1 << self.below(8);
            }
            1 if len > 0 => {
                let at = self.below(len);
                d[at] = self.pick(&[0, 1, 0x7f, 0x80, 0xfe, 0xff]);
            }
            2 => d.truncate(self.below(len + 1)),
            3 => {
                let extra = self.random_bytes();
                d.extend(extra);
            }
            4 => {
                let at = self.below(len + 1);
                let n = 1 + self.below(16);
                let extra = self.bytes(n);
                d.splice(at..at, extra);
            }
            5 if len > 0 => {
                let at = self.below(len);
                let n = self.below(len - at + 1);
                d.drain(at..at + n);
            }
            6 => {
                // Reorder, repeat or drop whole records.
                let mut recs = split_records(d);
                if !recs.is_empty() {
                    let a = self.below(recs.len());
                    let b = self.below(recs.len());
                    match self.below(3) {
                        0 => recs.swap(a, b),
                        1 => {
                            let r = recs[a].clone();
                            recs.insert(b, r);
                        }
                        _ => {
                            recs.remove(a);
                        }
                    }
                    *d = recs.concat();
                }
            }
            7 => {
                // A record header field: content type, version, epoch, sequence or length.
                let mut recs = split_records(d);
                if !recs.is_empty() {
                    let r = self.below(recs.len());
                    let field = self.pick(&[0usize, 1, 3, 4, 5, 10, 11, 12]);
                    let v = self.byte();
                    if let Some(b) = recs[r].get_mut(field) {
                        *b = v;
                    }
                    *d = recs.concat();
                }
            }
            8 => {
                // A handshake header field of a plaintext record: message_seq, lengths, offset.
                let mut recs = split_records(d);
                if !recs.is_empty() {
                    let r = self.below(recs.len());
                    let field = RECORD_HEADER_LEN + self.below(12);
                    let v = self.byte();
                    if let Some(b) = recs[r].get_mut(field) {
                        *b = v;
                    }
                    *d = recs.concat();
                }
            }
            9 => {
                // Splice with another real datagram.
                let j = self.below(self.corpus.len());
                let other = self.corpus[j].clone();
                let cut = self.below(len + 1);
                let from = self.below(other.len() + 1);
                d.truncate(cut);
                d.extend_from_slice(&other[from..]);
            }
            10 => {
                // Concatenate with another real datagram (records of two flights).
                let j = self.below(self.corpus.len());
                let other = self.corpus[j].clone();
                d.extend_from_slice(&other);
            }
            _ => {
                let n = self.below(len.min(64) + 1);
                let at = self.below(len + 1 - n);
                let v = self.bytes(n);
                d[at..at + n].copy_from_slice(&v);
            }
        }
    }

    /// Any of the three kinds; the flag says whether it was pure random bytes.
    fn input(&mut self) -> (Vec<u8>, bool) {
        match self.below(10) {
            0..=1 => (self.random_bytes(), true),
            2..=3 => (self.random_records(), false),
            _ => (self.mutation(), false),
        }
    }
}

/// Every datagram of real handshakes (plain, fragmented with a client certificate) and some
/// application data, both directions.
fn real_datagrams() -> Vec<Vec<u8>> {
    let mut corpus = Vec::new();
    for (seed, mtu, auth) in [(1, 1200, false), (2, 256, true)] {
        let (mut c, mut s) = if auth {
            client_auth_configs(seed)
        } else {
            (client_config(seed), server_config(seed))
        };
        c.common.mtu = mtu;
        s.common.mtu = mtu;
        let mut sim = Sim::new(seed, c, s, Link::perfect(), Link::perfect());
        sim.connect(Duration::from_secs(5)).expect("handshake");
        assert!(sim.exchange(Duration::from_secs(1)));
        sim.client_send(b"close to the end");
        let _ = sim.client.close();
        corpus.extend(sim.log.iter().map(|s| s.bytes.clone()));
    }
    corpus
}

// ----- no panic, no harm --------------------------------------------------------------------

/// A peer address other than the simulated client's.
fn stranger(n: usize) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 20_000 + (n % 20_000) as u16))
}

#[test]
fn any_input_to_a_fresh_server_front_door_and_endpoint_is_harmless() {
    let mut g = Gen::new(100, real_datagrams());
    let now = Instant::now();
    let mut server = Server::new(Arc::new(server_config(100))).unwrap();
    let mut endpoint = Endpoint::new(Arc::new(server_config(101))).unwrap();
    let mut verify_requests = 0;
    for i in 0..50_000 {
        let (input, _) = g.input();
        let peer = stranger(i);
        match server.accept(now, peer, &input) {
            Accept::HelloVerifyRequest(hvr) => {
                assert!(!hvr.is_empty());
                verify_requests += 1;
            }
            Accept::NewSession(_) => panic!("input {i}: a session without a cookie for {peer}"),
            Accept::Ignored(_) => {}
        }
        let out = endpoint.handle_datagram(now, peer, &input);
        assert!(out.app_data().next().is_none(), "input {i}: app data");
        for t in out.transmits() {
            assert_eq!(t.peer, peer);
        }
        assert_eq!(endpoint.len(), 0, "input {i}: a session without a cookie");
    }
    println!("{verify_requests} HelloVerifyRequests for 50000 inputs");
    assert!(
        verify_requests > 1000,
        "the generator reaches the cookie check"
    );
    assert_eq!(server.stats().sessions_created, 0);
}

/// Points in a clean handshake (perfect links, 10 ms each way) where the sessions wait:
/// (time, whom to feed, description).
const STATES: &[(u64, Dir, &str)] = &[
    (5, Dir::ToClient, "client waiting for HelloVerifyRequest"),
    (25, Dir::ToClient, "client waiting for the server flight"),
    (
        45,
        Dir::ToClient,
        "client waiting for ChangeCipherSpec/Finished",
    ),
    (
        35,
        Dir::ToServer,
        "server session waiting for the client flight",
    ),
    (
        5,
        Dir::ToServer,
        "endpoint with no session for the client yet",
    ),
];

#[test]
fn any_input_to_a_handshaking_session_is_harmless() {
    let mut g = Gen::new(200, real_datagrams());
    let mut completed_after_noise = 0;
    for &(at, dir, what) in STATES {
        for i in 0..400 {
            let mut sim = Sim::perfect(200 + i);
            sim.run_until(Duration::from_millis(at), |_| false);
            let (input, pure_noise) = g.input();
            match dir {
                Dir::ToClient => sim.deliver_to_client(&input),
                Dir::ToServer => {
                    let from = sim.client_addr;
                    sim.deliver_to_server_from(from, &input);
                }
            }
            let ok = sim.connect(Duration::from_secs(30)).is_ok();
            assert!(
                sim.client_rx.is_empty() && sim.server_rx.is_empty(),
                "{what} #{i}"
            );
            if pure_noise {
                // Random bytes are not DTLS: the handshake must go on as if nothing came.
                assert!(ok, "{what} #{i}: random bytes broke the handshake: {sim:?}");
                completed_after_noise += 1;
            }
            if ok {
                assert!(sim.exchange(Duration::from_secs(1)), "{what} #{i}");
            }
        }
    }
    assert!(completed_after_noise > 300);
}

#[test]
fn any_input_to_an_established_session_changes_nothing() {
    let corpus = real_datagrams();
    let mut g = Gen::new(300, corpus);
    let mut sim = Sim::perfect(300);
    sim.connect(Duration::from_secs(5)).expect("handshake");
    assert!(sim.settle(Duration::from_secs(10)));
    // Fresh records from each side, never delivered: mutations of them are the most likely
    // to get through if anything is wrong.
    // Per direction: payload -> times delivered.
    let mut sent: [HashMap<Vec<u8>, usize>; 2] = Default::default();
    for i in 0..20 {
        for dir in [Dir::ToServer, Dir::ToClient] {
            let data = format!("{dir:?} secret {i}").into_bytes();
            let d: Vec<Vec<u8>> = match dir {
                Dir::ToServer => sim
                    .client
                    .send(&data)
                    .unwrap()
                    .transmits()
                    .map(<[u8]>::to_vec)
                    .collect(),
                Dir::ToClient => {
                    let addr = sim.client_addr;
                    let out = sim.server.send(addr, &data).unwrap();
                    out.transmits()
                        .iter()
                        .map(|t| out.datagram(t).to_vec())
                        .collect()
                }
            };
            g.corpus.extend(d);
            sent[usize::from(dir == Dir::ToClient)].insert(data, 0);
        }
    }
    for i in 0..50_000 {
        let (input, _) = g.input();
        if i % 2 == 0 {
            sim.deliver_to_client(&input);
        } else {
            let from = sim.client_addr;
            sim.deliver_to_server_from(from, &input);
        }
        assert_eq!(sim.client.status(), &Status::Connected, "input {i}");
        assert_eq!(sim.server_status(), Some(Status::Connected), "input {i}");
        let rx = [
            core::mem::take(&mut sim.server_rx),
            core::mem::take(&mut sim.client_rx),
        ];
        for (side, got) in rx.into_iter().enumerate() {
            for d in got {
                let n = sent[side].get_mut(&d).unwrap_or_else(|| {
                    panic!("input {i}: delivered data the peer did not send: {d:?}")
                });
                *n += 1;
                assert_eq!(*n, 1, "input {i}: delivered twice: {d:?}");
            }
        }
        if i % 2000 == 0 {
            sim.settle(sim.elapsed() + Duration::from_secs(5));
            assert!(sim.exchange(Duration::from_secs(1)), "input {i}");
            sim.client_rx.clear();
            sim.server_rx.clear();
        }
    }
    sim.settle(sim.elapsed() + Duration::from_secs(5));
    assert!(sim.exchange(Duration::from_secs(1)));
    assert_eq!(sim.server.len(), 1);
}

// ----- bounded memory -----------------------------------------------------------------------

#[test]
fn a_client_hello_flood_from_many_addresses_stores_nothing() {
    let mut sim = Sim::perfect(400);
    sim.run_until(Duration::from_millis(5), |_| false);
    let hello = sim
        .log
        .first()
        .map(|s| s.bytes.clone())
        .expect("first ClientHello");
    let mut endpoint = Endpoint::new(Arc::new(server_config(400))).unwrap();
    let now = Instant::now();
    let mut g = Gen::new(400, Vec::new());
    let mut flood = |endpoint: &mut Endpoint, n: usize| {
        for i in 0..n {
            let mut h = hello.clone();
            // A new client random per hello (record 13 + handshake header 12 + version 2).
            let r = g.bytes(32);
            h[27..59].copy_from_slice(&r);
            let out = endpoint.handle_datagram(now, stranger(i), &h);
            assert_eq!(out.transmits().len(), 1, "a HelloVerifyRequest");
        }
    };
    flood(&mut endpoint, 100); // reused buffers reach their size
    let before = live_bytes();
    flood(&mut endpoint, 20_000);
    let grew = live_bytes() - before;
    assert_eq!(endpoint.len(), 0);
    assert_eq!(endpoint.front_door_stats().hello_verify_requests, 20_100);
    assert!(
        grew <= 0,
        "the endpoint kept {grew} bytes for 20000 ClientHellos"
    );
}

/// Caps small enough that a flood far exceeds them.
fn small_caps(c: &mut puredtls::CommonConfig) {
    c.reassembly = ReassemblyLimits {
        max_message_len: 4096,
        max_future_messages: 4,
        max_buffered_bytes: 8192,
    };
    c.max_buffered_next_epoch_records = 4;
}

/// The most a handshaking session may hold beyond its steady state under these caps: message
/// bodies, per-message bookkeeping (up to 32 ranges each), and early next-epoch records of the
/// largest size the record layer frames; plus slack for reused output buffers.
fn cap_bytes(c: &puredtls::CommonConfig) -> isize {
    let bodies = c.reassembly.max_buffered_bytes;
    let partials = (usize::from(c.reassembly.max_future_messages) + 1) * (64 + 32 * 8);
    let early = c.max_buffered_next_epoch_records * (RECORD_HEADER_LEN + MAX_CIPHERTEXT_LEN + 24);
    (bodies + partials + early + 16 * 1024) as isize
}

/// Fragments, future-epoch records and out-of-order messages, `n` datagrams of them, shaped
/// to fill the caps of `c` (the largest messages allowed, scattered fragments, large early
/// records) as well as to break them (inconsistent and oversized fragments).
fn hostile_flood(g: &mut Gen, n: usize, next_seq: u16, c: &puredtls::CommonConfig) -> Vec<Vec<u8>> {
    let max_len = c.reassembly.max_message_len;
    let future = c.reassembly.max_future_messages;
    // First what fills every cap: the first fragment of each future message the window
    // admits, at the largest message size, and the largest early records.
    let mut flood: Vec<Vec<u8>> = (1..=future)
        .map(|k| {
            let mut p = vec![11u8];
            p.extend_from_slice(&max_len.to_be_bytes()[1..]);
            p.extend_from_slice(&(next_seq + k).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, 0, 0, 100]);
            p.extend(g.bytes(100));
            plaintext(ContentType::Handshake, 0, 9_000 + u64::from(k), &p)
        })
        .collect();
    for k in 0..c.max_buffered_next_epoch_records {
        let big = g.bytes(MAX_CIPHERTEXT_LEN);
        flood.push(plaintext(ContentType::Handshake, 1, 9_500 + k as u64, &big));
    }
    flood.extend((0..n).map(|i| {
        let seq = 10_000 + i as u64;
        match i % 5 {
            0 => {
                // A scattered fragment of a future message of the largest size allowed,
                // the same type and length each time for a given message_seq.
                let message_seq = next_seq + 1 + g.below(usize::from(future)) as u16;
                let offset = g.below(max_len as usize) as u32;
                let frag_len = (1 + g.below(200) as u32).min(max_len - offset);
                let mut p = vec![11u8];
                p.extend_from_slice(&max_len.to_be_bytes()[1..]);
                p.extend_from_slice(&message_seq.to_be_bytes());
                p.extend_from_slice(&offset.to_be_bytes()[1..]);
                p.extend_from_slice(&frag_len.to_be_bytes()[1..]);
                p.extend(g.bytes(frag_len as usize));
                plaintext(ContentType::Handshake, 0, seq, &p)
            }
            1 => {
                // Any fragment, of any length and type, for a message after the next
                // one (a wrong message in the next slot ends a handshake by design).
                let mut p = g.handshake_fragment();
                let s = next_seq + 1 + g.below(12) as u16;
                p[4..6].copy_from_slice(&s.to_be_bytes());
                plaintext(ContentType::Handshake, 0, seq, &p)
            }
            2 => {
                // An early record of the next epoch, some as large as a record can be.
                let len = if g.coin(20) {
                    MAX_CIPHERTEXT_LEN
                } else {
                    100 + g.below(1300)
                };
                plaintext(ContentType::Handshake, 1, seq, &g.bytes(len))
            }
            3 => {
                // Records of epochs far ahead.
                let epoch = 2 + g.below(1000) as u16;
                plaintext(ContentType::ApplicationData, epoch, seq, &g.bytes(500))
            }
            _ => {
                // Whole out-of-order messages.
                let message_seq = next_seq + 1 + g.below(12) as u16;
                let len = g.below(1000);
                handshake_record(
                    0,
                    seq,
                    HandshakeType::Certificate,
                    message_seq,
                    &g.bytes(len),
                )
            }
        }
    }));
    flood
}

fn flood_handshaking_session(to_client: bool, caps: bool) {
    let (mut c, mut s) = (client_config(500), server_config(500));
    if caps {
        small_caps(&mut c.common);
        small_caps(&mut s.common);
    }
    let common = if to_client { &c.common } else { &s.common }.clone();
    let limit = cap_bytes(&common);
    let mut sim = Sim::new(500, c, s, Link::perfect(), Link::perfect());
    // The client waits for the server flight after the cookie exchange (next message_seq 1);
    // the server session waits for the client flight (next 2).
    let at = if to_client { 25 } else { 35 };
    sim.run_until(Duration::from_millis(at), |_| false);
    let mut g = Gen::new(501, Vec::new());
    let flood = hostile_flood(&mut g, 8000, if to_client { 1 } else { 2 }, &common);
    let volume: usize = flood.iter().map(Vec::len).sum();
    let from = sim.client_addr;
    let before = live_bytes();
    let mut peak = 0;
    for d in &flood {
        if to_client {
            let _ = sim.client.handle_datagram(sim.now, d);
        } else {
            let now = sim.now;
            let _ = sim.server.handle_datagram(now, from, d);
        }
        peak = peak.max(live_bytes() - before);
    }
    let status = if to_client {
        sim.client.status().clone()
    } else {
        sim.server_status().expect("session")
    };
    assert_eq!(status, Status::Handshaking);
    let stats = if to_client {
        sim.client_stats()
    } else {
        sim.server_stats().unwrap()
    };
    println!(
        "flood of {volume} bytes into the {}: peak {peak} bytes held (cap {limit}); \
         {} fragments and {} early records dropped",
        if to_client {
            "client"
        } else {
            "server session"
        },
        stats.dropped_fragments,
        stats.dropped_epoch
    );
    assert!(volume > 10 * limit as usize, "the flood dwarfs the caps");
    assert!(
        peak <= limit,
        "held {peak} bytes, more than the caps allow ({limit})"
    );
    assert!(
        peak >= common.reassembly.max_buffered_bytes as isize,
        "the flood filled the reassembly buffer"
    );
    assert!(stats.dropped_fragments > 1000);
    assert!(stats.dropped_epoch > 1000);
}

#[test]
fn a_flood_into_a_handshaking_server_session_stays_under_its_caps() {
    flood_handshaking_session(false, true);
    flood_handshaking_session(false, false);
}

#[test]
fn a_flood_into_a_handshaking_client_stays_under_its_caps() {
    flood_handshaking_session(true, true);
    flood_handshaking_session(true, false);
}

#[test]
fn a_flood_into_an_established_session_stays_under_its_caps() {
    let mut sim = Sim::perfect(600);
    sim.connect(Duration::from_secs(5)).expect("handshake");
    assert!(sim.settle(Duration::from_secs(10)));
    assert!(sim.exchange(Duration::from_secs(1)));
    let common = puredtls::CommonConfig::default();
    let limit = cap_bytes(&common);
    let mut g = Gen::new(601, Vec::new());
    let flood = hostile_flood(&mut g, 8000, 6, &common);
    let before = live_bytes();
    let mut peak = 0;
    for d in &flood {
        let _ = sim.client.handle_datagram(sim.now, d);
        peak = peak.max(live_bytes() - before);
    }
    println!("flood into an established client: peak {peak} bytes held (cap {limit})");
    assert!(peak <= limit, "held {peak} bytes (cap {limit})");
    assert_eq!(sim.client.status(), &Status::Connected);
    assert!(sim.exchange(Duration::from_secs(1)));
}
