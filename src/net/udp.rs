//! `UdpServer` and `PacketPeerUdp`: one shared socket demultiplexed by peer address, and a
//! peer that is either its own (client) socket or a view of the server's.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{ToSocketAddrs, UdpSocket};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::dtls::DtlsHub;
use super::{is_transient, NetError, MAX_DATAGRAM, MAX_DATAGRAMS_PER_POLL, MAX_QUEUED_PACKETS};

/// Godot's default for `UDPServer.max_pending_connections`.
const DEFAULT_MAX_PENDING: usize = 16;
/// A peer's poll skips reading the shared socket if it was read this recently (a loop over
/// many peers then costs one read, not one per peer).
const SHARED_POLL_INTERVAL: Duration = Duration::from_millis(1);

/// The state behind a listening [`UdpServer`], shared with the peers taken from it.
#[derive(Debug)]
pub(super) struct Hub {
    pub(super) socket: UdpSocket,
    /// Peers seen before a DTLS front door was installed (plain UDP), with their packets.
    plain: HashMap<SocketAddr, VecDeque<Vec<u8>>>,
    /// Addresses reported by `is_connection_available` and not yet taken.
    pub(super) pending: VecDeque<SocketAddr>,
    pub(super) max_pending: usize,
    /// The DTLS front door and sessions, once a `DtlsServer` took a connection from us.
    pub(super) dtls: Option<DtlsHub>,
    buf: Vec<u8>,
    /// Datagrams dropped because the pending queue or a peer's queue was full.
    pub(super) dropped: u64,
    pub(super) last_io_error: Option<io::Error>,
    last_pump: Option<Instant>,
}

pub(super) type SharedHub = Arc<Mutex<Hub>>;

/// Locks the hub; a panic in another thread while it held the lock leaves plain data behind,
/// which is still usable, so poisoning is ignored.
pub(super) fn lock(hub: &SharedHub) -> MutexGuard<'_, Hub> {
    hub.lock().unwrap_or_else(|e| e.into_inner())
}

impl Hub {
    /// Reads every datagram waiting on the socket, routes each to its peer, and runs the DTLS
    /// timers that are due.
    pub(super) fn pump(&mut self, now: Instant) {
        self.last_pump = Some(now);
        if let Some(dtls) = &mut self.dtls {
            dtls.replay_held(now, &self.socket);
        }
        let mut buf = core::mem::take(&mut self.buf);
        buf.resize(MAX_DATAGRAM, 0);
        for _ in 0..MAX_DATAGRAMS_PER_POLL {
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) => self.dispatch(now, from, buf.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if is_transient(&e) => continue,
                Err(e) => {
                    self.last_io_error = Some(e);
                    break;
                }
            }
        }
        self.buf = buf;
        if let Some(dtls) = &mut self.dtls {
            dtls.run_timers(now, &self.socket);
        }
    }

    /// `pump`, unless it ran less than [`SHARED_POLL_INTERVAL`] ago.
    pub(super) fn pump_shared(&mut self, now: Instant) {
        let recent = self
            .last_pump
            .is_some_and(|t| now.saturating_duration_since(t) < SHARED_POLL_INTERVAL);
        if !recent {
            self.pump(now);
        }
    }

    /// Blocks until a datagram arrives, a DTLS timer is due or `timeout` passes, then handles
    /// what arrived.
    pub(super) fn wait(&mut self, timeout: Duration) -> Result<(), NetError> {
        let now = Instant::now();
        let mut wait = timeout;
        if let Some(t) = self.dtls.as_mut().and_then(DtlsHub::next_timeout) {
            wait = wait.min(t.saturating_duration_since(now));
        }
        if wait.is_zero() {
            return Ok(());
        }
        self.socket.set_nonblocking(false)?;
        self.socket.set_read_timeout(Some(wait))?;
        let mut buf = core::mem::take(&mut self.buf);
        buf.resize(MAX_DATAGRAM, 0);
        let result = self.socket.recv_from(&mut buf);
        let restore = self.socket.set_nonblocking(true);
        match result {
            Ok((n, from)) => self.dispatch(Instant::now(), from, buf.get(..n).unwrap_or_default()),
            Err(e) if is_transient(&e) => {}
            Err(e) => {
                self.buf = buf;
                return Err(e.into());
            }
        }
        self.buf = buf;
        restore?;
        Ok(())
    }

    fn dispatch(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        if let Some(queue) = self.plain.get_mut(&from) {
            push_bounded(queue, datagram, &mut self.dropped);
            return;
        }
        if let Some(dtls) = &mut self.dtls {
            dtls.handle_datagram(
                now,
                from,
                datagram,
                &self.socket,
                &mut self.pending,
                self.max_pending,
            );
            return;
        }
        if self.pending.len() >= self.max_pending {
            self.dropped += 1;
            return;
        }
        self.plain.insert(from, VecDeque::from([datagram.to_vec()]));
        self.pending.push_back(from);
    }

    /// Takes a plain peer's queued packets and forgets it, so its next datagram is routed
    /// afresh (used when a `DtlsServer` adopts a plain peer).
    pub(super) fn take_plain(&mut self, peer: &SocketAddr) -> Option<VecDeque<Vec<u8>>> {
        self.plain.remove(peer)
    }
}

