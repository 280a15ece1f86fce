//! What every session shares: the sans-IO output, events, status and statistics, and the
//! record/flight engine under the client and server state machines.

pub(crate) mod conn;
pub(crate) mod engine;
pub(crate) mod transcript;

use crate::error::Error;

/// The calls every session has (the sans-IO contract), for `ClientSession` and `ServerSession`.
macro_rules! session_api {
    ($session:ident) => {
        impl $session {
            /// Feeds one datagram from the peer: records are authenticated, handshake messages
            /// advance the state machine, application data and events land in the output.
            pub fn handle_datagram(
                &mut self,
                now: std::time::Instant,
                datagram: &[u8],
            ) -> $crate::session::Output<'_> {
                self.conn.handle_datagram(now, datagram)
            }

            /// Runs the retransmission and handshake timers; call it when
            /// [`poll_timeout`](Self::poll_timeout) has passed (calling it early is harmless).
            pub fn handle_timeout(
                &mut self,
                now: std::time::Instant,
            ) -> $crate::session::Output<'_> {
                self.conn.handle_timeout(now)
            }

            /// The next instant at which `handle_timeout` has work; always up to date after any
            /// call, so an event loop may poll it last.
            pub fn poll_timeout(&self) -> Option<std::time::Instant> {
                self.conn.poll_timeout()
            }

            /// Encrypts `data` as one application-data record in its own datagram.
            pub fn send(
                &mut self,
                data: &[u8],
            ) -> Result<$crate::session::Output<'_>, $crate::Error> {
                self.conn.send(data)
            }

            /// Sends close_notify; no more data can be sent.
            pub fn close(&mut self) -> $crate::session::Output<'_> {
                self.conn.close()
            }

            /// What the session produced outside a call that returned it: a client's first
            /// ClientHello, or the first flight of a session the front door created.
            pub fn poll_output(&mut self) -> $crate::session::Output<'_> {
                self.conn.pending_output()
            }

            pub fn status(&self) -> &$crate::session::Status {
                &self.conn.status
            }

            /// Counters, including every silently dropped record and why.
            pub fn stats(&self) -> &$crate::session::Stats {
                &self.conn.engine.stats
            }

            /// The negotiated cipher suite, once known.
            pub fn cipher_suite(&self) -> Option<$crate::suite::CipherSuite> {
                use $crate::session::conn::Handshaker as _;
                self.conn.hs.negotiation().suite.map(|s| s.suite)
            }

            /// Largest `send` payload at the configured MTU.
            pub fn max_payload(&self) -> usize {
                self.conn.engine.max_app_payload()
            }

            /// RFC 5705 keying material exporter (e.g. `EXTRACTOR-dtls_srtp`); only once
            /// connected.
            pub fn export_keying_material(
                &self,
                label: &[u8],
                context: Option<&[u8]>,
                out: &mut [u8],
            ) -> Result<(), $crate::Error> {
                self.conn.export_keying_material(label, context, out)
            }
        }
    };
}
pub(crate) use session_api;

/// Where a session stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Handshaking,
    Connected,
    /// Closed by close_notify, from either side.
    Closed,
    Failed(Error),
}

/// Something that happened during a call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The handshake finished; application data may flow.
    Connected,
    /// The peer sent close_notify.
    PeerClosed,
    /// The session failed; no more data will flow.
    Failed(Error),
}

/// Counters that show why records were dropped; every silent drop is counted here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    pub datagrams_received: u64,
    pub records_received: u64,
    /// A datagram whose tail could not be split into records.
    pub malformed_datagrams: u64,
    /// Record with a bad AEAD tag (RFC 6347 §4.1.2.7: dropped silently).
    pub dropped_bad_mac: u64,
    /// Record already seen or older than the replay window (§4.1.2.6).
    pub dropped_replay: u64,
    /// Record of an epoch we cannot read (no keys yet, or an old epoch).
    pub dropped_epoch: u64,
    /// Record of a type or in a state where it is not allowed (e.g. application data in epoch 0).
    pub dropped_unexpected: u64,
    /// Malformed record contents (bad handshake fragment, bad alert, bad CCS).
    pub dropped_malformed: u64,
    /// Handshake fragments dropped by the reassembler (too far ahead, too large, over a cap).
    pub dropped_fragments: u64,
    /// Records of the next epoch held until its ChangeCipherSpec arrived.
    pub buffered_next_epoch: u64,
    /// Flights sent again (on timeout or when the peer repeated its flight).
    pub retransmissions: u64,
    /// HelloVerifyRequests received (client): how many cookie exchanges the server asked for.
    pub hello_verify_requests: u64,
    pub app_records_sent: u64,
    pub app_records_received: u64,
}

