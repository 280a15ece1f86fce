//! `ClientSession`: the client side of a DTLS 1.2 handshake (RFC 6347 §4.2; RFC 5246 §7.3),
//! ECDHE_ECDSA with AES-GCM, as a sans-IO object.

use std::sync::Arc;
use std::time::Instant;

use crate::cert::{CertificateDer, PeerPublicKey, ServerName, UnixTime};
use crate::config::ClientConfig;
use crate::error::Error;
use crate::handshake::extension::{Extension, ExtensionType, Extensions};
use crate::handshake::message::{
    Certificate, CertificateRequest, CertificateVerify, ClientHello, ClientKeyExchange,
    DigitallySigned, Finished, HelloVerifyRequest, ServerHello, ServerKeyExchange,
};
use crate::handshake::reassembly::HandshakeMessage;
use crate::handshake::HandshakeType;
use crate::record::ProtocolVersion;
use crate::rng::CryptoRngAdapter;
use crate::session::conn::{Conn, Handshaker};
use crate::session::engine::{Engine, FlightBuilder, FlightItem};
use crate::session::Negotiation;
use crate::suite::ecdhe::EcdheKeyPair;
use crate::suite::{self, NamedGroup, SignatureScheme};

/// HelloVerifyRequests a client follows before it gives up on a server that keeps asking.
const MAX_HELLO_VERIFY_REQUESTS: u8 = 4;

/// Signature schemes we can verify, in the order we offer them.
const OFFERED_SCHEMES: [SignatureScheme; 2] = [
    SignatureScheme::EcdsaSecp256r1Sha256,
    SignatureScheme::EcdsaSecp384r1Sha384,
];

#[derive(Debug)]
enum State {
    ExpectHelloVerifyOrServerHello,
    ExpectCertificate,
    ExpectServerKeyExchange {
        peer_key: PeerPublicKey,
    },
    ExpectCertificateRequestOrDone {
        server_public: Vec<u8>,
    },
    ExpectServerHelloDone {
        server_public: Vec<u8>,
        request: CertificateRequest,
    },
    ExpectChangeCipherSpec,
    ExpectFinished,
    Connected,
    /// Placeholder while a message is handled; an error ends the session in this state.
    Failed,
}

#[derive(Debug)]
pub(crate) struct ClientHandshake {
    config: Arc<ClientConfig>,
    state: State,
    neg: Negotiation,
    hello: ClientHello,
    hello_verify_requests: u8,
}

/// The client side of one DTLS association.
///
/// ```no_run
/// use std::time::Instant;
/// use puredtls::{ClientConfig, ClientSession};
/// # fn socket_send(_: &[u8]) {}
/// let config = std::sync::Arc::new(ClientConfig::dangerous_accept_any_certificate());
/// let mut client = ClientSession::new(config, Instant::now()).unwrap();
/// for datagram in client.poll_output().transmits() {
///     socket_send(datagram); // the first ClientHello
/// }
/// ```
#[derive(Debug)]
pub struct ClientSession {
    conn: Conn<ClientHandshake>,
}

crate::session::session_api!(ClientSession);

impl ClientSession {
    /// Starts a handshake: the first ClientHello is ready in [`ClientSession::poll_output`].
    pub fn new(config: Arc<ClientConfig>, now: Instant) -> Result<Self, Error> {
        config.validate()?;
        let mut engine = Engine::new(&config.common);
        engine.start_handshake_clock(now);
        let mut random = [0u8; 32];
        engine.fill_random(&mut random);
        let hello = client_hello(&config, random);
        let mut hs = ClientHandshake {
            config,
            state: State::ExpectHelloVerifyOrServerHello,
            neg: Negotiation {
                client_random: random,
                ..Negotiation::default()
            },
            hello,
            hello_verify_requests: 0,
        };
        hs.send_client_hello(&mut engine, now)?;
        Ok(Self {
            conn: Conn::new(engine, hs),
        })
    }

