//! Memory held per DTLS connection: bytes live on the heap per connection, counted by a global
//! allocator in this binary. Not a timing benchmark, so it has its own `main` (no criterion).
//!
//! OpenSSL allocates with its own `CRYPTO_malloc`, which the Rust allocator would never see, so
//! before OpenSSL's first allocation `CRYPTO_set_mem_functions` routes `CRYPTO_malloc`,
//! `CRYPTO_realloc` and `CRYPTO_free` into the Rust global allocator (with a 16-byte size header,
//! left out of the figures). From then on one counter sees OpenSSL, the `openssl` crate's
//! wrappers, and (later) puredtls alike. Figures are bytes requested from the allocator; the
//! allocator's own per-block overhead is not included. An RSS delta is printed as a cross-check.
//!
//! `cargo bench --bench memory` measures N = 100 connections; without `--bench` (as under
//! `cargo test --all-targets`) it runs N = 4 so that the test run stays quick.

use std::alloc::{GlobalAlloc, Layout, System};
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use openssl::ssl::{SslContext, SslMode};

#[path = "support/openssl_dtls.rs"]
#[allow(dead_code)]
mod openssl_dtls;
#[path = "support/puredtls_pair.rs"]
#[allow(dead_code)]
mod puredtls_pair;

use openssl_dtls::{
    client_context, deliver, server_context, step, Cookies, Identity, Pair, HANDSHAKE_MTU,
};

/// Bytes currently allocated through the global allocator (OpenSSL's included, headers too).
static HELD: AtomicIsize = AtomicIsize::new(0);
/// Live allocations through the global allocator.
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Live OpenSSL allocations, to take their size headers back out of `HELD`.
static OPENSSL_LIVE: AtomicIsize = AtomicIsize::new(0);
/// Bytes allocated minus freed inside `server_side` calls, and the highest it reached.
static SERVER_HELD: AtomicIsize = AtomicIsize::new(0);
static SERVER_PEAK: AtomicIsize = AtomicIsize::new(0);

std::thread_local! {
    /// Set while a server's call runs (see `server_side`).
    static IN_SERVER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Counts a change of `bytes` towards the server's share when inside `server_side`.
fn count_server(bytes: isize) {
    if IN_SERVER.try_with(std::cell::Cell::get).unwrap_or(false) {
        let held = SERVER_HELD.fetch_add(bytes, Relaxed) + bytes;
        SERVER_PEAK.fetch_max(held, Relaxed);
    }
}

/// Runs one call of a server, attributing what it allocates and frees to the server.
fn server_side<R>(f: impl FnOnce() -> R) -> R {
    IN_SERVER.with(|c| c.set(true));
    let r = f();
    IN_SERVER.with(|c| c.set(false));
    r
}

struct Counting;

// SAFETY: forwards to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            HELD.fetch_add(layout.size() as isize, Relaxed);
            LIVE.fetch_add(1, Relaxed);
            count_server(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            HELD.fetch_add(layout.size() as isize, Relaxed);
            LIVE.fetch_add(1, Relaxed);
            count_server(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        HELD.fetch_sub(layout.size() as isize, Relaxed);
        LIVE.fetch_sub(1, Relaxed);
        count_server(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            HELD.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
            count_server(new_size as isize - layout.size() as isize);
        }
        q
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// OpenSSL blocks carry their size in front, aligned for any C type.
const HEADER: usize = 16;

type MallocFn = unsafe extern "C" fn(usize, *const c_char, c_int) -> *mut c_void;
type ReallocFn = unsafe extern "C" fn(*mut c_void, usize, *const c_char, c_int) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void, *const c_char, c_int);

extern "C" {
    // OpenSSL 3.0 signature; not declared by `openssl-sys`.
    fn CRYPTO_set_mem_functions(m: MallocFn, r: ReallocFn, f: FreeFn) -> c_int;
}

unsafe extern "C" fn openssl_malloc(num: usize, _: *const c_char, _: c_int) -> *mut c_void {
    if num == 0 {
        return ptr::null_mut();
    }
    let Ok(layout) = Layout::from_size_align(num + HEADER, HEADER) else {
        return ptr::null_mut();
    };
    // SAFETY: non-zero size; the header is within the block and suitably aligned.
    unsafe {
        let base = std::alloc::alloc(layout);
        if base.is_null() {
            return ptr::null_mut();
        }
        base.cast::<usize>().write(num);
        OPENSSL_LIVE.fetch_add(1, Relaxed);
        base.add(HEADER).cast()
    }
}

unsafe extern "C" fn openssl_free(p: *mut c_void, _: *const c_char, _: c_int) {
    if p.is_null() {
        return;
    }
    // SAFETY: `p` came from `openssl_malloc`/`openssl_realloc`, so a size header precedes it.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        let num = base.cast::<usize>().read();
        std::alloc::dealloc(
            base,
            Layout::from_size_align_unchecked(num + HEADER, HEADER),
        );
    }
    OPENSSL_LIVE.fetch_sub(1, Relaxed);
}

unsafe extern "C" fn openssl_realloc(
    p: *mut c_void,
    num: usize,
    file: *const c_char,
    line: c_int,
) -> *mut c_void {
    // C realloc semantics, which OpenSSL relies on.
    if p.is_null() {
        return unsafe { openssl_malloc(num, file, line) };
    }
    if num == 0 {
        unsafe { openssl_free(p, file, line) };
        return ptr::null_mut();
    }
    // SAFETY: as in `openssl_free`; on failure the old block stays valid, as C requires.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        let old = base.cast::<usize>().read();
        let layout = Layout::from_size_align_unchecked(old + HEADER, HEADER);
        let new = std::alloc::realloc(base, layout, num + HEADER);
        if new.is_null() {
            return ptr::null_mut();
        }
        new.cast::<usize>().write(num);
        new.add(HEADER).cast()
    }
}

