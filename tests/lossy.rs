//! Handshakes and application data over a lossy, duplicating, reordering network, through the
//! deterministic simulator in `tests/sim`. Every run is reproducible from its seed.
//!
//! `cargo test --test lossy -- --nocapture` prints each sweep's virtual completion times and
//! retransmission counts.

mod sim;

use std::collections::BTreeSet;
use std::time::Duration;

use puredtls::record::ContentType;
use puredtls::{CommonConfig, EndpointEvent, Error, Event, Status, Timers};
use sim::*;

/// Seeds per sweep setting.
const SEEDS: u64 = 500;

/// Timers for the lossy sweeps: RFC 6347's 1 s initial timeout, doubling, capped at 8 s so a
/// 50%-loss network keeps retrying often, and a handshake deadline long enough that only a
/// broken state machine (not bad luck) misses it.
fn lossy_timers(c: &mut CommonConfig) {
    c.timers = Timers {
        initial_retransmit: Duration::from_secs(1),
        max_retransmit: Duration::from_secs(8),
        handshake_timeout: Duration::from_secs(600),
    };
}

#[derive(Debug, Clone, Copy)]
struct Setting {
    loss: f64,
    mtu: usize,
    client_auth: bool,
    /// Links coalesce the datagrams of one call into datagrams of up to this many bytes.
    pack: Option<usize>,
}

impl Setting {
    fn new(loss: f64, mtu: usize) -> Self {
        Self {
            loss,
            mtu,
            client_auth: false,
            pack: None,
        }
    }

    fn link(&self) -> Link {
        Link {
            loss: self.loss,
            duplicate: 0.1,
            delay: Duration::from_millis(10),
            // Datagrams sent together arrive shuffled.
            jitter: Duration::from_millis(50),
            mtu: Some(self.pack.unwrap_or(self.mtu)),
            pack: self.pack.is_some(),
            pack_limit: self.pack.unwrap_or(0),
            ..Link::default()
        }
    }

    /// The seed of run `n` of this setting: settings get disjoint seeds, so their loss
    /// patterns are independent.
    fn seed(&self, n: u64) -> u64 {
        let loss = (self.loss * 100.0) as u64;
        let mut id = (loss << 16) | self.mtu as u64;
        id = (id << 1) | u64::from(self.client_auth);
        id = (id << 16) | self.pack.unwrap_or(0) as u64;
        (id << 20) | n
    }

    fn sim(&self, seed: u64) -> Sim {
        let (mut c, mut s) = if self.client_auth {
            client_auth_configs(seed)
        } else {
            (client_config(seed), server_config(seed))
        };
        for common in [&mut c.common, &mut s.common] {
            common.mtu = self.mtu;
            lossy_timers(common);
        }
        Sim::new(seed, c, s, self.link(), self.link())
    }
}

fn percentile(sorted: &[u64], p: usize) -> u64 {
    sorted
        .get((sorted.len() * p / 100).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0)
}

/// Runs `SEEDS` handshakes; each must complete, after which data must flow both ways over a
/// clean link (so both sides derived the same keys). Prints the distribution.
fn sweep(setting: Setting) {
    let mut times_ms = Vec::new();
    let mut client_retx = Vec::new();
    let mut server_retx = Vec::new();
    let mut worst_seed = 0;
    for n in 0..SEEDS {
        let seed = setting.seed(n);
        let mut sim = setting.sim(seed);
        let took = sim
            .connect(Duration::from_secs(700))
            .unwrap_or_else(|e| panic!("{setting:?} seed {seed}: {e}"));
        assert_eq!(sim.client_events.first(), Some(&Event::Connected));
        if setting.client_auth {
            let session = sim.server.session(&sim.client_addr).expect("session");
            assert_eq!(session.peer_certificates(), &client_identity().0[..]);
        }
        let c = sim.client_stats().retransmissions;
        let s = sim.server_stats().expect("server session").retransmissions;
        sim.links = [Link::perfect(), Link::perfect()];
        assert!(
            sim.exchange(Duration::from_secs(1)),
            "{setting:?} seed {seed}: no data after the handshake"
        );
        // Nothing keeps bouncing: once both sides are done, the network goes quiet.
        let limit = sim.elapsed() + Duration::from_secs(60);
        assert!(
            sim.settle(limit),
            "{setting:?} seed {seed}: still busy: {sim:?}"
        );
        let ms = took.as_millis() as u64;
        if times_ms.iter().all(|&t| t <= ms) {
            worst_seed = seed;
        }
        times_ms.push(ms);
        client_retx.push(c);
        server_retx.push(s);
    }
    times_ms.sort_unstable();
    client_retx.sort_unstable();
    server_retx.sort_unstable();
    println!(
        "loss {:>2.0}% mtu {:>4}{}{}: {SEEDS}/{SEEDS} connected; virtual time median {} ms, \
         p99 {} ms, worst {} ms (seed {worst_seed}); retransmissions client median {} max {}, \
         server median {} max {}",
        setting.loss * 100.0,
        setting.mtu,
        if setting.client_auth {
            " client-cert"
        } else {
            ""
        },
        setting
            .pack
            .map(|p| format!(" packed<={p}"))
            .unwrap_or_default(),
        percentile(&times_ms, 50),
        percentile(&times_ms, 99),
        times_ms.last().copied().unwrap_or(0),
        percentile(&client_retx, 50),
        client_retx.last().copied().unwrap_or(0),
        percentile(&server_retx, 50),
        server_retx.last().copied().unwrap_or(0),
    );
    // Loss forces retransmissions; a sweep without any would mean the links did not drop.
    assert!(client_retx.iter().sum::<u64>() > 0);
    assert!(server_retx.iter().sum::<u64>() > 0);
}

