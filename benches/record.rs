//! The record path: protect one application-data record on one side and unprotect it on the
//! other, AES-128-GCM, for a 1200-byte datagram (a typical game/WebRTC packet) and for a full
//! 2^14 = 16384-byte record (the DTLS plaintext maximum, RFC 6347 §4.1 / RFC 5246 §6.2.1; the
//! in-memory link carries it in one datagram, OpenSSL's MTU is raised to allow it).
//!
//! - `openssl/N`: `ssl_write` on an established client, the datagram moved to the server,
//!   `ssl_read` there: OpenSSL's whole record path including its BIO and the in-memory pipe.
//! - `puredtls_record_protection/N`: puredtls's record layer alone (`RecordProtection::seal` into
//!   a datagram buffer, `records` to split it, `RecordProtection::open`), no session around it.
//! - `puredtls/N`: `ClientSession::send` on an established pair, the datagram from its `Output`
//!   fed to `ServerSession::handle_datagram`, the application data taken from that `Output`:
//!   the whole sans-IO record path, same shape as `openssl/N` (the session's MTU is raised to
//!   17000 for N = 16384).
//! - `puredtls_endpoint/N`: the same, the server side being an `Endpoint` (session table
//!   lookup by peer address, and the copy into the endpoint's own output buffers).
//! - `aes_gcm_floor/N`: the raw `aes-gcm` crate: seal (out of place, 12-byte nonce, 13-byte AAD)
//!   then open in place. No record layer can be faster than this with this AEAD crate.

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::{AeadInOut, Aes128Gcm, KeyInit, Nonce};
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use openssl::ssl::SslMode;
use puredtls::record::{records, AeadAlgorithm, ContentType, ProtocolVersion, RecordProtection};

#[path = "support/openssl_dtls.rs"]
#[allow(dead_code)]
mod openssl_dtls;
#[path = "support/puredtls_pair.rs"]
#[allow(dead_code)]
mod puredtls_pair;
#[path = "support/ratios.rs"]
mod ratios;

use std::hint::black_box;

use openssl_dtls::{client_context, server_context, Cookies, Identity, Pair, JUMBO_MTU};

const SIZES: [usize; 2] = [1200, 16384];

fn record(c: &mut Criterion) {
    let identity = Identity::self_signed_p256("bench.puredtls.test");
    let client_ctx = client_context(&identity, SslMode::empty());
    let server_ctx = server_context(&identity, Cookies::Off, SslMode::empty());
    let mut pair = Pair::new(&client_ctx, &server_ctx, JUMBO_MTU);
    pair.handshake();
    let cipher = pair.client.ssl().current_cipher().map(|c| c.name());
    println!("record: OpenSSL pair established, cipher {cipher:?}");

    let mut g = c.benchmark_group("record");
    for size in SIZES {
        let payload = vec![0xa5u8; size];
        g.throughput(Throughput::Bytes(size as u64));

        let mut read_buf = vec![0u8; 1 << 15];
        assert_eq!(pair.client_to_server_record(&payload, &mut read_buf), size);
        g.bench_with_input(BenchmarkId::new("openssl", size), &payload, |b, p| {
            b.iter(|| pair.client_to_server_record(p, &mut read_buf))
        });

        let key = [0x11u8; 16];
        let salt = [0x22u8; 4];
        let sender = RecordProtection::new(AeadAlgorithm::Aes128Gcm, &key, &salt).expect("key");
        let receiver = RecordProtection::new(AeadAlgorithm::Aes128Gcm, &key, &salt).expect("key");
        let mut datagram = vec![0u8; sender.sealed_len(size)];
        let mut plaintext = vec![0u8; size];
        let mut seq = 0u64;
        g.bench_with_input(
            BenchmarkId::new("puredtls_record_protection", size),
            &payload,
            |b, p| {
                b.iter(|| {
                    seq += 1;
                    let n = sender
                        .seal(
                            ContentType::ApplicationData,
                            ProtocolVersion::DTLS1_2,
                            1,
                            seq,
                            p,
                            &mut datagram,
                        )
                        .expect("seal");
                    let record = records(&datagram[..n]).next().expect("one record");
                    receiver.open(&record, &mut plaintext).expect("open").len()
                })
            },
        );

        let mut floor = AesGcmFloor::new(key, salt, size);
        g.bench_with_input(BenchmarkId::new("aes_gcm_floor", size), &payload, |b, p| {
            b.iter(|| floor.seal_open(p))
        });

        let now = std::time::Instant::now();
        let mtu = JUMBO_MTU as usize;
        let (mut client, mut session) = puredtls_pair::established(&identity, mtu, now);
        assert_eq!(
            puredtls_pair::client_to_server(&mut client, &mut session, &payload, now),
            size
        );
        g.bench_with_input(BenchmarkId::new("puredtls", size), &payload, |b, p| {
            b.iter(|| puredtls_pair::client_to_server(&mut client, &mut session, p, now))
        });

        let (mut client, endpoint) = puredtls_pair::established_endpoint(&identity, mtu, now);
        let mut endpoint = endpoint;
        g.bench_with_input(
            BenchmarkId::new("puredtls_endpoint", size),
            &payload,
            |b, p| {
                b.iter(|| {
                    let out = client.send(p).expect("send");
                    let datagram = out.transmits().next().expect("one datagram");
                    let got = endpoint.handle_datagram(now, puredtls_pair::PEER, datagram);
                    got.app_data().next().map_or(0, |(_, d)| d.len())
                })
            },
        );
    }
    g.finish();
}

