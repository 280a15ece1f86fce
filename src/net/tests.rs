//! The socket adapter on loopback: demultiplexing, the front door, statuses, close.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::cert::{generate_self_signed, CertificateError};
use crate::{CertificateDer, ClientConfig, ClientSession, Error, PrivateKey, TrustAnchors};

const DEADLINE: Duration = Duration::from_secs(10);

fn credentials() -> (PrivateKey, CertificateDer) {
    generate_self_signed(&["localhost", "127.0.0.1"]).unwrap()
}

/// Godot's DTLS server loop, echoing every packet and recording what it saw.
struct EchoServer {
    udp: UdpServer,
    dtls: DtlsServer,
    peers: Vec<PacketPeerDtls>,
    taken: Vec<DtlsStatus>,
    received: Vec<Vec<u8>>,
}

impl EchoServer {
    fn new(key: PrivateKey, cert: CertificateDer) -> Self {
        let mut udp = UdpServer::new();
        udp.listen_on("127.0.0.1:0").unwrap();
        let mut dtls = DtlsServer::new();
        dtls.setup(key, cert, Vec::new()).unwrap();
        Self {
            udp,
            dtls,
            peers: Vec::new(),
            taken: Vec::new(),
            received: Vec::new(),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.udp.local_addr().unwrap()
    }

    fn step(&mut self) {
        self.udp.poll().unwrap();
        while let Some(udp) = self.udp.take_connection() {
            let peer = self.dtls.take_connection(udp);
            self.taken.push(peer.get_status());
            if peer.get_status() == DtlsStatus::Handshaking {
                self.peers.push(peer);
            }
        }
        for p in &mut self.peers {
            p.poll();
            while let Some(packet) = p.get_packet() {
                self.received.push(packet.clone());
                p.put_packet(&packet).unwrap();
            }
        }
    }
}

fn client(
    server: SocketAddr,
    validate: bool,
    name: Option<&str>,
    anchors: Option<TrustAnchors>,
) -> PacketPeerDtls {
    let mut udp = PacketPeerUdp::new();
    udp.connect_to_host(server).unwrap();
    let mut dtls = PacketPeerDtls::new();
    dtls.connect_to_peer(udp, validate, name, anchors).unwrap();
    dtls
}

/// Steps `server` and polls `clients` until `done` holds; panics after the deadline.
fn run(
    server: &mut EchoServer,
    clients: &mut [PacketPeerDtls],
    mut done: impl FnMut(&EchoServer, &[PacketPeerDtls]) -> bool,
) {
    let start = Instant::now();
    while !done(server, clients) {
        assert!(
            start.elapsed() < DEADLINE,
            "timed out: clients {:?}, server took {:?}",
            clients.iter().map(|c| c.get_status()).collect::<Vec<_>>(),
            server.taken
        );
        server.step();
        for c in clients.iter_mut() {
            c.poll();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn all_connected(clients: &[PacketPeerDtls]) -> bool {
    clients
        .iter()
        .all(|c| c.get_status() == DtlsStatus::Connected)
}

#[test]
fn plain_udp_server_gives_one_peer_per_address() {
    let mut server = UdpServer::new();
    server.listen_on("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let mut a = PacketPeerUdp::new();
    a.connect_to_host(addr).unwrap();
    let mut b = PacketPeerUdp::new();
    b.connect_to_host(addr).unwrap();
    a.put_packet(b"The answer is... 42!").unwrap();
    a.put_packet(b"again").unwrap();
    b.put_packet(b"from b").unwrap();

    let start = Instant::now();
    let mut taken = Vec::new();
    while taken.len() < 2 && start.elapsed() < DEADLINE {
        server.poll().unwrap();
        while let Some(p) = server.take_connection() {
            taken.push(p);
        }
    }
    assert_eq!(taken.len(), 2, "two addresses, two connections");
    assert!(server.take_connection().is_none());
    let (pa, pb) = if taken[0].peer_addr() == a.local_addr() {
        (0, 1)
    } else {
        (1, 0)
    };
    assert_eq!(taken[pa].get_available_packet_count(), 2);
    assert_eq!(taken[pa].get_packet().unwrap(), b"The answer is... 42!");
    assert_eq!(taken[pa].get_packet().unwrap(), b"again");
    assert_eq!(taken[pb].get_packet().unwrap(), b"from b");
    taken[pa].put_packet(b"reply").unwrap();
    assert!(a.wait(DEADLINE).unwrap());
    assert_eq!(a.get_packet().unwrap(), b"reply");
    assert_eq!(a.get_packet_address(), Some(addr));
}

#[test]
fn first_dtls_peer_pays_the_cookie_exchange_like_godot_then_connects() {
    let (key, cert) = credentials();
    let mut server = EchoServer::new(key, cert);
    let mut clients = [client(server.addr(), false, None, None)];
    run(&mut server, &mut clients, |_, c| all_connected(c));
    // The cookie-less ClientHello reached a plain peer before the front door existed.
    assert_eq!(
        server.taken,
        vec![DtlsStatus::Disconnected, DtlsStatus::Handshaking]
    );
    clients[0].put_packet(b"ping").unwrap();
    run(&mut server, &mut clients, |_, c| {
        c[0].get_available_packet_count() > 0
    });
    assert_eq!(clients[0].get_packet().unwrap(), b"ping");
    assert_eq!(server.received, vec![b"ping".to_vec()]);
}

#[test]
fn one_socket_serves_many_peers_and_later_peers_are_taken_handshaking() {
    let (key, cert) = credentials();
    let mut server = EchoServer::new(key, cert);
    let mut first = [client(server.addr(), false, None, None)];
    run(&mut server, &mut first, |_, c| all_connected(c));
    server.taken.clear();

    let mut clients: Vec<_> = (0..5)
        .map(|_| client(server.addr(), false, None, None))
        .collect();
    run(&mut server, &mut clients, |_, c| all_connected(c));
    assert_eq!(server.taken, vec![DtlsStatus::Handshaking; 5]);
    for (i, c) in clients.iter_mut().enumerate() {
        c.put_packet(format!("message {i}").as_bytes()).unwrap();
    }
    run(&mut server, &mut clients, |_, c| {
        c.iter().all(|c| c.get_available_packet_count() == 1)
    });
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(c.get_packet().unwrap(), format!("message {i}").as_bytes());
    }
    assert_eq!(server.peers.len(), 6);
}

#[test]
fn front_door_answers_a_cookieless_client_hello_without_a_connection() {
    let (key, cert) = credentials();
    let mut server = EchoServer::new(key, cert);
    let mut first = [client(server.addr(), false, None, None)];
    run(&mut server, &mut first, |_, c| all_connected(c));
    server.taken.clear();

    let mut session = ClientSession::new(
        Arc::new(ClientConfig::dangerous_accept_any_certificate()),
        Instant::now(),
    )
    .unwrap();
    let hello: Vec<u8> = session.poll_output().transmits().next().unwrap().to_vec();
    let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
    raw.set_read_timeout(Some(DEADLINE)).unwrap();
    raw.send_to(&hello, server.addr()).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    raw.set_nonblocking(true).unwrap();
    let n = loop {
        assert!(start.elapsed() < DEADLINE, "no HelloVerifyRequest");
        server.step();
        if let Ok(n) = raw.recv(&mut buf) {
            break n;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    // Record content type handshake (22), handshake type hello_verify_request (3).
    assert_eq!(buf[0], 22);
    assert_eq!(buf[13], 3);
    assert!(n > 25);
    assert!(!server.udp.is_connection_available());
    assert!(server.taken.is_empty(), "no connection before the cookie");
}

#[test]
fn wrong_host_name_gives_error_hostname_mismatch() {
    let (key, cert) = credentials();
    let anchors = TrustAnchors::from_certificates(std::slice::from_ref(&cert)).unwrap();
    let mut server = EchoServer::new(key, cert);
    let mut clients = [client(
        server.addr(),
        true,
        Some("example.com"),
        Some(anchors),
    )];
    run(&mut server, &mut clients, |_, c| {
        c[0].get_status() != DtlsStatus::Handshaking
    });
    assert_eq!(clients[0].get_status(), DtlsStatus::ErrorHostnameMismatch);
    assert!(matches!(
        clients[0].last_error(),
        Some(Error::Certificate(CertificateError::NameMismatch { expected, .. }))
            if expected == "example.com"
    ));
}

#[test]
fn unknown_issuer_fails_both_sides() {
    let (key, cert) = credentials();
    // A different subject: an anchor with the same name would be tried (BadSignature).
    let (_, other) = generate_self_signed(&["other.example"]).unwrap();
    let anchors = TrustAnchors::from_certificates(&[other]).unwrap();
    let mut server = EchoServer::new(key, cert);
    let mut clients = [client(
        server.addr(),
        true,
        Some("localhost"),
        Some(anchors),
    )];
    run(&mut server, &mut clients, |s, c| {
        c[0].get_status() != DtlsStatus::Handshaking
            && s.peers.iter().any(|p| p.get_status() == DtlsStatus::Error)
    });
    assert_eq!(clients[0].get_status(), DtlsStatus::Error);
    assert_eq!(
        clients[0].last_error(),
        Some(Error::Certificate(CertificateError::UnknownIssuer))
    );
    let failed = server
        .peers
        .iter()
        .find(|p| p.get_status() == DtlsStatus::Error);
    assert!(matches!(
        failed.and_then(PacketPeerDtls::last_error),
        Some(Error::AlertReceived(_))
    ));
}

#[test]
fn valid_chain_and_name_connect() {
    let (key, cert) = credentials();
    let anchors = TrustAnchors::from_certificates(std::slice::from_ref(&cert)).unwrap();
    let mut server = EchoServer::new(key, cert.clone());
    let mut clients = [client(
        server.addr(),
        true,
        Some("localhost"),
        Some(anchors),
    )];
    run(&mut server, &mut clients, |_, c| all_connected(c));
    assert_eq!(clients[0].peer_certificates(), vec![cert]);
    assert!(clients[0].cipher_suite().is_some());
}

#[test]
fn close_notify_from_the_client_disconnects_the_server_peer() {
    let (key, cert) = credentials();
    let mut server = EchoServer::new(key, cert);
    let mut clients = [client(server.addr(), false, None, None)];
    run(&mut server, &mut clients, |s, c| {
        all_connected(c)
            && s.peers
                .iter()
                .any(|p| p.get_status() == DtlsStatus::Connected)
    });
    clients[0].disconnect_from_peer();
    assert_eq!(clients[0].get_status(), DtlsStatus::Disconnected);
    run(&mut server, &mut clients, |s, _| {
        s.peers
            .iter()
            .all(|p| p.get_status() == DtlsStatus::Disconnected)
    });
    assert!(clients[0].put_packet(b"x").is_err());
}

#[test]
fn dropping_the_server_peer_sends_close_notify() {
    let (key, cert) = credentials();
    let mut server = EchoServer::new(key, cert);
    let mut clients = [client(server.addr(), false, None, None)];
    run(&mut server, &mut clients, |s, c| {
        all_connected(c)
            && s.peers
                .iter()
                .any(|p| p.get_status() == DtlsStatus::Connected)
    });
    server.peers.clear();
    run(&mut server, &mut clients, |_, c| {
        c[0].get_status() == DtlsStatus::Disconnected
    });
}

#[test]
fn exporter_agrees_across_the_socket() {
    let (key, cert) = credentials();
    let mut server = EchoServer::new(key, cert);
    let mut clients = [client(server.addr(), false, None, None)];
    run(&mut server, &mut clients, |s, c| {
        all_connected(c)
            && s.peers
                .iter()
                .any(|p| p.get_status() == DtlsStatus::Connected)
    });
    let peer = server
        .peers
        .iter()
        .find(|p| p.get_status() == DtlsStatus::Connected)
        .unwrap();
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    clients[0]
        .export_keying_material(b"EXPERIMENTAL-puredtls", None, &mut a)
        .unwrap();
    peer.export_keying_material(b"EXPERIMENTAL-puredtls", None, &mut b)
        .unwrap();
    assert_eq!(a, b);
    assert_ne!(a, [0; 32]);
    assert_eq!(peer.cipher_suite(), clients[0].cipher_suite());
    assert_eq!(peer.peer_address(), clients[0].local_address());
}

#[test]
fn validate_certs_without_anchors_is_refused() {
    let mut udp = PacketPeerUdp::new();
    udp.connect_to_host("127.0.0.1:9").unwrap();
    let mut dtls = PacketPeerDtls::new();
    let err = dtls.connect_to_peer(udp, true, Some("localhost"), None);
    assert!(matches!(err, Err(NetError::Dtls(Error::Config(_)))));
    assert_eq!(dtls.get_status(), DtlsStatus::Disconnected);
}

#[test]
fn unconnected_udp_peer_cannot_start_a_client() {
    let mut dtls = PacketPeerDtls::new();
    let err = dtls.connect_to_peer(PacketPeerUdp::new(), false, None, None);
    assert!(matches!(err, Err(NetError::Usage(_))));
}

#[test]
fn take_connection_before_setup_is_an_error_peer() {
    let mut udp = UdpServer::new();
    udp.listen_on("127.0.0.1:0").unwrap();
    let mut c = PacketPeerUdp::new();
    c.connect_to_host(udp.local_addr().unwrap()).unwrap();
    c.put_packet(b"hello").unwrap();
    let start = Instant::now();
    while !udp.is_connection_available() {
        assert!(start.elapsed() < DEADLINE);
        std::thread::sleep(Duration::from_millis(1));
    }
    let peer = DtlsServer::new().take_connection(udp.take_connection().unwrap());
    assert_eq!(peer.get_status(), DtlsStatus::Error);
    assert!(matches!(peer.last_error(), Some(Error::Config(_))));
}

#[test]
fn client_wait_returns_when_the_reply_arrives() {
    let (key, cert) = credentials();
    let mut server = EchoServer::new(key, cert);
    let mut clients = [client(server.addr(), false, None, None)];
    run(&mut server, &mut clients, |s, c| {
        all_connected(c)
            && s.peers
                .iter()
                .any(|p| p.get_status() == DtlsStatus::Connected)
    });
    let server_thread = std::thread::spawn(move || {
        let start = Instant::now();
        while server.received.is_empty() && start.elapsed() < DEADLINE {
            server.step();
            std::thread::sleep(Duration::from_millis(1));
        }
        server
    });
    let [mut c] = clients;
    c.put_packet(b"wake").unwrap();
    let start = Instant::now();
    while c.get_available_packet_count() == 0 {
        assert!(start.elapsed() < DEADLINE);
        c.wait(Duration::from_secs(5)).unwrap();
        c.poll();
    }
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "wait slept past the reply"
    );
    assert_eq!(c.get_packet().unwrap(), b"wake");
    server_thread.join().unwrap();
}

#[test]
fn adapter_types_are_send() {
    fn send<T: Send>() {}
    send::<UdpServer>();
    send::<DtlsServer>();
    send::<PacketPeerUdp>();
    send::<PacketPeerDtls>();
}

/// Drives the server until `raw` receives datagrams; returns them.
fn exchange(server: &mut EchoServer, raw: &UdpSocket, take: bool) -> Vec<Vec<u8>> {
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    let mut got = Vec::new();
    loop {
        assert!(start.elapsed() < DEADLINE, "no answer from the server");
        if take {
            server.step();
        } else {
            server.udp.poll().unwrap();
        }
        while let Ok(n) = raw.recv(&mut buf) {
            got.push(buf[..n].to_vec());
        }
        if !got.is_empty() {
            return got;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_pending_session_does_not_advance_until_it_is_taken() {
    let (key, cert) = credentials();
    let mut server = EchoServer::new(key, cert);
    let mut first = [client(server.addr(), false, None, None)];
    run(&mut server, &mut first, |_, c| all_connected(c));
    server.taken.clear();

    // A client driven by hand, so the server's loop can be held between steps.
    let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
    raw.connect(server.addr()).unwrap();
    raw.set_nonblocking(true).unwrap();
    let now = Instant::now();
    let mut session = ClientSession::new(
        Arc::new(ClientConfig::dangerous_accept_any_certificate()),
        now,
    )
    .unwrap();
    let send_all = |out: &crate::Output<'_>| {
        for d in out.transmits() {
            raw.send(d).unwrap();
        }
    };
    send_all(&session.poll_output());
    for d in exchange(&mut server, &raw, false) {
        send_all(&session.handle_datagram(now, &d)); // HelloVerifyRequest -> ClientHello
    }
    // The server's first flight arrives; nobody has taken the connection yet.
    for d in exchange(&mut server, &raw, false) {
        send_all(&session.handle_datagram(now, &d));
    }
    // Our Finished reaches the socket while the connection is still pending.
    for _ in 0..20 {
        server.udp.poll().unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(server.udp.is_connection_available());
    let udp = server.udp.take_connection().unwrap();
    let peer = server.dtls.take_connection(udp);
    assert_eq!(peer.get_status(), DtlsStatus::Handshaking);
    server.peers.push(peer);
    // The held Finished is handled at the next poll: the server's Finished comes back.
    for d in exchange(&mut server, &raw, true) {
        let _ = session.handle_datagram(now, &d);
    }
    assert_eq!(session.status(), &crate::Status::Connected);
    assert_eq!(server.peers[1].get_status(), DtlsStatus::Connected);
}
