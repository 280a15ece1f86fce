//! `ServerSession`: the server side of one DTLS 1.2 association (RFC 6347 §4.2; RFC 5246
//! §7.3; RFC 8422 §5.4), created by the front door once a ClientHello carried a valid cookie.

use core::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::cert::{CertificateDer, PeerPublicKey, UnixTime};
use crate::config::{ClientAuth, ServerConfig};
use crate::error::Error;
use crate::handshake::extension::{Extension, Extensions};
use crate::handshake::message::{
    Certificate, CertificateRequest, CertificateVerify, ClientCertificateType, ClientHello,
    ClientKeyExchange, DigitallySigned, Finished, ServerEcdhParams, ServerHello, ServerKeyExchange,
};
use crate::handshake::reassembly::HandshakeMessage;
use crate::handshake::HandshakeType;
use crate::record::protect::RecordProtection;
use crate::record::ProtocolVersion;
use crate::rng::CryptoRngAdapter;
use crate::session::conn::{Conn, Handshaker};
use crate::session::engine::{Engine, FlightBuilder, FlightItem};
use crate::session::Negotiation;
use crate::session::Outbox;
use crate::suite::ecdhe::EcdheKeyPair;
use crate::suite::{self, CipherSuite, NamedGroup, SignatureScheme};

/// Signature schemes we accept in a client's CertificateVerify.
const ACCEPTED_SCHEMES: [SignatureScheme; 2] = [
    SignatureScheme::EcdsaSecp256r1Sha256,
    SignatureScheme::EcdsaSecp384r1Sha384,
];

#[derive(Debug)]
enum State {
    ExpectClientHello,
    ExpectCertificate {
        key_pair: EcdheKeyPair,
    },
    ExpectClientKeyExchange {
        key_pair: EcdheKeyPair,
        client_key: Option<PeerPublicKey>,
    },
    ExpectCertificateVerify {
        client_key: PeerPublicKey,
        server_write: RecordProtection,
    },
    ExpectChangeCipherSpec {
        server_write: RecordProtection,
    },
    ExpectFinished {
        server_write: RecordProtection,
    },
    Connected,
    /// Placeholder while a message is handled; an error ends the session in this state.
    Failed,
}

#[derive(Debug)]
pub(crate) struct ServerHandshake {
    config: Arc<ServerConfig>,
    state: State,
    neg: Negotiation,
    server_name: Option<String>,
}

/// The server side of one DTLS association. Made by [`crate::Server::accept`] (or the
/// [`crate::Endpoint`] table) from a ClientHello with a valid cookie.
#[derive(Debug)]
pub struct ServerSession {
    conn: Conn<ServerHandshake>,
    peer: SocketAddr,
}

crate::session::session_api!(ServerSession);

impl ServerSession {
    /// A session waiting for the ClientHello whose first fragment had message_seq
    /// `client_hello_seq`, `client_random` and a valid cookie.
    pub(crate) fn new(
        config: Arc<ServerConfig>,
        now: Instant,
        peer: SocketAddr,
        client_hello_seq: u16,
        client_hello_record_seq: u64,
        client_random: [u8; 32],
    ) -> Self {
        let mut engine = Engine::new(&config.common);
        engine.start_handshake_clock(now);
        // RFC 6347 §4.2.2: after a stateless HelloVerifyRequest the ServerHello takes the
        // ClientHello's message_seq.
        engine.reassembler.set_next_seq(client_hello_seq);
        engine.set_next_send_seq(client_hello_seq);
        // RFC 6347 §4.2.1: "the server MUST use the record sequence number in the ClientHello
        // as the record sequence number in its initial ServerHello".
        engine.set_epoch0_write_seq(client_hello_record_seq);
        let hs = ServerHandshake {
            config,
            state: State::ExpectClientHello,
            // Known from the first fragment already, so the endpoint can tell a repeat of a
            // ClientHello still being reassembled from a new handshake.
            neg: Negotiation {
                client_random,
                ..Negotiation::default()
            },
            server_name: None,
        };
        Self {
            conn: Conn::new(engine, hs),
            peer,
        }
    }

    /// The peer's address, as given to the front door.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Exchanges this session's output buffers with `outbox`: the [`crate::Endpoint`] lends
    /// its own to the session it is calling, so the sessions idle in its table hold none.
    pub(crate) fn swap_outbox(&mut self, outbox: &mut Outbox) {
        core::mem::swap(&mut self.conn.engine.outbox, outbox);
    }

    pub(crate) fn process_datagram(&mut self, now: Instant, datagram: &[u8]) {
        let _ = self.conn.handle_datagram(now, datagram);
        self.conn.engine.outbox.keep();
    }

