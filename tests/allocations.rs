//! Heap use of the record path, the front door and established sessions, counted by a global
//! allocator. Counts are per thread, so tests running in parallel do not disturb each other.
//!
//! - Once a session has carried one datagram of the largest size each way, sending and
//!   receiving allocate nothing: `ClientSession`/`ServerSession` and `Endpoint` alike.
//! - Answering a cookie-less ClientHello allocates nothing and keeps nothing (RFC 6347 §4.2.1:
//!   the front door is stateless), from the very first one.
//! - An established session holds at most 4 KiB of heap.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use puredtls::server::Accept;
use puredtls::{
    ClientConfig, ClientSession, Endpoint, Server, ServerConfig, ServerSession, Status,
};

// ----- a per-thread counting allocator ---------------------------------------------------------

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static HELD: Cell<i64> = const { Cell::new(0) };
}

struct Counting;

fn count(allocations: u64, bytes: i64) {
    // `try_with`: the allocator also runs while thread-locals are being torn down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + allocations));
    let _ = HELD.try_with(|h| h.set(h.get() + bytes));
}

// SAFETY: every call is forwarded unchanged to `System`; the wrapper only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as i64);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as i64);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(0, -(layout.size() as i64));
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(1, new_size as i64 - layout.size() as i64);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations (and reallocations) made by this thread so far.
fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Heap bytes this thread holds (allocated minus freed by it).
fn held() -> i64 {
    HELD.with(Cell::get)
}

/// Runs `f` and returns how many allocations it made, with its result.
fn counting<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = allocations();
    let r = f();
    (allocations() - before, r)
}

// ----- an in-memory pair ---------------------------------------------------------------------

const MTU: usize = 1200;

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn configs(mtu: usize) -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    let (key, cert) = puredtls::cert::generate_self_signed(&["localhost"]).unwrap();
    let mut server = ServerConfig::new(vec![cert], key).unwrap();
    server.common.mtu = mtu;
    let mut client = ClientConfig::dangerous_accept_any_certificate();
    client.common.mtu = mtu;
    (Arc::new(server), Arc::new(client))
}

fn datagrams<'a>(it: impl Iterator<Item = &'a [u8]>) -> Vec<Vec<u8>> {
    it.map(<[u8]>::to_vec).collect()
}

/// A connected client and server session (cookie exchange through `Server::accept`).
fn connected(mtu: usize) -> (ClientSession, Box<ServerSession>) {
    let (server_config, client_config) = configs(mtu);
    connected_with(server_config, client_config)
}

fn connected_with(
    server_config: Arc<ServerConfig>,
    client_config: Arc<ClientConfig>,
) -> (ClientSession, Box<ServerSession>) {
    let now = Instant::now();
    let mut server = Server::new(server_config).unwrap();
    let mut client = ClientSession::new(client_config, now).unwrap();
    let ch1 = datagrams(client.poll_output().transmits());
    let Accept::HelloVerifyRequest(hvr) = server.accept(now, peer(), &ch1[0]) else {
        panic!("expected a HelloVerifyRequest");
    };
    let hvr = hvr.to_vec();
    let ch2 = datagrams(client.handle_datagram(now, &hvr).transmits());
    let Accept::NewSession(mut session) = server.accept(now, peer(), &ch2[0]) else {
        panic!("expected a session");
    };
    let mut to_client = datagrams(session.poll_output().transmits());
    for _ in 0..4 {
        let mut to_server = Vec::new();
        for d in &to_client {
            to_server.extend(datagrams(client.handle_datagram(now, d).transmits()));
        }
        to_client.clear();
        for d in &to_server {
            to_client.extend(datagrams(session.handle_datagram(now, d).transmits()));
        }
    }
    assert_eq!(client.status(), &Status::Connected);
    assert_eq!(session.status(), &Status::Connected);
    (client, session)
}

/// A client connected to an `Endpoint`.
fn connected_endpoint(mtu: usize) -> (ClientSession, Endpoint) {
    let (server_config, client_config) = configs(mtu);
    let mut endpoint = Endpoint::new(server_config).unwrap();
    let client = connect_peer(&mut endpoint, &client_config, peer());
    (client, endpoint)
}

/// A new client connected to `endpoint` from `from`.
fn connect_peer(
    endpoint: &mut Endpoint,
    client_config: &Arc<ClientConfig>,
    from: SocketAddr,
) -> ClientSession {
    let now = Instant::now();
    let mut client = ClientSession::new(client_config.clone(), now).unwrap();
    let mut to_server = datagrams(client.poll_output().transmits());
    for _ in 0..6 {
        let mut to_client = Vec::new();
        for d in &to_server {
            let out = endpoint.handle_datagram(now, from, d);
            to_client.extend(out.transmits().iter().map(|t| out.datagram(t).to_vec()));
        }
        to_server.clear();
        for d in &to_client {
            to_server.extend(datagrams(client.handle_datagram(now, d).transmits()));
        }
    }
    assert_eq!(client.status(), &Status::Connected);
    assert_eq!(
        endpoint.session(&from).map(|s| s.status().clone()),
        Some(Status::Connected)
    );
    client
}

