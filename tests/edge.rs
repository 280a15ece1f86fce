//! Protocol edge cases: the state-machine bug classes dtls-fuzzer found in DTLS stacks and the
//! ones mbedTLS's ssl-opt.sh checks, each as an assertion, driven through the simulator.
//!
//! In a clean handshake at MTU 1200 the datagrams are, to the server: 0 ClientHello,
//! 1 ClientHello with cookie, 2 [ClientKeyExchange, ChangeCipherSpec, Finished]; to the client:
//! 0 HelloVerifyRequest, 1 [ServerHello, Certificate, ServerKeyExchange, ServerHelloDone],
//! 2 [ChangeCipherSpec, Finished].

mod sim;

use std::net::SocketAddr;
use std::time::Duration;

use puredtls::alert::AlertDescription;
use puredtls::handshake::message::ClientHello;
use puredtls::handshake::HandshakeType;
use puredtls::record::{records, ContentType};
use puredtls::{EndpointEvent, Error, Event, Status};
use sim::*;

const SECOND: Duration = Duration::from_secs(1);

/// A handshake whose `dir` datagram number `index` has its records rearranged: `order` lists
/// the original record positions in their new order.
fn with_records_reordered(seed: u64, dir: Dir, index: usize, order: &'static [usize]) -> Sim {
    let mut sim = Sim::perfect(seed);
    sim.tamper = Some(Box::new(move |d, i, bytes| {
        if d == dir && i == index {
            let recs = split_records(bytes);
            assert_eq!(recs.len(), order.len(), "{:?}", describe(bytes));
            vec![order.iter().flat_map(|&k| recs[k].clone()).collect()]
        } else {
            vec![bytes.to_vec()]
        }
    }));
    sim
}

fn connected(seed: u64) -> Sim {
    let mut sim = Sim::perfect(seed);
    sim.connect(SECOND).expect("clean handshake");
    assert!(sim.settle(Duration::from_secs(10)));
    sim
}

/// Still connected on both sides, with data flowing both ways.
fn assert_alive(sim: &mut Sim) {
    assert_eq!(sim.client.status(), &Status::Connected, "{sim:?}");
    assert_eq!(sim.server_status(), Some(Status::Connected), "{sim:?}");
    assert!(sim.exchange(SECOND), "data no longer flows: {sim:?}");
}

// ----- ChangeCipherSpec and Finished out of place ------------------------------------------

#[test]
fn finished_before_change_cipher_spec_is_held_and_used_once_the_ccs_arrives() {
    // Client flight as [ClientKeyExchange, Finished, ChangeCipherSpec].
    let mut sim = with_records_reordered(20, Dir::ToServer, 2, &[0, 2, 1]);
    sim.connect(SECOND).expect("handshake");
    let server = sim.server_stats().unwrap();
    assert_eq!(server.buffered_next_epoch, 1);
    assert_eq!(server.retransmissions, 0);
    assert_eq!(sim.client_stats().retransmissions, 0);
    assert_alive(&mut sim);

    // Server's final flight as [Finished, ChangeCipherSpec].
    let mut sim = with_records_reordered(21, Dir::ToClient, 2, &[1, 0]);
    sim.connect(SECOND).expect("handshake");
    assert_eq!(sim.client_stats().buffered_next_epoch, 1);
    assert_eq!(sim.client_stats().retransmissions, 0);
    assert_alive(&mut sim);
}

#[test]
fn client_key_exchange_and_change_cipher_spec_swapped_the_early_ccs_is_ignored() {
    // [ChangeCipherSpec, ClientKeyExchange, Finished]: the CCS comes before any keys exist.
    let mut sim = with_records_reordered(22, Dir::ToServer, 2, &[1, 0, 2]);
    sim.run_until(Duration::from_millis(500), |_| false);
    let server = sim.server_stats().unwrap();
    assert_eq!(server.dropped_unexpected, 1, "the early CCS");
    assert_eq!(
        server.buffered_next_epoch, 1,
        "the Finished waits for a CCS"
    );
    assert_eq!(sim.server_status(), Some(Status::Handshaking));
    assert_eq!(sim.client.status(), &Status::Handshaking);
    // The client's retransmission brings a CCS in the right place.
    let took = sim.connect(Duration::from_secs(5)).expect("handshake");
    assert!(
        took >= SECOND,
        "needed the client's retransmission: {took:?}"
    );
    assert_eq!(sim.client_stats().retransmissions, 1);
    assert_alive(&mut sim);
}

