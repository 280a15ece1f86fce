//! `DtlsServer` and `PacketPeerDtls`: DTLS over the UDP peers of [`super::udp`].
//!
//! The server side keeps every session in one sans-IO [`Endpoint`] attached to the
//! [`UdpServer`](super::UdpServer)'s socket; a server-side `PacketPeerDtls` is a handle to
//! one entry of it. The client side owns its socket and a [`ClientSession`].

use core::fmt;
use core::net::SocketAddr;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::udp::{lock, HubPeer, Kind, SharedHub, SocketPeer};
use super::MAX_QUEUED_PACKETS;
use super::{is_transient, NetError, PacketPeerUdp, MAX_DATAGRAM, MAX_DATAGRAMS_PER_POLL};
use crate::cert::{CertificateDer, CertificateError, PrivateKey, TrustAnchors, UnixTime};
use crate::config::{ClientConfig, ServerConfig};
use crate::error::Error;
use crate::server::{Endpoint, EndpointEvent, EndpointOutput};
use crate::session::{Output, Status};
use crate::suite::CipherSuite;
use crate::{ClientSession, ServerCertVerification};

/// Where a [`PacketPeerDtls`] stands (Godot's `PacketPeerDTLS.Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtlsStatus {
    /// Not connected: never started, closed by either side, or dropped by the server.
    Disconnected,
    /// The handshake is under way; keep polling.
    Handshaking,
    /// Application data can flow.
    Connected,
    /// The handshake or the session failed; [`PacketPeerDtls::last_error`] says why.
    Error,
    /// The server's certificate is not valid for the expected host name.
    ErrorHostnameMismatch,
}

impl DtlsStatus {
    fn of(status: &Status) -> Self {
        match status {
            Status::Handshaking => Self::Handshaking,
            Status::Connected => Self::Connected,
            Status::Closed => Self::Disconnected,
            Status::Failed(e) => Self::of_error(e),
        }
    }

    fn of_error(e: &Error) -> Self {
        match e {
            Error::Certificate(CertificateError::NameMismatch { .. }) => {
                Self::ErrorHostnameMismatch
            }
            _ => Self::Error,
        }
    }
}

/// Datagrams held for a session that is waiting to be taken; more are dropped (the client
/// retransmits).
const MAX_HELD_DATAGRAMS: usize = 32;

/// Distinguishes `DtlsServer`s, so a socket serves only the one that installed its front door.
static NEXT_SERVER_ID: AtomicU64 = AtomicU64::new(1);

/// The DTLS state attached to a listening socket: the front door, the sessions, and what the
/// application has not read yet.
#[derive(Debug)]
pub(super) struct DtlsHub {
    owner: u64,
    endpoint: Endpoint,
    slots: HashMap<SocketAddr, Slot>,
    next_slot: u64,
    /// Sessions taken since the last pump whose held datagrams are to be handled.
    replay: Vec<SocketAddr>,
    /// `endpoint.poll_timeout()` (a walk over every session), cached until the next call
    /// into the endpoint, so idle polls cost O(1).
    deadline: Option<Instant>,
    deadline_stale: bool,
}

/// What a server-side peer handle reads: the session's last known status and its packets.
#[derive(Debug)]
struct Slot {
    /// Tells a handle to this session from one to an earlier session of the same address.
    id: u64,
    status: DtlsStatus,
    error: Option<Error>,
    inbox: VecDeque<Vec<u8>>,
    dropped: u64,
    /// Handed to a `PacketPeerDtls` (otherwise pending or abandoned).
    claimed: bool,
    /// Datagrams that arrived before the session was taken. A pending session does not
    /// advance past its first flight, so the peer the application takes is still handshaking
    /// (as in Godot, where the handshake starts at `take_connection`).
    held: VecDeque<Vec<u8>>,
}