/// Datagrams to send, application data received and events from one call.
///
/// It borrows buffers inside the session that are reused from call to call, so handling a
/// datagram once connected allocates nothing. Handle it before the next call on the session.
#[derive(Debug)]
pub struct Output<'a> {
    outbox: &'a Outbox,
}

impl<'a> Output<'a> {
    /// Datagrams for the peer, each to be written to the socket as it is.
    pub fn transmits(&self) -> Chunks<'a> {
        Chunks {
            buf: &self.outbox.buf,
            ranges: self.outbox.tx.iter(),
        }
    }

    /// Application data received, one item per record, in order.
    pub fn app_data(&self) -> Chunks<'a> {
        Chunks {
            buf: &self.outbox.buf,
            ranges: self.outbox.rx.iter(),
        }
    }

    pub fn events(&self) -> &'a [Event] {
        &self.outbox.events
    }

    pub fn is_empty(&self) -> bool {
        self.outbox.tx.is_empty() && self.outbox.rx.is_empty() && self.outbox.events.is_empty()
    }
}

/// Iterator over the byte chunks of an [`Output`].
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    buf: &'a [u8],
    ranges: core::slice::Iter<'a, (usize, usize)>,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let &(start, end) = self.ranges.next()?;
        Some(self.buf.get(start..end).unwrap_or_default())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ranges.size_hint()
    }
}

impl ExactSizeIterator for Chunks<'_> {}

/// The reused buffer behind [`Output`]: datagrams to send and application data received share
/// one byte buffer (a call rarely does much of both, so it is sized by the larger, not the
/// sum), each chunk found by its range. Decrypted application data stays where it was
/// opened, between the explicit nonce and the tag, so nothing is moved.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    buf: Vec<u8>,
    /// `(start, end)` in `buf` of each datagram to send.
    tx: Vec<(usize, usize)>,
    /// `(start, end)` in `buf` of each application record received.
    rx: Vec<(usize, usize)>,
    /// Start of the datagram being filled with records, if one is open.
    open: Option<usize>,
    events: Vec<Event>,
    /// True once the current contents were handed out; the next call starts afresh.
    delivered: bool,
    /// Lent by an [`crate::Endpoint`] to the sessions it calls: its capacity serves them all
    /// and is never released by one of them.
    shared: bool,
}

impl Outbox {
    /// Buffers an endpoint lends to its sessions in turn.
    pub(crate) fn shared() -> Self {
        Self {
            shared: true,
            ..Self::default()
        }
    }

    /// Called at the start of every public call: drops what the previous call handed out,
    /// keeps what was produced since (e.g. by a constructor) and keeps the capacity.
    pub(crate) fn begin(&mut self) {
        if self.delivered {
            self.buf.clear();
            self.tx.clear();
            self.rx.clear();
            self.open = None;
            self.events.clear();
            self.delivered = false;
        }
    }

    /// Keeps the current contents for the next call (used when a session is driven
    /// internally, e.g. by the front door, before its owner sees it).
    pub(crate) fn keep(&mut self) {
        self.delivered = false;
    }

    /// Releases all capacity beyond what is pending: the handshake's buffers (flights of
    /// several kilobytes) are not needed once it is over, and the buffer regrows to the size
    /// of the traffic the session actually carries.
    pub(crate) fn release(&mut self) {
        if self.shared {
            return;
        }
        self.buf.shrink_to_fit();
        self.tx.shrink_to_fit();
        self.rx.shrink_to_fit();
        self.events.shrink_to_fit();
    }