#[test]
fn sweep_10_percent_loss_mtu_1200() {
    sweep(Setting::new(0.1, 1200));
}

#[test]
fn sweep_10_percent_loss_mtu_512() {
    sweep(Setting::new(0.1, 512));
}

#[test]
fn sweep_10_percent_loss_mtu_256() {
    sweep(Setting::new(0.1, 256));
}

#[test]
fn sweep_30_percent_loss_mtu_1200() {
    sweep(Setting::new(0.3, 1200));
}

#[test]
fn sweep_30_percent_loss_mtu_512() {
    sweep(Setting::new(0.3, 512));
}

#[test]
fn sweep_30_percent_loss_mtu_256() {
    sweep(Setting::new(0.3, 256));
}

#[test]
fn sweep_50_percent_loss_mtu_1200() {
    sweep(Setting::new(0.5, 1200));
}

#[test]
fn sweep_50_percent_loss_mtu_512() {
    sweep(Setting::new(0.5, 512));
}

#[test]
fn sweep_50_percent_loss_mtu_256() {
    sweep(Setting::new(0.5, 256));
}

#[test]
fn sweep_client_certificate_10_30_50_percent_loss_mtu_512() {
    for loss in [0.1, 0.3, 0.5] {
        sweep(Setting {
            client_auth: true,
            ..Setting::new(loss, 512)
        });
    }
}

#[test]
fn sweep_30_percent_loss_mtu_256_flights_packed_into_1400_byte_datagrams() {
    sweep(Setting {
        pack: Some(1400),
        ..Setting::new(0.3, 256)
    });
}

// ----- timers -------------------------------------------------------------------------------

fn doubling_timers(c: &mut CommonConfig) {
    c.timers = Timers {
        initial_retransmit: Duration::from_millis(500),
        max_retransmit: Duration::from_secs(4),
        handshake_timeout: Duration::from_secs(20),
    };
}

/// Send times, in ms since the start, of the datagrams going `dir`.
fn send_times(sim: &Sim, dir: Dir) -> Vec<u128> {
    sim.log
        .iter()
        .filter(|s| s.dir == dir)
        .map(|s| s.at.as_millis())
        .collect()
}

#[test]
fn client_retransmission_timer_doubles_to_its_cap_then_the_handshake_times_out() {
    let mut c = client_config(1);
    let mut s = server_config(1);
    doubling_timers(&mut c.common);
    doubling_timers(&mut s.common);
    let mut sim = Sim::new(1, c, s, Link::lossy(1.0), Link::perfect());
    assert!(sim.run_until(Duration::from_secs(60), |s| s.client.status()
        != &Status::Handshaking));
    // 0.5 s, then doubling: 1, 2, 4, then capped at 4 s, until the 20 s deadline.
    assert_eq!(
        send_times(&sim, Dir::ToServer),
        [0, 500, 1500, 3500, 7500, 11500, 15500, 19500]
    );
    assert_eq!(sim.client_stats().retransmissions, 7);
    assert_eq!(
        sim.client.status(),
        &Status::Failed(Error::HandshakeTimeout)
    );
    assert_eq!(sim.client_events, [Event::Failed(Error::HandshakeTimeout)]);
    assert_eq!(sim.elapsed(), Duration::from_secs(20));
    assert_eq!(
        sim.client.poll_timeout(),
        None,
        "a failed session has no timer"
    );
}