/// One record of `data` each way between `client` and its session in `endpoint`.
fn endpoint_exchange(
    client: &mut ClientSession,
    endpoint: &mut Endpoint,
    from: SocketAddr,
    data: &[u8],
) {
    let now = Instant::now();
    let out = client.send(data).unwrap();
    let datagram = out.transmits().next().unwrap();
    let got = endpoint.handle_datagram(now, from, datagram);
    {
        let mut app = got.app_data();
        assert_eq!(app.next(), Some((from, data)));
        assert!(app.next().is_none());
    }
    let out = endpoint.send(from, data).unwrap();
    let t = out.transmits()[0];
    assert_eq!(t.peer, from);
    let got = client.handle_datagram(now, out.datagram(&t));
    assert_eq!(got.app_data().next(), Some(data));
}

/// `data` from the client to the server session; returns what the server delivered.
fn client_to_server(
    client: &mut ClientSession,
    server: &mut ServerSession,
    data: &[u8],
    delivered: &mut Vec<u8>,
) {
    let now = Instant::now();
    let out = client.send(data).unwrap();
    let datagram = out.transmits().next().unwrap();
    let got = server.handle_datagram(now, datagram);
    delivered.clear();
    for chunk in got.app_data() {
        delivered.extend_from_slice(chunk);
    }
}

fn server_to_client(
    server: &mut ServerSession,
    client: &mut ClientSession,
    data: &[u8],
    delivered: &mut Vec<u8>,
) {
    let now = Instant::now();
    let out = server.send(data).unwrap();
    let datagram = out.transmits().next().unwrap();
    let got = client.handle_datagram(now, datagram);
    delivered.clear();
    for chunk in got.app_data() {
        delivered.extend_from_slice(chunk);
    }
}

// ----- the record path ---------------------------------------------------------------------

#[test]
fn established_sessions_send_and_receive_without_allocating() {
    let (mut client, mut server) = connected(MTU);
    let big = vec![0xa5u8; client.max_payload()];
    assert_eq!(big.len(), MTU - 13 - 24, "one record fills the datagram");
    let small = b"ping".to_vec();
    let mut delivered = Vec::with_capacity(MTU);

    // Warm-up: one datagram of the largest size each way sizes the reused buffers.
    client_to_server(&mut client, &mut server, &big, &mut delivered);
    server_to_client(&mut server, &mut client, &big, &mut delivered);

    let (n, ()) = counting(|| {
        for i in 0..50 {
            let data = if i % 2 == 0 { &big } else { &small };
            client_to_server(&mut client, &mut server, data, &mut delivered);
            assert_eq!(&delivered, data);
            server_to_client(&mut server, &mut client, data, &mut delivered);
            assert_eq!(&delivered, data);
        }
    });
    assert_eq!(n, 0, "allocations for 100 datagrams on an established pair");
    assert_eq!(server.stats().app_records_received, 51);
    assert_eq!(client.stats().app_records_received, 51);
}

#[test]
fn endpoint_sends_and_receives_without_allocating_after_warm_up() {
    let (mut client, mut endpoint) = connected_endpoint(MTU);
    let big = vec![0x5au8; client.max_payload()];
    endpoint_exchange(&mut client, &mut endpoint, peer(), &big);

    let (n, ()) = counting(|| {
        for i in 0..50 {
            let data: &[u8] = if i % 2 == 0 { &big } else { b"pong" };
            endpoint_exchange(&mut client, &mut endpoint, peer(), data);
        }
    });
    assert_eq!(n, 0, "allocations for 100 datagrams through an Endpoint");
}

// ----- the front door ----------------------------------------------------------------------

/// Cookie-less ClientHellos from `n` fresh clients.
fn first_hellos(n: usize) -> Vec<Vec<u8>> {
    let (_, client_config) = configs(MTU);
    (0..n)
        .map(|_| {
            let mut c = ClientSession::new(client_config.clone(), Instant::now()).unwrap();
            let d = c.poll_output().transmits().next().unwrap().to_vec();
            d
        })
        .collect()
}

#[test]
fn front_door_answers_cookieless_hellos_without_allocating_or_keeping_state() {
    let hellos = first_hellos(20);
    let (server_config, _) = configs(MTU);
    let mut server = Server::new(server_config).unwrap();
    let now = Instant::now();
    let held_before = held();
    let (n, answered) = counting(|| {
        let mut answered = 0;
        for (i, hello) in hellos.iter().enumerate() {
            let from = SocketAddr::from(([127, 0, 0, 1], 30_000 + i as u16));
            match server.accept(now, from, hello) {
                // RFC 6347 §4.2.1: a HelloVerifyRequest record carrying handshake type 3.
                Accept::HelloVerifyRequest(hvr) => {
                    assert_eq!((hvr[0], hvr[13]), (22, 3));
                    answered += 1;
                }
                other => panic!("expected a HelloVerifyRequest, got {other:?}"),
            }
        }
        answered
    });
    assert_eq!(answered, 20);
    assert_eq!(
        n, 0,
        "allocations for 20 HelloVerifyRequests, from the first"
    );
    assert_eq!(held(), held_before, "the front door kept heap state");
    assert_eq!(server.stats().hello_verify_requests, 20);
    assert_eq!(server.stats().sessions_created, 0);
}