/// The raw `aes-gcm` crate on the same bytes: seal out of place (12-byte nonce, 13-byte AAD as
/// DTLS builds them), then open in place.
struct AesGcmFloor {
    aead: Aes128Gcm,
    salt: [u8; 4],
    ciphertext: Vec<u8>,
    counter: u64,
}

impl AesGcmFloor {
    fn new(key: [u8; 16], salt: [u8; 4], size: usize) -> Self {
        Self {
            aead: Aes128Gcm::new(&key.into()),
            salt,
            ciphertext: vec![0; size],
            counter: 0,
        }
    }

    fn seal_open(&mut self, p: &[u8]) {
        self.counter += 1;
        // salt(4) ‖ epoch+sequence(8), and epoch ‖ seq ‖ type ‖ version ‖ length, as DTLS.
        let mut n = [0u8; 12];
        n[..4].copy_from_slice(&self.salt);
        n[4..].copy_from_slice(&self.counter.to_be_bytes());
        let nonce = Nonce::<aes_gcm::aead::consts::U12>::from(n);
        let mut aad = [0u8; 13];
        aad[..8].copy_from_slice(&self.counter.to_be_bytes());
        aad[8] = 23;
        aad[9..11].copy_from_slice(&[0xfe, 0xfd]);
        aad[11..].copy_from_slice(&(p.len() as u16).to_be_bytes());

        let buf = InOutBuf::new(p, &mut self.ciphertext).expect("same length");
        let tag = self
            .aead
            .encrypt_inout_detached(&nonce, &aad, buf)
            .expect("seal");
        self.aead
            .decrypt_inout_detached(&nonce, &aad, (&mut self.ciphertext[..]).into(), &tag)
            .expect("open");
    }
}

