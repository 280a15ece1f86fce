//! The machinery under both state machines: epochs and record protection, the replay windows,
//! handshake reassembly, the last flight and its retransmission timer (RFC 6347 §4.1, §4.2.4).

use core::time::Duration;
use std::sync::Arc;
use std::time::Instant;

use crate::alert::{Alert, AlertDescription, AlertLevel};
use crate::config::{CommonConfig, Timers};
use crate::error::Error;
use crate::handshake::fragment::{for_each_fragment, fragments, HANDSHAKE_HEADER_LEN};
use crate::handshake::reassembly::{Inserted, Reassembler};
use crate::handshake::HandshakeType;
use crate::record::protect::RecordProtection;
use crate::record::replay::ReplayWindow;
use crate::record::{write_plaintext, ContentType, ProtocolVersion, Record, RECORD_HEADER_LEN};
use crate::rng::RandomSource;
use crate::session::{Event, Outbox, Stats};

/// Largest plaintext in one record (RFC 5246 §6.2.1).
const MAX_PLAINTEXT: usize = 1 << 14;

/// One message of a flight, kept so the whole flight can be sent again (RFC 6347 §4.2.4).
#[derive(Debug)]
pub(crate) enum FlightItem {
    Handshake {
        msg_type: HandshakeType,
        message_seq: u16,
        epoch: u16,
        body: Vec<u8>,
    },
    ChangeCipherSpec,
}

/// What a record turned out to carry, once opened.
#[derive(Debug)]
pub(crate) enum Opened {
    /// Handshake fragments went into the reassembler; pop messages from it.
    Handshake,
    ChangeCipherSpec {
        epoch: u16,
    },
    Alert {
        alert: Alert,
        epoch: u16,
    },
    /// Application data was placed in the output.
    AppData,
    /// Dropped and counted.
    Dropped,
}

#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) random: Arc<dyn RandomSource>,
    pub(crate) mtu: usize,
    timers: Timers,
    max_buffered_next_epoch: usize,

    /// Next record sequence number for epochs 0 and 1.
    write_seq: [u64; 2],
    write_protection: Option<RecordProtection>,

    read_epoch: u16,
    read_protection: Option<RecordProtection>,
    pending_read_protection: Option<RecordProtection>,
    replay: [ReplayWindow; 2],
    /// Raw records of epoch 1 that arrived before the ChangeCipherSpec (reordering).
    next_epoch_records: Vec<Vec<u8>>,

    pub(crate) reassembler: Reassembler,
    next_send_seq: u16,
    flight: Vec<FlightItem>,
    retransmit_at: Option<Instant>,
    rto: Duration,
    handshake_deadline: Option<Instant>,
    /// Set when a datagram carried a repeat of the peer's previous flight.
    peer_repeated_flight: bool,
    /// The message_seq the peer's next flight starts at (our reassembler's position when we
    /// sent our flight): the message before it ends the peer flight ours answers.
    peer_flight_start: u16,
    /// Set when the last record classified gave the reassembler a fragment it did not have.
    new_fragment: bool,
    /// True once the handshake is done: application data is accepted and delivered.
    pub(crate) app_data_open: bool,

    pub(crate) outbox: Outbox,
    pub(crate) stats: Stats,
    scratch: Vec<u8>,
}

impl Engine {
    pub(crate) fn new(common: &CommonConfig) -> Self {
        Self {
            random: Arc::clone(&common.random),
            mtu: common.mtu,
            timers: common.timers,
            max_buffered_next_epoch: common.max_buffered_next_epoch_records,
            write_seq: [0, 0],
            write_protection: None,
            read_epoch: 0,
            read_protection: None,
            pending_read_protection: None,
            replay: [
                ReplayWindow::new(common.replay_window),
                ReplayWindow::new(common.replay_window),
            ],
            next_epoch_records: Vec::new(),
            reassembler: Reassembler::new(common.reassembly),
            next_send_seq: 0,
            flight: Vec::new(),
            retransmit_at: None,
            rto: common.timers.initial_retransmit,
            handshake_deadline: None,
            peer_repeated_flight: false,
            peer_flight_start: 0,
            new_fragment: false,
            app_data_open: false,
            outbox: Outbox::default(),
            stats: Stats::default(),
            scratch: Vec::new(),
        }
    }

    pub(crate) fn start_handshake_clock(&mut self, now: Instant) {
        self.handshake_deadline = Some(now + self.timers.handshake_timeout);
    }

    pub(crate) fn fill_random(&self, dest: &mut [u8]) {
        self.random.fill(dest);
    }

    // ----- epochs -----------------------------------------------------------------------

