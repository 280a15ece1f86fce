//! In-memory client ↔ server handshakes through the public sans-IO API.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use puredtls::cert::generate_self_signed;
use puredtls::suite::CipherSuite;
use puredtls::{
    Accept, ClientConfig, ClientSession, Event, Server, ServerConfig, ServerSession, Status,
};

fn server_config() -> ServerConfig {
    let (key, cert) = generate_self_signed(&["localhost"]).unwrap();
    ServerConfig::new(vec![cert], key).unwrap()
}

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn collect(out: &puredtls::Output<'_>) -> Vec<Vec<u8>> {
    out.transmits().map(<[u8]>::to_vec).collect()
}

/// Runs the cookie exchange and handshake to completion; returns both sessions.
fn connect(server_cfg: ServerConfig, client_cfg: ClientConfig) -> (ClientSession, ServerSession) {
    let now = Instant::now();
    let mut server = Server::new(Arc::new(server_cfg)).unwrap();
    let mut client = ClientSession::new(Arc::new(client_cfg), now).unwrap();
    let mut to_server = collect(&client.poll_output());
    let mut session: Option<ServerSession> = None;
    for _round in 0..10 {
        let mut to_client = Vec::new();
        for d in to_server.drain(..) {
            match &mut session {
                None => match server.accept(now, peer(), &d) {
                    Accept::HelloVerifyRequest(hvr) => to_client.push(hvr.to_vec()),
                    Accept::NewSession(mut s) => {
                        to_client.extend(collect(&s.poll_output()));
                        session = Some(*s);
                    }
                    Accept::Ignored(why) => panic!("front door ignored a datagram: {why:?}"),
                },
                Some(s) => to_client.extend(collect(&s.handle_datagram(now, &d))),
            }
        }
        for d in to_client {
            to_server.extend(collect(&client.handle_datagram(now, &d)));
        }
        if client.status() == &Status::Connected
            && session
                .as_ref()
                .is_some_and(|s| s.status() == &Status::Connected)
        {
            return (client, session.unwrap());
        }
    }
    panic!(
        "no handshake: client {:?}, server {:?}",
        client.status(),
        session.map(|s| s.status().clone())
    );
}

#[test]
fn handshake_aes128_gcm_and_app_data_both_ways() {
    let (mut client, mut server) = connect(
        server_config(),
        ClientConfig::dangerous_accept_any_certificate(),
    );
    assert_eq!(
        client.cipher_suite(),
        Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
    );
    assert_eq!(client.cipher_suite(), server.cipher_suite());
    let now = Instant::now();
    let d = collect(&client.send(b"ping").unwrap());
    assert_eq!(d.len(), 1);
    let out = server.handle_datagram(now, &d[0]);
    let got: Vec<_> = out.app_data().collect();
    assert_eq!(got, vec![&b"ping"[..]]);
    let d = collect(&server.send(b"pong").unwrap());
    let out = client.handle_datagram(now, &d[0]);
    assert_eq!(out.app_data().collect::<Vec<_>>(), vec![&b"pong"[..]]);
}

#[test]
fn handshake_aes256_gcm_sha384() {
    let mut server_cfg = server_config();
    server_cfg.common.cipher_suites = vec![CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384];
    let (client, server) = connect(server_cfg, ClientConfig::dangerous_accept_any_certificate());
    assert_eq!(
        client.cipher_suite(),
        Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)
    );
    assert_eq!(server.cipher_suite(), client.cipher_suite());
}

#[test]
fn exporter_gives_both_sides_the_same_keying_material() {
    let (client, server) = connect(
        server_config(),
        ClientConfig::dangerous_accept_any_certificate(),
    );
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
    let (mut client, mut server) = connect(
        server_config(),
        ClientConfig::dangerous_accept_any_certificate(),
    );
    let now = Instant::now();
    let d = collect(&client.close());
    assert_eq!(client.status(), &Status::Closed);
    let out = server.handle_datagram(now, &d[0]);
    assert_eq!(out.events(), &[Event::PeerClosed]);
    let reply = collect(&out);
    assert_eq!(reply.len(), 1, "close_notify is answered with close_notify");
    assert_eq!(server.status(), &Status::Closed);
    assert!(server.send(b"x").is_err());
    let _ = Duration::ZERO;
}