/// The record path measured in alternating short batches (puredtls, the aes-gcm floor,
/// OpenSSL, again and again), so that all three see the same load on a shared machine; the
/// minimum and median batch of each, and their ratios. Run only with `--bench`.
fn interleaved() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // Batches long enough (about a millisecond) that switching variants costs little.
    const ROUNDS: usize = 150;
    let identity = Identity::self_signed_p256("bench.puredtls.test");
    let client_ctx = client_context(&identity, SslMode::empty());
    let server_ctx = server_context(&identity, Cookies::Off, SslMode::empty());
    println!("\ninterleaved: {ROUNDS} rounds of a batch per variant, time per record:");
    for size in SIZES {
        let batch: u32 = if size <= 1200 { 800 } else { 80 };
        let payload = vec![0x5au8; size];
        let now = std::time::Instant::now();
        let (mut client, mut session) =
            puredtls_pair::established(&identity, JUMBO_MTU as usize, now);
        let (mut ep_client, mut endpoint) =
            puredtls_pair::established_endpoint(&identity, JUMBO_MTU as usize, now);
        let mut floor = AesGcmFloor::new([0x11; 16], [0x22; 4], size);
        let mut pair = Pair::new(&client_ctx, &server_ctx, JUMBO_MTU);
        pair.handshake();
        let mut read_buf = vec![0u8; 1 << 15];
        let mut times = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..ROUNDS {
            let t = std::time::Instant::now();
            for _ in 0..batch {
                black_box(puredtls_pair::client_to_server(
                    &mut client,
                    &mut session,
                    &payload,
                    now,
                ));
            }
            times[0].push(t.elapsed() / batch);
            let t = std::time::Instant::now();
            for _ in 0..batch {
                floor.seal_open(black_box(&payload));
            }
            times[1].push(t.elapsed() / batch);
            let t = std::time::Instant::now();
            for _ in 0..batch {
                black_box(pair.client_to_server_record(&payload, &mut read_buf));
            }
            times[2].push(t.elapsed() / batch);
            let t = std::time::Instant::now();
            for _ in 0..batch {
                let out = ep_client.send(&payload).expect("send");
                let datagram = out.transmits().next().expect("one datagram");
                let got = endpoint.handle_datagram(now, puredtls_pair::PEER, datagram);
                black_box(got.app_data().next().map_or(0, |(_, d)| d.len()));
            }
            times[3].push(t.elapsed() / batch);
        }
        for t in &mut times {
            t.sort();
        }
        let stat =
            |t: &[std::time::Duration]| (t[0].as_nanos() as f64, t[t.len() / 2].as_nanos() as f64);
        let [(pd_min, pd_med), (fl_min, fl_med), (os_min, os_med), (ep_min, ep_med)] = [
            stat(&times[0]),
            stat(&times[1]),
            stat(&times[2]),
            stat(&times[3]),
        ];
        println!(
            "  {size:>5} B  puredtls {pd_min:.0}/{pd_med:.0} ns  aes-gcm floor {fl_min:.0}/{fl_med:.0} ns  \
             openssl {os_min:.0}/{os_med:.0} ns (min/median)"
        );
        println!(
            "          puredtls / floor = {:.3} (min) {:.3} (median);  puredtls / openssl = {:.3} (min) {:.3} (median)",
            pd_min / fl_min,
            pd_med / fl_med,
            pd_min / os_min,
            pd_med / os_med
        );
        println!(
            "          puredtls Endpoint {ep_min:.0}/{ep_med:.0} ns: / floor = {:.3} (min) {:.3} (median)",
            ep_min / fl_min,
            ep_med / fl_med
        );
    }
}

criterion_group!(benches, record);

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
                "1200 B: puredtls / aes-gcm floor (target <= 1.10)",
                "record/puredtls/1200",
                "record/aes_gcm_floor/1200",
            ),
            (
                "1200 B: puredtls / openssl (target < 1)",
                "record/puredtls/1200",
                "record/openssl/1200",
            ),
            (
                "1200 B: puredtls Endpoint / aes-gcm floor",
                "record/puredtls_endpoint/1200",
                "record/aes_gcm_floor/1200",
            ),
            (
                "16384 B: puredtls / aes-gcm floor",
                "record/puredtls/16384",
                "record/aes_gcm_floor/16384",
            ),
            (
                "16384 B: puredtls / openssl",
                "record/puredtls/16384",
                "record/openssl/16384",
            ),
            (
                "16384 B: puredtls Endpoint / aes-gcm floor",
                "record/puredtls_endpoint/16384",
                "record/aes_gcm_floor/16384",
            ),
        ],
    );
    interleaved();
}