fn push_bounded(queue: &mut VecDeque<Vec<u8>>, packet: &[u8], dropped: &mut u64) {
    if queue.len() >= MAX_QUEUED_PACKETS {
        *dropped += 1;
    } else {
        queue.push_back(packet.to_vec());
    }
}

/// A UDP "server" in Godot's sense: it listens on one socket and hands out a
/// [`PacketPeerUdp`] for every new peer address, which then receives that peer's datagrams.
///
/// Call [`poll`](Self::poll) regularly; it never blocks. Pass the peers to
/// [`DtlsServer::take_connection`](super::DtlsServer::take_connection) to speak DTLS with them
/// (see the [module documentation](super) for how the cookie exchange differs from Godot).
#[derive(Debug, Default)]
pub struct UdpServer {
    hub: Option<SharedHub>,
    max_pending: usize,
}

impl UdpServer {
    /// A server that is not listening yet.
    pub fn new() -> Self {
        Self {
            hub: None,
            max_pending: DEFAULT_MAX_PENDING,
        }
    }

    /// Listens on `port` on every IPv4 interface, as Godot's `UDPServer.listen(port)` does.
    /// Use [`listen_on`](Self::listen_on) to choose the address (e.g. `127.0.0.1:4242`).
    pub fn listen(&mut self, port: u16) -> Result<(), NetError> {
        self.listen_on(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port))
    }

    /// Listens on the given address; port 0 picks a free port (see
    /// [`local_addr`](Self::local_addr)).
    pub fn listen_on(&mut self, addr: impl ToSocketAddrs) -> Result<(), NetError> {
        if self.hub.is_some() {
            return Err(NetError::Usage(
                "the UDP server is already listening; call stop() first",
            ));
        }
        let socket = UdpSocket::bind(addr)?;
        socket.set_nonblocking(true)?;
        self.hub = Some(Arc::new(Mutex::new(Hub {
            socket,
            plain: HashMap::new(),
            pending: VecDeque::new(),
            max_pending: self.max_pending,
            dtls: None,
            buf: Vec::new(),
            dropped: 0,
            last_io_error: None,
            last_pump: None,
        })));
        Ok(())
    }

    /// Whether [`listen`](Self::listen) succeeded and [`stop`](Self::stop) was not called.
    pub fn is_listening(&self) -> bool {
        self.hub.is_some()
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        let hub = self.hub.as_ref()?;
        lock(hub).socket.local_addr().ok()
    }

    /// Reads every datagram waiting on the socket and routes it to its peer (a new address
    /// becomes a pending connection); runs DTLS retransmission timers. Never blocks.
    pub fn poll(&mut self) -> Result<(), NetError> {
        let hub = self.hub.as_ref().ok_or(NetError::Usage(
            "the UDP server is not listening; call listen() first",
        ))?;
        let mut hub = lock(hub);
        hub.pump(Instant::now());
        match hub.last_io_error.take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Blocks until a datagram arrives, a DTLS timer is due or `timeout` passes, and routes
    /// what arrived. Lets a server loop sleep without missing packets; follow with `poll`.
    pub fn wait(&mut self, timeout: Duration) -> Result<(), NetError> {
        let hub = self.hub.as_ref().ok_or(NetError::Usage(
            "the UDP server is not listening; call listen() first",
        ))?;
        lock(hub).wait(timeout)
    }

    /// Whether a new peer is waiting to be taken. Reads the socket first, so it also works in
    /// loops that never call [`poll`](Self::poll).
    pub fn is_connection_available(&self) -> bool {
        let Some(hub) = &self.hub else {
            return false;
        };
        let mut hub = lock(hub);
        if hub.pending.is_empty() {
            hub.pump(Instant::now());
        }
        !hub.pending.is_empty()
    }

    /// The next new peer, if any: a [`PacketPeerUdp`] that receives that address's datagrams
    /// and sends through this server's socket.
    pub fn take_connection(&mut self) -> Option<PacketPeerUdp> {
        let shared = self.hub.as_ref()?;
        let peer = lock(shared).pending.pop_front()?;
        Some(PacketPeerUdp {
            kind: Kind::Hub(HubPeer {
                hub: Arc::clone(shared),
                peer,
            }),
        })
    }

    /// Most new peers kept waiting for `take_connection`; datagrams from further new
    /// addresses are dropped. 16 by default, as in Godot.
    pub fn set_max_pending_connections(&mut self, max: usize) {
        self.max_pending = max;
        if let Some(hub) = &self.hub {
            lock(hub).max_pending = max;
        }
    }

    pub fn max_pending_connections(&self) -> usize {
        self.max_pending
    }

    /// Datagrams dropped so far because a queue was full.
    pub fn dropped_datagrams(&self) -> u64 {
        self.hub.as_ref().map_or(0, |h| lock(h).dropped)
    }

    /// Stops listening. Peers already taken keep the socket open until they are dropped.
    pub fn stop(&mut self) {
        self.hub = None;
    }
}