    /// The host name the client asked for (server_name, RFC 6066 §3), if any.
    pub fn server_name(&self) -> Option<&str> {
        self.conn.hs.server_name.as_deref()
    }

    /// The client's certificate chain, leaf first, when it sent and proved one.
    pub fn peer_certificates(&self) -> &[CertificateDer] {
        &self.conn.hs.neg.peer_certificates
    }

    /// The ClientHello random, which identifies this handshake.
    pub(crate) fn client_random(&self) -> &[u8; 32] {
        &self.conn.hs.neg.client_random
    }
}

impl ServerHandshake {
    fn add(&mut self, message: &HandshakeMessage) {
        self.neg
            .transcript
            .add(message.msg_type, message.message_seq, &message.body);
    }

    /// Chooses parameters from the ClientHello (server preference order) and sends
    /// ServerHello, Certificate, ServerKeyExchange, [CertificateRequest], ServerHelloDone.
    fn on_client_hello(
        &mut self,
        engine: &mut Engine,
        now: Instant,
        message: &HandshakeMessage,
    ) -> Result<(), Error> {
        let ch = ClientHello::decode(&message.body).map_err(|e| Error::decode("ClientHello", e))?;
        // DTLS versions count down: 0xfefd (1.2) is numerically below 0xfeff (1.0).
        if ch.client_version.0 > ProtocolVersion::DTLS1_2.0 {
            return Err(Error::ProtocolVersion {
                offered: ch.client_version.0,
            });
        }
        let common = &self.config.common;
        let suite = common
            .cipher_suites
            .iter()
            .filter(|s| ch.cipher_suites.contains(s))
            .find_map(|s| suite::lookup(*s))
            .ok_or_else(|| Error::NoCommonCipherSuite {
                offered: ch.cipher_suites.iter().map(|s| u16::from(*s)).collect(),
            })?;
        if !ch.compression_methods.contains(&0) {
            return Err(Error::IllegalParameter(
                "ClientHello lacks the null compression method",
            ));
        }
        let ext = &ch.extensions;
        // RFC 8422 §4: without supported_groups a client supports any curve; with it, it
        // must list ours.
        if let Some(groups) = ext.supported_groups() {
            if !groups.contains(&NamedGroup::Secp256r1) {
                return Err(Error::NoCommonGroup);
            }
        }
        if let Some(formats) = ext.ec_point_formats() {
            if !formats.contains(&0) {
                return Err(Error::IllegalParameter(
                    "client does not accept uncompressed points",
                ));
            }
        }
        if let Some(schemes) = ext.signature_algorithms() {
            if !schemes.contains(&SignatureScheme::EcdsaSecp256r1Sha256) {
                return Err(Error::NoCommonGroup);
            }
        }
        // RFC 5746 §3.6: the client signals secure renegotiation with an empty extension or
        // the SCSV; a non-empty one in an initial handshake is an attack.
        let renegotiation_info = match ext.renegotiation_info() {
            Some([]) => true,
            Some(_) => return Err(Error::SecureRenegotiationFailed),
            None => ch
                .cipher_suites
                .contains(&CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV),
        };
        self.neg.extended_master_secret = ext.has_extended_master_secret();
        if !self.neg.extended_master_secret && common.require_extended_master_secret {
            return Err(Error::ExtendedMasterSecretRequired);
        }
        self.server_name = ext.server_name().map(str::to_owned);
        self.neg.client_random = ch.random;
        self.neg.suite = Some(suite);
        engine.fill_random(&mut self.neg.server_random);
        self.add(message);

        let mut flight = FlightBuilder::default();

        let mut extensions = Extensions::default();
        if renegotiation_info {
            // Only when asked: an unsolicited renegotiation_info makes some stacks abort.
            extensions.push(Extension::RenegotiationInfo(Vec::new()));
        }
        if self.neg.extended_master_secret {
            extensions.push(Extension::ExtendedMasterSecret);
        }
        if ext.ec_point_formats().is_some() {
            extensions.push(Extension::EcPointFormats(vec![0]));
        }
        let mut body = Vec::new();
        ServerHello {
            server_version: ProtocolVersion::DTLS1_2,
            random: self.neg.server_random,
            session_id: Vec::new(),
            cipher_suite: suite.suite,
            compression_method: 0,
            extensions,
        }
        .encode(&mut body);
        flight.message(
            engine,
            &mut self.neg.transcript,
            HandshakeType::ServerHello,
            0,
            body,
        );

        let mut body = Vec::new();
        Certificate {
            certificate_list: self
                .config
                .certificate_chain
                .iter()
                .map(|c| c.0.clone())
                .collect(),
        }
        .encode(&mut body);
        flight.message(
            engine,
            &mut self.neg.transcript,
            HandshakeType::Certificate,
            0,
            body,
        );

        let key_pair = EcdheKeyPair::generate(&mut CryptoRngAdapter(engine.random.as_ref()));
        let params = ServerEcdhParams {
            named_group: NamedGroup::Secp256r1,
            public_key: key_pair.public_key().to_vec(),
        };
        // RFC 8422 §5.4: sign client_random + server_random + ServerECDHParams.
        let mut signed = Vec::with_capacity(64 + 4 + params.public_key.len());
        signed.extend_from_slice(&self.neg.client_random);
        signed.extend_from_slice(&self.neg.server_random);
        params.encode(&mut signed);
        let signature = self.config.private_key.sign_sha256(&signed);
        let mut body = Vec::new();
        ServerKeyExchange {
            params,
            signature: DigitallySigned {
                scheme: SignatureScheme::EcdsaSecp256r1Sha256,
                signature,
            },
        }
        .encode(&mut body);
        flight.message(
            engine,
            &mut self.neg.transcript,
            HandshakeType::ServerKeyExchange,
            0,
            body,
        );

        let request_certificate = !matches!(self.config.client_auth, ClientAuth::None);
        if request_certificate {
            let mut body = Vec::new();
            CertificateRequest {
                certificate_types: vec![ClientCertificateType::EcdsaSign],
                supported_signature_algorithms: ACCEPTED_SCHEMES.to_vec(),
                certificate_authorities: self.config.client_auth_ca_names.clone(),
            }
            .encode(&mut body);
            flight.message(
                engine,
                &mut self.neg.transcript,
                HandshakeType::CertificateRequest,
                0,
                body,
            );
        }
        flight.message(
            engine,
            &mut self.neg.transcript,
            HandshakeType::ServerHelloDone,
            0,
            Vec::new(),
        );

        self.state = if request_certificate {
            State::ExpectCertificate { key_pair }
        } else {
            State::ExpectClientKeyExchange {
                key_pair,
                client_key: None,
            }
        };
        engine.send_flight(now, flight.items, true)
    }