/// Sends what an endpoint call produced and records its app data and events in the slots.
/// Returns the peers accepted in this call.
fn absorb(
    out: &EndpointOutput<'_>,
    socket: &UdpSocket,
    slots: &mut HashMap<SocketAddr, Slot>,
    next_slot: &mut u64,
) -> Vec<SocketAddr> {
    for t in out.transmits() {
        // A full send buffer loses the datagram, like the network would; the retransmission
        // timer recovers handshake flights.
        let _ = socket.send_to(out.datagram(t), t.peer);
    }
    for (peer, data) in out.app_data() {
        if let Some(slot) = slots.get_mut(&peer) {
            if slot.inbox.len() < MAX_QUEUED_PACKETS {
                slot.inbox.push_back(data.to_vec());
            } else {
                slot.dropped += 1;
            }
        }
    }
    let mut accepted = Vec::new();
    for event in out.events() {
        match event {
            EndpointEvent::Accepted(peer) => {
                *next_slot += 1;
                slots.insert(
                    *peer,
                    Slot {
                        id: *next_slot,
                        status: DtlsStatus::Handshaking,
                        error: None,
                        inbox: VecDeque::new(),
                        dropped: 0,
                        claimed: false,
                        held: VecDeque::new(),
                    },
                );
                accepted.push(*peer);
            }
            EndpointEvent::Session(peer, event) => {
                if let Some(slot) = slots.get_mut(peer) {
                    match event {
                        crate::Event::Connected => slot.status = DtlsStatus::Connected,
                        crate::Event::PeerClosed => slot.status = DtlsStatus::Disconnected,
                        crate::Event::Failed(e) => {
                            slot.status = DtlsStatus::of_error(e);
                            slot.error = Some(e.clone());
                        }
                    }
                }
            }
            // The old session's handle sees a new slot id and reports Disconnected.
            EndpointEvent::Replaced(peer) | EndpointEvent::Expired(peer) => {
                if let Some(slot) = slots.get_mut(peer) {
                    slot.status = DtlsStatus::Disconnected;
                }
            }
            _ => {}
        }
    }
    accepted
}

impl DtlsHub {
    /// When the next pump has work without any datagram arriving.
    pub(super) fn next_timeout(&mut self) -> Option<Instant> {
        if !self.replay.is_empty() {
            return Some(Instant::now());
        }
        if self.deadline_stale {
            self.deadline = self.endpoint.poll_timeout();
            self.deadline_stale = false;
        }
        self.deadline
    }

    /// Handles the datagrams held for sessions taken since the last call.
    pub(super) fn replay_held(&mut self, now: Instant, socket: &UdpSocket) {
        for peer in core::mem::take(&mut self.replay) {
            let held = match self.slots.get_mut(&peer) {
                Some(slot) if slot.claimed => core::mem::take(&mut slot.held),
                _ => continue,
            };
            for datagram in held {
                self.deadline_stale = true;
                let out = self.endpoint.handle_datagram(now, peer, &datagram);
                absorb(&out, socket, &mut self.slots, &mut self.next_slot);
            }
        }
    }

    pub(super) fn run_timers(&mut self, now: Instant, socket: &UdpSocket) {
        if self.next_timeout().is_some_and(|t| t <= now) {
            self.deadline_stale = true;
            let out = self.endpoint.handle_timeout(now);
            absorb(&out, socket, &mut self.slots, &mut self.next_slot);
        }
    }

    /// A datagram from an address without a plain-UDP peer: the front door or a session.
    /// A new session becomes a pending connection, or is closed if too many are pending.
    pub(super) fn handle_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
        socket: &UdpSocket,
        pending: &mut VecDeque<SocketAddr>,
        max_pending: usize,
    ) {
        if let Some(slot) = self.slots.get_mut(&from).filter(|s| !s.claimed) {
            if slot.held.len() < MAX_HELD_DATAGRAMS {
                slot.held.push_back(datagram.to_vec());
            } else {
                slot.dropped += 1;
            }
            return;
        }
        self.deadline_stale = true;
        let out = self.endpoint.handle_datagram(now, from, datagram);
        let accepted = absorb(&out, socket, &mut self.slots, &mut self.next_slot);
        for peer in accepted {
            pending.retain(|p| *p != peer);
            if pending.len() < max_pending {
                pending.push_back(peer);
            } else {
                self.close(peer, socket);
            }
        }
    }

    /// Sends close_notify and forgets the session and its slot.
    fn close(&mut self, peer: SocketAddr, socket: &UdpSocket) {
        self.deadline_stale = true;
        let out = self.endpoint.close(peer);
        absorb(&out, socket, &mut self.slots, &mut self.next_slot);
        self.slots.remove(&peer);
    }

    /// The `UdpServer` peer of a session was dropped without being given to a `DtlsServer`:
    /// close the session (close_notify) and forget it.
    pub(super) fn abandon_unclaimed(&mut self, peer: SocketAddr, socket: &UdpSocket) {
        if self.slots.get(&peer).is_some_and(|s| !s.claimed) {
            self.close(peer, socket);
        }
    }

    fn slot(&self, peer: SocketAddr, id: u64) -> Option<&Slot> {
        self.slots.get(&peer).filter(|s| s.id == id)
    }

    fn slot_mut(&mut self, peer: SocketAddr, id: u64) -> Option<&mut Slot> {
        self.slots.get_mut(&peer).filter(|s| s.id == id)
    }
}