/// A datagram peer, as Godot's `PacketPeerUDP`: either its own socket
/// ([`connect_to_host`](Self::connect_to_host), [`bind`](Self::bind)) or one peer of a
/// [`UdpServer`] (from [`UdpServer::take_connection`]).
#[derive(Debug, Default)]
pub struct PacketPeerUdp {
    pub(super) kind: Kind,
}

#[derive(Debug, Default)]
pub(super) enum Kind {
    #[default]
    Closed,
    Socket(SocketPeer),
    Hub(HubPeer),
}

#[derive(Debug)]
pub(super) struct SocketPeer {
    pub(super) socket: UdpSocket,
    /// Set by `connect_to_host`: the socket only talks to this address.
    pub(super) connected: Option<SocketAddr>,
    /// Set by `set_dest_address` on an unconnected socket.
    dest: Option<SocketAddr>,
    inbox: VecDeque<(SocketAddr, Vec<u8>)>,
    last_from: Option<SocketAddr>,
    dropped: u64,
    buf: Vec<u8>,
}

#[derive(Debug)]
pub(super) struct HubPeer {
    pub(super) hub: SharedHub,
    pub(super) peer: SocketAddr,
}

impl Drop for HubPeer {
    fn drop(&mut self) {
        let mut guard = lock(&self.hub);
        let hub = &mut *guard;
        // A dropped plain peer is forgotten, so its address can connect again.
        hub.plain.remove(&self.peer);
        // A DTLS peer never handed to a DtlsServer is abandoned: close its session.
        if let Some(dtls) = &mut hub.dtls {
            dtls.abandon_unclaimed(self.peer, &hub.socket);
        }
    }
}