    fn on_client_certificate(
        &mut self,
        message: &HandshakeMessage,
    ) -> Result<Option<PeerPublicKey>, Error> {
        let certificate =
            Certificate::decode(&message.body).map_err(|e| Error::decode("Certificate", e))?;
        self.add(message);
        let (required, verifier) = match &self.config.client_auth {
            ClientAuth::None => return Err(Error::unexpected("ClientKeyExchange", "Certificate")),
            ClientAuth::Optional(v) => (false, v),
            ClientAuth::Required(v) => (true, v),
        };
        if certificate.certificate_list.is_empty() {
            return if required {
                Err(Error::CertificateRequired)
            } else {
                Ok(None)
            };
        }
        let chain: Vec<CertificateDer> = certificate
            .certificate_list
            .into_iter()
            .map(CertificateDer)
            .collect();
        let now = UnixTime(
            self.config
                .verification_time
                .unwrap_or_else(UnixTime::now_secs),
        );
        let key = verifier.verify_for(&chain, None, now, crate::cert::Purpose::ClientAuth)?;
        self.neg.peer_certificates = chain;
        Ok(Some(key))
    }

    fn on_client_key_exchange(
        &mut self,
        engine: &mut Engine,
        key_pair: EcdheKeyPair,
        message: &HandshakeMessage,
    ) -> Result<RecordProtection, Error> {
        let cke = ClientKeyExchange::decode(&message.body)
            .map_err(|e| Error::decode("ClientKeyExchange", e))?;
        let pms = key_pair
            .agree(&cke.public_key)
            .map_err(|_| Error::InvalidKeyShare)?;
        self.add(message);
        let suite = self.neg.suite()?;
        let master_secret = crate::session::derive_master_secret(
            suite,
            &pms,
            self.neg.extended_master_secret,
            &self.neg.transcript,
            &self.neg.client_random,
            &self.neg.server_random,
        );
        drop(pms);
        let (client_write, server_write) = crate::session::record_keys(
            suite,
            &master_secret,
            &self.neg.client_random,
            &self.neg.server_random,
        )?;
        engine.set_pending_read(client_write);
        self.neg.master_secret = Some(master_secret);
        Ok(server_write)
    }