/// The DTLS side of a server, as Godot's `DTLSServer`: set it up with a key and certificate,
/// then turn the peers of a [`UdpServer`](super::UdpServer) into DTLS connections with
/// [`take_connection`](Self::take_connection).
#[derive(Debug)]
pub struct DtlsServer {
    id: u64,
    config: Option<Arc<ServerConfig>>,
}

impl Default for DtlsServer {
    fn default() -> Self {
        Self::new()
    }
}

impl DtlsServer {
    /// A server that is not set up yet.
    pub fn new() -> Self {
        Self {
            id: NEXT_SERVER_ID.fetch_add(1, Ordering::Relaxed),
            config: None,
        }
    }

    /// Serves `cert` (with the intermediate certificates `chain`, leaf's issuer first) using
    /// `key`. Checks that the key belongs to the certificate.
    ///
    /// A socket whose front door is already installed keeps the configuration it was
    /// installed with; new settings apply to sockets this server takes connections from later.
    pub fn setup(
        &mut self,
        key: PrivateKey,
        cert: CertificateDer,
        chain: Vec<CertificateDer>,
    ) -> Result<(), NetError> {
        let mut certificate_chain = Vec::with_capacity(1 + chain.len());
        certificate_chain.push(cert);
        certificate_chain.extend(chain);
        self.setup_with_config(Arc::new(ServerConfig::new(certificate_chain, key)?))
    }

    /// Serves with a full [`ServerConfig`] (client authentication, MTU, cipher suites, timers).
    pub fn setup_with_config(&mut self, config: Arc<ServerConfig>) -> Result<(), NetError> {
        config.validate()?;
        self.config = Some(config);
        Ok(())
    }

    /// Turns a peer from [`UdpServer::take_connection`](super::UdpServer::take_connection)
    /// into a DTLS connection, normally [`DtlsStatus::Handshaking`]: a session waiting to be
    /// taken does not advance past its first flight (datagrams that arrive meanwhile are held
    /// and handled at the next `poll`), so the handshake goes on only once the application
    /// holds the peer, as in Godot. It can still be [`DtlsStatus::Error`] if the handshake
    /// timed out while nobody took it.
    ///
    /// The first call for a given `UdpServer` installs this server's front door on its socket
    /// (see the [module documentation](super)). If that first peer had not yet passed the
    /// cookie exchange, its HelloVerifyRequest is sent and the peer returned is
    /// [`DtlsStatus::Disconnected`], as in Godot; the client's next ClientHello then arrives as
    /// a new connection. A peer that is not from a `UdpServer`, or a server not set up,
    /// gives a peer in [`DtlsStatus::Error`] whose [`PacketPeerDtls::last_error`] says why.
    pub fn take_connection(&self, udp: PacketPeerUdp) -> PacketPeerDtls {
        let Some(config) = &self.config else {
            return PacketPeerDtls::failed(Error::Config(
                "DtlsServer::setup was not called before take_connection".into(),
            ));
        };
        let (hub, peer) = match &udp.kind {
            Kind::Hub(HubPeer { hub, peer }) => (Arc::clone(hub), *peer),
            _ => {
                return PacketPeerDtls::failed(Error::Config(
                    "DtlsServer::take_connection needs a peer from UdpServer::take_connection"
                        .into(),
                ))
            }
        };
        let result = self.adopt(config, &hub, peer);
        // The UDP handle may only go once the slot is claimed, and never while the hub is
        // locked (its drop locks the hub).
        drop(udp);
        match result {
            Ok(Some(id)) => PacketPeerDtls {
                role: Role::Server(ServerPeer { hub, peer, id }),
            },
            Ok(None) => PacketPeerDtls::new(),
            Err(e) => PacketPeerDtls::failed(e),
        }
    }