#[test]
fn an_early_change_cipher_spec_is_dropped_on_both_sides() {
    let mut sim = Sim::perfect(23);
    // To the server before its session has keys, to the client before it has any; with the
    // highest record sequence number, which must not push the real records out of the
    // replay window.
    sim.run_until(Duration::from_millis(35), |s| s.server_status().is_some());
    let max = puredtls::record::MAX_SEQUENCE_NUMBER;
    sim.inject(Dir::ToServer, Duration::ZERO, ccs_record(0, max));
    sim.inject(Dir::ToClient, Duration::ZERO, ccs_record(0, max));
    sim.connect(SECOND).expect("handshake");
    assert_eq!(sim.server_stats().unwrap().dropped_unexpected, 1);
    assert_eq!(sim.client_stats().dropped_unexpected, 1);
    assert_eq!(sim.client_stats().retransmissions, 0);
    assert_alive(&mut sim);
}

#[test]
fn a_late_or_repeated_change_cipher_spec_after_the_handshake_is_dropped() {
    let mut sim = connected(24);
    let (c0, s0) = (
        sim.client_stats().dropped_unexpected,
        sim.server_stats().unwrap().dropped_unexpected,
    );
    for seq in 900..905 {
        sim.inject(Dir::ToServer, Duration::ZERO, ccs_record(0, seq));
        sim.inject(Dir::ToClient, Duration::ZERO, ccs_record(0, seq));
    }
    assert!(sim.settle(Duration::from_secs(20)));
    assert_eq!(sim.client_stats().dropped_unexpected, c0 + 5);
    assert_eq!(sim.server_stats().unwrap().dropped_unexpected, s0 + 5);
    assert_alive(&mut sim);
}

#[test]
fn a_plaintext_finished_is_never_accepted() {
    // The client's encrypted Finished is replaced by a plaintext one with the right
    // message_seq and a zero verify_data.
    let mut sim = Sim::perfect(25);
    sim.tamper = Some(Box::new(|dir, index, bytes| {
        if dir == Dir::ToServer && index == 2 {
            let recs = split_records(bytes);
            let fake = handshake_record(0, 50, HandshakeType::Finished, 3, &[0; 12]);
            vec![[recs[0].clone(), recs[1].clone(), fake].concat()]
        } else {
            vec![bytes.to_vec()]
        }
    }));
    sim.run_until(Duration::from_secs(3), |_| false);
    assert_ne!(sim.server_status(), Some(Status::Connected));
    assert_ne!(sim.client.status(), &Status::Connected);
    // The session refused it as an unexpected message and told the client so.
    assert!(sim.server_events.iter().any(|e| matches!(
        e,
        EndpointEvent::Session(_, Event::Failed(Error::UnexpectedMessage { .. }))
    )));
    assert_eq!(
        sim.client.status(),
        &Status::Failed(Error::AlertReceived(AlertDescription::UnexpectedMessage))
    );
}

// ----- hellos out of place -------------------------------------------------------------------

/// Every ClientHello the client sent, decoded.
fn client_hellos(sim: &Sim) -> Vec<ClientHello> {
    sim.log
        .iter()
        .filter(|s| s.dir == Dir::ToServer)
        .flat_map(|s| split_records(&s.bytes))
        .filter_map(|r| {
            let rec = records(&r).next()?;
            if rec.header.content_type != ContentType::Handshake || rec.header.epoch != 0 {
                return None;
            }
            let frag = puredtls::handshake::fragment::fragments(rec.fragment)
                .next()?
                .ok()?;
            (frag.header.msg_type == HandshakeType::ClientHello)
                .then(|| ClientHello::decode(frag.body).ok())
                .flatten()
        })
        .collect()
}