/// Routes OpenSSL's allocations into the counting allocator. Must run before OpenSSL's first
/// allocation (OpenSSL refuses afterwards); false if it was refused.
fn route_openssl_allocations() -> bool {
    // SAFETY: the three functions implement malloc/realloc/free semantics over one header
    // layout, and are installed before OpenSSL has allocated anything.
    unsafe { CRYPTO_set_mem_functions(openssl_malloc, openssl_realloc, openssl_free) == 1 }
}

/// Heap snapshot: bytes (without OpenSSL size headers) and live allocations.
#[derive(Clone, Copy)]
struct Heap {
    bytes: isize,
    blocks: isize,
}

fn heap() -> Heap {
    let openssl_blocks = OPENSSL_LIVE.load(Relaxed);
    Heap {
        bytes: HELD.load(Relaxed) - openssl_blocks * HEADER as isize,
        blocks: LIVE.load(Relaxed),
    }
}

/// Resident set size in KiB from /proc/self/status (Linux), if readable.
fn rss_kib() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn per(n: usize, before: Heap, after: Heap) -> String {
    let n = n as isize;
    format!(
        "{:>7} B in {:>4} blocks",
        (after.bytes - before.bytes) / n,
        (after.blocks - before.blocks) / n
    )
}

/// Drops every queued datagram and spare buffer, so only the TLS state is left on the heap.
fn quiesce(pair: &mut Pair) {
    pair.client.get_mut().clear();
    pair.server.get_mut().clear();
}

/// A pair whose server has answered a ClientHello with a valid cookie with its flight
/// (ServerHello … ServerHelloDone) and now waits for the client's second flight; the
/// datagrams in flight are discarded.
fn mid_handshake(client_ctx: &SslContext, server_ctx: &SslContext) -> Pair {
    let mut p = Pair::new(client_ctx, server_ctx, HANDSHAKE_MTU);
    for _ in 0..2 {
        assert!(!step(&mut p.client));
        deliver(p.client.get_mut(), p.server.get_mut());
        assert!(!step(&mut p.server));
        deliver(p.server.get_mut(), p.client.get_mut());
    }
    assert!(
        !p.client.get_mut().inbox.is_empty(),
        "server sent nothing after the cookie"
    );
    quiesce(&mut p);
    p
}