    fn on_certificate_verify(
        &mut self,
        client_key: &PeerPublicKey,
        message: &HandshakeMessage,
    ) -> Result<(), Error> {
        let cv = CertificateVerify::decode(&message.body)
            .map_err(|e| Error::decode("CertificateVerify", e))?;
        if !ACCEPTED_SCHEMES.contains(&cv.signature.scheme) {
            return Err(Error::IllegalParameter(
                "client signed with a scheme we did not offer",
            ));
        }
        // RFC 5246 §7.4.8: the signature covers every handshake message before this one.
        client_key
            .verify(
                u16::from(cv.signature.scheme),
                self.neg.transcript.bytes(),
                &cv.signature.signature,
            )
            .map_err(|_| Error::BadSignature)?;
        self.add(message);
        Ok(())
    }

    fn on_client_finished(
        &mut self,
        engine: &mut Engine,
        now: Instant,
        server_write: RecordProtection,
        message: &HandshakeMessage,
    ) -> Result<(), Error> {
        self.neg.check_peer_finished(message, true)?;
        let verify_data = self.neg.verify_data(false)?;
        let mut body = Vec::new();
        Finished { verify_data }.encode(&mut body);
        let message_seq = engine.next_message_seq();
        engine.set_write_protection(server_write);
        self.neg.transcript.clear();
        self.state = State::Connected;
        // The final flight: repeated only when the client repeats its own (RFC 6347 §4.2.4).
        engine.send_flight(
            now,
            vec![
                FlightItem::ChangeCipherSpec,
                FlightItem::Handshake {
                    msg_type: HandshakeType::Finished,
                    message_seq,
                    epoch: 1,
                    body,
                },
            ],
            false,
        )
    }
}

impl Handshaker for ServerHandshake {
    fn handle_message(
        &mut self,
        engine: &mut Engine,
        now: Instant,
        message: HandshakeMessage,
    ) -> Result<(), Error> {
        use HandshakeType as T;
        if message.epoch != 0 && message.msg_type != T::Finished {
            return Err(Error::unexpected(
                "a plaintext handshake message",
                "an encrypted one",
            ));
        }
        let state = core::mem::replace(&mut self.state, State::Failed);
        match (state, message.msg_type) {
            (State::ExpectClientHello, T::ClientHello) => {
                self.on_client_hello(engine, now, &message)
            }
            (State::ExpectCertificate { key_pair }, T::Certificate) => {
                engine.flight_acknowledged();
                let client_key = self.on_client_certificate(&message)?;
                self.state = State::ExpectClientKeyExchange {
                    key_pair,
                    client_key,
                };
                Ok(())
            }
            (
                State::ExpectClientKeyExchange {
                    key_pair,
                    client_key,
                },
                T::ClientKeyExchange,
            ) => {
                engine.flight_acknowledged();
                let server_write = self.on_client_key_exchange(engine, key_pair, &message)?;
                self.state = match client_key {
                    Some(client_key) => State::ExpectCertificateVerify {
                        client_key,
                        server_write,
                    },
                    None => State::ExpectChangeCipherSpec { server_write },
                };
                Ok(())
            }
            (
                State::ExpectCertificateVerify {
                    client_key,
                    server_write,
                },
                T::CertificateVerify,
            ) => {
                self.on_certificate_verify(&client_key, &message)?;
                self.state = State::ExpectChangeCipherSpec { server_write };
                Ok(())
            }
            (State::ExpectFinished { server_write }, T::Finished) => {
                self.on_client_finished(engine, now, server_write, &message)
            }
            (state, other) => Err(Error::unexpected(state.expected(), other)),
        }
    }

    fn handle_change_cipher_spec(&mut self, engine: &mut Engine) -> bool {
        if !engine.has_pending_read() {
            return false;
        }
        match core::mem::replace(&mut self.state, State::Failed) {
            State::ExpectChangeCipherSpec { server_write } => {
                self.state = State::ExpectFinished { server_write };
                true
            }
            other => {
                self.state = other;
                false
            }
        }
    }

    fn is_connected(&self) -> bool {
        matches!(self.state, State::Connected)
    }

    fn negotiation(&self) -> &Negotiation {
        &self.neg
    }
}

impl State {
    fn expected(&self) -> &'static str {
        match self {
            Self::ExpectClientHello => "ClientHello",
            Self::ExpectCertificate { .. } => "Certificate",
            Self::ExpectClientKeyExchange { .. } => "ClientKeyExchange",
            Self::ExpectCertificateVerify { .. } => "CertificateVerify",
            Self::ExpectChangeCipherSpec { .. } => "ChangeCipherSpec",
            Self::ExpectFinished { .. } => "Finished",
            Self::Connected => "no handshake message (connected)",
            Self::Failed => "nothing (the handshake failed)",
        }
    }
}