    /// The server's certificate chain, leaf first, once received.
    pub fn peer_certificates(&self) -> &[CertificateDer] {
        &self.conn.hs.neg.peer_certificates
    }
}

fn client_hello(config: &ClientConfig, random: [u8; 32]) -> ClientHello {
    let mut extensions = Extensions::default();
    if let Some(name) = &config.server_name {
        // RFC 6066 §3: literal IP addresses are not sent as server_name.
        if name.parse::<std::net::IpAddr>().is_err() {
            extensions.push(Extension::ServerName(name.clone()));
        }
    }
    extensions.push(Extension::SupportedGroups(vec![NamedGroup::Secp256r1]));
    extensions.push(Extension::EcPointFormats(vec![0]));
    extensions.push(Extension::SignatureAlgorithms(OFFERED_SCHEMES.to_vec()));
    extensions.push(Extension::ExtendedMasterSecret);
    extensions.push(Extension::RenegotiationInfo(Vec::new()));
    ClientHello {
        client_version: ProtocolVersion::DTLS1_2,
        random,
        session_id: Vec::new(),
        cookie: Vec::new(),
        cipher_suites: config
            .common
            .cipher_suites
            .iter()
            .copied()
            .filter(|s| suite::lookup(*s).is_some())
            .collect(),
        compression_methods: vec![0],
        extensions,
    }
}

/// `hello` without its lists, to keep once the handshake is over.
fn client_hello_shell(hello: &ClientHello) -> ClientHello {
    ClientHello {
        client_version: hello.client_version,
        random: hello.random,
        session_id: Vec::new(),
        cookie: Vec::new(),
        cipher_suites: Vec::new(),
        compression_methods: Vec::new(),
        extensions: Extensions::default(),
    }
}

impl ClientHandshake {
    fn send_client_hello(&mut self, engine: &mut Engine, now: Instant) -> Result<(), Error> {
        let mut body = Vec::new();
        self.hello.encode(&mut body);
        let message_seq = engine.next_message_seq();
        self.neg.transcript.reset();
        self.neg
            .transcript
            .add(HandshakeType::ClientHello, message_seq, &body);
        engine.send_flight(
            now,
            vec![FlightItem::Handshake {
                msg_type: HandshakeType::ClientHello,
                message_seq,
                epoch: 0,
                body,
            }],
            true,
        )
    }

    fn on_hello_verify_request(
        &mut self,
        engine: &mut Engine,
        now: Instant,
        body: &[u8],
    ) -> Result<(), Error> {
        let hvr =
            HelloVerifyRequest::decode(body).map_err(|e| Error::decode("HelloVerifyRequest", e))?;
        self.hello_verify_requests += 1;
        engine.stats.hello_verify_requests += 1;
        if self.hello_verify_requests > MAX_HELLO_VERIFY_REQUESTS {
            return Err(Error::unexpected(
                "ServerHello",
                "another HelloVerifyRequest",
            ));
        }
        // RFC 6347 §4.2.1: the HelloVerifyRequest version says nothing about the final version,
        // so it is not checked; the same ClientHello goes out again with the cookie.
        self.hello.cookie = hvr.cookie;
        engine.flight_acknowledged();
        engine.reset_epoch0_replay();
        self.state = State::ExpectHelloVerifyOrServerHello;
        self.send_client_hello(engine, now)
    }