    /// Keys for reading epoch 1, used once the peer's ChangeCipherSpec arrives.
    pub(crate) fn set_pending_read(&mut self, protection: RecordProtection) {
        self.pending_read_protection = Some(protection);
    }

    pub(crate) fn has_pending_read(&self) -> bool {
        self.pending_read_protection.is_some()
    }

    /// Switches reading to epoch 1 (on the peer's ChangeCipherSpec) and returns the epoch-1
    /// records that arrived early, to be processed now.
    pub(crate) fn activate_read_epoch(&mut self) -> Vec<Vec<u8>> {
        if let Some(p) = self.pending_read_protection.take() {
            self.read_protection = Some(p);
            self.read_epoch = 1;
        }
        core::mem::take(&mut self.next_epoch_records)
    }

    pub(crate) fn read_epoch(&self) -> u16 {
        self.read_epoch
    }

    /// Switches writing to epoch 1 (right after we send ChangeCipherSpec).
    pub(crate) fn set_write_protection(&mut self, protection: RecordProtection) {
        self.write_protection = Some(protection);
    }

    // ----- receiving ------------------------------------------------------------------

    /// Authenticates and opens one record. Handshake fragments go into the reassembler,
    /// application data (only once `app_data_open`) into the output; every drop is counted.
    pub(crate) fn open_record(&mut self, record: &Record<'_>) -> Opened {
        self.stats.records_received += 1;
        let h = &record.header;
        let epoch = h.epoch;
        // A DTLS 1.2 record carries 0xfefd; 0xfeff is allowed for the early hello records
        // (RFC 6347 §4.2.1). Anything else is not DTLS 1.x.
        if h.version != ProtocolVersion::DTLS1_2 && h.version != ProtocolVersion::DTLS1_0 {
            self.stats.dropped_malformed += 1;
            return Opened::Dropped;
        }
        if epoch > self.read_epoch {
            if epoch == self.read_epoch + 1
                && self.read_epoch == 0
                && self.next_epoch_records.len() < self.max_buffered_next_epoch
            {
                let mut raw = Vec::with_capacity(RECORD_HEADER_LEN + record.fragment.len());
                raw.extend_from_slice(&h.encode());
                raw.extend_from_slice(record.fragment);
                self.next_epoch_records.push(raw);
                self.stats.buffered_next_epoch += 1;
            } else {
                self.stats.dropped_epoch += 1;
            }
            return Opened::Dropped;
        }
        let Some(window) = self.replay.get(usize::from(epoch)) else {
            self.stats.dropped_epoch += 1;
            return Opened::Dropped;
        };
        if !window.check(h.sequence_number) {
            self.stats.dropped_replay += 1;
            return Opened::Dropped;
        }
        let content_type = h.content_type;
        if epoch == 0 {
            // Application data is never plaintext (RFC 6347 §4.1: epoch 0 is unprotected).
            if content_type == ContentType::ApplicationData {
                self.stats.dropped_unexpected += 1;
                return Opened::Dropped;
            }
            self.new_fragment = false;
            let opened = self.classify(content_type, epoch, record.fragment);
            // Nothing authenticates epoch 0, so only a record that brought handshake data we
            // lacked moves the window: a spoofed ChangeCipherSpec, alert or stale handshake
            // fragment with a huge sequence number would otherwise make every real record
            // after it a "replay" and stall the handshake.
            if self.new_fragment {
                self.mark_seen(epoch, h.sequence_number);
            }
            return opened;
        }
        let Some(protection) = self.read_protection.as_ref() else {
            self.stats.dropped_epoch += 1;
            return Opened::Dropped;
        };
        if content_type == ContentType::ApplicationData {
            if !self.app_data_open {
                // Before our side has verified the peer's Finished nothing may reach the
                // application (RFC 5246 §7.4.9).
                self.stats.dropped_unexpected += 1;
                return Opened::Dropped;
            }
            // Opened in place at the end of the output buffer: one copy of the record, and
            // the plaintext stays between the explicit nonce and the tag.
            let buf = self.outbox.rx_mut();
            let start = buf.len();
            // Exact growth: the buffer settles at the largest datagram, not twice it.
            buf.reserve_exact(record.fragment.len());
            buf.extend_from_slice(record.fragment);
            let opened = match buf.get_mut(start..) {
                Some(fragment) => protection.open_in_place(h, fragment),
                None => Err(crate::record::ProtectError::RecordTooShort),
            };
            match opened {
                Ok(plain) => {
                    buf.truncate(start + plain.end);
                    self.outbox.app_data(start + plain.start, start + plain.end);
                    self.mark_seen(epoch, h.sequence_number);
                    self.stats.app_records_received += 1;
                    Opened::AppData
                }
                Err(_) => {
                    buf.truncate(start);
                    self.stats.dropped_bad_mac += 1;
                    Opened::Dropped
                }
            }
        } else {
            let mut scratch = core::mem::take(&mut self.scratch);
            scratch.resize(record.fragment.len(), 0);
            let opened = match protection.open(record, &mut scratch) {
                Ok(plain) => {
                    let plain_len = plain.len();
                    self.mark_seen(epoch, h.sequence_number);
                    let plain = scratch.get(..plain_len).unwrap_or_default();
                    self.classify(content_type, epoch, plain)
                }
                Err(_) => {
                    self.stats.dropped_bad_mac += 1;
                    Opened::Dropped
                }
            };
            self.scratch = scratch;
            opened
        }
    }

