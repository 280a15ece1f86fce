//! The front door: what a server spends answering a cookie-less ClientHello with a
//! HelloVerifyRequest (RFC 6347 §4.2.1), the cost every spoofed or first-contact datagram imposes.
//!
//! One real ClientHello is captured from an OpenSSL client once; each iteration feeds a copy to
//! the server and takes the HelloVerifyRequest back out.
//!
//! - `openssl/DTLSv1_listen`: OpenSSL's stateless path, one reused `Ssl` (`DTLSv1_listen` clears
//!   it on every call). The `openssl` crate does not expose it; it is called through `extern "C"`.
//! - `openssl/stateful_accept`: what the `openssl` crate offers by itself: a fresh server `Ssl`
//!   per ClientHello with `SSL_OP_COOKIE_EXCHANGE`, one `do_handshake` step, then dropped.
//! - `puredtls/cookie_hmac_only`: a component, not the front door: `CookieKeys::generate` for
//!   one ClientHello (the HMAC-SHA256 every HelloVerifyRequest needs).
//! - `puredtls/stateless_hvr`: the front door: `Server::accept` on one reused `Server` with the
//!   same captured OpenSSL ClientHello; the answer must be a HelloVerifyRequest (so no session).
//! - `puredtls/endpoint_hvr`: the same through `Endpoint::handle_datagram` (front door plus
//!   session table, which copies the answer into its own output); the table must stay empty.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use std::hint::black_box;

use criterion::{criterion_group, Criterion, Throughput};
use openssl::ssl::SslMode;
use puredtls::cookie::{CookieInput, CookieKeys};
use puredtls::server::Accept;
use puredtls::{Endpoint, Server};

#[path = "support/openssl_dtls.rs"]
#[allow(dead_code)]
mod openssl_dtls;
#[path = "support/puredtls_pair.rs"]
#[allow(dead_code)]
mod puredtls_pair;
#[path = "support/ratios.rs"]
#[allow(dead_code)]
mod ratios;

use openssl_dtls::{
    capture_client_hello, client_context, is_hello_verify_request, server, server_context, step,
    Cookies, Identity, Listened, Listener, HANDSHAKE_MTU,
};

fn front_door(c: &mut Criterion) {
    let identity = Identity::self_signed_p256("bench.puredtls.test");
    let client_ctx = client_context(&identity, SslMode::empty());
    let server_ctx = server_context(&identity, Cookies::On, SslMode::empty());
    let client_hello = capture_client_hello(&client_ctx);

    let mut g = c.benchmark_group("front_door");
    g.throughput(Throughput::Elements(1));

    let mut listener = Listener::new(&server_ctx);
    assert_eq!(listener.listen(&client_hello), Listened::Answered);
    let hvr = listener.pipe().outbox.pop_front().expect("an answer");
    assert!(
        is_hello_verify_request(&hvr),
        "DTLSv1_listen did not answer with a HelloVerifyRequest"
    );
    println!(
        "front_door: ClientHello {} bytes -> HelloVerifyRequest {} bytes",
        client_hello.len(),
        hvr.len()
    );
    g.bench_function("openssl/DTLSv1_listen", |b| {
        b.iter(|| {
            let r = listener.listen(&client_hello);
            let pipe = listener.pipe();
            let answer = pipe.outbox.pop_front().expect("DTLSv1_listen sent nothing");
            assert!(r == Listened::Answered && is_hello_verify_request(&answer));
            pipe.recycle(answer);
        })
    });

    g.bench_function("openssl/stateful_accept", |b| {
        b.iter(|| {
            let mut s = server(&server_ctx, HANDSHAKE_MTU);
            s.get_mut().receive(&client_hello);
            assert!(!step(&mut s));
            let answer = s.get_mut().outbox.pop_front().expect("accept sent nothing");
            assert!(is_hello_verify_request(&answer));
            s
        })
    });

    let keys = CookieKeys::new(&[7; 32], Duration::from_secs(60));
    let random = [0x42; 32];
    let input = CookieInput {
        peer: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000),
        client_version: 0xfefd,
        random: &random,
        session_id: &[],
    };
    g.bench_function("puredtls/cookie_hmac_only", |b| {
        b.iter(|| keys.generate(black_box(&input)))
    });

    let config = puredtls_pair::server_config(&identity, HANDSHAKE_MTU as usize);
    let mut server = Server::new(config.clone()).expect("server");
    let now = std::time::Instant::now();
    match server.accept(now, puredtls_pair::PEER, &client_hello) {
        Accept::HelloVerifyRequest(hvr) => {
            assert!(is_hello_verify_request(hvr));
            println!(
                "front_door: puredtls HelloVerifyRequest {} bytes",
                hvr.len()
            );
        }
        other => panic!("puredtls front door did not answer with a HelloVerifyRequest: {other:?}"),
    }
    g.bench_function("puredtls/stateless_hvr", |b| {
        b.iter(
            || match server.accept(now, puredtls_pair::PEER, black_box(&client_hello)) {
                Accept::HelloVerifyRequest(hvr) => hvr.len(),
                other => panic!("expected a HelloVerifyRequest, got {other:?}"),
            },
        )
    });
    assert_eq!(server.stats().sessions_created, 0);

    let mut endpoint = Endpoint::new(config).expect("endpoint");
    g.bench_function("puredtls/endpoint_hvr", |b| {
        b.iter(|| {
            let out = endpoint.handle_datagram(now, puredtls_pair::PEER, black_box(&client_hello));
            let t = out.transmits().first().expect("an answer");
            assert!(is_hello_verify_request(out.datagram(t)));
        })
    });
    assert!(
        endpoint.is_empty(),
        "a cookie-less ClientHello created a session"
    );
    g.finish();
}

criterion_group!(benches, front_door);

fn main() {
    let started = std::time::SystemTime::now();
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    ratios::print(
        started,
        &[
            (
                "puredtls Server::accept / openssl DTLSv1_listen",
                "front_door/puredtls/stateless_hvr",
                "front_door/openssl/DTLSv1_listen",
            ),
            (
                "puredtls Endpoint / openssl DTLSv1_listen",
                "front_door/puredtls/endpoint_hvr",
                "front_door/openssl/DTLSv1_listen",
            ),
        ],
    );
}
