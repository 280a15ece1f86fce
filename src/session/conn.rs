//! The sans-IO driver shared by [`crate::ClientSession`] and [`crate::ServerSession`]: it feeds
//! records through the [`Engine`] and hands handshake messages to a role's state machine.

use std::time::Instant;

use crate::alert::{AlertDescription, AlertLevel};
use crate::error::Error;
use crate::handshake::reassembly::HandshakeMessage;
use crate::record::records;
use crate::session::engine::{Engine, Opened};
use crate::session::{Event, Output, Status};

/// A role's handshake state machine (client or server).
pub(crate) trait Handshaker {
    /// A complete handshake message, in message_seq order.
    fn handle_message(
        &mut self,
        engine: &mut Engine,
        now: Instant,
        message: HandshakeMessage,
    ) -> Result<(), Error>;

    /// The peer's ChangeCipherSpec. Returns whether it is acceptable now (keys derived and the
    /// state expects it); an early or repeated one is dropped, never fatal.
    fn handle_change_cipher_spec(&mut self, engine: &mut Engine) -> bool;

    /// True once our side has verified the peer's Finished.
    fn is_connected(&self) -> bool;

    /// Randoms, suite, master secret and transcript as negotiated so far.
    fn negotiation(&self) -> &crate::session::Negotiation;
}

/// What the exporter and the suite accessor need from a state machine.
#[derive(Debug)]
pub(crate) struct Secrets<'a> {
    pub(crate) suite: &'static crate::suite::SuiteInfo,
    pub(crate) master_secret: &'a crate::suite::prf::MasterSecret,
    pub(crate) client_random: &'a [u8; 32],
    pub(crate) server_random: &'a [u8; 32],
}

#[derive(Debug)]
pub(crate) struct Conn<H> {
    pub(crate) engine: Engine,
    pub(crate) hs: H,
    pub(crate) status: Status,
}

impl<H: Handshaker> Conn<H> {
    pub(crate) fn new(engine: Engine, hs: H) -> Self {
        Self {
            engine,
            hs,
            status: Status::Handshaking,
        }
    }

    fn is_terminal(&self) -> bool {
        matches!(self.status, Status::Closed | Status::Failed(_))
    }