/// The client's first ClientHello, decoded.
fn first_client_hello(sim: &Sim) -> ClientHello {
    let first = sim
        .log
        .iter()
        .find(|s| s.dir == Dir::ToServer)
        .expect("a ClientHello");
    let rec = records(&first.bytes).next().expect("record");
    let frag = puredtls::handshake::fragment::fragments(rec.fragment)
        .next()
        .expect("fragment")
        .expect("well formed");
    ClientHello::decode(frag.body).expect("ClientHello")
}

fn client_hello_record(hello: &ClientHello, message_seq: u16, record_seq: u64) -> Vec<u8> {
    let mut body = Vec::new();
    hello.encode(&mut body);
    handshake_record(
        0,
        record_seq,
        HandshakeType::ClientHello,
        message_seq,
        &body,
    )
}

#[test]
fn a_second_client_hello_with_a_higher_message_seq_never_restarts_the_handshake() {
    // Mid-handshake: the server waits for ClientKeyExchange (message_seq 2); a ClientHello with
    // the client's own random and cookie arrives with message_seq 2.
    let mut sim = Sim::perfect(26);
    sim.links[0].drop = [2].into_iter().collect(); // hold the real client flight back once
    sim.run_until(Duration::from_millis(100), |_| false);
    let mut hello = first_client_hello(&sim);
    hello.cookie = client_hellos(&sim)[1].cookie.clone();
    assert!(!hello.cookie.is_empty());
    let server_hellos_before = server_hellos(&sim);
    sim.inject(
        Dir::ToServer,
        Duration::ZERO,
        client_hello_record(&hello, 2, 60),
    );
    sim.run_until(Duration::from_secs(5), |_| false);
    assert_eq!(
        server_hellos(&sim),
        server_hellos_before,
        "no second ServerHello, ever"
    );
    // It is the next message, of the wrong type: the session ends with unexpected_message.
    assert!(sim.server_events.iter().any(|e| matches!(
        e,
        EndpointEvent::Session(_, Event::Failed(Error::UnexpectedMessage { .. }))
    )));
    assert_eq!(
        sim.client.status(),
        &Status::Failed(Error::AlertReceived(AlertDescription::UnexpectedMessage))
    );

    // Once connected: ClientHellos with the client's random and every message_seq around the
    // next expected one are ignored (no renegotiation, no teardown by a plaintext record).
    let mut sim = connected(27);
    let hello = first_client_hello(&sim);
    let before = server_hellos(&sim);
    for (i, message_seq) in (0..12).enumerate() {
        sim.inject(
            Dir::ToServer,
            Duration::ZERO,
            client_hello_record(&hello, message_seq, 500 + i as u64),
        );
    }
    assert!(sim.settle(Duration::from_secs(20)));
    assert_eq!(server_hellos(&sim), before);
    assert_alive(&mut sim);
}

/// How many ServerHellos the server has sent.
fn server_hellos(sim: &Sim) -> usize {
    sim.log
        .iter()
        .filter(|s| s.dir == Dir::ToClient)
        .flat_map(|s| describe(&s.bytes))
        .filter(|d| d.2 == Some(HandshakeType::ServerHello))
        .count()
}

/// A HelloVerifyRequest record with an attacker's cookie.
fn hello_verify_request(message_seq: u16, record_seq: u64) -> Vec<u8> {
    let mut body = Vec::new();
    puredtls::handshake::message::HelloVerifyRequest {
        server_version: puredtls::record::ProtocolVersion::DTLS1_0,
        cookie: vec![0xaa; 20],
    }
    .encode(&mut body);
    handshake_record(
        0,
        record_seq,
        HandshakeType::HelloVerifyRequest,
        message_seq,
        &body,
    )
}

