//! `Endpoint`: the front door plus a table of sessions keyed by peer address, so a server with
//! one UDP socket drives everything through one sans-IO object.

use core::cmp::Reverse;
use core::net::SocketAddr;
use core::time::Duration;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use crate::config::ServerConfig;
use crate::error::Error;
use crate::handshake::message::ClientHello;
use crate::server::{client_hello_start, Accept, FrontDoorStats, Ignored, Server, ServerSession};
use crate::session::{Event, Outbox, Output, Status};

/// A datagram to send to `peer`; its bytes are [`EndpointOutput::datagram`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    pub peer: SocketAddr,
    start: usize,
    end: usize,
}

/// What happened to which peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointEvent {
    /// A ClientHello with a valid cookie created a session.
    Accepted(SocketAddr),
    /// A session event (connected, peer closed, failed).
    Session(SocketAddr, Event),
    /// A session was dropped after `idle_timeout` without traffic.
    Expired(SocketAddr),
    /// A new handshake from the same address replaced a live session (RFC 6347 §4.2.8).
    Replaced(SocketAddr),
    /// A valid ClientHello was refused because the table is full (`max_sessions`).
    Refused(SocketAddr),
}

/// Output of one [`Endpoint`] call.
#[derive(Debug)]
pub struct EndpointOutput<'a> {
    out: &'a Collected,
}

impl<'a> EndpointOutput<'a> {
    pub fn transmits(&self) -> &'a [Transmit] {
        &self.out.transmits
    }

    /// The bytes of a transmit.
    pub fn datagram(&self, t: &Transmit) -> &'a [u8] {
        self.out.tx.get(t.start..t.end).unwrap_or_default()
    }

    /// Application data received: `(peer, bytes)` per record, in order.
    pub fn app_data(&self) -> impl Iterator<Item = (SocketAddr, &'a [u8])> + 'a {
        let out = self.out;
        out.rx
            .iter()
            .map(move |(peer, s, e)| (*peer, out.rx_buf.get(*s..*e).unwrap_or_default()))
    }

    pub fn events(&self) -> &'a [EndpointEvent] {
        &self.out.events
    }
}

#[derive(Debug, Default)]
struct Collected {
    tx: Vec<u8>,
    transmits: Vec<Transmit>,
    rx_buf: Vec<u8>,
    rx: Vec<(SocketAddr, usize, usize)>,
    events: Vec<EndpointEvent>,
}

impl Collected {
    fn clear(&mut self) {
        self.tx.clear();
        self.transmits.clear();
        self.rx_buf.clear();
        self.rx.clear();
        self.events.clear();
    }

    fn datagram(&mut self, peer: SocketAddr, bytes: &[u8]) {
        let start = self.tx.len();
        self.tx.extend_from_slice(bytes);
        self.transmits.push(Transmit {
            peer,
            start,
            end: self.tx.len(),
        });
    }

    fn take(&mut self, peer: SocketAddr, output: &Output<'_>) {
        for d in output.transmits() {
            self.datagram(peer, d);
        }
        for a in output.app_data() {
            let start = self.rx_buf.len();
            self.rx_buf.extend_from_slice(a);
            self.rx.push((peer, start, self.rx_buf.len()));
        }
        for e in output.events() {
            self.events.push(EndpointEvent::Session(peer, e.clone()));
        }
    }
}

#[derive(Debug)]
struct Entry {
    session: Box<ServerSession>,
    last_seen: Instant,
    /// The instant of this session's entry in the timer heap, if it has one.
    scheduled: Option<Instant>,
}

impl Entry {
    /// When this session next needs `handle_timeout`: its own timers or idle expiry.
    fn deadline(&self, idle: Duration) -> Instant {
        let idle_at = self.last_seen + idle;
        self.session
            .poll_timeout()
            .map_or(idle_at, |t| t.min(idle_at))
    }
}

/// The front door and every live session, keyed by peer address.
#[derive(Debug)]
pub struct Endpoint {
    front: Server,
    sessions: HashMap<SocketAddr, Entry>,
    out: Collected,
    /// Output buffers lent to the session being called: its output is copied into `out`
    /// anyway, so one set serves every session and idle sessions hold no buffers.
    lent: Outbox,
    /// Session deadlines, earliest first. Lazy: every session has an entry no later than its
    /// real deadline; an entry is pushed only when a deadline moves earlier, so a datagram on
    /// an established session (which only pushes idle expiry later) touches no heap. Entries
    /// that no longer match `Entry::scheduled` are skipped when they come up.
    timers: BinaryHeap<Reverse<(Instant, SocketAddr)>>,
}