    /// Claims the session of `peer` on the hub, installing the front door first if needed.
    fn adopt(
        &self,
        config: &Arc<ServerConfig>,
        shared: &SharedHub,
        peer: SocketAddr,
    ) -> Result<Option<u64>, Error> {
        let mut guard = lock(shared);
        let hub = &mut *guard;
        if hub.dtls.is_none() {
            hub.dtls = Some(DtlsHub {
                owner: self.id,
                endpoint: Endpoint::new(Arc::clone(config))?,
                slots: HashMap::new(),
                next_slot: 0,
                replay: Vec::new(),
                deadline: None,
                deadline_stale: true,
            });
        }
        // A peer seen before the front door existed: its datagrams go through it now.
        let queued = hub.take_plain(&peer);
        let Some(dtls) = hub.dtls.as_mut() else {
            return Err(Error::Internal("DTLS state vanished while locked"));
        };
        if dtls.owner != self.id {
            return Err(Error::Config(
                "this UdpServer already serves another DtlsServer; use one DtlsServer per \
                 UdpServer"
                    .into(),
            ));
        }
        // Once it created the session, the rest waits like any held datagram.
        if let Some(queued) = queued {
            let now = Instant::now();
            for datagram in queued {
                match dtls.slots.get_mut(&peer) {
                    Some(slot) if slot.held.len() < MAX_HELD_DATAGRAMS => {
                        slot.held.push_back(datagram)
                    }
                    Some(slot) => slot.dropped += 1,
                    None => {
                        dtls.deadline_stale = true;
                        let out = dtls.endpoint.handle_datagram(now, peer, &datagram);
                        absorb(&out, &hub.socket, &mut dtls.slots, &mut dtls.next_slot);
                    }
                }
            }
        }
        let Some(slot) = dtls.slots.get_mut(&peer) else {
            return Ok(None);
        };
        slot.claimed = true;
        if !slot.held.is_empty() {
            dtls.replay.push(peer);
        }
        Ok(Some(slot.id))
    }
}

/// A DTLS connection, as Godot's `PacketPeerDTLS`: a client made with
/// [`connect_to_peer`](Self::connect_to_peer), or a server's peer from
/// [`DtlsServer::take_connection`]. Call [`poll`](Self::poll) regularly.
///
/// Dropping a connected peer sends close_notify, as Godot does.
pub struct PacketPeerDtls {
    role: Role,
}

enum Role {
    /// Never connected, disconnected, or failed before it could start.
    Idle {
        error: Option<Error>,
    },
    Client(Box<ClientPeer>),
    Server(ServerPeer),
}

struct ClientPeer {
    udp: SocketPeer,
    peer: SocketAddr,
    session: ClientSession,
    inbox: VecDeque<Vec<u8>>,
    buf: Vec<u8>,
    dropped: u64,
    last_io_error: Option<io::Error>,
}

struct ServerPeer {
    hub: SharedHub,
    peer: SocketAddr,
    id: u64,
}

impl fmt::Debug for PacketPeerDtls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let role = match &self.role {
            Role::Idle { .. } => "idle",
            Role::Client(_) => "client",
            Role::Server(_) => "server",
        };
        f.debug_struct("PacketPeerDtls")
            .field("role", &role)
            .field("peer", &self.peer_address())
            .field("status", &self.get_status())
            .finish()
    }
}

impl Default for PacketPeerDtls {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PacketPeerDtls {
    fn drop(&mut self) {
        self.disconnect_from_peer();
    }
}

impl ClientPeer {
    /// Sends what the session produced and keeps the application data.
    fn absorb(
        udp: &SocketPeer,
        inbox: &mut VecDeque<Vec<u8>>,
        dropped: &mut u64,
        out: &Output<'_>,
    ) {
        for datagram in out.transmits() {
            let _ = udp.socket.send(datagram);
        }
        for data in out.app_data() {
            if inbox.len() < MAX_QUEUED_PACKETS {
                inbox.push_back(data.to_vec());
            } else {
                *dropped += 1;
            }
        }
    }

