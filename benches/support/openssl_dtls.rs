//! DTLS 1.2 with OpenSSL (the `openssl` crate) over an in-memory datagram transport, driven
//! step by step in one thread. This is the reference side of every benchmark.
//!
//! How the pieces fit:
//!
//! - [`DatagramPipe`] is the `Read + Write` stream handed to `SslStream`. The `openssl` crate wraps
//!   any such stream in a custom BIO; every `BIO_write` OpenSSL makes becomes one datagram in
//!   `outbox`, and every `BIO_read` takes exactly one datagram from `inbox` (a short buffer
//!   truncates it, as `recv` on a UDP socket would). An empty inbox reads as `WouldBlock`, which the
//!   BIO turns into "retry", so OpenSSL returns `WANT_READ` and the handshake is non-blocking.
//! - Datagrams do not move by themselves: [`deliver`] moves them from one end's outbox to the
//!   other's inbox, the way a sans-IO driver would. The benches therefore see, and can capture or
//!   drop, every datagram.
//! - The custom BIO answers `BIO_CTRL_DGRAM_QUERY_MTU` with 0, so we set the MTU on each `Ssl`
//!   with `SslRef::set_mtu` (OpenSSL then never asks the BIO) instead.
//! - Cookies: the server contexts set `SslOptions::COOKIE_EXCHANGE` plus cookie generate/verify
//!   callbacks (HMAC-SHA256 over a fixed stand-in for the peer address, compared in constant
//!   time). A plain `SslStream::accept`/`do_handshake` then answers the first ClientHello with a
//!   HelloVerifyRequest *statefully* (the `Ssl` object already exists). The `openssl` crate does
//!   not expose OpenSSL's stateless `DTLSv1_listen`; [`dtls_listen`] declares and calls it directly
//!   through `extern "C"` (libssl is linked by `openssl-sys` anyway).
//! - Session tickets and the session cache are off: puredtls does no resumption, so each handshake
//!   is a full ECDHE-ECDSA one on both sides. Extended master secret is on (OpenSSL 3 default).
//!   The client verifies the server's certificate against the self-signed certificate as trust
//!   anchor (no host name check); the server does not ask for a client certificate.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::raw::{c_int, c_void};
use std::time::{Duration, Instant};

use foreign_types::ForeignTypeRef;
use hmac::{KeyInit, Mac};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{
    ErrorCode, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslSessionCacheMode,
    SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::{X509NameBuilder, X509};
use subtle::ConstantTimeEq;

/// The one suite both sides offer (RFC 8827's mandatory WebRTC suite).
pub const SUITE: &str = "ECDHE-ECDSA-AES128-GCM-SHA256";
/// Path MTU for handshakes (a typical WebRTC/game value).
pub const HANDSHAKE_MTU: u32 = 1400;
/// MTU large enough for a full 2^14-byte application record in one datagram (the in-memory
/// pipe has no size limit; UDP would carry it as an IP-fragmented datagram).
pub const JUMBO_MTU: u32 = 17_000;

/// How many datagrams each end keeps for reuse, so steady-state traffic does not allocate.
const SPARE_BUFFERS: usize = 8;

/// One end of an in-memory datagram link (see the module docs).
#[derive(Debug, Default)]
pub struct DatagramPipe {
    /// Datagrams waiting to be read by this end.
    pub inbox: VecDeque<Vec<u8>>,
    /// Datagrams this end has written, waiting for [`deliver`].
    pub outbox: VecDeque<Vec<u8>>,
    spare: Vec<Vec<u8>>,
}

impl DatagramPipe {
    /// Drops every queued datagram in both directions (a total loss, or a discard before a
    /// memory measurement) and the spare buffers.
    pub fn clear(&mut self) {
        self.inbox.clear();
        self.outbox.clear();
        self.spare.clear();
        self.spare.shrink_to_fit();
        self.inbox.shrink_to_fit();
        self.outbox.shrink_to_fit();
    }

    /// Queues a copy of `datagram` for this end to read, as if it had arrived from the network.
    pub fn receive(&mut self, datagram: &[u8]) {
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.extend_from_slice(datagram);
        self.inbox.push_back(buf);
    }

    /// Hands a datagram's buffer back for reuse.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS {
            buf.clear();
            self.spare.push(buf);
        }
    }
}