    pub(crate) fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) -> Output<'_> {
        self.engine.outbox.begin();
        self.engine.stats.datagrams_received += 1;
        if self.is_terminal() {
            return self.engine.outbox.output();
        }
        let mut iter = records(datagram);
        for record in &mut iter {
            self.handle_record(now, &record);
            if self.is_terminal() {
                break;
            }
        }
        if iter.malformed_tail() {
            self.engine.stats.malformed_datagrams += 1;
        }
        if !self.is_terminal() && self.engine.take_peer_repeated_flight() {
            if let Err(e) = self.engine.retransmit_for_peer() {
                self.fail(e);
            }
        }
        self.engine.outbox.output()
    }

    fn handle_record(&mut self, now: Instant, record: &crate::record::Record<'_>) {
        match self.engine.open_record(record) {
            Opened::Handshake => self.drain_messages(now),
            Opened::ChangeCipherSpec { epoch } => {
                // A CCS is only meaningful in epoch 0, once, when the state expects it.
                if epoch != self.engine.read_epoch()
                    || self.engine.read_epoch() != 0
                    || !self.hs.handle_change_cipher_spec(&mut self.engine)
                {
                    self.engine.stats.dropped_unexpected += 1;
                    return;
                }
                for raw in self.engine.activate_read_epoch() {
                    let mut it = records(&raw);
                    if let Some(early) = it.next() {
                        self.handle_record(now, &early);
                    }
                    if self.is_terminal() {
                        return;
                    }
                }
            }
            Opened::Alert { alert, epoch } => self.handle_alert(alert, epoch),
            Opened::AppData | Opened::Dropped => {}
        }
    }

    fn drain_messages(&mut self, now: Instant) {
        while let Some(message) = self.engine.reassembler.pop() {
            let was_connected = self.hs.is_connected();
            // Once connected, a new plaintext handshake message is forged or stale: it must not
            // end an authenticated association (RFC 6347 §4.1.2.7 drops invalid input).
            if was_connected && message.epoch == 0 {
                self.engine.stats.dropped_unexpected += 1;
                continue;
            }
            if let Err(e) = self.hs.handle_message(&mut self.engine, now, message) {
                self.fail(e);
                return;
            }
            if !was_connected && self.hs.is_connected() {
                self.engine.handshake_done();
                self.status = Status::Connected;
                self.engine.event(Event::Connected);
            }
        }
    }

    fn handle_alert(&mut self, alert: crate::alert::Alert, epoch: u16) {
        // Once connected, only authenticated (epoch 1) alerts count: an off-path attacker can
        // forge epoch-0 records at will.
        if self.status == Status::Connected && epoch == 0 {
            self.engine.stats.dropped_unexpected += 1;
            return;
        }
        if alert.description == AlertDescription::CloseNotify {
            // RFC 5246 §7.2.1: answer close_notify with close_notify.
            if self.status == Status::Connected {
                self.engine
                    .send_alert(AlertLevel::Warning, AlertDescription::CloseNotify);
            }
            self.status = Status::Closed;
            self.engine.discard_flight();
            self.engine.event(Event::PeerClosed);
        } else if alert.level == AlertLevel::Fatal {
            let e = Error::AlertReceived(alert.description);
            self.status = Status::Failed(e.clone());
            self.engine.discard_flight();
            self.engine.event(Event::Failed(e));
        }
        // Other warnings (e.g. no_renegotiation) need no action.
    }

    /// Ends the session: sends the matching fatal alert and reports the failure.
    pub(crate) fn fail(&mut self, error: Error) {
        if self.is_terminal() {
            return;
        }
        if let Some(description) = error.alert() {
            self.engine.send_alert(AlertLevel::Fatal, description);
        }
        self.engine.discard_flight();
        self.status = Status::Failed(error.clone());
        self.engine.event(Event::Failed(error));
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Output<'_> {
        self.engine.outbox.begin();
        if !self.is_terminal() {
            if let Err(e) = self.engine.on_timeout(now) {
                self.fail(e);
            }
        }
        self.engine.outbox.output()
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.is_terminal() {
            return None;
        }
        self.engine.poll_timeout()
    }

    pub(crate) fn send(&mut self, data: &[u8]) -> Result<Output<'_>, Error> {
        match &self.status {
            Status::Connected => {}
            Status::Handshaking => return Err(Error::NotConnected),
            Status::Closed | Status::Failed(_) => return Err(Error::Closed),
        }
        self.engine.outbox.begin();
        self.engine.send_app_data(data)?;
        Ok(self.engine.outbox.output())
    }

    pub(crate) fn close(&mut self) -> Output<'_> {
        self.engine.outbox.begin();
        if !self.is_terminal() {
            self.engine
                .send_alert(AlertLevel::Warning, AlertDescription::CloseNotify);
            self.engine.discard_flight();
            self.status = Status::Closed;
        }
        self.engine.outbox.output()
    }

    /// RFC 5705 keying material exporter; only once connected.
    pub(crate) fn export_keying_material(
        &self,
        label: &[u8],
        context: Option<&[u8]>,
        out: &mut [u8],
    ) -> Result<(), Error> {
        let secrets = match (&self.status, self.hs.negotiation().secrets()) {
            (Status::Connected, Some(s)) => s,
            _ => return Err(Error::NotConnected),
        };
        crate::suite::prf::export_keying_material(
            secrets.suite.hash,
            secrets.master_secret,
            label,
            secrets.client_random,
            secrets.server_random,
            context,
            out,
        )
        .map_err(|e| Error::Config(e.to_string()))
    }

    pub(crate) fn pending_output(&mut self) -> Output<'_> {
        self.engine.outbox.begin();
        self.engine.outbox.output()
    }
}