    fn on_server_hello(
        &mut self,
        engine: &mut Engine,
        message: &HandshakeMessage,
    ) -> Result<(), Error> {
        let sh = ServerHello::decode(&message.body).map_err(|e| Error::decode("ServerHello", e))?;
        engine.flight_acknowledged();
        if sh.server_version != ProtocolVersion::DTLS1_2 {
            return Err(Error::ProtocolVersion {
                offered: sh.server_version.0,
            });
        }
        if !self.hello.cipher_suites.contains(&sh.cipher_suite) {
            return Err(Error::IllegalParameter(
                "server chose a cipher suite we did not offer",
            ));
        }
        let suite = suite::lookup(sh.cipher_suite).ok_or(Error::IllegalParameter(
            "server chose a cipher suite we did not offer",
        ))?;
        if sh.compression_method != 0 {
            return Err(Error::IllegalParameter("server chose a compression method"));
        }
        for ext in &sh.extensions.0 {
            let allowed = matches!(
                ext,
                Extension::ServerName(_)
                    | Extension::EcPointFormats(_)
                    | Extension::ExtendedMasterSecret
                    | Extension::RenegotiationInfo(_)
            ) || matches!(
                ext,
                Extension::Unknown {
                    extension_type: ExtensionType::ServerName,
                    ..
                }
            );
            if !allowed {
                return Err(Error::UnsolicitedExtension(extension_code(ext)));
            }
        }
        // RFC 5746 §3.4: in an initial handshake the server's renegotiated_connection is empty.
        if let Some(ri) = sh.extensions.renegotiation_info() {
            if !ri.is_empty() {
                return Err(Error::SecureRenegotiationFailed);
            }
        }
        if let Some(formats) = sh.extensions.ec_point_formats() {
            if !formats.contains(&0) {
                return Err(Error::IllegalParameter(
                    "server does not accept uncompressed points",
                ));
            }
        }
        self.neg.extended_master_secret = sh.extensions.has_extended_master_secret();
        if !self.neg.extended_master_secret && self.config.common.require_extended_master_secret {
            return Err(Error::ExtendedMasterSecretRequired);
        }
        self.neg.server_random = sh.random;
        self.neg.suite = Some(suite);
        self.neg
            .transcript
            .add(message.msg_type, message.message_seq, &message.body);
        self.state = State::ExpectCertificate;
        Ok(())
    }

    fn on_certificate(&mut self, message: &HandshakeMessage) -> Result<PeerPublicKey, Error> {
        let certificate =
            Certificate::decode(&message.body).map_err(|e| Error::decode("Certificate", e))?;
        let chain: Vec<CertificateDer> = certificate
            .certificate_list
            .into_iter()
            .map(CertificateDer)
            .collect();
        let name = match &self.config.server_name {
            Some(n) => Some(ServerName::parse(n).map_err(|_| {
                Error::Config(format!("server_name {n:?} is not a DNS name or IP address"))
            })?),
            None => None,
        };
        let now = UnixTime(
            self.config
                .verification_time
                .unwrap_or_else(UnixTime::now_secs),
        );
        let key = self
            .config
            .verification
            .verify(&chain, name.as_ref(), now)?;
        self.neg.peer_certificates = chain;
        self.neg
            .transcript
            .add(message.msg_type, message.message_seq, &message.body);
        Ok(key)
    }

    fn on_server_key_exchange(
        &mut self,
        peer_key: &PeerPublicKey,
        message: &HandshakeMessage,
    ) -> Result<Vec<u8>, Error> {
        let ske = ServerKeyExchange::decode(&message.body)
            .map_err(|e| Error::decode("ServerKeyExchange", e))?;
        if ske.params.named_group != NamedGroup::Secp256r1 {
            return Err(Error::IllegalParameter(
                "server chose a curve we did not offer",
            ));
        }
        if !OFFERED_SCHEMES.contains(&ske.signature.scheme) {
            return Err(Error::IllegalParameter(
                "server signed with a signature scheme we did not offer",
            ));
        }
        // RFC 8422 §5.4: the signature covers client_random + server_random + ServerECDHParams.
        let mut signed = Vec::with_capacity(64 + 4 + ske.params.public_key.len());
        signed.extend_from_slice(&self.neg.client_random);
        signed.extend_from_slice(&self.neg.server_random);
        ske.params.encode(&mut signed);
        peer_key
            .verify(
                u16::from(ske.signature.scheme),
                &signed,
                &ske.signature.signature,
            )
            .map_err(|_| Error::BadSignature)?;
        self.neg
            .transcript
            .add(message.msg_type, message.message_seq, &message.body);
        Ok(ske.params.public_key)
    }