#[test]
fn server_retransmission_timer_doubles_to_its_cap_then_the_session_times_out() {
    let mut c = client_config(2);
    let mut s = server_config(2);
    doubling_timers(&mut c.common);
    doubling_timers(&mut s.common);
    // The client's first two ClientHellos and the HelloVerifyRequest get through; then the
    // server hears nothing more and its flight never arrives.
    let to_server = Link {
        drop: (2..100).collect(),
        ..Link::perfect()
    };
    let to_client = Link {
        drop: (1..100).collect(),
        ..Link::perfect()
    };
    let mut sim = Sim::new(2, c, s, to_server, to_client);
    sim.run_until(Duration::from_secs(60), |_| false);
    let flight_starts: BTreeSet<u128> = send_times(&sim, Dir::ToClient).into_iter().collect();
    // HelloVerifyRequest at 10 ms; the session starts at 30 ms (ClientHello with cookie) and
    // sends its flight then, at +0.5, +1.5, +3.5, +7.5, +11.5, +15.5, +19.5 s, and fails at +20 s.
    assert_eq!(
        flight_starts.into_iter().collect::<Vec<_>>(),
        [10, 30, 530, 1530, 3530, 7530, 11530, 15530, 19530]
    );
    assert_eq!(
        sim.server_events.last(),
        Some(&EndpointEvent::Session(
            sim.client_addr,
            Event::Failed(Error::HandshakeTimeout)
        ))
    );
    assert!(sim.server.is_empty(), "the failed session left the table");
}

// ----- exact loss positions ----------------------------------------------------------------

/// How many datagrams each direction carries in a clean handshake.
fn clean_counts(make: &dyn Fn(Link, Link) -> Sim) -> (usize, usize) {
    let mut sim = make(Link::perfect(), Link::perfect());
    sim.connect(Duration::from_secs(10))
        .expect("clean handshake");
    sim.settle(Duration::from_secs(20));
    assert_eq!(sim.client_stats().retransmissions, 0);
    assert_eq!(sim.server_stats().map(|s| s.retransmissions), Some(0));
    (sim.stats[0].sent, sim.stats[1].sent)
}

/// Drops exactly the given datagram positions; the handshake must complete and data flow.
fn survives(
    make: &dyn Fn(Link, Link) -> Sim,
    to_server: &[usize],
    to_client: &[usize],
) -> Duration {
    let mut sim = make(Link::dropping(to_server), Link::dropping(to_client));
    let took = sim.connect(Duration::from_secs(60)).unwrap_or_else(|e| {
        panic!("dropping to-server {to_server:?} to-client {to_client:?}: {e}")
    });
    sim.links = [Link::perfect(), Link::perfect()];
    assert!(
        sim.exchange(Duration::from_secs(1)),
        "dropping to-server {to_server:?} to-client {to_client:?}: no data"
    );
    took
}

/// Every single loss position, then every pair of positions (in either direction, including
/// the first retransmissions), completes.
fn every_loss_position(make: &dyn Fn(Link, Link) -> Sim) -> (usize, usize, usize) {
    let (n_s, n_c) = clean_counts(make);
    let mut singles = 0;
    for k in 0..n_s {
        let t = survives(make, &[k], &[]);
        assert!(t < Duration::from_secs(4), "one loss cost {t:?}");
        singles += 1;
    }
    for k in 0..n_c {
        let t = survives(make, &[], &[k]);
        assert!(t < Duration::from_secs(4), "one loss cost {t:?}");
        singles += 1;
    }
    // Positions past the clean count are retransmissions, which a second loss may hit.
    let positions: Vec<(Dir, usize)> = (0..n_s + 3)
        .map(|k| (Dir::ToServer, k))
        .chain((0..n_c + 3).map(|k| (Dir::ToClient, k)))
        .collect();
    let mut pairs = 0;
    for (i, a) in positions.iter().enumerate() {
        for b in positions.iter().skip(i + 1) {
            let mut s = Vec::new();
            let mut c = Vec::new();
            for (dir, k) in [a, b] {
                match dir {
                    Dir::ToServer => s.push(*k),
                    Dir::ToClient => c.push(*k),
                }
            }
            let t = survives(make, &s, &c);
            assert!(t < Duration::from_secs(12), "two losses cost {t:?}");
            pairs += 1;
        }
    }
    println!(
        "clean handshake: {n_s} datagrams to the server, {n_c} to the client; \
         {singles} single and {pairs} paired loss positions completed"
    );
    (n_s, n_c, pairs)
}

