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
                self.conn.hs.negotiated_suite().map(|s| s.suite)
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
            buf: &self.outbox.tx,
            ends: self.outbox.tx_ends.iter(),
            start: 0,
        }
    }

    /// Application data received, one item per record, in order.
    pub fn app_data(&self) -> Chunks<'a> {
        Chunks {
            buf: &self.outbox.rx,
            ends: self.outbox.rx_ends.iter(),
            start: 0,
        }
    }

    pub fn events(&self) -> &'a [Event] {
        &self.outbox.events
    }

    pub fn is_empty(&self) -> bool {
        self.outbox.tx_ends.is_empty()
            && self.outbox.rx_ends.is_empty()
            && self.outbox.events.is_empty()
    }
}

/// Iterator over the byte chunks of an [`Output`].
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    buf: &'a [u8],
    ends: core::slice::Iter<'a, usize>,
    start: usize,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let end = *self.ends.next()?;
        let chunk = self.buf.get(self.start..end).unwrap_or_default();
        self.start = end;
        Some(chunk)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ends.size_hint()
    }
}

impl ExactSizeIterator for Chunks<'_> {}

/// Flat, reused buffers behind [`Output`].
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    tx: Vec<u8>,
    tx_ends: Vec<usize>,
    rx: Vec<u8>,
    rx_ends: Vec<usize>,
    events: Vec<Event>,
    /// True once the current contents were handed out; the next call starts afresh.
    delivered: bool,
}

impl Outbox {
    /// Called at the start of every public call: drops what the previous call handed out,
    /// keeps what was produced since (e.g. by a constructor) and keeps the capacity.
    pub(crate) fn begin(&mut self) {
        if self.delivered {
            self.tx.clear();
            self.tx_ends.clear();
            self.rx.clear();
            self.rx_ends.clear();
            self.events.clear();
            self.delivered = false;
        }
    }

    /// Keeps the current contents for the next call (used when a session is driven
    /// internally, e.g. by the front door, before its owner sees it).
    pub(crate) fn keep(&mut self) {
        self.delivered = false;
    }

    /// Releases capacity beyond `bytes` per buffer (what is pending is kept).
    pub(crate) fn shrink_to(&mut self, bytes: usize) {
        self.tx.shrink_to(bytes);
        self.rx.shrink_to(bytes);
        self.tx_ends.shrink_to(4);
        self.rx_ends.shrink_to(4);
        self.events.shrink_to(2);
    }

    pub(crate) fn output(&mut self) -> Output<'_> {
        self.delivered = true;
        Output { outbox: self }
    }

    /// Bytes in the datagram being filled (after the last closed one).
    pub(crate) fn open_datagram_len(&self) -> usize {
        self.tx.len() - self.tx_ends.last().copied().unwrap_or(0)
    }

    /// Closes the datagram being filled, if it has anything in it.
    pub(crate) fn close_datagram(&mut self) {
        if self.open_datagram_len() > 0 {
            self.tx_ends.push(self.tx.len());
        }
    }

    /// Appends a whole record to the open datagram, first closing it if the record would push
    /// it past `mtu`.
    pub(crate) fn push_record(&mut self, record: &[u8], mtu: usize) {
        if self.open_datagram_len() + record.len() > mtu {
            self.close_datagram();
        }
        self.tx.extend_from_slice(record);
    }

    /// The transmit buffer, for sealing a record in place at its end; the caller then calls
    /// `close_datagram`.
    pub(crate) fn tx_mut(&mut self) -> &mut Vec<u8> {
        &mut self.tx
    }

    pub(crate) fn rx_mut(&mut self) -> &mut Vec<u8> {
        &mut self.rx
    }

    pub(crate) fn end_app_data(&mut self) {
        self.rx_ends.push(self.rx.len());
    }

    pub(crate) fn event(&mut self, event: Event) {
        self.events.push(event);
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