    /// ServerHelloDone: our key exchange, optional certificate, ChangeCipherSpec and Finished.
    fn send_client_flight(
        &mut self,
        engine: &mut Engine,
        now: Instant,
        server_public: &[u8],
        request: Option<&CertificateRequest>,
    ) -> Result<(), Error> {
        let suite = self.neg.suite()?;
        let mut flight = FlightBuilder::default();

        // RFC 5246 §7.4.6: a client asked for a certificate sends one, possibly empty.
        let config = Arc::clone(&self.config);
        let signer = match (request, &config.client_certificate) {
            (Some(req), Some((chain, key)))
                if req
                    .supported_signature_algorithms
                    .contains(&SignatureScheme::EcdsaSecp256r1Sha256) =>
            {
                let mut body = Vec::new();
                Certificate {
                    certificate_list: chain.iter().map(|c| c.0.clone()).collect(),
                }
                .encode(&mut body);
                flight.message(
                    engine,
                    &mut self.neg.transcript,
                    HandshakeType::Certificate,
                    0,
                    body,
                );
                Some(Arc::clone(key))
            }
            (Some(_), _) => {
                let mut body = Vec::new();
                Certificate {
                    certificate_list: Vec::new(),
                }
                .encode(&mut body);
                flight.message(
                    engine,
                    &mut self.neg.transcript,
                    HandshakeType::Certificate,
                    0,
                    body,
                );
                None
            }
            (None, _) => None,
        };

        let key_pair = EcdheKeyPair::generate(&mut CryptoRngAdapter(engine.random.as_ref()));
        let mut body = Vec::new();
        ClientKeyExchange {
            public_key: key_pair.public_key().to_vec(),
        }
        .encode(&mut body);
        let pms = key_pair
            .agree(server_public)
            .map_err(|_| Error::InvalidKeyShare)?;
        flight.message(
            engine,
            &mut self.neg.transcript,
            HandshakeType::ClientKeyExchange,
            0,
            body,
        );

        // RFC 7627 §4: the session hash covers the transcript up to and including the
        // ClientKeyExchange.
        let master_secret = crate::session::derive_master_secret(
            suite,
            &pms,
            self.neg.extended_master_secret,
            &self.neg.transcript,
            &self.neg.client_random,
            &self.neg.server_random,
        );
        drop(pms);

        if let Some(key) = signer {
            let signature = key.sign_sha256(self.neg.transcript.bytes());
            let mut body = Vec::new();
            CertificateVerify {
                signature: DigitallySigned {
                    scheme: SignatureScheme::EcdsaSecp256r1Sha256,
                    signature,
                },
            }
            .encode(&mut body);
            flight.message(
                engine,
                &mut self.neg.transcript,
                HandshakeType::CertificateVerify,
                0,
                body,
            );
        }

        let (write, read) = crate::session::record_keys(
            suite,
            &master_secret,
            &self.neg.client_random,
            &self.neg.server_random,
        )?;

        self.neg.master_secret = Some(master_secret);
        let verify_data = self.neg.verify_data(true)?;
        let mut body = Vec::new();
        Finished { verify_data }.encode(&mut body);
        flight.change_cipher_spec();
        engine.set_write_protection(write);
        engine.set_pending_read(read);
        flight.message(
            engine,
            &mut self.neg.transcript,
            HandshakeType::Finished,
            1,
            body,
        );
        self.state = State::ExpectChangeCipherSpec;
        engine.send_flight(now, flight.items, true)
    }

