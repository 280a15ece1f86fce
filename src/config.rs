//! Session configuration: one `Arc<ServerConfig>` / `Arc<ClientConfig>` shared by many sessions.
//!
//! Keys and certificates are parsed once here, never per connection.

use core::time::Duration;
use std::sync::Arc;

use crate::cert::{CertificateDer, PrivateKey, ServerCertVerification, TrustAnchors};
use crate::error::Error;
use crate::handshake::reassembly::ReassemblyLimits;
use crate::rng::{os_random, RandomSource};
use crate::suite::CipherSuite;

/// Default UDP payload budget: fits IPv6's 1280-byte minimum MTU with room for tunnels.
pub const DEFAULT_MTU: usize = 1200;
/// Smallest MTU accepted: a record header, handshake header, AEAD overhead and a few bytes.
pub const MIN_MTU: usize = 128;

/// Retransmission timers (RFC 6347 §4.2.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// First retransmission timeout; doubles on each expiry. RFC 6347 recommends 1 s.
    pub initial_retransmit: Duration,
    /// The doubling stops here. RFC 6347 says at least 60 s.
    pub max_retransmit: Duration,
    /// The handshake fails if it has not finished after this long.
    pub handshake_timeout: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Self {
            initial_retransmit: Duration::from_secs(1),
            max_retransmit: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(60),
        }
    }
}

/// Settings shared by both roles.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CommonConfig {
    /// Cipher suites in order of preference.
    pub cipher_suites: Vec<CipherSuite>,
    /// Refuse peers that do not negotiate the extended master secret (RFC 7627). On by default,
    /// as RFC 9325 §3.5 asks; turn off only for legacy peers.
    pub require_extended_master_secret: bool,
    /// Largest UDP payload we send, in bytes; handshake flights are fragmented to fit.
    pub mtu: usize,
    pub timers: Timers,
    /// Width of the anti-replay window in records (RFC 6347 §4.1.2.6); at least 64.
    pub replay_window: u32,
    /// Caps on handshake reassembly buffers.
    pub reassembly: ReassemblyLimits,
    /// Records of the next epoch that may be held until its ChangeCipherSpec arrives.
    pub max_buffered_next_epoch_records: usize,
    /// Where randoms and keys come from.
    pub random: Arc<dyn RandomSource>,
}

impl Default for CommonConfig {
    fn default() -> Self {
        Self {
            cipher_suites: vec![
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            ],
            require_extended_master_secret: true,
            mtu: DEFAULT_MTU,
            timers: Timers::default(),
            replay_window: 64,
            reassembly: ReassemblyLimits::default(),
            max_buffered_next_epoch_records: 8,
            random: os_random(),
        }
    }
}

impl CommonConfig {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.mtu < MIN_MTU || self.mtu > 65_507 {
            return Err(Error::Config(format!(
                "mtu {} is out of range; use {MIN_MTU}..=65507 bytes of UDP payload",
                self.mtu
            )));
        }
        if self.replay_window < 64 {
            return Err(Error::Config(format!(
                "replay_window {} is too small; RFC 6347 §4.1.2.6 asks for at least 64",
                self.replay_window
            )));
        }
        let supported: Vec<_> = self
            .cipher_suites
            .iter()
            .filter(|s| crate::suite::lookup(**s).is_some())
            .collect();
        if supported.is_empty() {
            return Err(Error::Config(
                "no supported cipher suite configured; use TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
                    .into(),
            ));
        }
        if self.timers.initial_retransmit.is_zero()
            || self.timers.max_retransmit < self.timers.initial_retransmit
        {
            return Err(Error::Config(
                "timers: initial_retransmit must be non-zero and not above max_retransmit".into(),
            ));
        }
        Ok(())
    }
}

/// Whether the server asks for a client certificate.
#[derive(Debug, Clone, Default)]
pub enum ClientAuth {
    /// No CertificateRequest is sent.
    #[default]
    None,
    /// A CertificateRequest is sent; a client without a certificate is still accepted, one with a
    /// certificate must pass `verifier`.
    Optional(ServerCertVerification),
    /// The client must present a certificate that passes `verifier`.
    Required(ServerCertVerification),
}