impl Read for DatagramPipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(datagram) = self.inbox.pop_front() else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        // Datagram semantics: one read, one datagram; what does not fit is lost, as with recv(2).
        let n = datagram.len().min(buf.len());
        buf[..n].copy_from_slice(&datagram[..n]);
        self.recycle(datagram);
        Ok(n)
    }
}

impl Write for DatagramPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut datagram = self.spare.pop().unwrap_or_default();
        datagram.extend_from_slice(buf);
        self.outbox.push_back(datagram);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Moves every datagram `from` has written into `to`'s inbox, and `to`'s spare buffers back to
/// `from` (so a one-way stream of records keeps reusing the same few buffers).
pub fn deliver(from: &mut DatagramPipe, to: &mut DatagramPipe) {
    to.inbox.extend(from.outbox.drain(..));
    while from.spare.len() < SPARE_BUFFERS {
        match to.spare.pop() {
            Some(b) => from.spare.push(b),
            None => break,
        }
    }
}

/// A P-256 key and a self-signed certificate for it, made in memory.
pub struct Identity {
    pub key: PKey<Private>,
    pub cert: X509,
}

impl Identity {
    /// Generates a fresh P-256 key and a self-signed ECDSA-SHA256 certificate (CN = `cn`,
    /// valid for 30 days from now).
    pub fn self_signed_p256(cn: &str) -> Self {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256 group");
        let key = PKey::from_ec_key(EcKey::generate(&group).expect("P-256 key")).expect("pkey");

        let mut name = X509NameBuilder::new().expect("name builder");
        name.append_entry_by_nid(Nid::COMMONNAME, cn).expect("CN");
        let name = name.build();

        let mut serial = BigNum::new().expect("bignum");
        serial
            .rand(64, MsbOption::MAYBE_ZERO, false)
            .expect("serial");
        let mut b = X509::builder().expect("x509 builder");
        b.set_version(2).expect("version");
        b.set_serial_number(&serial.to_asn1_integer().expect("serial"))
            .expect("serial");
        b.set_subject_name(&name).expect("subject");
        b.set_issuer_name(&name).expect("issuer");
        b.set_pubkey(&key).expect("pubkey");
        b.set_not_before(&Asn1Time::days_from_now(0).expect("time"))
            .expect("not before");
        b.set_not_after(&Asn1Time::days_from_now(30).expect("time"))
            .expect("not after");
        b.sign(&key, MessageDigest::sha256()).expect("sign");
        Self {
            key,
            cert: b.build(),
        }
    }
}

/// Whether a server context runs the HelloVerifyRequest exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cookies {
    /// `SSL_OP_COOKIE_EXCHANGE` + callbacks: every client pays one extra round trip (as with
    /// puredtls, whose server always does).
    On,
    /// No HelloVerifyRequest: OpenSSL answers the first ClientHello with its full flight.
    Off,
}

fn base_context() -> SslContextBuilder {
    let mut b = SslContextBuilder::new(SslMethod::dtls()).expect("DTLS context");
    b.set_min_proto_version(Some(SslVersion::DTLS1_2))
        .expect("min version");
    b.set_max_proto_version(Some(SslVersion::DTLS1_2))
        .expect("max version");
    b.set_cipher_list(SUITE).expect("cipher list");
    b.set_groups_list("P-256").expect("groups");
    b.set_options(SslOptions::NO_TICKET);
    b.set_session_cache_mode(SslSessionCacheMode::OFF);
    b
}

/// Secret for the OpenSSL server's cookie HMAC (fixed: benches only).
const COOKIE_SECRET: [u8; 32] = [0x5c; 32];
/// Stands in for the client's address, which the in-memory pipe does not have.
const PEER_ADDRESS: &[u8] = b"127.0.0.1:40000";

fn cookie_for_peer() -> [u8; 32] {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&COOKIE_SECRET)
        .expect("HMAC takes any key length");
    mac.update(PEER_ADDRESS);
    mac.finalize().into_bytes().into()
}