    fn on_server_finished(&mut self, message: &HandshakeMessage) -> Result<(), Error> {
        self.neg.check_peer_finished(message, false)?;
        self.neg.transcript.clear();
        // The ClientHello is only sent again during the handshake: free its lists.
        self.hello = client_hello_shell(&self.hello);
        self.state = State::Connected;
        Ok(())
    }
}

impl Handshaker for ClientHandshake {
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
            (State::ExpectHelloVerifyOrServerHello, T::HelloVerifyRequest) => {
                self.on_hello_verify_request(engine, now, &message.body)
            }
            (State::ExpectHelloVerifyOrServerHello, T::ServerHello) => {
                self.on_server_hello(engine, &message)
            }
            (State::ExpectCertificate, T::Certificate) => {
                let peer_key = self.on_certificate(&message)?;
                self.state = State::ExpectServerKeyExchange { peer_key };
                Ok(())
            }
            (State::ExpectServerKeyExchange { peer_key }, T::ServerKeyExchange) => {
                let server_public = self.on_server_key_exchange(&peer_key, &message)?;
                self.state = State::ExpectCertificateRequestOrDone { server_public };
                Ok(())
            }
            (State::ExpectCertificateRequestOrDone { server_public }, T::CertificateRequest) => {
                let request = CertificateRequest::decode(&message.body)
                    .map_err(|e| Error::decode("CertificateRequest", e))?;
                self.neg
                    .transcript
                    .add(message.msg_type, message.message_seq, &message.body);
                self.state = State::ExpectServerHelloDone {
                    server_public,
                    request,
                };
                Ok(())
            }
            (State::ExpectCertificateRequestOrDone { server_public }, T::ServerHelloDone) => {
                check_empty(&message)?;
                self.neg
                    .transcript
                    .add(message.msg_type, message.message_seq, &message.body);
                self.send_client_flight(engine, now, &server_public, None)
            }
            (
                State::ExpectServerHelloDone {
                    server_public,
                    request,
                },
                T::ServerHelloDone,
            ) => {
                check_empty(&message)?;
                self.neg
                    .transcript
                    .add(message.msg_type, message.message_seq, &message.body);
                self.send_client_flight(engine, now, &server_public, Some(&request))
            }
            (State::ExpectFinished, T::Finished) => {
                self.on_server_finished(&message)?;
                // The server's Finished proves it has our whole flight: nothing of ours is ever
                // needed again. Answering a late copy of its final flight with ours would make
                // it answer again, forever (RFC 6347 §4.2.4: only the final flight's sender
                // keeps it).
                engine.discard_flight();
                Ok(())
            }
            // Servers may send a ticket even though we never ask; it is in the transcript.
            (state @ State::ExpectFinished, T::NewSessionTicket)
            | (state @ State::ExpectChangeCipherSpec, T::NewSessionTicket) => {
                self.neg
                    .transcript
                    .add(message.msg_type, message.message_seq, &message.body);
                self.state = state;
                Ok(())
            }
            (state, other) => Err(Error::unexpected(state.expected(), other)),
        }
    }

    fn handle_change_cipher_spec(&mut self, engine: &mut Engine) -> bool {
        if matches!(self.state, State::ExpectChangeCipherSpec) && engine.has_pending_read() {
            self.state = State::ExpectFinished;
            true
        } else {
            false
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
            Self::ExpectHelloVerifyOrServerHello => "HelloVerifyRequest or ServerHello",
            Self::ExpectCertificate => "Certificate",
            Self::ExpectServerKeyExchange { .. } => "ServerKeyExchange",
            Self::ExpectCertificateRequestOrDone { .. } => "CertificateRequest or ServerHelloDone",
            Self::ExpectServerHelloDone { .. } => "ServerHelloDone",
            Self::ExpectChangeCipherSpec => "ChangeCipherSpec",
            Self::ExpectFinished => "Finished",
            Self::Connected => "no handshake message (connected)",
            Self::Failed => "nothing (the handshake failed)",
        }
    }
}