    fn poll(&mut self, now: Instant) {
        let Self {
            udp,
            session,
            inbox,
            buf,
            dropped,
            last_io_error,
            ..
        } = self;
        buf.resize(MAX_DATAGRAM, 0);
        for _ in 0..MAX_DATAGRAMS_PER_POLL {
            match udp.socket.recv(buf) {
                Ok(n) => {
                    let out = session.handle_datagram(now, buf.get(..n).unwrap_or_default());
                    Self::absorb(udp, inbox, dropped, &out);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if is_transient(&e) => {
                    // An ICMP "port unreachable" for an earlier datagram: the retransmission
                    // timer keeps trying until the handshake timeout, and the error is kept
                    // for the message.
                    if e.kind() != io::ErrorKind::Interrupted {
                        *last_io_error = Some(e);
                    }
                }
                Err(e) => {
                    *last_io_error = Some(e);
                    break;
                }
            }
        }
        if session.poll_timeout().is_some_and(|t| t <= now) {
            let out = session.handle_timeout(now);
            Self::absorb(udp, inbox, dropped, &out);
        }
    }
}

impl PacketPeerDtls {
    /// A peer that is not connected.
    pub fn new() -> Self {
        Self {
            role: Role::Idle { error: None },
        }
    }

    fn failed(error: Error) -> Self {
        Self {
            role: Role::Idle { error: Some(error) },
        }
    }

    /// Starts a client handshake over `udp`, which must be connected
    /// ([`PacketPeerUdp::connect_to_host`]). Godot's arguments:
    ///
    /// - `validate_certs = false`: any server certificate is accepted (anyone on the path can
    ///   impersonate the server; for tests and examples only);
    /// - `validate_certs = true`: the chain must lead to one of `valid_certificate` (required:
    ///   puredtls has no system certificate store) and, when `for_hostname` is given, be valid
    ///   for that name (else [`DtlsStatus::ErrorHostnameMismatch`]).
    ///
    /// `for_hostname` is also sent as server_name (SNI) unless it is an IP address.
    pub fn connect_to_peer(
        &mut self,
        udp: PacketPeerUdp,
        validate_certs: bool,
        for_hostname: Option<&str>,
        valid_certificate: Option<TrustAnchors>,
    ) -> Result<(), NetError> {
        let verification = match (validate_certs, valid_certificate) {
            (false, _) => ServerCertVerification::DangerousAcceptAnyCertificate,
            (true, Some(anchors)) => ServerCertVerification::WebPki { anchors },
            (true, None) => {
                return Err(NetError::Dtls(Error::Config(
                    "validate_certs needs trust anchors in valid_certificate (puredtls has no \
                     system certificate store); or pin the certificate with \
                     connect_to_peer_with_config and ServerCertVerification::PinnedSha256"
                        .into(),
                )))
            }
        };
        let config = ClientConfig::with_verification(verification, for_hostname.map(str::to_owned));
        self.connect_to_peer_with_config(udp, Arc::new(config))
    }

    /// Starts a client handshake with a full [`ClientConfig`] (pinned fingerprint, client
    /// certificate, MTU, timers). When `config.verification_time` is unset, the system clock
    /// is used for certificate validity.
    pub fn connect_to_peer_with_config(
        &mut self,
        udp: PacketPeerUdp,
        config: Arc<ClientConfig>,
    ) -> Result<(), NetError> {
        let udp = match udp.kind {
            Kind::Socket(s) if s.connected.is_some() => s,
            _ => {
                return Err(NetError::Usage(
                    "connect_to_peer needs a PacketPeerUdp connected with connect_to_host",
                ))
            }
        };
        let Some(peer) = udp.connected else {
            return Err(NetError::Usage(
                "connect_to_peer needs a PacketPeerUdp connected with connect_to_host",
            ));
        };
        let config = if config.verification_time.is_none() {
            let mut c = (*config).clone();
            c.verification_time = Some(UnixTime::from_system_time(SystemTime::now()).0);
            Arc::new(c)
        } else {
            config
        };
        self.disconnect_from_peer();
        let now = Instant::now();
        let mut session = ClientSession::new(config, now)?;
        let mut inbox = VecDeque::new();
        let mut dropped = 0;
        ClientPeer::absorb(&udp, &mut inbox, &mut dropped, &session.poll_output());
        self.role = Role::Client(Box::new(ClientPeer {
            udp,
            peer,
            session,
            inbox,
            buf: Vec::new(),
            dropped,
            last_io_error: None,
        }));
        Ok(())
    }

    /// Reads what arrived, advances the handshake, runs retransmission timers. Never blocks.
    ///
    /// A server's peers share their `UdpServer`'s socket: polling any of them reads it for
    /// all (once per millisecond at most, so a loop over many peers reads it once).
    pub fn poll(&mut self) {
        let now = Instant::now();
        match &mut self.role {
            Role::Client(c) => c.poll(now),
            Role::Server(s) => lock(&s.hub).pump_shared(now),
            Role::Idle { .. } => {}
        }
    }