/// The server context: `identity` as certificate and key, cookies as asked.
pub fn server_context(identity: &Identity, cookies: Cookies, mode: SslMode) -> SslContext {
    let mut b = base_context();
    b.set_private_key(&identity.key).expect("server key");
    b.set_certificate(&identity.cert).expect("server cert");
    b.check_private_key().expect("key matches cert");
    b.set_mode(mode);
    // Callbacks are set either way: DTLSv1_listen needs them even when the option is off.
    b.set_cookie_generate_cb(|_ssl, out| {
        let cookie = cookie_for_peer();
        out[..cookie.len()].copy_from_slice(&cookie);
        Ok(cookie.len())
    });
    b.set_cookie_verify_cb(|_ssl, cookie| bool::from(cookie.ct_eq(&cookie_for_peer())));
    if cookies == Cookies::On {
        b.set_options(SslOptions::COOKIE_EXCHANGE);
    }
    b.build()
}

/// The client context: trusts `server`'s self-signed certificate and verifies the peer.
pub fn client_context(server: &Identity, mode: SslMode) -> SslContext {
    let mut b = base_context();
    b.cert_store_mut()
        .add_cert(server.cert.clone())
        .expect("trust anchor");
    b.set_verify(SslVerifyMode::PEER);
    b.set_mode(mode);
    b.build()
}

/// A client stream on a fresh `Ssl` from `ctx`, not yet started.
pub fn client(ctx: &SslContext, mtu: u32) -> SslStream<DatagramPipe> {
    let mut ssl = openssl::ssl::Ssl::new(ctx).expect("client Ssl");
    ssl.set_mtu(mtu).expect("mtu");
    ssl.set_connect_state();
    SslStream::new(ssl, DatagramPipe::default()).expect("client stream")
}

/// A server stream on a fresh `Ssl` from `ctx`, not yet started.
pub fn server(ctx: &SslContext, mtu: u32) -> SslStream<DatagramPipe> {
    let mut ssl = openssl::ssl::Ssl::new(ctx).expect("server Ssl");
    ssl.set_mtu(mtu).expect("mtu");
    ssl.set_accept_state();
    SslStream::new(ssl, DatagramPipe::default()).expect("server stream")
}

/// Runs one handshake step (everything OpenSSL can do with what is in the inbox); true once
/// the handshake is complete.
pub fn step(s: &mut SslStream<DatagramPipe>) -> bool {
    match s.do_handshake() {
        Ok(()) => true,
        Err(e) if e.code() == ErrorCode::WANT_READ => false,
        Err(e) => panic!("OpenSSL DTLS handshake failed: {e}"),
    }
}

/// An OpenSSL client and server over one in-memory link.
pub struct Pair {
    pub client: SslStream<DatagramPipe>,
    pub server: SslStream<DatagramPipe>,
}

impl Pair {
    /// Fresh `Ssl` objects from prebuilt contexts.
    pub fn new(client_ctx: &SslContext, server_ctx: &SslContext, mtu: u32) -> Self {
        Self {
            client: client(client_ctx, mtu),
            server: server(server_ctx, mtu),
        }
    }

    /// Moves the client's datagrams to the server.
    pub fn client_to_server(&mut self) {
        deliver(self.client.get_mut(), self.server.get_mut());
    }

    /// Moves the server's datagrams to the client.
    pub fn server_to_client(&mut self) {
        deliver(self.server.get_mut(), self.client.get_mut());
    }

    /// Drives both sides to completion; returns the time spent inside the server's steps.
    pub fn handshake(&mut self) -> Duration {
        let (mut client_done, mut server_done) = (false, false);
        let mut server_time = Duration::ZERO;
        // A cookie exchange plus a full handshake takes 4 rounds; more means something is stuck.
        for _ in 0..16 {
            if !client_done {
                client_done = step(&mut self.client);
                self.client_to_server();
            }
            if !server_done {
                let t = Instant::now();
                server_done = step(&mut self.server);
                server_time += t.elapsed();
                self.server_to_client();
            }
            if client_done && server_done {
                return server_time;
            }
        }
        panic!("OpenSSL DTLS handshake did not finish in 16 rounds");
    }