    pub(crate) fn output(&mut self) -> Output<'_> {
        self.close_datagram();
        self.delivered = true;
        Output { outbox: self }
    }

    /// Bytes in the datagram being filled.
    pub(crate) fn open_datagram_len(&self) -> usize {
        self.open
            .map_or(0, |start| self.buf.len().saturating_sub(start))
    }

    /// Closes the datagram being filled, if it has anything in it.
    pub(crate) fn close_datagram(&mut self) {
        if let Some(start) = self.open.take() {
            if self.buf.len() > start {
                self.tx.push((start, self.buf.len()));
            }
        }
    }

    /// Appends a whole record to the open datagram, first closing it if the record would push
    /// it past `mtu`.
    pub(crate) fn push_record(&mut self, record: &[u8], mtu: usize) {
        if self.open_datagram_len() + record.len() > mtu {
            self.close_datagram();
        }
        if self.open.is_none() {
            self.open = Some(self.buf.len());
        }
        self.buf.extend_from_slice(record);
    }

    /// Starts a datagram of its own and returns the buffer to write it at the end of; the
    /// caller then calls `close_datagram` (or truncates the buffer back on failure).
    pub(crate) fn begin_datagram(&mut self) -> &mut Vec<u8> {
        self.close_datagram();
        self.open = Some(self.buf.len());
        &mut self.buf
    }

    /// The buffer, to open a record at its end; `end_app_data` then marks the plaintext.
    pub(crate) fn rx_mut(&mut self) -> &mut Vec<u8> {
        // A datagram being filled must stay contiguous.
        self.close_datagram();
        &mut self.buf
    }

    /// Marks `buf[start..end]` as one application record received.
    pub(crate) fn app_data(&mut self, start: usize, end: usize) {
        self.rx.push((start, end));
    }

    pub(crate) fn event(&mut self, event: Event) {
        // Events are rare (connected, closed, failed): room for one, not the four (224 B)
        // a Vec reserves by default.
        if self.events.capacity() == 0 {
            self.events.reserve_exact(1);
        }
        self.events.push(event);
    }
}

/// What both roles' state machines negotiate and keep: randoms, suite, master secret, the
/// transcript and the peer's certificates.
#[derive(Debug, Default)]
pub(crate) struct Negotiation {
    pub(crate) client_random: [u8; 32],
    pub(crate) server_random: [u8; 32],
    pub(crate) suite: Option<&'static crate::suite::SuiteInfo>,
    pub(crate) extended_master_secret: bool,
    pub(crate) master_secret: Option<crate::suite::prf::MasterSecret>,
    pub(crate) transcript: transcript::Transcript,
    pub(crate) peer_certificates: Vec<crate::cert::CertificateDer>,
}

impl Negotiation {
    pub(crate) fn suite(&self) -> Result<&'static crate::suite::SuiteInfo, Error> {
        self.suite.ok_or(Error::Internal("suite not negotiated"))
    }

    /// The verify_data of the Finished the client (`from_client`) or the server sends now,
    /// over the transcript so far (RFC 5246 §7.4.9).
    pub(crate) fn verify_data(&self, from_client: bool) -> Result<[u8; 12], Error> {
        let suite = self.suite()?;
        let ms = self
            .master_secret
            .as_ref()
            .ok_or(Error::Internal("no master secret"))?;
        Ok(crate::suite::prf::finished_verify_data(
            suite.hash,
            ms,
            from_client,
            self.transcript.hash(suite.hash).as_ref(),
        ))
    }

    /// Checks the peer's Finished: it must come encrypted (epoch 1) and match the transcript,
    /// compared in constant time. On success it joins the transcript.
    pub(crate) fn check_peer_finished(
        &mut self,
        message: &crate::handshake::reassembly::HandshakeMessage,
        peer_is_client: bool,
    ) -> Result<(), Error> {
        use subtle::ConstantTimeEq;
        if message.epoch != 1 {
            return Err(Error::unexpected(
                "an encrypted Finished",
                "a plaintext Finished",
            ));
        }
        let finished = crate::handshake::message::Finished::decode(&message.body)
            .map_err(|e| Error::decode("Finished", e))?;
        let expected = self.verify_data(peer_is_client)?;
        if !bool::from(expected.ct_eq(&finished.verify_data)) {
            return Err(Error::BadFinished);
        }
        self.transcript
            .add(message.msg_type, message.message_seq, &message.body);
        Ok(())
    }

    /// The negotiated suite, the master secret and the two randoms, once derived.
    pub(crate) fn secrets(&self) -> Option<conn::Secrets<'_>> {
        Some(conn::Secrets {
            suite: self.suite?,
            master_secret: self.master_secret.as_ref()?,
            client_random: &self.client_random,
            server_random: &self.server_random,
        })
    }
}