#[test]
fn every_single_and_paired_loss_position_completes_mtu_1200() {
    let (n_s, n_c, pairs) = every_loss_position(&|a, b| Sim::with_links(7, a, b));
    // ClientHello, ClientHello+cookie, one client flight; HelloVerifyRequest, one server
    // flight, the final flight.
    assert_eq!((n_s, n_c), (3, 3));
    assert_eq!(pairs, 66);
}

#[test]
fn every_single_and_paired_loss_position_completes_mtu_256_with_client_certificate() {
    let make = |a: Link, b: Link| {
        let (mut c, mut s) = client_auth_configs(8);
        c.common.mtu = 256;
        s.common.mtu = 256;
        Sim::new(8, c, s, a, b)
    };
    let (n_s, n_c, _) = every_loss_position(&make);
    assert!(n_s >= 5 && n_c >= 5, "fragmented flights: {n_s} / {n_c}");
}

// ----- application data --------------------------------------------------------------------

fn connected(seed: u64, to_server: Link, to_client: Link) -> Sim {
    let mut sim = Sim::perfect(seed);
    sim.connect(Duration::from_secs(10)).expect("handshake");
    sim.settle(Duration::from_secs(20));
    sim.links = [to_server, to_client];
    sim
}

fn numbered(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("record {i:03}").into_bytes())
        .collect()
}

#[test]
fn duplicated_application_records_are_delivered_once() {
    let dup = Link {
        duplicate: 1.0,
        jitter: Duration::from_millis(5),
        ..Link::perfect()
    };
    let mut sim = connected(3, dup.clone(), dup);
    let data = numbered(40);
    for d in &data {
        sim.client_send(d);
        sim.server_send(d);
    }
    sim.settle(Duration::from_secs(30));
    assert_eq!(sim.stats[0].duplicated, 40);
    assert_eq!(sim.stats[1].duplicated, 40);
    for rx in [&sim.server_rx, &sim.client_rx] {
        let mut got = rx.clone();
        got.sort();
        assert_eq!(got, data, "each record exactly once");
    }
    assert_eq!(sim.server_stats().unwrap().dropped_replay, 40);
    assert_eq!(sim.client_stats().dropped_replay, 40);
    assert_eq!(sim.server_stats().unwrap().app_records_received, 40);
}

#[test]
fn records_reordered_within_the_replay_window_are_delivered_older_ones_dropped() {
    let mut sim = connected(4, Link::perfect(), Link::perfect());
    // Hold every client datagram back, then deliver them newest first.
    let held = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let h = held.clone();
    sim.tamper = Some(Box::new(move |dir, _, d| {
        if dir == Dir::ToServer {
            h.borrow_mut().push(d.to_vec());
            Vec::new()
        } else {
            vec![d.to_vec()]
        }
    }));
    let data = numbered(80);
    for d in &data {
        sim.client_send(d);
    }
    sim.tamper = None;
    let mut reversed = held.borrow().clone();
    reversed.reverse();
    for d in &reversed {
        let from = sim.client_addr;
        sim.deliver_to_server_from(from, d);
    }
    // The window is 64 records: the newest 64 arrive, the 16 before them are too old.
    let mut expected: Vec<Vec<u8>> = data[16..].to_vec();
    expected.reverse();
    assert_eq!(sim.server_rx, expected);
    assert_eq!(sim.server_stats().unwrap().dropped_replay, 16);
    assert_eq!(sim.server_status(), Some(Status::Connected));
}

#[test]
fn jittered_application_records_are_all_delivered() {
    let jitter = Link {
        jitter: Duration::from_millis(200),
        ..Link::perfect()
    };
    let mut sim = connected(5, jitter.clone(), jitter);
    let data = numbered(50);
    for d in &data {
        sim.client_send(d);
        sim.server_send(d);
    }
    sim.settle(Duration::from_secs(30));
    assert_ne!(sim.server_rx, data, "the link reordered");
    for rx in [&sim.server_rx, &sim.client_rx] {
        let mut got = rx.clone();
        got.sort();
        assert_eq!(got, data);
    }
}

/// Sends `data` from the client and returns the datagram instead of putting it on the link.
fn client_record(sim: &mut Sim, data: &[u8]) -> Vec<u8> {
    let out: Vec<Vec<u8>> = sim
        .client
        .send(data)
        .expect("send")
        .transmits()
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(out.len(), 1);
    out.into_iter().next().unwrap_or_default()
}