    fn mark_seen(&mut self, epoch: u16, sequence_number: u64) {
        if let Some(w) = self.replay.get_mut(usize::from(epoch)) {
            w.mark(sequence_number);
        }
    }

    fn classify(&mut self, content_type: ContentType, epoch: u16, plain: &[u8]) -> Opened {
        match content_type {
            ContentType::Handshake => {
                let mut any = false;
                for fragment in fragments(plain) {
                    let Ok(fragment) = fragment else {
                        self.stats.dropped_malformed += 1;
                        break;
                    };
                    if self.app_data_open
                        && fragment.header.message_seq >= self.reassembler.next_seq()
                    {
                        // Once the handshake is over a new handshake message is either a
                        // renegotiation attempt (never supported, RFC 5746) or, in epoch 0, a
                        // forgery anyone can send: it must not reach the state machine, where
                        // it would end the session. Repeats of the peer's last flight still
                        // count (below).
                        self.stats.dropped_unexpected += 1;
                        continue;
                    }
                    any = true;
                    match self.reassembler.insert(&fragment, epoch) {
                        Inserted::Accepted => self.new_fragment = true,
                        // RFC 6347 §4.2.4: resend our flight when the peer resends the flight
                        // ours answers, once per repeat: only the first fragment of its last
                        // message counts. Older messages, or ones of the flight now arriving,
                        // say nothing about ours being lost, and answering each datagram of a
                        // repeated flight with a whole flight made the two sides multiply
                        // each other's retransmissions without end.
                        Inserted::Old => {
                            let h = &fragment.header;
                            if h.fragment_offset == 0
                                && h.message_seq.wrapping_add(1) == self.peer_flight_start
                            {
                                self.peer_repeated_flight = true;
                            }
                        }
                        Inserted::Dropped(_) => self.stats.dropped_fragments += 1,
                    }
                }
                if any {
                    Opened::Handshake
                } else {
                    Opened::Dropped
                }
            }
            ContentType::ChangeCipherSpec => {
                if plain == [1] {
                    Opened::ChangeCipherSpec { epoch }
                } else {
                    self.stats.dropped_malformed += 1;
                    Opened::Dropped
                }
            }
            ContentType::Alert => match Alert::decode(plain) {
                Ok(alert) => Opened::Alert { alert, epoch },
                Err(_) => {
                    self.stats.dropped_malformed += 1;
                    Opened::Dropped
                }
            },
            _ => {
                self.stats.dropped_unexpected += 1;
                Opened::Dropped
            }
        }
    }

    /// True (once) when the last datagram repeated the peer's previous flight.
    pub(crate) fn take_peer_repeated_flight(&mut self) -> bool {
        core::mem::take(&mut self.peer_repeated_flight)
    }

    // ----- sending --------------------------------------------------------------------

    /// The message_seq for the next handshake message we send.
    pub(crate) fn next_message_seq(&mut self) -> u16 {
        let seq = self.next_send_seq;
        self.next_send_seq = self.next_send_seq.wrapping_add(1);
        seq
    }

    pub(crate) fn set_next_send_seq(&mut self, seq: u16) {
        self.next_send_seq = seq;
    }

    /// Starts our epoch-0 record numbers at `seq`: a server's initial ServerHello takes the
    /// record number of the ClientHello that carried the cookie (RFC 6347 §4.2.1).
    pub(crate) fn set_epoch0_write_seq(&mut self, seq: u64) {
        self.write_seq[0] = seq;
    }

    /// Forgets the epoch-0 records seen: a stateless HelloVerifyRequest's record number says
    /// nothing about the numbers the server's session will use.
    pub(crate) fn reset_epoch0_replay(&mut self) {
        self.replay[0].reset();
    }