    /// Writes `data` as one record from client to server and reads it back; returns the
    /// plaintext length the server read.
    pub fn client_to_server_record(&mut self, data: &[u8], buf: &mut [u8]) -> usize {
        let n = self.client.ssl_write(data).expect("ssl_write");
        assert_eq!(n, data.len(), "OpenSSL wrote a partial record");
        self.client_to_server();
        self.server.ssl_read(buf).expect("ssl_read")
    }
}

/// A new connection pair, handshake done: the per-iteration unit of the handshake bench. The
/// returned duration is the server's share: building its `Ssl` plus its handshake steps.
pub fn connect(client_ctx: &SslContext, server_ctx: &SslContext, mtu: u32) -> (Pair, Duration) {
    let client = client(client_ctx, mtu);
    let t = Instant::now();
    let server = server(server_ctx, mtu);
    let setup = t.elapsed();
    let mut pair = Pair { client, server };
    let steps = pair.handshake();
    (pair, setup + steps)
}

/// The first ClientHello an OpenSSL client sends (no cookie), as one datagram.
pub fn capture_client_hello(client_ctx: &SslContext) -> Vec<u8> {
    let mut c = client(client_ctx, HANDSHAKE_MTU);
    assert!(!step(&mut c), "client finished without a server");
    let out = &mut c.get_mut().outbox;
    assert_eq!(out.len(), 1, "expected the ClientHello in one datagram");
    out.pop_front().expect("one datagram")
}

/// True when `datagram` starts with a plaintext handshake record carrying a
/// HelloVerifyRequest (RFC 6347 §4.2.1: content type 22, handshake type 3).
pub fn is_hello_verify_request(datagram: &[u8]) -> bool {
    datagram.first() == Some(&22) && datagram.get(13) == Some(&3)
}

// Not exported by the `openssl` crate nor declared by `openssl-sys`; both live in the libssl /
// libcrypto that `openssl-sys` links. `BIO_ADDR` is opaque, hence `c_void`.
extern "C" {
    fn DTLSv1_listen(s: *mut openssl_sys::SSL, client: *mut c_void) -> c_int;
    fn BIO_ADDR_new() -> *mut c_void;
    fn BIO_ADDR_free(a: *mut c_void);
}

/// OpenSSL's stateless DTLS front door: `DTLSv1_listen` on one reusable server `Ssl`.
pub struct Listener {
    stream: SslStream<DatagramPipe>,
    addr: *mut c_void,
}

/// What one `DTLSv1_listen` call did.
#[derive(Debug, PartialEq, Eq)]
pub enum Listened {
    /// No valid cookie: a HelloVerifyRequest (or nothing) was written, nothing kept.
    Answered,
    /// A ClientHello with a valid cookie: the `Ssl` may now continue with `accept`.
    Accepted,
}

impl Listener {
    pub fn new(server_ctx: &SslContext) -> Self {
        // SAFETY: BIO_ADDR_new has no preconditions; null is checked.
        let addr = unsafe { BIO_ADDR_new() };
        assert!(!addr.is_null(), "BIO_ADDR_new failed");
        Self {
            stream: server(server_ctx, HANDSHAKE_MTU),
            addr,
        }
    }

    /// Feeds one datagram to `DTLSv1_listen`; the answer, if any, is in `pipe().outbox`.
    pub fn listen(&mut self, datagram: &[u8]) -> Listened {
        self.stream.get_mut().receive(datagram);
        // SAFETY: the Ssl is alive and owned by `self.stream`, its BIOs are the crate's stream
        // BIO, and `addr` is a live BIO_ADDR; DTLSv1_listen only reads/writes through those.
        let r = unsafe { DTLSv1_listen(self.stream.ssl().as_ptr(), self.addr) };
        match r {
            0 => Listened::Answered,
            1 => Listened::Accepted,
            _ => panic!(
                "DTLSv1_listen failed: {}",
                openssl::error::ErrorStack::get()
            ),
        }
    }

    pub fn pipe(&mut self) -> &mut DatagramPipe {
        self.stream.get_mut()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // SAFETY: allocated by BIO_ADDR_new in `new`, freed once.
        unsafe { BIO_ADDR_free(self.addr) }
    }
}
