//! Full DTLS 1.2 handshakes (ECDHE-ECDSA-AES128-GCM-SHA256, P-256), client and server in one
//! thread over an in-memory datagram link.
//!
//! - `*/client+server`: one complete handshake per iteration, fresh `Ssl` objects from prebuilt
//!   contexts; throughput is handshakes per second on one core.
//! - `*/server_cpu`: the same handshakes, timing only the server's work (building its `Ssl` and
//!   each of its handshake steps), via `iter_custom`.
//!
//! `cookie` runs the HelloVerifyRequest exchange first (what puredtls's server always does);
//! `no_cookie` skips it.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use openssl::ssl::SslMode;

#[path = "support/openssl_dtls.rs"]
#[allow(dead_code)]
mod openssl_dtls;

use openssl_dtls::{
    client_context, connect, server, server_context, Cookies, Identity, HANDSHAKE_MTU,
};

fn handshake(c: &mut Criterion) {
    let identity = Identity::self_signed_p256("bench.puredtls.test");
    let client_ctx = client_context(&identity, SslMode::empty());

    let mut g = c.benchmark_group("handshake");
    g.throughput(Throughput::Elements(1));
    for (label, cookies) in [("cookie", Cookies::On), ("no_cookie", Cookies::Off)] {
        let server_ctx = server_context(&identity, cookies, SslMode::empty());

        g.bench_function(
            BenchmarkId::new("openssl", format!("{label}/client+server")),
            |b| b.iter(|| connect(&client_ctx, &server_ctx, HANDSHAKE_MTU)),
        );

        g.bench_function(
            BenchmarkId::new("openssl", format!("{label}/server_cpu")),
            |b| {
                b.iter_custom(|iters| {
                    let mut server_time = Duration::ZERO;
                    for _ in 0..iters {
                        let (pair, t) = connect(&client_ctx, &server_ctx, HANDSHAKE_MTU);
                        server_time += t;
                        drop(pair);
                    }
                    server_time
                })
            },
        );
    }

    // A component of `server_cpu`: building (and freeing) the server's `Ssl` + stream BIO alone.
    let server_ctx = server_context(&identity, Cookies::On, SslMode::empty());
    g.bench_function("openssl/server_ssl_new_only", |b| {
        b.iter(|| server(&server_ctx, HANDSHAKE_MTU))
    });

    // TODO(puredtls): same two benches once the sessions exist:
    //   "puredtls" / "cookie/client+server": build a ClientSession and feed datagrams through a
    //   Server (stateless front door + ServerSession) until both report Status::Connected, with
    //   the same P-256 identity (export `identity.key`/`identity.cert` as PKCS#8/DER) and MTU.
    //   "puredtls" / "cookie/server_cpu": the same loop, with an Instant around every
    //   Server::handle_datagram / ServerSession::handle_datagram call, summed in iter_custom.
    g.finish();
}

criterion_group!(benches, handshake);
criterion_main!(benches);