    /// Record bytes the protection of `epoch` adds after the header.
    fn overhead(&self, epoch: u16) -> usize {
        match (epoch, &self.write_protection) {
            (0, _) | (_, None) => 0,
            (_, Some(p)) => p.algorithm().overhead(),
        }
    }

    /// Appends one record of `epoch` to `out`.
    fn seal_record(
        &mut self,
        content_type: ContentType,
        epoch: u16,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let index = usize::from(epoch.min(1));
        let seq = self.write_seq[index];
        if seq > crate::record::MAX_SEQUENCE_NUMBER {
            // DTLS 1.2 cannot rekey without renegotiation; 2^48 records is the end of the line.
            return Err(Error::Internal("record sequence numbers exhausted"));
        }
        self.write_seq[index] = seq + 1;
        if epoch == 0 {
            write_plaintext(out, content_type, ProtocolVersion::DTLS1_2, 0, seq, payload);
            Ok(())
        } else {
            let p = self
                .write_protection
                .as_ref()
                .ok_or(Error::Internal("epoch 1 record without write keys"))?;
            p.seal_append(
                content_type,
                ProtocolVersion::DTLS1_2,
                epoch,
                seq,
                payload,
                out,
            )
            .map_err(|_| Error::Internal("sealing a record failed"))
        }
    }

    /// Sends `items` as our new flight and keeps it for retransmission. `await_reply` arms the
    /// retransmission timer; the final flight of a handshake is only repeated when the peer
    /// repeats its own (RFC 6347 §4.2.4).
    pub(crate) fn send_flight(
        &mut self,
        now: Instant,
        items: Vec<FlightItem>,
        await_reply: bool,
    ) -> Result<(), Error> {
        self.flight = items;
        // A repeat the peer sent earlier in this datagram is answered by this new flight.
        self.peer_repeated_flight = false;
        self.peer_flight_start = self.reassembler.next_seq();
        self.rto = self.timers.initial_retransmit;
        self.retransmit_at = await_reply.then(|| now + self.rto);
        self.transmit_flight()
    }

    /// Writes the stored flight into the outbox, fragmented to the MTU, records packed into
    /// as few datagrams as fit. Each transmission uses fresh record sequence numbers.
    fn transmit_flight(&mut self) -> Result<(), Error> {
        let flight = core::mem::take(&mut self.flight);
        let mut result = Ok(());
        let mut record = Vec::new();
        for item in &flight {
            match item {
                FlightItem::ChangeCipherSpec => {
                    record.clear();
                    result = self.seal_record(ContentType::ChangeCipherSpec, 0, &[1], &mut record);
                    self.outbox.push_record(&record, self.mtu);
                }
                FlightItem::Handshake {
                    msg_type,
                    message_seq,
                    epoch,
                    body,
                } => {
                    let budget = self.mtu.saturating_sub(
                        RECORD_HEADER_LEN + self.overhead(*epoch) + HANDSHAKE_HEADER_LEN,
                    );
                    let mut pieces = Vec::new();
                    for_each_fragment(*msg_type, *message_seq, body, budget, |f| {
                        pieces.push(f.to_vec())
                    });
                    for piece in pieces {
                        record.clear();
                        if let Err(e) =
                            self.seal_record(ContentType::Handshake, *epoch, &piece, &mut record)
                        {
                            result = Err(e);
                        }
                        self.outbox.push_record(&record, self.mtu);
                    }
                }
            }
            if result.is_err() {
                break;
            }
        }
        self.outbox.close_datagram();
        self.flight = flight;
        result
    }

    /// The peer's next flight has begun to arrive: our flight got through, stop the timer.
    pub(crate) fn flight_acknowledged(&mut self) {
        self.retransmit_at = None;
    }

    /// Frees the last flight (the handshake is over and the peer has proven it is done).
    pub(crate) fn discard_flight(&mut self) {
        self.flight = Vec::new();
        self.retransmit_at = None;
    }

    /// Retransmits the last flight because the peer repeated its own, unless the peer has
    /// already answered it: then the repeat is of the peer's current flight, which we are still
    /// reading, and resending ours would only make the peer repeat again.
    pub(crate) fn retransmit_for_peer(&mut self) -> Result<(), Error> {
        if self.flight.is_empty() {
            return Ok(());
        }
        self.stats.retransmissions += 1;
        self.transmit_flight()
    }