/// The client after it received the first `keep` records of the server's flight (ServerHello,
/// Certificate, ServerKeyExchange, ServerHelloDone); delivers HelloVerifyRequests with the
/// given message_seqs and checks the client never sends the injected cookie.
fn hello_verify_request_after(seed: u64, keep: usize, message_seqs: &[u16]) -> Sim {
    let mut sim = Sim::perfect(seed);
    sim.tamper = Some(Box::new(move |dir, index, bytes| {
        if dir == Dir::ToClient && index == 1 {
            vec![split_records(bytes)
                .into_iter()
                .take(keep)
                .flatten()
                .collect()]
        } else if dir == Dir::ToClient && index > 1 {
            Vec::new()
        } else {
            vec![bytes.to_vec()]
        }
    }));
    sim.run_until(Duration::from_millis(60), |_| false);
    assert_eq!(sim.client.status(), &Status::Handshaking);
    assert_eq!(client_hellos(&sim).len(), 2);
    for (i, &message_seq) in message_seqs.iter().enumerate() {
        sim.deliver_to_client(&hello_verify_request(message_seq, 700 + i as u64));
    }
    sim.run_until(Duration::from_secs(5), |_| false);
    assert!(
        client_hellos(&sim).iter().all(|h| h.cookie != [0xaa; 20]),
        "the client restarted its handshake with the injected cookie"
    );
    sim
}

#[test]
fn a_hello_verify_request_after_the_server_hello_does_not_restart_the_client() {
    // Only the ServerHello (message_seq 1) arrived: Certificate (2) is next.
    let sim = hello_verify_request_after(28, 1, &[0, 2]);
    // The old one looks like a repeated flight: the client resends its ClientHello with the
    // real cookie, nothing else.
    assert_eq!(client_hellos(&sim).len(), 3);
    assert_eq!(
        sim.client.status(),
        &Status::Failed(Error::UnexpectedMessage {
            expected: "Certificate",
            received: "HelloVerifyRequest".into()
        })
    );
    // The whole flight arrived and the client sent its own: ChangeCipherSpec is next, then
    // Finished (5).
    let sim = hello_verify_request_after(29, 4, &[0, 1, 5]);
    assert!(matches!(
        sim.client.status(),
        Status::Failed(Error::UnexpectedMessage { .. })
    ));
    // Old message_seqs only: the client resends its flight (as for any repeat) and goes on.
    let mut sim = hello_verify_request_after(30, 4, &[0, 1]);
    assert_eq!(sim.client.status(), &Status::Handshaking);
    sim.tamper = None;
    sim.connect(Duration::from_secs(10)).expect("handshake");
}

// ----- records after the handshake ---------------------------------------------------------

#[test]
fn a_bogus_finished_after_the_handshake_changes_nothing() {
    let mut sim = connected(29);
    // Plaintext Finished messages with every message_seq near the current ones, to both sides.
    for (i, message_seq) in (0..12).enumerate() {
        let f = handshake_record(
            0,
            800 + i as u64,
            HandshakeType::Finished,
            message_seq,
            &[7; 12],
        );
        sim.inject(Dir::ToServer, Duration::ZERO, f.clone());
        sim.inject(Dir::ToClient, Duration::ZERO, f);
    }
    // And an "encrypted" one that does not authenticate.
    let mut fake = handshake_record(1, 5, HandshakeType::Finished, 6, &[7; 40]);
    fake[0] = u8::from(ContentType::Handshake);
    sim.inject(Dir::ToServer, Duration::ZERO, fake.clone());
    sim.inject(Dir::ToClient, Duration::ZERO, fake);
    assert!(sim.settle(Duration::from_secs(20)));
    assert_alive(&mut sim);
    assert_eq!(sim.client_stats().dropped_bad_mac, 1);
    assert_eq!(sim.server_stats().unwrap().dropped_bad_mac, 1);
}