/// A server's configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    pub common: CommonConfig,
    /// The server's certificate chain, leaf first.
    pub certificate_chain: Vec<CertificateDer>,
    pub(crate) private_key: Arc<PrivateKey>,
    pub client_auth: ClientAuth,
    /// CA names sent in a CertificateRequest (DER distinguished names); may be empty.
    pub client_auth_ca_names: Vec<Vec<u8>>,
    /// Period after which the cookie secret rotates; cookies of the previous secret stay valid
    /// for one more period.
    pub cookie_rotation: Duration,
    /// Most live sessions the [`crate::server::Endpoint`] table holds.
    pub max_sessions: usize,
    /// An established session with no authenticated traffic for this long is dropped by the
    /// endpoint table.
    pub idle_timeout: Duration,
    /// Current time for client-certificate validity, in seconds since the Unix epoch; `None`
    /// reads the system clock when a client certificate is checked.
    pub verification_time: Option<u64>,
}

impl ServerConfig {
    /// A config serving `certificate_chain` (leaf first) with `private_key`. Checks that the key
    /// matches the leaf certificate.
    pub fn new(
        certificate_chain: Vec<CertificateDer>,
        private_key: PrivateKey,
    ) -> Result<Self, Error> {
        let leaf = certificate_chain.first().ok_or_else(|| {
            Error::Config(
                "the certificate chain is empty; give at least the server's certificate".into(),
            )
        })?;
        crate::cert::check_key_matches_certificate(&private_key, leaf)
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Self {
            common: CommonConfig::default(),
            certificate_chain,
            private_key: Arc::new(private_key),
            client_auth: ClientAuth::None,
            client_auth_ca_names: Vec::new(),
            cookie_rotation: Duration::from_secs(60),
            max_sessions: 10_000,
            idle_timeout: Duration::from_secs(300),
            verification_time: None,
        })
    }

    /// Checks the settings; sessions call this once when the config is first used.
    pub fn validate(&self) -> Result<(), Error> {
        self.common.validate()?;
        if self.max_sessions == 0 {
            return Err(Error::Config("max_sessions must be at least 1".into()));
        }
        Ok(())
    }
}

/// A client's configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    pub common: CommonConfig,
    /// How the server's certificate is checked.
    pub verification: ServerCertVerification,
    /// The name to verify the certificate against and to send as server_name (SNI); IP
    /// addresses are verified but not sent (RFC 6066 §3).
    pub server_name: Option<String>,
    /// Client certificate chain and key, offered when the server asks.
    pub client_certificate: Option<(Vec<CertificateDer>, Arc<PrivateKey>)>,
    /// Current time for certificate validity, in seconds since the Unix epoch; `None` reads the
    /// system clock when the certificate is checked. (Timers never read a clock: they run on
    /// the `Instant`s the caller passes in.)
    pub verification_time: Option<u64>,
}

impl ClientConfig {
    /// Verifies the server against `anchors` and `server_name`.
    pub fn new(anchors: TrustAnchors, server_name: &str) -> Self {
        Self::with_verification(
            ServerCertVerification::WebPki { anchors },
            Some(server_name.to_owned()),
        )
    }

    /// Any verification policy; see [`ServerCertVerification`].
    pub fn with_verification(
        verification: ServerCertVerification,
        server_name: Option<String>,
    ) -> Self {
        Self {
            common: CommonConfig::default(),
            verification,
            server_name,
            client_certificate: None,
            verification_time: None,
        }
    }

    /// Accepts any server certificate. Anyone on the path can impersonate the server: use only
    /// for tests, or when the peer is authenticated some other way.
    pub fn dangerous_accept_any_certificate() -> Self {
        Self::with_verification(ServerCertVerification::DangerousAcceptAnyCertificate, None)
    }

    /// Offers `chain` (leaf first) and `key` when the server asks for a client certificate.
    pub fn with_client_certificate(
        mut self,
        chain: Vec<CertificateDer>,
        key: PrivateKey,
    ) -> Result<Self, Error> {
        let leaf = chain
            .first()
            .ok_or_else(|| Error::Config("the client certificate chain is empty".into()))?;
        crate::cert::check_key_matches_certificate(&key, leaf)
            .map_err(|e| Error::Config(e.to_string()))?;
        self.client_certificate = Some((chain, Arc::new(key)));
        Ok(self)
    }

    pub fn validate(&self) -> Result<(), Error> {
        self.common.validate()
    }
}
