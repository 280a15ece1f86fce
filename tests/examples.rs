//! The examples' own code (the ports of Godot's `server_node.gd` and `client_node.gd`), run end
//! to end on loopback with an ephemeral port.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use puredtls::cert::{fingerprint_sha256, generate_self_signed, parse_fingerprint};

#[allow(dead_code)]
#[path = "../examples/server.rs"]
mod server_example;

#[allow(dead_code)]
#[path = "../examples/client.rs"]
mod client_example;

use client_example::ClientNode;
use server_example::ServerNode;

const DEADLINE: Duration = Duration::from_secs(10);

fn server() -> (ServerNode, SocketAddr, [u8; 32]) {
    let (key, cert) = generate_self_signed(&["localhost", "127.0.0.1"]).unwrap();
    let fingerprint = parse_fingerprint(&fingerprint_sha256(&cert)).unwrap();
    let node = ServerNode::ready(SocketAddr::from(([127, 0, 0, 1], 0)), key, cert).unwrap();
    let addr = node.local_addr().unwrap();
    (node, addr, fingerprint)
}

/// Runs both nodes' frames until every client got its answer; returns what the server printed
/// and what each client printed.
fn run(server: &mut ServerNode, clients: &mut [ClientNode]) -> (Vec<String>, Vec<Vec<String>>) {
    let start = Instant::now();
    let mut server_got = Vec::new();
    let mut client_got = vec![Vec::new(); clients.len()];
    while !clients.iter().all(ClientNode::is_connected) {
        assert!(
            start.elapsed() < DEADLINE,
            "examples did not finish: client statuses {:?}",
            clients.iter().map(ClientNode::status).collect::<Vec<_>>()
        );
        server_got.extend(server.process());
        for (c, got) in clients.iter_mut().zip(&mut client_got) {
            got.extend(c.process());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    (server_got, client_got)
}

#[test]
fn client_example_gets_hello_from_server_example() {
    let (mut server, addr, _) = server();
    let mut clients = [ClientNode::ready(addr, None).unwrap()];
    let (server_got, client_got) = run(&mut server, &mut clients);
    assert!(!server_got.is_empty());
    assert!(server_got.iter().all(|m| m == "The answer is... 42!"));
    // The client sends once a frame until answered: one answer per message the server got
    // so far, at least one.
    assert!(!client_got[0].is_empty());
    assert!(client_got[0].iter().all(|m| m == "Hello DTLS client"));
}

#[test]
fn client_example_pins_the_server_fingerprint() {
    let (mut server, addr, fingerprint) = server();
    let mut clients = [ClientNode::ready(addr, Some(fingerprint)).unwrap()];
    let (_, client_got) = run(&mut server, &mut clients);
    assert_eq!(
        client_got[0].first().map(String::as_str),
        Some("Hello DTLS client")
    );
}

#[test]
fn client_example_refuses_a_wrong_fingerprint() {
    let (mut server, addr, mut fingerprint) = server();
    fingerprint[0] ^= 1;
    let mut client = ClientNode::ready(addr, Some(fingerprint)).unwrap();
    let start = Instant::now();
    while client.status() == puredtls::net::DtlsStatus::Handshaking {
        assert!(start.elapsed() < DEADLINE, "the client never gave up");
        server.process();
        client.process();
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(client.status(), puredtls::net::DtlsStatus::Error);
    assert!(
        client.failure().contains("fingerprint"),
        "message names the cause: {}",
        client.failure()
    );
    assert!(!client.is_connected());
}

#[test]
fn server_example_serves_several_clients_on_one_socket() {
    let (mut server, addr, _) = server();
    let mut clients: Vec<_> = (0..4)
        .map(|_| ClientNode::ready(addr, None).unwrap())
        .collect();
    let (server_got, client_got) = run(&mut server, &mut clients);
    assert!(server_got.len() >= 4);
    for got in client_got {
        assert!(got.iter().any(|m| m == "Hello DTLS client"));
    }
    for c in &mut clients {
        c.close();
    }
}