    /// Blocks until a datagram arrives, a retransmission is due or `timeout` passes; follow
    /// with [`poll`](Self::poll).
    pub fn wait(&mut self, timeout: Duration) -> Result<(), NetError> {
        match &mut self.role {
            Role::Client(c) => {
                let mut wait = timeout;
                if let Some(t) = c.session.poll_timeout() {
                    wait = wait.min(t.saturating_duration_since(Instant::now()));
                }
                if wait.is_zero() {
                    return Ok(());
                }
                let socket = &c.udp.socket;
                socket.set_nonblocking(false)?;
                socket.set_read_timeout(Some(wait))?;
                let mut probe = [0u8; 1];
                let peeked = socket.peek(&mut probe);
                socket.set_nonblocking(true)?;
                match peeked {
                    Err(e) if !is_transient(&e) => Err(e.into()),
                    _ => Ok(()),
                }
            }
            Role::Server(s) => lock(&s.hub).wait(timeout),
            Role::Idle { .. } => Ok(()),
        }
    }

    pub fn get_status(&self) -> DtlsStatus {
        match &self.role {
            Role::Idle { error: None } => DtlsStatus::Disconnected,
            Role::Idle { error: Some(e) } => DtlsStatus::of_error(e),
            Role::Client(c) => DtlsStatus::of(c.session.status()),
            Role::Server(s) => {
                let hub = lock(&s.hub);
                hub.dtls
                    .as_ref()
                    .and_then(|d| d.slot(s.peer, s.id))
                    .map_or(DtlsStatus::Disconnected, |slot| slot.status)
            }
        }
    }

    /// Why the connection failed, when [`get_status`](Self::get_status) is an error.
    pub fn last_error(&self) -> Option<Error> {
        match &self.role {
            Role::Idle { error } => error.clone(),
            Role::Client(c) => match c.session.status() {
                Status::Failed(e) => Some(e.clone()),
                _ => None,
            },
            Role::Server(s) => {
                let hub = lock(&s.hub);
                hub.dtls
                    .as_ref()
                    .and_then(|d| d.slot(s.peer, s.id))
                    .and_then(|slot| slot.error.clone())
            }
        }
    }

    /// The last socket error a client saw (e.g. `ConnectionRefused` when nothing listens on
    /// the server's port); the handshake keeps retrying until its timeout regardless.
    pub fn last_socket_error(&self) -> Option<&io::Error> {
        match &self.role {
            Role::Client(c) => c.last_io_error.as_ref(),
            _ => None,
        }
    }

    /// Packets received and not yet read.
    pub fn get_available_packet_count(&self) -> usize {
        match &self.role {
            Role::Client(c) => c.inbox.len(),
            Role::Server(s) => {
                let hub = lock(&s.hub);
                hub.dtls
                    .as_ref()
                    .and_then(|d| d.slot(s.peer, s.id))
                    .map_or(0, |slot| slot.inbox.len())
            }
            Role::Idle { .. } => 0,
        }
    }

    /// The next application-data packet received, if any (one per DTLS record).
    pub fn get_packet(&mut self) -> Option<Vec<u8>> {
        match &mut self.role {
            Role::Client(c) => c.inbox.pop_front(),
            Role::Server(s) => {
                let mut hub = lock(&s.hub);
                hub.dtls
                    .as_mut()
                    .and_then(|d| d.slot_mut(s.peer, s.id))
                    .and_then(|slot| slot.inbox.pop_front())
            }
            Role::Idle { .. } => None,
        }
    }

    /// Sends `packet` as one DTLS record in one datagram; only once connected.
    pub fn put_packet(&mut self, packet: &[u8]) -> Result<(), NetError> {
        match &mut self.role {
            Role::Client(c) => {
                let out = c.session.send(packet)?;
                for datagram in out.transmits() {
                    c.udp.socket.send(datagram)?;
                }
                Ok(())
            }
            Role::Server(s) => {
                let mut guard = lock(&s.hub);
                let hub = &mut *guard;
                let dtls = match hub.dtls.as_mut() {
                    Some(d) if d.slot(s.peer, s.id).is_some() => d,
                    _ => return Err(Error::Closed.into()),
                };
                dtls.deadline_stale = true;
                let out = dtls.endpoint.send(s.peer, packet)?;
                for t in out.transmits() {
                    hub.socket.send_to(out.datagram(t), t.peer)?;
                }
                Ok(())
            }
            Role::Idle { .. } => Err(Error::Closed.into()),
        }
    }