impl SocketPeer {
    fn new(socket: UdpSocket) -> Result<Self, NetError> {
        socket.set_nonblocking(true)?;
        Ok(Self {
            socket,
            connected: None,
            dest: None,
            inbox: VecDeque::new(),
            last_from: None,
            dropped: 0,
            buf: Vec::new(),
        })
    }

    fn drain(&mut self) {
        let Self {
            socket, inbox, buf, ..
        } = self;
        buf.resize(MAX_DATAGRAM, 0);
        for _ in 0..MAX_DATAGRAMS_PER_POLL {
            match socket.recv_from(buf) {
                Ok((n, from)) if inbox.len() < MAX_QUEUED_PACKETS => {
                    inbox.push_back((from, buf.get(..n).unwrap_or_default().to_vec()))
                }
                Ok(_) => self.dropped += 1,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if is_transient(&e) => continue,
                Err(_) => break,
            }
        }
    }
}

impl PacketPeerUdp {
    /// A peer with no socket yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Binds a socket to `addr` (port 0 picks a free one) to send and receive from anyone.
    pub fn bind(&mut self, addr: impl ToSocketAddrs) -> Result<(), NetError> {
        if !matches!(self.kind, Kind::Closed) {
            return Err(NetError::Usage(
                "the peer already has a socket; close() it first",
            ));
        }
        self.kind = Kind::Socket(SocketPeer::new(UdpSocket::bind(addr)?)?);
        Ok(())
    }

