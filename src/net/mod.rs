//! Real sockets: a polled, non-blocking adapter over [`std::net::UdpSocket`] with the names and
//! semantics of Godot's `UDPServer`, `PacketPeerUDP`, `DTLSServer` and `PacketPeerDTLS`.
//!
//! Nothing here blocks unless asked to (`wait`); the application calls `poll` regularly (once
//! a frame in a game loop) and reads the packets that arrived. Time comes from
//! [`Instant::now`](std::time::Instant::now) and certificate validity from the system clock.
//!
//! # Server
//!
//! One [`UdpServer`] owns one socket and serves any number of peers: it demultiplexes
//! datagrams by peer address. A [`DtlsServer`] turns the peers it takes into
//! [`PacketPeerDtls`] connections; all their sessions live in one sans-IO
//! [`Endpoint`](crate::Endpoint) attached to the socket. Polling the server, asking
//! `is_connection_available`, or polling any of its peers reads the socket for everyone.
//!
//! **Difference from Godot: the cookie exchange happens before `take_connection`.** In Godot
//! every new address becomes a connection, and about half the peers a `DTLSServer` takes fail
//! at once because their first ClientHello only earns a HelloVerifyRequest. Here, the first
//! time a `DtlsServer` takes a connection from a `UdpServer`, it installs its stateless front
//! door (RFC 6347 §4.2.1) on that socket. From then on the `UdpServer` answers cookie-less
//! ClientHellos itself, storing nothing, and reports a connection only for a ClientHello with
//! a valid cookie: a flood of spoofed ClientHellos costs one HMAC each and no memory, and every
//! peer taken is [`DtlsStatus::Handshaking`]. A session waiting to be taken sends its first
//! flight but goes no further (what the client sends meanwhile is held, and handled at the
//! first `poll` after `take_connection`), so the application always sees its peers handshake.
//! Only the very first connection, taken before the front door was installed, behaves as in
//! Godot: it comes back [`DtlsStatus::Disconnected`] after its cookie exchange, and the
//! client's second ClientHello arrives as a new connection. Godot's example loop handles both.
//!
//! A server and a client on loopback, in one loop (the server part is Godot's example loop):
//!
//! ```
//! use std::time::{Duration, Instant};
//! use puredtls::cert::generate_self_signed;
//! use puredtls::net::{DtlsServer, DtlsStatus, PacketPeerDtls, PacketPeerUdp, UdpServer};
//! use puredtls::TrustAnchors;
//!
//! let (key, cert) = generate_self_signed(&["localhost"])?;
//! let anchors = TrustAnchors::from_certificates(std::slice::from_ref(&cert))?;
//! let mut server = UdpServer::new();
//! server.listen_on("127.0.0.1:0")?; // port 0: any free port
//! let mut dtls = DtlsServer::new();
//! dtls.setup(key, cert, Vec::new())?;
//!
//! let mut udp = PacketPeerUdp::new();
//! udp.connect_to_host(server.local_addr().unwrap())?;
//! let mut client = PacketPeerDtls::new();
//! client.connect_to_peer(udp, true, Some("localhost"), Some(anchors))?;
//!
//! let (mut peers, mut sent, mut reply) = (Vec::new(), false, None);
//! let start = Instant::now();
//! while reply.is_none() && start.elapsed() < Duration::from_secs(10) {
//!     server.poll()?;
//!     while let Some(udp) = server.take_connection() {
//!         let peer = dtls.take_connection(udp);
//!         if peer.get_status() == DtlsStatus::Handshaking {
//!             peers.push(peer);
//!         }
//!     }
//!     for p in &mut peers {
//!         p.poll();
//!         while let Some(packet) = p.get_packet() {
//!             p.put_packet(&packet)?; // echo
//!         }
//!     }
//!     client.poll();
//!     if client.get_status() == DtlsStatus::Connected && !sent {
//!         client.put_packet(b"hello")?;
//!         sent = true;
//!     }
//!     reply = client.get_packet();
//!     std::thread::sleep(Duration::from_millis(1));
//! }
//! assert_eq!(reply.as_deref(), Some(&b"hello"[..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Client
//!
//! ```no_run
//! use puredtls::net::{DtlsStatus, PacketPeerDtls, PacketPeerUdp};
//! use puredtls::TrustAnchors;
//!
//! let anchors = TrustAnchors::from_pem(&std::fs::read("ca.pem")?)?;
//! let mut udp = PacketPeerUdp::new();
//! udp.connect_to_host("127.0.0.1:4242")?;
//! let mut dtls = PacketPeerDtls::new();
//! dtls.connect_to_peer(udp, true, Some("localhost"), Some(anchors))?;
//! while dtls.get_status() == DtlsStatus::Handshaking {
//!     dtls.wait(std::time::Duration::from_millis(50))?;
//!     dtls.poll();
//! }
//! dtls.put_packet(b"hello")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dtls;
mod udp;

#[cfg(test)]
mod tests;

pub use dtls::{DtlsServer, DtlsStatus, PacketPeerDtls};
pub use udp::{PacketPeerUdp, UdpServer};

use core::fmt;
use std::io;

use crate::error::Error;

/// Most datagrams one `poll` reads, so one busy socket cannot starve the caller's loop.
const MAX_DATAGRAMS_PER_POLL: usize = 4096;
/// Most packets queued for the application per peer; later ones are dropped (UDP semantics).
const MAX_QUEUED_PACKETS: usize = 1024;
/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

/// Why a socket operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum NetError {
    /// The operating system refused a socket operation.
    Io(io::Error),
    /// The DTLS layer refused (configuration, not connected, message too large, …).
    Dtls(Error),
    /// The call does not fit the object's state; the message says what to do first.
    Usage(&'static str),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "socket error: {e}"),
            Self::Dtls(e) => write!(f, "{e}"),
            Self::Usage(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for NetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Dtls(e) => Some(e),
            Self::Usage(_) => None,
        }
    }
}

impl From<io::Error> for NetError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<Error> for NetError {
    fn from(e: Error) -> Self {
        Self::Dtls(e)
    }
}

/// Errors a non-blocking UDP socket reports that say nothing about the socket itself: no data
/// yet, an interrupted call, or an ICMP error for an earlier datagram.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
            | io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
    )
}