/// A pair that has finished its handshake and exchanged one small record each way (buffers
/// OpenSSL allocates or releases lazily are then in their steady state).
fn established(client_ctx: &SslContext, server_ctx: &SslContext) -> Pair {
    let mut p = Pair::new(client_ctx, server_ctx, HANDSHAKE_MTU);
    p.handshake();
    let mut buf = [0u8; 256];
    assert_eq!(p.client_to_server_record(b"ping", &mut buf), 4);
    assert_eq!(p.server.ssl_write(b"pong").expect("ssl_write"), 4);
    deliver(p.server.get_mut(), p.client.get_mut());
    assert_eq!(p.client.ssl_read(&mut buf).expect("ssl_read"), 4);
    quiesce(&mut p);
    p
}

/// Builds `n` pairs with `make`, then reports bytes per pair, per server (clients dropped)
/// and per client. `server_of` keeps the server half of a pair.
/// The RSS growth is printed only for the first measurement: later ones reuse heap pages the
/// earlier ones freed, so their RSS growth says nothing.
fn measure<P, S>(
    label: &str,
    n: usize,
    with_rss: bool,
    make: impl Fn() -> P,
    server_of: impl Fn(P) -> S,
) {
    // Warm up: OpenSSL fills its algorithm caches on first use.
    for _ in 0..3 {
        drop(make());
    }
    // Both vectors exist before the first snapshot, so only the connections are counted;
    // their inline sizes (`size_of`, e.g. a `ClientSession` held by value) are added below.
    let mut pairs: Vec<P> = Vec::with_capacity(n);
    let mut servers: Vec<S> = Vec::with_capacity(n);
    let rss0 = rss_kib();
    let base = heap();
    pairs.extend((0..n).map(|_| make()));
    let all = heap();
    let rss1 = rss_kib();
    servers.extend(pairs.drain(..).map(&server_of));
    let server_only = heap();
    servers.clear();
    let rss = match (with_rss, rss0, rss1) {
        (true, Some(a), Some(b)) => format!(" | RSS growth {} KiB per pair", (b - a) / n as i64),
        (true, _, _) => " | RSS n/a".to_string(),
        (false, _, _) => String::new(),
    };
    let inline = |h: Heap, bytes: usize| Heap {
        bytes: h.bytes + (n * bytes) as isize,
        blocks: h.blocks,
    };
    let (pair_size, server_size) = (std::mem::size_of::<P>(), std::mem::size_of::<S>());
    let client_only = Heap {
        bytes: base.bytes + (all.bytes - server_only.bytes),
        blocks: base.blocks + (all.blocks - server_only.blocks),
    };
    let (all, server_only, client_only) = (
        inline(all, pair_size),
        inline(server_only, server_size),
        inline(client_only, pair_size - server_size),
    );
    println!(
        "  {label:<38} pair {} | server {} | client {}{rss}",
        per(n, base, all),
        per(n, base, server_only),
        per(n, base, client_only),
    );
}

/// A puredtls pair that is connected and has carried one record of `size` bytes each way
/// (`None`: "ping" and "pong", as the OpenSSL pairs).
fn puredtls_established(
    server: &mut puredtls::Server,
    client_config: &std::sync::Arc<puredtls::ClientConfig>,
    now: std::time::Instant,
    size: Option<usize>,
) -> (puredtls::ClientSession, Box<puredtls::ServerSession>) {
    let (mut hs, _) = puredtls_pair::handshake(server, client_config, now);
    let session = match hs.server {
        puredtls_pair::ServerEnd::Session(s) => s,
        puredtls_pair::ServerEnd::FrontDoor => unreachable!(),
    };
    let mut session = session;
    let (ping, pong) = match size {
        Some(n) => (vec![1; n], vec![2; n]),
        None => (b"ping".to_vec(), b"pong".to_vec()),
    };
    assert_eq!(
        puredtls_pair::client_to_server(&mut hs.client, &mut session, &ping, now),
        ping.len()
    );
    let out = session.send(&pong).expect("send");
    let datagram = out.transmits().next().expect("one datagram").to_vec();
    let got = hs.client.handle_datagram(now, &datagram);
    assert_eq!(got.app_data().next(), Some(&pong[..]));
    (hs.client, session)
}

