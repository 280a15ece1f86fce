//! The server side: the stateless front door ([`Server`]), the per-peer session table
//! ([`Endpoint`]) and [`ServerSession`].

mod endpoint;
mod session;

pub use endpoint::{Endpoint, EndpointEvent, EndpointOutput, Transmit};
pub use session::ServerSession;

use core::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::codec::Writer;
use crate::config::ServerConfig;
use crate::cookie::{CookieInput, CookieKeys};
use crate::error::Error;
use crate::handshake::fragment::{fragments, HandshakeFragment, HandshakeHeader};
use crate::handshake::message::ClientHello;
use crate::handshake::HandshakeType;
use crate::record::{records, ContentType, ProtocolVersion, RecordHeader};

/// What the front door did with a datagram from a peer without a session.
#[derive(Debug)]
pub enum Accept<'a> {
    /// A ClientHello without a valid cookie: send this HelloVerifyRequest datagram back to the
    /// peer. Nothing was stored (RFC 6347 §4.2.1).
    HelloVerifyRequest(&'a [u8]),
    /// A ClientHello with a valid cookie: a new session, which already processed the datagram.
    /// Its first flight is in [`ServerSession::poll_output`].
    NewSession(Box<ServerSession>),
    /// Not the start of a ClientHello; nothing to do.
    Ignored(Ignored),
}

/// Why the front door ignored a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// No epoch-0 handshake record starting a ClientHello (e.g. stray traffic for a session
    /// that no longer exists).
    NotAClientHello,
    /// The ClientHello's first fragment does not decode.
    Malformed,
    /// The client offers only versions older than DTLS 1.2.
    UnsupportedVersion,
    /// A valid cookie, but the session table is full (`max_sessions`).
    AtCapacity,
}

/// Counters of the front door.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrontDoorStats {
    pub hello_verify_requests: u64,
    pub sessions_created: u64,
    pub ignored: u64,
}

/// The stateless front door: answers cookie-less ClientHellos with a HelloVerifyRequest and
/// creates a [`ServerSession`] only for a ClientHello that returns a valid cookie, so a flood
/// of spoofed ClientHellos costs one HMAC each and no memory.
#[derive(Debug)]
pub struct Server {
    config: Arc<ServerConfig>,
    cookies: CookieKeys,
    scratch: Vec<u8>,
    stats: FrontDoorStats,
}

/// The first fragment of an epoch-0 ClientHello in a datagram.
pub(crate) struct ClientHelloStart<'a> {
    record: RecordHeader,
    fragment: HandshakeFragment<'a>,
}

/// Finds the ClientHello that starts a datagram, if it does.
pub(crate) fn client_hello_start(datagram: &[u8]) -> Option<ClientHelloStart<'_>> {
    let record = records(datagram).next()?;
    if record.header.content_type != ContentType::Handshake || record.header.epoch != 0 {
        return None;
    }
    let fragment = fragments(record.fragment).next()?.ok()?;
    (fragment.header.msg_type == HandshakeType::ClientHello && fragment.header.fragment_offset == 0)
        .then_some(ClientHelloStart {
            record: record.header,
            fragment,
        })
}

impl Server {
    pub fn new(config: Arc<ServerConfig>) -> Result<Self, Error> {
        config.validate()?;
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        config.common.random.fill(secret.as_mut());
        let cookies = CookieKeys::new(&secret, config.cookie_rotation);
        Ok(Self {
            config,
            cookies,
            scratch: Vec::with_capacity(128),
            stats: FrontDoorStats::default(),
        })
    }

    pub fn config(&self) -> &Arc<ServerConfig> {
        &self.config
    }

    pub fn stats(&self) -> FrontDoorStats {
        self.stats
    }

    /// Makes `secret` the current cookie secret (the previous one stays valid for a period),
    /// for processes behind one load balancer that must accept each other's cookies.
    pub fn rotate_cookie_secret(&mut self, secret: &[u8; 32]) {
        self.cookies.rotate(secret);
    }

    /// Handles a datagram from `peer`, which has no session yet.
    pub fn accept(&mut self, now: Instant, peer: SocketAddr, datagram: &[u8]) -> Accept<'_> {
        self.accept_if(now, peer, datagram, true)
    }

    /// As [`Server::accept`]; when `may_create` is false a valid cookie is answered with
    /// `Ignored(AtCapacity)` before any handshake work is done.
    pub(crate) fn accept_if(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        datagram: &[u8],
        may_create: bool,
    ) -> Accept<'_> {
        let random = &self.config.common.random;
        self.cookies
            .rotate_if_due(now, |s: &mut [u8; 32]| random.fill(s));
        let Some(start) = client_hello_start(datagram) else {
            self.stats.ignored += 1;
            return Accept::Ignored(Ignored::NotAClientHello);
        };
        let Ok(prefix) = ClientHello::decode_prefix(start.fragment.body) else {
            self.stats.ignored += 1;
            return Accept::Ignored(Ignored::Malformed);
        };
        if prefix.client_version.0 > ProtocolVersion::DTLS1_2.0 {
            self.stats.ignored += 1;
            return Accept::Ignored(Ignored::UnsupportedVersion);
        }
        let input = CookieInput {
            peer,
            client_version: prefix.client_version.0,
            random: prefix.random,
            session_id: prefix.session_id,
        };
        if !prefix.cookie.is_empty() && self.cookies.verify(&input, prefix.cookie) {
            if !may_create {
                self.stats.ignored += 1;
                return Accept::Ignored(Ignored::AtCapacity);
            }
            let mut session = ServerSession::new(
                Arc::clone(&self.config),
                now,
                peer,
                start.fragment.header.message_seq,
                start.record.sequence_number,
                *prefix.random,
            );
            session.process_datagram(now, datagram);
            self.stats.sessions_created += 1;
            return Accept::NewSession(Box::new(session));
        }
        let cookie = self.cookies.generate(&input);
        self.stats.hello_verify_requests += 1;
        write_hello_verify_request(
            &mut self.scratch,
            start.record.sequence_number,
            start.fragment.header.message_seq,
            &cookie,
        );
        Accept::HelloVerifyRequest(&self.scratch)
    }
}

/// One record holding a HelloVerifyRequest (RFC 6347 §4.2.1): version DTLS 1.0 in record and
/// body as the RFC recommends, and the ClientHello's record sequence number so repeated
/// HelloVerifyRequests never duplicate one.
fn write_hello_verify_request(out: &mut Vec<u8>, record_seq: u64, message_seq: u16, cookie: &[u8]) {
    out.clear();
    let body_len = 2 + 1 + cookie.len() as u32;
    let mut w = Writer::new(out);
    w.bytes(
        &RecordHeader {
            content_type: ContentType::Handshake,
            version: ProtocolVersion::DTLS1_0,
            epoch: 0,
            sequence_number: record_seq,
            length: (12 + body_len) as u16,
        }
        .encode(),
    );
    HandshakeHeader {
        msg_type: HandshakeType::HelloVerifyRequest,
        length: body_len,
        message_seq,
        fragment_offset: 0,
        fragment_length: body_len,
    }
    .encode(&mut w);
    w.u16(ProtocolVersion::DTLS1_0.0);
    w.vec_u8(cookie);
}