    /// Runs the timers: retransmission with doubling back-off, and the handshake deadline.
    pub(crate) fn on_timeout(&mut self, now: Instant) -> Result<(), Error> {
        if let Some(deadline) = self.handshake_deadline {
            if now >= deadline {
                self.handshake_deadline = None;
                self.retransmit_at = None;
                return Err(Error::HandshakeTimeout);
            }
        }
        if let Some(at) = self.retransmit_at {
            if now >= at && !self.flight.is_empty() {
                self.rto = (self.rto * 2).min(self.timers.max_retransmit);
                self.retransmit_at = Some(now + self.rto);
                self.stats.retransmissions += 1;
                self.transmit_flight()?;
            }
        }
        Ok(())
    }

    /// The handshake finished: stop its clock, free reassembly buffers.
    pub(crate) fn handshake_done(&mut self) {
        self.handshake_deadline = None;
        self.retransmit_at = None;
        self.reassembler.clear();
        self.next_epoch_records = Vec::new();
        self.pending_read_protection = None;
        // Handshake-sized buffers are not needed once it is over: give the memory back so an
        // established session stays small; the output buffer regrows to the traffic's size.
        self.scratch = Vec::new();
        self.outbox.release();
        self.app_data_open = true;
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match (self.retransmit_at, self.handshake_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Largest application payload that fits one datagram.
    pub(crate) fn max_app_payload(&self) -> usize {
        self.mtu
            .saturating_sub(RECORD_HEADER_LEN + self.overhead(1))
            .min(MAX_PLAINTEXT)
    }

    /// Seals `data` as one application-data record in its own datagram, directly into the
    /// output buffer (no allocation once the buffer has grown).
    pub(crate) fn send_app_data(&mut self, data: &[u8]) -> Result<(), Error> {
        let max = self.max_app_payload();
        if data.len() > max {
            return Err(Error::MessageTooLarge {
                len: data.len(),
                max,
            });
        }
        let seq = self.write_seq[1];
        if seq > crate::record::MAX_SEQUENCE_NUMBER {
            return Err(Error::Internal("record sequence numbers exhausted"));
        }
        let p = self.write_protection.as_ref().ok_or(Error::NotConnected)?;
        // The plaintext is copied once, into its place in the record, and sealed there.
        let alg = p.algorithm();
        let buf = self.outbox.begin_datagram();
        let start = buf.len();
        let header_len = RECORD_HEADER_LEN + alg.explicit_nonce_len();
        // Exact growth: the buffer settles at the largest datagram, not twice it.
        buf.reserve_exact(header_len + data.len() + alg.tag_len());
        buf.resize(start + header_len, 0);
        buf.extend_from_slice(data);
        buf.resize(buf.len() + alg.tag_len(), 0);
        let sealed = match buf.get_mut(start..) {
            Some(record) => p.seal_in_place(
                ContentType::ApplicationData,
                ProtocolVersion::DTLS1_2,
                1,
                seq,
                record,
            ),
            None => Err(crate::record::ProtectError::RecordTooShort),
        };
        if sealed.is_err() {
            buf.truncate(start);
        }
        self.outbox.close_datagram();
        sealed.map_err(|_| Error::Internal("sealing application data failed"))?;
        self.write_seq[1] = seq + 1;
        self.stats.app_records_sent += 1;
        Ok(())
    }

    /// Sends an alert in the current write epoch, in its own datagram.
    pub(crate) fn send_alert(&mut self, level: AlertLevel, description: AlertDescription) {
        let epoch = if self.write_protection.is_some() {
            1
        } else {
            0
        };
        let alert = Alert { level, description }.encode();
        let mut record = Vec::new();
        if self
            .seal_record(ContentType::Alert, epoch, &alert, &mut record)
            .is_ok()
        {
            self.outbox.close_datagram();
            self.outbox.push_record(&record, self.mtu);
            self.outbox.close_datagram();
        }
    }

    pub(crate) fn event(&mut self, event: Event) {
        self.outbox.event(event);
    }
}

/// Collects a flight: each message gets the next message_seq and enters the transcript.
#[derive(Debug, Default)]
pub(crate) struct FlightBuilder {
    pub(crate) items: Vec<FlightItem>,
}

impl FlightBuilder {
    pub(crate) fn message(
        &mut self,
        engine: &mut Engine,
        transcript: &mut crate::session::transcript::Transcript,
        msg_type: HandshakeType,
        epoch: u16,
        body: Vec<u8>,
    ) {
        let message_seq = engine.next_message_seq();
        transcript.add(msg_type, message_seq, &body);
        self.items.push(FlightItem::Handshake {
            msg_type,
            message_seq,
            epoch,
            body,
        });
    }

    pub(crate) fn change_cipher_spec(&mut self) {
        self.items.push(FlightItem::ChangeCipherSpec);
    }
}