/// A puredtls server session that has answered a ClientHello with a valid cookie with its
/// flight (ServerHello … ServerHelloDone) and waits for the client's second flight; the
/// client has not seen that flight (it is dropped).
fn puredtls_mid_handshake(
    server: &mut puredtls::Server,
    client_config: &std::sync::Arc<puredtls::ClientConfig>,
    now: std::time::Instant,
) -> (puredtls::ClientSession, Box<puredtls::ServerSession>) {
    use puredtls::server::Accept;
    let mut client =
        puredtls::ClientSession::new(std::sync::Arc::clone(client_config), now).expect("client");
    let ch1 = client
        .poll_output()
        .transmits()
        .next()
        .expect("ClientHello")
        .to_vec();
    let hvr = match server.accept(now, puredtls_pair::PEER, &ch1) {
        Accept::HelloVerifyRequest(hvr) => hvr.to_vec(),
        other => panic!("expected a HelloVerifyRequest, got {other:?}"),
    };
    let ch2 = client
        .handle_datagram(now, &hvr)
        .transmits()
        .next()
        .expect("ClientHello with cookie")
        .to_vec();
    let mut session = match server.accept(now, puredtls_pair::PEER, &ch2) {
        Accept::NewSession(s) => s,
        other => panic!("expected a session, got {other:?}"),
    };
    assert!(
        session.poll_output().transmits().next().is_some(),
        "no flight 4"
    );
    (client, session)
}

/// Heap held per session in an `Endpoint` table (the session, its table entry, and its share
/// of the table): established after one record of `size` bytes each way (`Some(size)`), or
/// mid-handshake (`None`: its flight ServerHello … ServerHelloDone sent, the client's answer
/// not yet in).
fn endpoint_sessions(identity: &Identity, n: usize, size: Option<usize>) {
    let mtu = HANDSHAKE_MTU as usize;
    let client_config = puredtls_pair::client_config(identity, mtu);
    let mut endpoint =
        puredtls::Endpoint::new(puredtls_pair::server_config(identity, mtu)).expect("endpoint");
    let now = std::time::Instant::now();
    let connect = |endpoint: &mut puredtls::Endpoint, i: usize| {
        let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 20_000 + i as u16));
        let mut client = puredtls::ClientSession::new(client_config.clone(), now).expect("client");
        let mut to_server: Vec<Vec<u8>> = client
            .poll_output()
            .transmits()
            .map(<[u8]>::to_vec)
            .collect();
        // Mid-handshake: ClientHello, HelloVerifyRequest, ClientHello with the cookie, flight 4.
        let rounds = if size.is_some() { 6 } else { 2 };
        for round in 0..rounds {
            let mut to_client = Vec::new();
            for d in &to_server {
                let out = endpoint.handle_datagram(now, peer, d);
                to_client.extend(out.transmits().iter().map(|t| out.datagram(t).to_vec()));
            }
            to_server.clear();
            if size.is_none() && round == 1 {
                assert!(!to_client.is_empty(), "no flight 4");
                return;
            }
            for d in &to_client {
                to_server.extend(
                    client
                        .handle_datagram(now, d)
                        .transmits()
                        .map(<[u8]>::to_vec),
                );
            }
        }
        let payload = vec![7u8; size.unwrap_or(4)];
        assert_eq!(client.status(), &puredtls::Status::Connected);
        let d = client
            .send(&payload)
            .expect("send")
            .transmits()
            .next()
            .unwrap()
            .to_vec();
        assert_eq!(
            endpoint.handle_datagram(now, peer, &d).app_data().count(),
            1
        );
        let out = endpoint.send(peer, &payload).expect("send");
        let d = out.datagram(&out.transmits()[0]).to_vec();
        assert_eq!(client.handle_datagram(now, &d).app_data().count(), 1);
    };
    // Warm-up: the endpoint's own output buffers and the table's first slots.
    for i in 0..4 {
        connect(&mut endpoint, 1000 + i);
    }
    let before = heap();
    for i in 0..n {
        connect(&mut endpoint, i);
    }
    let after = heap();
    assert_eq!(endpoint.len(), n + 4);
    let label = match size {
        Some(size) => format!("puredtls Endpoint, {size} B records"),
        None => "puredtls Endpoint, mid-handshake".to_string(),
    };
    println!("  {label:<38} {} (server side only)", per(n, before, after));
}