#[test]
fn an_unencrypted_record_in_epoch_1_is_dropped() {
    let mut sim = connected(30);
    for seq in 10..20 {
        sim.inject(
            Dir::ToServer,
            Duration::ZERO,
            plaintext(
                ContentType::ApplicationData,
                1,
                seq,
                b"not encrypted at all",
            ),
        );
        sim.inject(
            Dir::ToClient,
            Duration::ZERO,
            plaintext(ContentType::Alert, 1, seq, &[2, 40]),
        );
    }
    assert!(sim.settle(Duration::from_secs(20)));
    assert!(sim.server_rx.is_empty() && sim.client_rx.is_empty());
    assert_eq!(sim.server_stats().unwrap().dropped_bad_mac, 10);
    assert_eq!(sim.client_stats().dropped_bad_mac, 10);
    assert_alive(&mut sim);
}

#[test]
fn unencrypted_epoch_1_records_before_the_ccs_do_not_stop_the_handshake() {
    let mut sim = Sim::perfect(31);
    sim.run_until(Duration::from_millis(35), |s| s.server_status().is_some());
    for seq in 0..50 {
        sim.inject(
            Dir::ToServer,
            Duration::ZERO,
            plaintext(ContentType::Handshake, 1, 1000 + seq, &[20, 0, 0, 12]),
        );
    }
    let took = sim.connect(Duration::from_secs(10)).expect("handshake");
    let server = sim.server_stats().unwrap();
    assert!(server.buffered_next_epoch <= 9, "the cap holds");
    assert!(server.dropped_epoch >= 41);
    // The junk filled the early-record buffer, so the real Finished needed one resend.
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_alive(&mut sim);
}

#[test]
fn application_data_in_epoch_0_is_never_delivered() {
    // During the handshake...
    let mut sim = Sim::perfect(32);
    sim.run_until(Duration::from_millis(35), |s| s.server_status().is_some());
    for seq in 0..4 {
        sim.inject(
            Dir::ToServer,
            Duration::ZERO,
            plaintext(ContentType::ApplicationData, 0, 600 + seq, b"plaintext"),
        );
        sim.inject(
            Dir::ToClient,
            Duration::ZERO,
            plaintext(ContentType::ApplicationData, 0, 600 + seq, b"plaintext"),
        );
    }
    sim.connect(SECOND).expect("handshake");
    // ...and after it.
    for seq in 4..8 {
        sim.inject(
            Dir::ToServer,
            Duration::ZERO,
            plaintext(ContentType::ApplicationData, 0, 600 + seq, b"plaintext"),
        );
        sim.inject(
            Dir::ToClient,
            Duration::ZERO,
            plaintext(ContentType::ApplicationData, 0, 600 + seq, b"plaintext"),
        );
    }
    assert!(sim.settle(Duration::from_secs(20)));
    assert!(sim.server_rx.is_empty() && sim.client_rx.is_empty());
    assert_eq!(sim.server_stats().unwrap().dropped_unexpected, 8);
    assert_eq!(sim.client_stats().dropped_unexpected, 8);
    assert_alive(&mut sim);
}

#[test]
fn plaintext_alerts_after_the_handshake_are_ignored() {
    let mut sim = connected(33);
    let fatal = plaintext(ContentType::Alert, 0, 990, &[2, 40]);
    let close = plaintext(ContentType::Alert, 0, 991, &[1, 0]);
    for a in [fatal, close] {
        sim.inject(Dir::ToServer, Duration::ZERO, a.clone());
        sim.inject(Dir::ToClient, Duration::ZERO, a);
    }
    assert!(sim.settle(Duration::from_secs(20)));
    assert_alive(&mut sim);
}

#[test]
fn plaintext_handshake_messages_of_every_type_after_the_handshake_change_nothing() {
    let mut sim = connected(34);
    let mut seq = 2000;
    for msg_type in [0u8, 1, 2, 3, 4, 11, 12, 13, 14, 15, 16, 20, 99] {
        for message_seq in 0..10 {
            let r = handshake_record(0, seq, HandshakeType::from(msg_type), message_seq, &[]);
            seq += 1;
            sim.inject(Dir::ToServer, Duration::ZERO, r.clone());
            sim.inject(Dir::ToClient, Duration::ZERO, r);
        }
    }
    assert!(sim.settle(Duration::from_secs(20)));
    assert_alive(&mut sim);
}