/// The record protection algorithm of a suite's bulk cipher.
pub(crate) fn aead_of(suite: &crate::suite::SuiteInfo) -> crate::record::protect::AeadAlgorithm {
    use crate::record::protect::AeadAlgorithm;
    use crate::suite::BulkCipher;
    match suite.cipher {
        BulkCipher::Aes128Gcm => AeadAlgorithm::Aes128Gcm,
        BulkCipher::Aes256Gcm => AeadAlgorithm::Aes256Gcm,
    }
}

/// Record protection for both directions from the master secret (RFC 5246 §6.3):
/// `(client_write, server_write)`.
pub(crate) fn record_keys(
    suite: &crate::suite::SuiteInfo,
    master_secret: &crate::suite::prf::MasterSecret,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> Result<
    (
        crate::record::protect::RecordProtection,
        crate::record::protect::RecordProtection,
    ),
    Error,
> {
    use crate::record::protect::RecordProtection;
    let keys = crate::suite::prf::key_block(suite, master_secret, client_random, server_random);
    let aead = aead_of(suite);
    let client = RecordProtection::new(aead, keys.client_write_key(), keys.client_write_iv())
        .map_err(|_| Error::Internal("client write key has the wrong length"))?;
    let server = RecordProtection::new(aead, keys.server_write_key(), keys.server_write_iv())
        .map_err(|_| Error::Internal("server write key has the wrong length"))?;
    Ok((client, server))
}

/// The master secret from the premaster secret: extended (RFC 7627 §4, session hash over the
/// transcript through ClientKeyExchange) or classic (RFC 5246 §8.1).
pub(crate) fn derive_master_secret(
    suite: &crate::suite::SuiteInfo,
    pms: &crate::suite::prf::PreMasterSecret,
    extended: bool,
    transcript: &transcript::Transcript,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> crate::suite::prf::MasterSecret {
    use crate::suite::prf;
    if extended {
        prf::extended_master_secret(suite.hash, pms, transcript.hash(suite.hash).as_ref())
    } else {
        prf::master_secret(suite.hash, pms, client_random, server_random)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transmits(o: &mut Outbox) -> Vec<Vec<u8>> {
        o.output().transmits().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn records_pack_into_datagrams_up_to_the_mtu() {
        let mut o = Outbox::default();
        o.push_record(&[1; 40], 100);
        o.push_record(&[2; 50], 100);
        o.push_record(&[3; 20], 100); // 110 > 100: a new datagram
        let mut first = vec![1; 40];
        first.extend_from_slice(&[2; 50]);
        assert_eq!(transmits(&mut o), vec![first, vec![3; 20]]);
    }

    #[test]
    fn app_data_and_datagrams_share_the_buffer_without_mixing() {
        let mut o = Outbox::default();
        o.push_record(b"flight", 1200);
        // Application data opened in place: nonce and tag bytes around the plaintext.
        let buf = o.rx_mut();
        let start = buf.len();
        buf.extend_from_slice(b"NNNNNNNNhelloTTTT");
        o.app_data(start + 8, start + 13);
        o.push_record(b"alert", 1200);
        let out = o.output();
        assert_eq!(
            out.transmits().collect::<Vec<_>>(),
            vec![&b"flight"[..], b"alert"],
            "the open datagram was closed before the application data"
        );
        assert_eq!(out.app_data().collect::<Vec<_>>(), vec![&b"hello"[..]]);
        assert_eq!(out.transmits().len(), 2);
    }

    #[test]
    fn delivered_output_is_dropped_at_the_next_call_kept_output_is_not() {
        let mut o = Outbox::default();
        o.push_record(b"first flight", 1200);
        let _ = o.output();
        o.keep();
        o.begin();
        assert_eq!(transmits(&mut o), vec![b"first flight".to_vec()]);
        o.begin();
        o.event(Event::Connected);
        let out = o.output();
        assert_eq!(out.transmits().len(), 0);
        assert_eq!(out.events(), &[Event::Connected]);
        assert!(!out.is_empty());
        o.begin();
        assert!(o.output().is_empty());
    }

    #[test]
    fn release_keeps_what_is_pending() {
        let mut o = Outbox::default();
        o.push_record(&[9; 3000], 4000);
        o.close_datagram();
        o.begin();
        let _ = o.output();
        o.begin(); // delivered: cleared, capacity kept
        o.push_record(b"final flight", 1200);
        o.release();
        assert!(
            o.buf.capacity() < 64,
            "the 3000-byte flight buffer was released"
        );
        assert_eq!(transmits(&mut o), vec![b"final flight".to_vec()]);
    }
}