    /// Sends close_notify (if the session is live) and forgets the session.
    pub fn disconnect_from_peer(&mut self) {
        match core::mem::replace(&mut self.role, Role::Idle { error: None }) {
            Role::Client(mut c) => {
                let out = c.session.close();
                for datagram in out.transmits() {
                    let _ = c.udp.socket.send(datagram);
                }
            }
            Role::Server(s) => {
                let mut guard = lock(&s.hub);
                let hub = &mut *guard;
                if let Some(dtls) = hub.dtls.as_mut() {
                    if dtls.slot(s.peer, s.id).is_some() {
                        dtls.close(s.peer, &hub.socket);
                    }
                }
            }
            Role::Idle { error } => self.role = Role::Idle { error },
        }
    }

    /// The address of the other side.
    pub fn peer_address(&self) -> Option<SocketAddr> {
        match &self.role {
            Role::Client(c) => Some(c.peer),
            Role::Server(s) => Some(s.peer),
            Role::Idle { .. } => None,
        }
    }

    /// The local address of the socket.
    pub fn local_address(&self) -> Option<SocketAddr> {
        match &self.role {
            Role::Client(c) => c.udp.socket.local_addr().ok(),
            Role::Server(s) => lock(&s.hub).socket.local_addr().ok(),
            Role::Idle { .. } => None,
        }
    }

    /// Runs `f` on the live server session of this handle.
    fn with_server_session<T>(
        s: &ServerPeer,
        f: impl FnOnce(&crate::ServerSession) -> T,
    ) -> Option<T> {
        let hub = lock(&s.hub);
        let dtls = hub.dtls.as_ref()?;
        dtls.slot(s.peer, s.id)?;
        dtls.endpoint.session(&s.peer).map(f)
    }

    /// The negotiated cipher suite, once the handshake chose one.
    pub fn cipher_suite(&self) -> Option<CipherSuite> {
        match &self.role {
            Role::Client(c) => c.session.cipher_suite(),
            Role::Server(s) => Self::with_server_session(s, |x| x.cipher_suite()).flatten(),
            Role::Idle { .. } => None,
        }
    }

    /// The peer's certificate chain, leaf first (empty if it sent none).
    pub fn peer_certificates(&self) -> Vec<CertificateDer> {
        match &self.role {
            Role::Client(c) => c.session.peer_certificates().to_vec(),
            Role::Server(s) => {
                Self::with_server_session(s, |x| x.peer_certificates().to_vec()).unwrap_or_default()
            }
            Role::Idle { .. } => Vec::new(),
        }
    }

    /// RFC 5705 keying material exporter (e.g. DTLS-SRTP keys); only while connected.
    pub fn export_keying_material(
        &self,
        label: &[u8],
        context: Option<&[u8]>,
        out: &mut [u8],
    ) -> Result<(), NetError> {
        match &self.role {
            Role::Client(c) => Ok(c.session.export_keying_material(label, context, out)?),
            Role::Server(s) => {
                Self::with_server_session(s, |x| x.export_keying_material(label, context, out))
                    .unwrap_or(Err(Error::NotConnected))
                    .map_err(NetError::from)
            }
            Role::Idle { .. } => Err(Error::NotConnected.into()),
        }
    }

    /// The client session's counters (dropped records and why, retransmissions, cookie
    /// exchanges); `None` on the server side, whose session lives in the shared endpoint.
    pub fn client_stats(&self) -> Option<crate::Stats> {
        match &self.role {
            Role::Client(c) => Some(*c.session.stats()),
            _ => None,
        }
    }

    /// Packets dropped because the application did not read them fast enough.
    pub fn dropped_packets(&self) -> u64 {
        match &self.role {
            Role::Client(c) => c.dropped,
            Role::Server(s) => {
                let hub = lock(&s.hub);
                hub.dtls
                    .as_ref()
                    .and_then(|d| d.slot(s.peer, s.id))
                    .map_or(0, |slot| slot.dropped)
            }
            Role::Idle { .. } => 0,
        }
    }
}