#[test]
fn one_bad_record_in_a_datagram_does_not_discard_the_good_ones_beside_it() {
    let mut sim = connected(6, Link::perfect(), Link::perfect());
    let a = client_record(&mut sim, b"first");
    let mut b = client_record(&mut sim, b"second");
    let c = client_record(&mut sim, b"third");
    // Corrupt the middle record's ciphertext: its AEAD tag fails.
    let last = b.len() - 1;
    b[last] ^= 0x55;
    let datagram = [a, b, c].concat();
    let from = sim.client_addr;
    let before = sim.server_stats().unwrap();
    sim.deliver_to_server_from(from, &datagram);
    assert_eq!(sim.server_rx, [b"first".to_vec(), b"third".to_vec()]);
    let stats = sim.server_stats().unwrap();
    assert_eq!(stats.dropped_bad_mac, before.dropped_bad_mac + 1);
    assert_eq!(stats.records_received, before.records_received + 3);
    assert_eq!(stats.app_records_received, before.app_records_received + 2);

    // A record whose length runs past the datagram ends it, but what came before is kept.
    let d = client_record(&mut sim, b"fourth");
    let mut e = client_record(&mut sim, b"fifth");
    e[11] = 0xff; // length high byte
    sim.deliver_to_server_from(from, &[d, e].concat());
    assert_eq!(
        sim.server_rx.last().map(Vec::as_slice),
        Some(&b"fourth"[..])
    );
    assert_eq!(sim.server_stats().unwrap().malformed_datagrams, 1);

    // An epoch-0 record of garbage before a good one.
    let junk = plaintext(ContentType::Handshake, 0, 99, &[0xde, 0xad]);
    let f = client_record(&mut sim, b"sixth");
    sim.deliver_to_server_from(from, &[junk, f].concat());
    assert_eq!(sim.server_rx.last().map(Vec::as_slice), Some(&b"sixth"[..]));
    assert_eq!(sim.server_status(), Some(Status::Connected));
}

#[test]
fn a_corrupt_record_beside_a_handshake_flight_costs_no_retransmission() {
    let mut sim = Sim::perfect(9);
    // Prefix every datagram either side sends with a record that fails to parse as a
    // handshake fragment, and append a truncated record header. (The front door reads the
    // ClientHello from the first record, so the two ClientHellos only get the suffix.)
    sim.tamper = Some(Box::new(|dir, index, d| {
        let junk = plaintext(ContentType::Handshake, 0, 1000 + index as u64, &[1, 2, 3]);
        let tail = vec![22, 0xfe, 0xfd, 0, 0];
        if dir == Dir::ToServer && index < 2 {
            vec![[d.to_vec(), tail].concat()]
        } else {
            vec![[junk, d.to_vec(), tail].concat()]
        }
    }));
    sim.connect(Duration::from_secs(10)).expect("handshake");
    assert_eq!(sim.client_stats().retransmissions, 0);
    assert_eq!(sim.server_stats().unwrap().retransmissions, 0);
    assert!(sim.client_stats().malformed_datagrams > 0);
    assert!(sim.server_stats().unwrap().dropped_malformed > 0);
}

#[test]
fn a_late_copy_of_the_final_flight_is_not_answered_once_connected() {
    // The server's final flight (to-client datagram 2) is held back until after the client's
    // timer resent its flight, so the server sends its final flight twice and the connected
    // client sees a second copy with fresh record numbers.
    let mut sim = Sim::perfect(10);
    let held = std::rc::Rc::new(std::cell::RefCell::new(None));
    let h = held.clone();
    sim.tamper = Some(Box::new(move |dir, index, d| {
        if dir == Dir::ToClient && index == 2 {
            *h.borrow_mut() = Some(d.to_vec());
            Vec::new()
        } else {
            vec![d.to_vec()]
        }
    }));
    sim.run_until(Duration::from_millis(1500), |_| false);
    assert_eq!(sim.server_status(), Some(Status::Connected));
    assert_eq!(
        sim.client.status(),
        &Status::Connected,
        "via the resent final flight"
    );
    let late = held.borrow_mut().take().expect("held final flight");
    sim.inject(Dir::ToClient, Duration::from_millis(1), late);
    assert!(sim.settle(Duration::from_secs(60)));
    // ClientHello, ClientHello + cookie, the client flight and its one timer retransmission;
    // HelloVerifyRequest, the server flight, the final flight and its one answer.
    assert_eq!((sim.stats[0].sent, sim.stats[1].sent), (4, 4));
    assert_eq!(sim.client_stats().retransmissions, 1);
    assert_eq!(sim.server_stats().unwrap().retransmissions, 1);
    assert!(sim.exchange(Duration::from_secs(1)));
}