fn check_empty(message: &HandshakeMessage) -> Result<(), Error> {
    if message.body.is_empty() {
        Ok(())
    } else {
        Err(Error::decode("ServerHelloDone", "body is not empty"))
    }
}

fn extension_code(ext: &Extension) -> u16 {
    let t = match ext {
        Extension::ServerName(_) => ExtensionType::ServerName,
        Extension::SupportedGroups(_) => ExtensionType::SupportedGroups,
        Extension::EcPointFormats(_) => ExtensionType::EcPointFormats,
        Extension::SignatureAlgorithms(_) => ExtensionType::SignatureAlgorithms,
        Extension::ExtendedMasterSecret => ExtensionType::ExtendedMasterSecret,
        Extension::RenegotiationInfo(_) => ExtensionType::RenegotiationInfo,
        Extension::Unknown { extension_type, .. } => *extension_type,
    };
    u16::from(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertDescription;
    use crate::config::ServerConfig;
    use crate::server::{Accept, Server};
    use crate::session::{Event, Output, Status};

    fn datagrams(out: &Output<'_>) -> Vec<Vec<u8>> {
        out.transmits().map(<[u8]>::to_vec).collect()
    }

    /// No one outside can make the server's Finished decrypt and still disagree with the
    /// client's transcript: a change to the transcript is caught by the server's check of the
    /// client's Finished first, or changes the keys. So the client's own check is exercised by
    /// giving it one more transcript message than the server has.
    #[test]
    fn server_finished_not_matching_the_transcript_fails_with_bad_finished() {
        let now = Instant::now();
        let peer = "127.0.0.1:40000".parse().unwrap();
        let (key, cert) = crate::cert::generate_self_signed(&["localhost"]).unwrap();
        let server_config = ServerConfig::new(vec![cert], key).unwrap();
        let mut server = Server::new(Arc::new(server_config)).unwrap();
        let client_config = ClientConfig::dangerous_accept_any_certificate();
        let mut client = ClientSession::new(Arc::new(client_config), now).unwrap();

        let ch1 = datagrams(&client.poll_output());
        let Accept::HelloVerifyRequest(hvr) = server.accept(now, peer, &ch1[0]) else {
            panic!("expected a HelloVerifyRequest");
        };
        let hvr = hvr.to_vec();
        let ch2 = datagrams(&client.handle_datagram(now, &hvr));
        let Accept::NewSession(mut session) = server.accept(now, peer, &ch2[0]) else {
            panic!("expected a session");
        };
        let mut client_flight = Vec::new();
        for d in datagrams(&session.poll_output()) {
            client_flight.extend(datagrams(&client.handle_datagram(now, &d)));
        }
        let mut server_flight = Vec::new();
        for d in &client_flight {
            server_flight.extend(datagrams(&session.handle_datagram(now, d)));
        }
        assert_eq!(session.status(), &Status::Connected);

        client
            .conn
            .hs
            .neg
            .transcript
            .add(HandshakeType::NewSessionTicket, 5, &[0; 6]);
        let mut alert = Vec::new();
        let mut events = Vec::new();
        for d in &server_flight {
            let out = client.handle_datagram(now, d);
            alert.extend(datagrams(&out));
            events.extend(out.events().iter().cloned());
        }
        assert_eq!(client.status(), &Status::Failed(Error::BadFinished));
        assert_eq!(events, vec![Event::Failed(Error::BadFinished)]);
        // The client writes epoch 1 by now, so its decrypt_error alert is encrypted; the
        // server reads it.
        assert_eq!(alert.len(), 1);
        assert_eq!(alert[0].get(3..5), Some(&[0u8, 1][..]), "epoch 1");
        let _ = session.handle_datagram(now, &alert[0]);
        assert_eq!(
            session.status(),
            &Status::Failed(Error::AlertReceived(AlertDescription::DecryptError))
        );
    }
}