/// Runs `call` on `session` with `lent` as its output buffers and copies its output into
/// `out`; the session gets its own (empty) buffers back afterwards.
fn call_lent<R>(
    session: &mut ServerSession,
    lent: &mut Outbox,
    call: impl FnOnce(&mut ServerSession) -> R,
) -> R {
    session.swap_outbox(lent);
    let r = call(session);
    session.swap_outbox(lent);
    r
}

impl Endpoint {
    pub fn new(config: Arc<ServerConfig>) -> Result<Self, Error> {
        Ok(Self {
            front: Server::new(config)?,
            sessions: HashMap::new(),
            out: Collected::default(),
            lent: Outbox::shared(),
            timers: BinaryHeap::with_capacity(64),
        })
    }

    pub fn front_door_stats(&self) -> FrontDoorStats {
        self.front.stats()
    }

    pub fn session(&self, peer: &SocketAddr) -> Option<&ServerSession> {
        self.sessions.get(peer).map(|e| &*e.session)
    }

    /// Direct access to a session, e.g. to read its certificates or export keys. Drive it
    /// through the endpoint's own methods (`handle_*`, `send`, `close`): they keep the
    /// endpoint's timers in step with the session's.
    pub fn session_mut(&mut self, peer: &SocketAddr) -> Option<&mut ServerSession> {
        self.sessions.get_mut(peer).map(|e| &mut *e.session)
    }