/// The front door's heap growth over `n` unanswered (cookie-less) ClientHellos from `n`
/// different peers: it must be 0, HelloVerifyRequests are stateless.
fn front_door_state(identity: &Identity, n: usize) {
    use puredtls::server::Accept;
    let mtu = HANDSHAKE_MTU as usize;
    let client_config = puredtls_pair::client_config(identity, mtu);
    let now = std::time::Instant::now();
    let hellos: Vec<Vec<u8>> = (0..n)
        .map(|_| {
            let mut c = puredtls::ClientSession::new(client_config.clone(), now).expect("client");
            let d = c.poll_output().transmits().next().expect("hello").to_vec();
            d
        })
        .collect();
    let mut server =
        puredtls::Server::new(puredtls_pair::server_config(identity, mtu)).expect("server");
    let mut endpoint =
        puredtls::Endpoint::new(puredtls_pair::server_config(identity, mtu)).expect("endpoint");
    // The first answers size the reused output buffers.
    let peer = |i: usize| std::net::SocketAddr::from(([127, 0, 0, 1], 20_000 + i as u16));
    let _ = server.accept(now, peer(0), &hellos[0]);
    let _ = endpoint.handle_datagram(now, peer(0), &hellos[0]);
    let before = heap();
    for (i, hello) in hellos.iter().enumerate() {
        assert!(matches!(
            server.accept(now, peer(i), hello),
            Accept::HelloVerifyRequest(_)
        ));
        assert_eq!(
            endpoint
                .handle_datagram(now, peer(i), hello)
                .transmits()
                .len(),
            1
        );
    }
    let after = heap();
    assert!(endpoint.is_empty());
    println!(
        "  {:<38} {} (Server::accept and Endpoint together, per ClientHello answered)",
        "puredtls front door, unanswered hello",
        per(n, before, after)
    );
}

/// The server's peak heap during a whole handshake (cookie exchange included), from its first
/// call to its last: mean and maximum over `n` handshakes. Only the server's calls are
/// counted (`server_side`); OpenSSL's figure includes its 16-byte size headers.
fn print_peak(label: &str, n: usize, mut handshake: impl FnMut() -> isize) {
    let peaks: Vec<isize> = (0..n + 2).map(|_| handshake()).skip(2).collect();
    println!(
        "  {label:<38} peak {:>7} B mean, {:>7} B max (server, during one handshake)",
        peaks.iter().sum::<isize>() / n as isize,
        peaks.iter().max().copied().unwrap_or(0)
    );
}

fn reset_server_peak() {
    SERVER_HELD.store(0, Relaxed);
    SERVER_PEAK.store(0, Relaxed);
}

fn openssl_server_peak(client_ctx: &SslContext, server_ctx: &SslContext) -> isize {
    reset_server_peak();
    let mut c = openssl_dtls::client(client_ctx, HANDSHAKE_MTU);
    let mut s = server_side(|| openssl_dtls::server(server_ctx, HANDSHAKE_MTU));
    let (mut client_done, mut server_done) = (false, false);
    for _ in 0..16 {
        if !client_done {
            client_done = step(&mut c);
            deliver(c.get_mut(), s.get_mut());
        }
        if !server_done {
            server_done = server_side(|| step(&mut s));
            deliver(s.get_mut(), c.get_mut());
        }
        if client_done && server_done {
            break;
        }
    }
    assert!(
        client_done && server_done,
        "OpenSSL handshake did not finish"
    );
    SERVER_PEAK.load(Relaxed)
}

fn puredtls_server_peak(
    server: &mut puredtls::Server,
    client_config: &std::sync::Arc<puredtls::ClientConfig>,
) -> isize {
    use puredtls::server::Accept;
    let now = std::time::Instant::now();
    reset_server_peak();
    let mut client =
        puredtls::ClientSession::new(std::sync::Arc::clone(client_config), now).expect("client");
    let mut session: Option<Box<puredtls::ServerSession>> = None;
    let mut to_server: Vec<Vec<u8>> = client
        .poll_output()
        .transmits()
        .map(<[u8]>::to_vec)
        .collect();
    for _ in 0..8 {
        let mut to_client: Vec<Vec<u8>> = Vec::new();
        for d in &to_server {
            // Only the server's calls are counted; the copies of its datagrams are the driver's.
            match &mut session {
                Some(s) => {
                    let s = &mut **s;
                    let out = server_side(move || s.handle_datagram(now, d));
                    to_client.extend(out.transmits().map(<[u8]>::to_vec));
                }
                None => {
                    let front = &mut *server;
                    match server_side(move || front.accept(now, puredtls_pair::PEER, d)) {
                        Accept::HelloVerifyRequest(hvr) => to_client.push(hvr.to_vec()),
                        Accept::NewSession(mut s) => {
                            let sr = &mut *s;
                            let out = server_side(move || sr.poll_output());
                            to_client.extend(out.transmits().map(<[u8]>::to_vec));
                            session = Some(s);
                        }
                        Accept::Ignored(why) => panic!("ignored: {why:?}"),
                    }
                }
            }
        }
        to_server.clear();
        for d in &to_client {
            to_server.extend(
                client
                    .handle_datagram(now, d)
                    .transmits()
                    .map(<[u8]>::to_vec),
            );
        }
        if session
            .as_ref()
            .is_some_and(|s| *s.status() == puredtls::Status::Connected)
            && *client.status() == puredtls::Status::Connected
        {
            // The copies of the datagrams (`to_vec` above) are the driver's, not the server's.
            return SERVER_PEAK.load(Relaxed);
        }
    }
    panic!("puredtls handshake did not finish");
}

