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
//!
//! - `puredtls/cookie/client+server`: `ClientSession::new`, then every datagram through
//!   `Server::accept` (HelloVerifyRequest, then the new `ServerSession`) and
//!   `ServerSession::handle_datagram` until both sides report `Status::Connected`. Same
//!   identity (the OpenSSL-generated P-256 key and certificate), same MTU, the client checks
//!   the chain against the certificate as trust anchor like the OpenSSL client.
//! - `puredtls/cookie/server_cpu`: the same, an `Instant` around each of the server's calls.
//! - `crypto_floor/server`: the server's cryptography for one handshake, done directly with the
//!   crates puredtls uses (p256 0.14, sha2 0.11, hmac 0.13): two cookie HMACs, an ECDHE key
//!   pair, the ECDSA signature over the ServerKeyExchange parameters, the ECDH agreement with the
//!   client's point (with its validation), the transcript hash, the extended master secret,
//!   the key block and both Finished PRFs, and the two AES-128-GCM key schedules. Nothing else
//!   a server must do can be cheaper than this with these crates.
//! - `crypto_floor/client+server`: the client's share added (key pair, agreement, ECDSA verify
//!   of the ServerKeyExchange, the same hashing and PRFs).
//! - `crypto/*`: the individual P-256 operations, to read the floors by.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes_gcm::Aes128Gcm;
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use openssl::ssl::SslMode;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::elliptic_curve::{ecdh::diffie_hellman, Generate};
use p256::{NonZeroScalar, PublicKey};
use pkcs8::DecodePrivateKey;
use puredtls::Server;
use sha2::{Digest, Sha256};

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

    let mtu = HANDSHAKE_MTU as usize;
    let server_config = puredtls_pair::server_config(&identity, mtu);
    let client_config = puredtls_pair::client_config(&identity, mtu);
    let mut front_door = Server::new(server_config).expect("server");
    let now = Instant::now();
    g.bench_function("puredtls/cookie/client+server", |b| {
        b.iter(|| puredtls_pair::handshake(&mut front_door, &client_config, now))
    });
    g.bench_function("puredtls/cookie/server_cpu", |b| {
        b.iter_custom(|iters| {
            let mut server_time = Duration::ZERO;
            for _ in 0..iters {
                let (pair, t) = puredtls_pair::handshake(&mut front_door, &client_config, now);
                server_time += t;
                drop(pair);
            }
            server_time
        })
    });

    let floor = Floor::new(&identity);
    g.bench_function("crypto_floor/server", |b| b.iter(|| floor.server()));
    g.bench_function("crypto_floor/client+server", |b| {
        b.iter(|| {
            let (server_public, signature) = floor.server();
            floor.client(&server_public, &signature)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("crypto");
    let mut rng = getrandom::SysRng;
    g.bench_function("p256_keygen", |b| {
        b.iter(|| {
            let s = NonZeroScalar::try_generate_from_rng(&mut rng).expect("rng");
            PublicKey::from_secret_scalar(&s)
                .as_affine()
                .to_sec1_point(false)
        })
    });
    g.bench_function("p256_ecdh", |b| {
        b.iter(|| {
            let peer = PublicKey::from_sec1_bytes(black_box(&floor.client_public)).expect("point");
            diffie_hellman(&floor.scalar, peer.as_affine())
        })
    });
    g.bench_function("ecdsa_p256_sign", |b| {
        b.iter(|| -> DerSignature { floor.signing_key.sign(black_box(&floor.signed)) })
    });
    let sig: DerSignature = floor.signing_key.sign(&floor.signed);
    g.bench_function("ecdsa_p256_verify", |b| {
        b.iter(|| {
            floor
                .verifying_key
                .verify(black_box(&floor.signed), &sig)
                .expect("valid")
        })
    });
    g.finish();
}

type HmacSha256 = Hmac<Sha256>;

/// P_SHA256 (RFC 5246 §5) into `out`.
fn p_sha256(secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let keyed = <HmacSha256 as KeyInit>::new_from_slice(secret).expect("any key length");
    let mut a = {
        let mut m = keyed.clone();
        m.update(label);
        seed.iter().for_each(|s| m.update(s));
        m.finalize().into_bytes()
    };
    for chunk in out.chunks_mut(32) {
        let mut m = keyed.clone();
        m.update(&a);
        m.update(label);
        seed.iter().for_each(|s| m.update(s));
        let block = m.finalize().into_bytes();
        chunk.copy_from_slice(&block[..chunk.len()]);
        let mut m = keyed.clone();
        m.update(&a);
        a = m.finalize().into_bytes();
    }
}

/// Inputs for the cryptographic floor, made once.
struct Floor {
    cookie_key: HmacSha256,
    signing_key: SigningKey,
    verifying_key: VerifyingKey,
    /// client_random ‖ server_random ‖ ServerECDHParams, as signed in a ServerKeyExchange.
    signed: Vec<u8>,
    scalar: NonZeroScalar,
    client_public: Vec<u8>,
    /// A transcript as long as a real one (through ClientKeyExchange), and the Finished.
    transcript: Vec<u8>,
}

/// Bytes of the handshake messages a server hashes through ClientKeyExchange with this
/// identity (ClientHello 2 … ClientKeyExchange, with 12-byte headers), rounded up.
const TRANSCRIPT_LEN: usize = 900;

impl Floor {
    fn new(identity: &Identity) -> Self {
        let der = identity.key.private_key_to_pkcs8().expect("PKCS#8");
        let signing_key = SigningKey::from_pkcs8_der(&der).expect("P-256 key");
        let verifying_key = *signing_key.verifying_key();
        let mut rng = getrandom::SysRng;
        let client = NonZeroScalar::try_generate_from_rng(&mut rng).expect("rng");
        let client_public = PublicKey::from_secret_scalar(&client)
            .as_affine()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
        let mut signed = vec![0x42; 64];
        signed.extend_from_slice(&[3, 0, 23, 65]);
        signed.extend_from_slice(&client_public);
        Self {
            cookie_key: <HmacSha256 as KeyInit>::new_from_slice(&[7; 32]).expect("key"),
            signing_key,
            verifying_key,
            signed,
            scalar: NonZeroScalar::try_generate_from_rng(&mut rng).expect("rng"),
            client_public,
            transcript: vec![0x16; TRANSCRIPT_LEN],
        }
    }

    fn cookie(&self) -> [u8; 32] {
        let mut m = self.cookie_key.clone();
        m.update(&[4, 127, 0, 0, 1, 0x9c, 0x40, 0xfe, 0xfd]);
        m.update(&self.signed[..32]);
        m.update(&[0]);
        m.finalize().into_bytes().into()
    }

    /// Hashing and PRFs one side does: session hash (= the client Finished's hash without
    /// client authentication), extended master secret, key block, two Finished, two AES key
    /// schedules.
    fn key_schedule(&self, pms: &[u8]) -> (Aes128Gcm, Aes128Gcm, [u8; 12]) {
        let mut h = Sha256::new();
        h.update(&self.transcript);
        let session_hash = h.clone().finalize();
        let mut ms = [0u8; 48];
        p_sha256(pms, b"extended master secret", &[&session_hash], &mut ms);
        let mut kb = [0u8; 40];
        p_sha256(
            &ms,
            b"key expansion",
            &[&self.signed[32..64], &self.signed[..32]],
            &mut kb,
        );
        let mut client_finished = [0u8; 12];
        p_sha256(
            &ms,
            b"client finished",
            &[&session_hash],
            &mut client_finished,
        );
        h.update([20, 0, 0, 12, 0, 5, 0, 0, 0, 0, 0, 12]);
        h.update(client_finished);
        let mut server_finished = [0u8; 12];
        p_sha256(
            &ms,
            b"server finished",
            &[&h.finalize()],
            &mut server_finished,
        );
        let c = Aes128Gcm::new_from_slice(&kb[..16]).expect("key");
        let s = Aes128Gcm::new_from_slice(&kb[16..32]).expect("key");
        (c, s, server_finished)
    }

    /// The server's cryptography; returns its public point and signature for the client.
    fn server(&self) -> (Vec<u8>, DerSignature) {
        black_box(self.cookie());
        black_box(self.cookie());
        let mut rng = getrandom::SysRng;
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).expect("rng");
        let scalar = NonZeroScalar::try_generate_from_rng(&mut rng).expect("rng");
        let public = PublicKey::from_secret_scalar(&scalar)
            .as_affine()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
        let signature: DerSignature = self.signing_key.sign(black_box(&self.signed));
        let peer = PublicKey::from_sec1_bytes(black_box(&self.client_public)).expect("point");
        let pms = diffie_hellman(&scalar, peer.as_affine());
        black_box(self.key_schedule(pms.raw_secret_bytes()));
        (public, signature)
    }

    /// The client's cryptography (no client certificate).
    fn client(&self, server_public: &[u8], signature: &DerSignature) {
        let mut rng = getrandom::SysRng;
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).expect("rng");
        let scalar = NonZeroScalar::try_generate_from_rng(&mut rng).expect("rng");
        black_box(
            PublicKey::from_secret_scalar(&scalar)
                .as_affine()
                .to_sec1_point(false),
        );
        self.verifying_key
            .verify(black_box(&self.signed), signature)
            .expect("valid");
        let peer = PublicKey::from_sec1_bytes(server_public).expect("point");
        let pms = diffie_hellman(&scalar, peer.as_affine());
        black_box(self.key_schedule(pms.raw_secret_bytes()));
    }
}

criterion_group!(benches, handshake);

/// Handshakes measured in alternating batches (puredtls, the crypto floor, OpenSSL, again and
/// again), so that all see the same load on a shared machine: the minimum and median batch of
/// each, per handshake, and the ratios the targets are stated in. Run only with `--bench`.
fn interleaved() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    const ROUNDS: usize = 40;
    const BATCH: u32 = 12;
    let identity = Identity::self_signed_p256("bench.puredtls.test");
    let client_ctx = client_context(&identity, SslMode::empty());
    let server_ctx = server_context(&identity, Cookies::On, SslMode::empty());
    let mtu = HANDSHAKE_MTU as usize;
    let client_config = puredtls_pair::client_config(&identity, mtu);
    let mut front_door = Server::new(puredtls_pair::server_config(&identity, mtu)).expect("server");
    let floor = Floor::new(&identity);
    let now = Instant::now();
    // [puredtls both, puredtls server, floor both, floor server, openssl both, openssl server]
    let mut t: [Vec<f64>; 6] = Default::default();
    let per = |d: Duration| d.as_nanos() as f64 / f64::from(BATCH);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let mut server = Duration::ZERO;
        for _ in 0..BATCH {
            server += puredtls_pair::handshake(&mut front_door, &client_config, now).1;
        }
        t[0].push(per(start.elapsed()));
        t[1].push(per(server));

        let start = Instant::now();
        let mut server = Duration::ZERO;
        for _ in 0..BATCH {
            let s = Instant::now();
            let (public, signature) = floor.server();
            server += s.elapsed();
            floor.client(&public, &signature);
        }
        t[2].push(per(start.elapsed()));
        t[3].push(per(server));

        let start = Instant::now();
        let mut server = Duration::ZERO;
        for _ in 0..BATCH {
            server += connect(&client_ctx, &server_ctx, HANDSHAKE_MTU).1;
        }
        t[4].push(per(start.elapsed()));
        t[5].push(per(server));
    }
    for v in &mut t {
        v.sort_by(f64::total_cmp);
    }
    let min = |i: usize| t[i][0];
    let med = |i: usize| t[i][t[i].len() / 2];
    println!("\ninterleaved: {ROUNDS} rounds of {BATCH} handshakes per variant (cookie exchange on), µs per handshake, min / median:");
    for (name, i) in [("puredtls", 0), ("crypto floor", 2), ("openssl", 4)] {
        println!(
            "  {name:<13} client+server {:>6.1} / {:>6.1}   server {:>6.1} / {:>6.1}",
            min(i) / 1e3,
            med(i) / 1e3,
            min(i + 1) / 1e3,
            med(i + 1) / 1e3
        );
    }
    println!(
        "  server CPU puredtls / floor = {:.3} (min) {:.3} (median) (target <= 1.10); / openssl = {:.3} (min) {:.3} (median)",
        min(1) / min(3),
        med(1) / med(3),
        min(1) / min(5),
        med(1) / med(5)
    );
    println!(
        "  client+server puredtls / floor = {:.3} (min) {:.3} (median); / openssl = {:.3} (min) {:.3} (median); puredtls {:.0} handshakes/s at the min, {:.0} at the median (target >= 1150)",
        min(0) / min(2),
        med(0) / med(2),
        min(0) / min(4),
        med(0) / med(4),
        1e9 / min(0),
        1e9 / med(0)
    );
}

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
                "server CPU: puredtls / crypto floor (target <= 1.10)",
                "handshake/puredtls/cookie/server_cpu",
                "handshake/crypto_floor/server",
            ),
            (
                "server CPU: puredtls / openssl (cookie)",
                "handshake/puredtls/cookie/server_cpu",
                "handshake/openssl/cookie/server_cpu",
            ),
            (
                "client+server: puredtls / openssl (cookie)",
                "handshake/puredtls/cookie/client+server",
                "handshake/openssl/cookie/client+server",
            ),
            (
                "client+server: puredtls / crypto floor",
                "handshake/puredtls/cookie/client+server",
                "handshake/crypto_floor/client+server",
            ),
        ],
    );
    let m = ratios::medians(started);
    if let Some(t) = m.get("handshake/puredtls/cookie/client+server") {
        println!(
            "  puredtls client+server handshakes per second: {:.0} (target >= 1150)",
            1e9 / t
        );
    }
    interleaved();
}