    /// Connects to `addr`, so the socket sends there and only receives from there. Binds a
    /// free port first if needed: on the loopback interface when `addr` is a loopback address,
    /// on every interface otherwise.
    pub fn connect_to_host(&mut self, addr: impl ToSocketAddrs) -> Result<(), NetError> {
        let target = addr.to_socket_addrs()?.next().ok_or(NetError::Usage(
            "connect_to_host: the address resolved to nothing",
        ))?;
        if matches!(self.kind, Kind::Closed) {
            let local = match target.ip() {
                IpAddr::V4(ip) if ip.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(ip) if ip.is_loopback() => IpAddr::V6(Ipv6Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            };
            self.bind(SocketAddr::new(local, 0))?;
        }
        match &mut self.kind {
            Kind::Socket(s) => {
                s.socket.connect(target)?;
                s.connected = Some(target);
                s.dest = Some(target);
                Ok(())
            }
            _ => Err(NetError::Usage(
                "connect_to_host: a peer taken from a UdpServer is already bound to its address",
            )),
        }
    }

    /// Where `put_packet` sends on an unconnected socket.
    pub fn set_dest_address(&mut self, addr: SocketAddr) -> Result<(), NetError> {
        match &mut self.kind {
            Kind::Socket(s) if s.connected.is_none() => {
                s.dest = Some(addr);
                Ok(())
            }
            Kind::Socket(_) => Err(NetError::Usage(
                "set_dest_address: the socket is connected; use a bound socket instead",
            )),
            Kind::Hub(_) => Err(NetError::Usage(
                "set_dest_address: a peer taken from a UdpServer talks only to its address",
            )),
            Kind::Closed => Err(NetError::Usage("set_dest_address: bind() first")),
        }
    }

    /// Whether the peer talks to one address (connected, or taken from a server).
    pub fn is_socket_connected(&self) -> bool {
        match &self.kind {
            Kind::Socket(s) => s.connected.is_some(),
            Kind::Hub(_) => true,
            Kind::Closed => false,
        }
    }

    /// Whether the peer has a socket (its own or its server's).
    pub fn is_bound(&self) -> bool {
        !matches!(self.kind, Kind::Closed)
    }

    /// The local address of the socket.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.kind {
            Kind::Socket(s) => s.socket.local_addr().ok(),
            Kind::Hub(h) => lock(&h.hub).socket.local_addr().ok(),
            Kind::Closed => None,
        }
    }

    /// The address the peer talks to, if it talks to one.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        match &self.kind {
            Kind::Socket(s) => s.connected.or(s.dest),
            Kind::Hub(h) => Some(h.peer),
            Kind::Closed => None,
        }
    }

    /// The sender of the last packet returned by [`get_packet`](Self::get_packet)
    /// (Godot's `get_packet_ip` and `get_packet_port`).
    pub fn get_packet_address(&self) -> Option<SocketAddr> {
        match &self.kind {
            Kind::Socket(s) => s.last_from,
            Kind::Hub(h) => Some(h.peer),
            Kind::Closed => None,
        }
    }

    /// Sends one datagram.
    pub fn put_packet(&mut self, packet: &[u8]) -> Result<(), NetError> {
        match &mut self.kind {
            Kind::Socket(s) => {
                match (s.connected, s.dest) {
                    (Some(_), _) => s.socket.send(packet)?,
                    (None, Some(dest)) => s.socket.send_to(packet, dest)?,
                    (None, None) => {
                        return Err(NetError::Usage(
                            "put_packet: no destination; call connect_to_host or set_dest_address",
                        ))
                    }
                };
                Ok(())
            }
            Kind::Hub(h) => {
                lock(&h.hub).socket.send_to(packet, h.peer)?;
                Ok(())
            }
            Kind::Closed => Err(NetError::Usage(
                "put_packet: the peer has no socket; call connect_to_host or bind",
            )),
        }
    }

    /// Packets received and not yet read. Reads the socket first.
    pub fn get_available_packet_count(&mut self) -> usize {
        match &mut self.kind {
            Kind::Socket(s) => {
                s.drain();
                s.inbox.len()
            }
            Kind::Hub(h) => {
                let mut hub = lock(&h.hub);
                hub.pump(Instant::now());
                hub.plain.get(&h.peer).map_or(0, VecDeque::len)
            }
            Kind::Closed => 0,
        }
    }

    /// The next packet received, if any. Reads the socket first.
    pub fn get_packet(&mut self) -> Option<Vec<u8>> {
        match &mut self.kind {
            Kind::Socket(s) => {
                if s.inbox.is_empty() {
                    s.drain();
                }
                let (from, packet) = s.inbox.pop_front()?;
                s.last_from = Some(from);
                Some(packet)
            }
            Kind::Hub(h) => {
                let mut hub = lock(&h.hub);
                if hub.plain.get(&h.peer).is_none_or(VecDeque::is_empty) {
                    hub.pump(Instant::now());
                }
                hub.plain.get_mut(&h.peer)?.pop_front()
            }
            Kind::Closed => None,
        }
    }

    /// Blocks until a packet is available or `timeout` passes; returns whether one is.
    pub fn wait(&mut self, timeout: Duration) -> Result<bool, NetError> {
        if self.get_available_packet_count() > 0 {
            return Ok(true);
        }
        match &mut self.kind {
            Kind::Socket(s) => {
                if !timeout.is_zero() {
                    s.socket.set_nonblocking(false)?;
                    s.socket.set_read_timeout(Some(timeout))?;
                    let mut probe = [0u8; 1];
                    let peeked = s.socket.peek_from(&mut probe);
                    s.socket.set_nonblocking(true)?;
                    if let Err(e) = peeked {
                        if !is_transient(&e) {
                            return Err(e.into());
                        }
                    }
                }
            }
            Kind::Hub(h) => lock(&h.hub).wait(timeout)?,
            Kind::Closed => return Err(NetError::Usage("wait: the peer has no socket")),
        }
        Ok(self.get_available_packet_count() > 0)
    }

    /// Closes the socket (or, for a peer of a server, lets the server forget the address).
    pub fn close(&mut self) {
        self.kind = Kind::Closed;
    }
}