    pub fn peers(&self) -> impl Iterator<Item = &SocketAddr> {
        self.sessions.keys()
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Handles a datagram from `peer`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        datagram: &[u8],
    ) -> EndpointOutput<'_> {
        self.out.clear();
        let route_to_session = match self.sessions.get(&peer) {
            None => false,
            // An epoch-0 ClientHello for a live session is either its own ClientHello again
            // (same random: a retransmission) or a new handshake from the same address, which
            // goes through the front door and so cannot disturb the session without a valid
            // cookie (RFC 6347 §4.2.8).
            Some(entry) => match client_hello_start(datagram)
                .and_then(|s| ClientHello::decode_prefix(s.fragment.body).ok())
            {
                Some(prefix) => prefix.random == entry.session.client_random(),
                None => true,
            },
        };
        if route_to_session {
            if let Some(entry) = self.sessions.get_mut(&peer) {
                entry.last_seen = now;
                let out = &mut self.out;
                call_lent(&mut entry.session, &mut self.lent, |s| {
                    out.take(peer, &s.handle_datagram(now, datagram));
                });
            }
        } else {
            self.accept(now, peer, datagram);
        }
        self.reap(peer);
        self.schedule(peer);
        self.settle_top();
        EndpointOutput { out: &self.out }
    }

    fn accept(&mut self, now: Instant, peer: SocketAddr, datagram: &[u8]) {
        let full = self.sessions.len() >= self.front.config().max_sessions
            && !self.sessions.contains_key(&peer);
        match self.front.accept_if(now, peer, datagram, !full) {
            Accept::HelloVerifyRequest(hvr) => self.out.datagram(peer, hvr),
            Accept::Ignored(Ignored::AtCapacity) => {
                self.out.events.push(EndpointEvent::Refused(peer))
            }
            Accept::NewSession(mut session) => {
                let output = session.poll_output();
                self.out.take(peer, &output);
                // Its handshake-sized buffers go; from now on it borrows the endpoint's.
                session.swap_outbox(&mut Outbox::default());
                if self.sessions.contains_key(&peer) {
                    self.out.events.push(EndpointEvent::Replaced(peer));
                }
                self.out.events.push(EndpointEvent::Accepted(peer));
                self.sessions.insert(
                    peer,
                    Entry {
                        session,
                        last_seen: now,
                        scheduled: None,
                    },
                );
            }
            Accept::Ignored(_) => {}
        }
    }

    /// Removes a session that has closed or failed (after its last output was collected).
    fn reap(&mut self, peer: SocketAddr) {
        if let Some(entry) = self.sessions.get(&peer) {
            if matches!(entry.session.status(), Status::Closed | Status::Failed(_)) {
                self.sessions.remove(&peer);
            }
        }
    }

    /// Gives `peer`'s session a heap entry if its deadline moved earlier than the one it has.
    fn schedule(&mut self, peer: SocketAddr) {
        let idle = self.front.config().idle_timeout;
        let Some(entry) = self.sessions.get_mut(&peer) else {
            return;
        };
        let deadline = entry.deadline(idle);
        if entry.scheduled.is_none_or(|at| deadline < at) {
            entry.scheduled = Some(deadline);
            self.timers.push(Reverse((deadline, peer)));
        }
        // Superseded entries pile up only while deadlines keep moving earlier (handshake
        // flights); sweep them before the heap outgrows the table (`retain` keeps capacity).
        if self.timers.len() > 4 * self.sessions.len() + 64 {
            let sessions = &self.sessions;
            self.timers.retain(|Reverse((at, p))| {
                sessions.get(p).is_some_and(|e| e.scheduled == Some(*at))
            });
        }
    }

    /// Runs the timers of the sessions that are due and expires idle sessions; cost is
    /// logarithmic in the number of sessions, not linear.
    pub fn handle_timeout(&mut self, now: Instant) -> EndpointOutput<'_> {
        self.out.clear();
        let idle = self.front.config().idle_timeout;
        while let Some(&Reverse((at, peer))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(entry) = self.sessions.get_mut(&peer) else {
                continue;
            };
            if entry.scheduled != Some(at) {
                continue; // superseded by an earlier entry already handled
            }
            entry.scheduled = None;
            if now.saturating_duration_since(entry.last_seen) >= idle {
                self.out.events.push(EndpointEvent::Expired(peer));
                self.sessions.remove(&peer);
                continue;
            }
            if entry.session.poll_timeout().is_some_and(|t| t <= now) {
                let out = &mut self.out;
                call_lent(&mut entry.session, &mut self.lent, |s| {
                    out.take(peer, &s.handle_timeout(now));
                });
                if matches!(entry.session.status(), Status::Closed | Status::Failed(_)) {
                    self.sessions.remove(&peer);
                    continue;
                }
            }
            self.schedule(peer);
        }
        self.settle_top();
        EndpointOutput { out: &self.out }
    }

    /// Makes the heap's first entry exact, so `poll_timeout` is the real earliest deadline:
    /// entries of sessions that went away are dropped and an entry earlier than its session's
    /// deadline (traffic pushed idle expiry back) moves to the real one. Pop-then-push keeps the
    /// heap's size, so an established session's datagram still allocates nothing.
    fn settle_top(&mut self) {
        let idle = self.front.config().idle_timeout;
        while let Some(&Reverse((at, peer))) = self.timers.peek() {
            let Some(entry) = self.sessions.get_mut(&peer) else {
                self.timers.pop();
                continue;
            };
            if entry.scheduled != Some(at) {
                self.timers.pop();
                continue;
            }
            let deadline = entry.deadline(idle);
            if deadline <= at {
                return;
            }
            self.timers.pop();
            entry.scheduled = Some(deadline);
            self.timers.push(Reverse((deadline, peer)));
        }
    }

    /// The earliest instant a session (retransmission, handshake timeout) or idle expiry
    /// needs `handle_timeout`, up to date after every call.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// Sends application data to a connected peer.
    pub fn send(&mut self, peer: SocketAddr, data: &[u8]) -> Result<EndpointOutput<'_>, Error> {
        self.out.clear();
        let entry = self.sessions.get_mut(&peer).ok_or(Error::Closed)?;
        let out = &mut self.out;
        call_lent(&mut entry.session, &mut self.lent, |s| {
            s.send(data).map(|output| out.take(peer, &output))
        })?;
        Ok(EndpointOutput { out: &self.out })
    }

    /// Sends close_notify to `peer` and forgets its session.
    pub fn close(&mut self, peer: SocketAddr) -> EndpointOutput<'_> {
        self.out.clear();
        if let Some(mut entry) = self.sessions.remove(&peer) {
            let out = &mut self.out;
            call_lent(&mut entry.session, &mut self.lent, |s| {
                out.take(peer, &s.close())
            });
        }
        self.settle_top();
        EndpointOutput { out: &self.out }
    }
}