// ----- the front door and live associations ------------------------------------------------

#[test]
fn an_off_path_client_hello_for_a_live_association_does_not_tear_it_down() {
    let mut sim = connected(35);
    let mut hello = first_client_hello(&sim);
    hello.random = [0x42; 32];
    // No cookie, then a made-up one, with message_seq values around the client's next one
    // (the server's HelloVerifyRequest echoes it to the real client).
    let mut seq = 3000;
    for cookie in [Vec::new(), vec![0x99; 32]] {
        hello.cookie = cookie;
        for message_seq in 0..10 {
            sim.inject(
                Dir::ToServer,
                Duration::ZERO,
                client_hello_record(&hello, message_seq, seq),
            );
            seq += 1;
        }
    }
    assert!(sim.settle(Duration::from_secs(20)));
    let accepted = sim
        .server_events
        .iter()
        .filter(|e| matches!(e, EndpointEvent::Accepted(_) | EndpointEvent::Replaced(_)))
        .count();
    assert_eq!(accepted, 1, "no new session: {:?}", sim.server_events);
    assert_eq!(sim.server.front_door_stats().hello_verify_requests, 1 + 20);
    assert_eq!(sim.server.len(), 1);
    assert_eq!(sim.server.front_door_stats().sessions_created, 1);
    assert_alive(&mut sim);
}

#[test]
fn a_client_reconnecting_from_the_same_port_replaces_its_old_session() {
    // RFC 6347 §4.2.8: a client that lost its state starts over from the same address; once
    // its new ClientHello returns a valid cookie the server drops the old association.
    let mut sim = connected(36);
    sim.restart_client(client_config(1036));
    sim.connect(Duration::from_secs(2))
        .expect("the new handshake completes");
    let addr = sim.client_addr;
    assert!(sim.server_events.contains(&EndpointEvent::Replaced(addr)));
    assert_eq!(sim.server.len(), 1);
    assert_eq!(sim.server.front_door_stats().sessions_created, 2);
    assert_alive(&mut sim);
}

#[test]
fn a_restarted_client_without_a_valid_cookie_does_not_disturb_the_old_session() {
    let mut sim = connected(37);
    // The new ClientHellos never reach the server with their cookie: the second one is lost,
    // so the old session must live on untouched.
    let sent = sim.stats[0].sent;
    sim.links[0].drop = (sent + 1..sent + 100).collect();
    sim.restart_client(client_config(1037));
    sim.run_until(Duration::from_secs(5), |_| false);
    assert_eq!(sim.server.len(), 1);
    assert_eq!(sim.server.front_door_stats().sessions_created, 1);
    assert_eq!(sim.server_status(), Some(Status::Connected));
    assert!(!sim
        .server_events
        .iter()
        .any(|e| matches!(e, EndpointEvent::Replaced(_))));
}

#[test]
fn stray_traffic_from_other_addresses_reaches_no_session() {
    let mut sim = connected(38);
    let other: SocketAddr = "127.0.0.1:40001".parse().unwrap();
    // The client's own records, replayed from another address.
    let flights: Vec<Vec<u8>> = sim
        .log
        .iter()
        .filter(|s| s.dir == Dir::ToServer)
        .map(|s| s.bytes.clone())
        .collect();
    for f in &flights {
        sim.deliver_to_server_from(other, f);
    }
    assert_eq!(sim.server.len(), 1, "no session for the other address");
    // Only the cookie-less ClientHello got an answer, a HelloVerifyRequest; the one with the
    // client's cookie fails verification for another address.
    assert_eq!(sim.server_to_others.len(), 2);
    for (peer, d) in &sim.server_to_others {
        assert_eq!(*peer, other);
        assert_eq!(
            describe(d),
            [(
                ContentType::Handshake,
                0,
                Some(HandshakeType::HelloVerifyRequest)
            )]
        );
    }
    assert_alive(&mut sim);
}

// ----- fragmentation and ordering ------------------------------------------------------------