fn main() {
    // First, before anything can make OpenSSL allocate.
    let openssl_counted = route_openssl_allocations();

    let bench = std::env::args().any(|a| a == "--bench");
    let n = if bench { 100 } else { 4 };

    let identity = Identity::self_signed_p256("bench.puredtls.test");
    let client_ctx = client_context(&identity, SslMode::empty());
    let server_ctx = server_context(&identity, Cookies::On, SslMode::empty());
    println!(
        "memory: {}, N = {n} connections, heap bytes held per connection{}",
        openssl::version::version(),
        if openssl_counted {
            " (OpenSSL's CRYPTO_malloc counted)"
        } else {
            " -- WARNING: CRYPTO_set_mem_functions refused, OpenSSL's own allocations are NOT counted; use the RSS column"
        }
    );
    // SSL_MODE_RELEASE_BUFFERS would not help: OpenSSL honours it for TLS only (`!SSL_IS_DTLS`
    // in its record layer), so every DTLS connection keeps its ~16.7 KB read and write buffers.
    measure(
        "openssl established",
        n,
        true,
        || established(&client_ctx, &server_ctx),
        |p| p.server,
    );
    measure(
        "openssl mid-handshake (after flight 4)",
        n,
        false,
        || mid_handshake(&client_ctx, &server_ctx),
        |p| p.server,
    );

    let mtu = HANDSHAKE_MTU as usize;
    let mut server =
        puredtls::Server::new(puredtls_pair::server_config(&identity, mtu)).expect("server");
    let client_config = puredtls_pair::client_config(&identity, mtu);
    let now = std::time::Instant::now();
    let server = std::cell::RefCell::new(&mut server);
    measure(
        "puredtls established",
        n,
        false,
        || puredtls_established(&mut server.borrow_mut(), &client_config, now, None),
        |(_, s)| s,
    );
    let full = mtu - 13 - 24;
    measure(
        &format!("puredtls established, {full} B records"),
        n,
        false,
        || puredtls_established(&mut server.borrow_mut(), &client_config, now, Some(full)),
        |(_, s)| s,
    );
    measure(
        "puredtls mid-handshake (after flight 4)",
        n,
        false,
        || puredtls_mid_handshake(&mut server.borrow_mut(), &client_config, now),
        |(_, s)| s,
    );
    endpoint_sessions(&identity, n, Some(4));
    endpoint_sessions(&identity, n, Some(full));
    endpoint_sessions(&identity, n, None);
    front_door_state(&identity, n);
    print_peak("openssl handshake", n, || {
        openssl_server_peak(&client_ctx, &server_ctx)
    });
    print_peak("puredtls handshake", n, || {
        puredtls_server_peak(&mut server.borrow_mut(), &client_config)
    });
    println!(
        "  inline sizes: ServerSession {} B, ClientSession {} B, Server {} B, Endpoint {} B, \
         RecordProtection {} B",
        std::mem::size_of::<puredtls::ServerSession>(),
        std::mem::size_of::<puredtls::ClientSession>(),
        std::mem::size_of::<puredtls::Server>(),
        std::mem::size_of::<puredtls::Endpoint>(),
        std::mem::size_of::<puredtls::record::RecordProtection>(),
    );
}