#[test]
fn endpoint_front_door_answers_without_allocating_after_warm_up() {
    let hellos = first_hellos(20);
    let (server_config, _) = configs(MTU);
    let mut endpoint = Endpoint::new(server_config).unwrap();
    let now = Instant::now();
    let from = |i: usize| SocketAddr::from(([127, 0, 0, 1], 30_000 + i as u16));
    // Warm-up: the endpoint's output buffers.
    assert_eq!(
        endpoint
            .handle_datagram(now, from(0), &hellos[0])
            .transmits()
            .len(),
        1
    );
    let held_before = held();
    let (n, ()) = counting(|| {
        for (i, hello) in hellos.iter().enumerate() {
            let out = endpoint.handle_datagram(now, from(i), hello);
            assert_eq!(out.transmits().len(), 1);
            assert_eq!(
                out.datagram(&out.transmits()[0])[13],
                3,
                "HelloVerifyRequest"
            );
        }
    });
    assert_eq!(
        n, 0,
        "allocations for 20 HelloVerifyRequests through an Endpoint"
    );
    assert_eq!(held(), held_before);
    assert!(
        endpoint.is_empty(),
        "a cookie-less ClientHello made a session"
    );
}

// ----- memory held -------------------------------------------------------------------------

/// Heap bytes held by a session made (and used) inside `make`, counting the session's own
/// box, after everything else `make` allocated is freed.
fn held_by<T>(make: impl FnOnce() -> T) -> (i64, T) {
    let before = held();
    let t = make();
    (held() - before, t)
}

#[test]
fn an_established_session_holds_at_most_4_kib() {
    // The configs are shared by every session of a server or client: not per session.
    let (server_config, client_config) = configs(MTU);
    let mut delivered = Vec::with_capacity(MTU);
    for size in [4, MTU - 13 - 24] {
        let data = vec![0x33; size];
        let (bytes, (client, server)) = held_by(|| {
            let (mut client, mut server) =
                connected_with(server_config.clone(), client_config.clone());
            // One record each way: a small one, as the memory benchmark does, and a full one.
            client_to_server(&mut client, &mut server, &data, &mut delivered);
            server_to_client(&mut server, &mut client, &data, &mut delivered);
            (client, server)
        });
        // Dropping each side alone shows what it held; the client is held by value, so its
        // inline size counts too (the server's is in its box).
        let before = held();
        drop(server);
        let server_bytes = before - held();
        let client_bytes = bytes - server_bytes + std::mem::size_of::<ClientSession>() as i64;
        assert!(
            server_bytes <= 4096,
            "an established ServerSession holds {server_bytes} B after {size}-byte records"
        );
        assert!(
            client_bytes <= 4096,
            "an established ClientSession holds {client_bytes} B after {size}-byte records"
        );
        drop(client);
    }
}

#[test]
fn sessions_in_an_endpoint_hold_no_output_buffers() {
    let (server_config, client_config) = configs(MTU);
    let full = MTU - 13 - 24;
    let mut held_per_session = Vec::new();
    let mut keep = Vec::new();
    for size in [4, full] {
        let mut endpoint = Endpoint::new(server_config.clone()).unwrap();
        // Warm-up: a first peer sizes the endpoint's buffers for full datagrams.
        let a = SocketAddr::from(([127, 0, 0, 1], 1000));
        let mut client_a = connect_peer(&mut endpoint, &client_config, a);
        endpoint_exchange(&mut client_a, &mut endpoint, a, &vec![1; full]);
        let b = SocketAddr::from(([127, 0, 0, 1], 2000));
        let data = vec![2; size];
        let mut client_b = None;
        let (bytes, ()) = held_by(|| {
            let mut c = connect_peer(&mut endpoint, &client_config, b);
            endpoint_exchange(&mut c, &mut endpoint, b, &data);
            client_b = Some(c);
        });
        let client_b = client_b.unwrap();
        // Only the server side: the client's own heap goes out again.
        let before = held();
        drop(client_b);
        held_per_session.push(bytes - (before - held()));
        keep.push((endpoint, client_a));
    }
    assert_eq!(
        held_per_session[0], held_per_session[1],
        "a session that carried {full}-byte records holds more than one that carried 4 bytes"
    );
    assert!(
        held_per_session[0] <= 4096,
        "a session in an Endpoint holds {} B",
        held_per_session[0]
    );
}