#[test]
fn a_handshake_at_the_minimum_mtu_completes_without_retransmission() {
    let mut c = client_config(39);
    let mut s = server_config(39);
    c.common.mtu = puredtls::config::MIN_MTU;
    s.common.mtu = puredtls::config::MIN_MTU;
    let mut sim = Sim::new(39, c, s, Link::perfect(), Link::perfect());
    sim.connect(SECOND).expect("handshake");
    assert_eq!(sim.client_stats().retransmissions, 0);
    assert!(sim
        .log
        .iter()
        .all(|d| d.bytes.len() <= puredtls::config::MIN_MTU));
    assert!(sim.stats[1].sent > 8, "the flight was fragmented");
    assert_alive(&mut sim);
}

#[test]
fn a_server_flight_delivered_in_reverse_completes_without_retransmission() {
    let mut c = client_config(40);
    let mut s = server_config(40);
    c.common.mtu = 200;
    s.common.mtu = 200;
    let mut sim = Sim::new(40, c, s, Link::perfect(), Link::perfect());
    // Hold the whole server flight, then hand it over newest first.
    let held = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let h = held.clone();
    sim.tamper = Some(Box::new(move |dir, index, d| {
        if dir == Dir::ToClient && index >= 1 {
            h.borrow_mut().push((index, d.to_vec()));
            Vec::new()
        } else {
            vec![d.to_vec()]
        }
    }));
    sim.run_until(Duration::from_millis(45), |_| false);
    sim.tamper = None;
    let mut flight = held.borrow().clone();
    assert!(flight.len() >= 5, "a fragmented flight: {}", flight.len());
    flight.reverse();
    for (_, d) in &flight {
        sim.deliver_to_client(d);
    }
    sim.connect(SECOND).expect("handshake");
    assert_eq!(sim.client_stats().retransmissions, 0);
    assert_alive(&mut sim);
}

#[test]
fn a_fatal_alert_during_the_handshake_ends_it_on_the_receiving_side() {
    let mut sim = Sim::perfect(41);
    sim.run_until(Duration::from_millis(35), |s| s.server_status().is_some());
    sim.inject(
        Dir::ToClient,
        Duration::ZERO,
        plaintext(ContentType::Alert, 0, 50, &[2, 40]),
    );
    sim.run_until(SECOND, |_| false);
    assert_eq!(
        sim.client.status(),
        &Status::Failed(Error::AlertReceived(AlertDescription::HandshakeFailure))
    );
    assert_eq!(sim.client.poll_timeout(), None);
}

#[test]
fn a_peer_stuck_mid_flight_gets_no_retransmission_storm() {
    // One bit flipped in the server's certificate (MTU 256, second Certificate fragment): the
    // client accepts any certificate, so it goes on, but the transcripts differ and the server
    // never authenticates the client's Finished. The client's timer resends its flight into a
    // server still waiting for that flight's end: that is no reason for the server to resend
    // its own, and the client must not answer each datagram of a resent flight with a whole
    // flight (which used to multiply until a million datagrams were in flight).
    let mut c = client_config(42);
    let mut s = server_config(42);
    c.common.mtu = 256;
    s.common.mtu = 256;
    let mut sim = Sim::new(42, c, s, Link::perfect(), Link::perfect());
    sim.tamper = Some(Box::new(|dir, index, bytes| {
        let mut d = bytes.to_vec();
        if dir == Dir::ToClient && index == 3 {
            d[240] ^= 1;
        }
        vec![d]
    }));
    sim.run_until(Duration::from_secs(70), |_| false);
    // Client: ClientHello twice, then its flight at 0 s and on its timer (1, 3, 7, 15, 31 s);
    // server: HelloVerifyRequest and its 4-datagram flight once, then silence until both
    // handshakes time out.
    assert_eq!((sim.stats[0].sent, sim.stats[1].sent), (8, 5));
    assert_eq!(
        sim.client.status(),
        &Status::Failed(Error::HandshakeTimeout)
    );
    assert!(sim.server.is_empty());
}
