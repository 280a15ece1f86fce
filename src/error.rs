//! Errors: what went wrong, whose fault it was, and the alert it sends.
//!
//! Shaped like rustls' error module: the variant says who misbehaved and how, and
//! [`Error::alert`] maps it to the fatal alert we send (RFC 5246 §7.2.2).

use core::fmt;

use crate::alert::AlertDescription;
use crate::cert::CertificateError;

/// Why a session failed, or why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The peer sent a handshake message that does not decode.
    Decode {
        message: &'static str,
        detail: String,
    },
    /// The peer sent a message that is not allowed in the current state.
    UnexpectedMessage {
        expected: &'static str,
        received: String,
    },
    /// A field has a value the protocol forbids (wrong version echo, a suite we did not offer...).
    IllegalParameter(&'static str),
    /// The peer answered with an extension we did not offer (RFC 5246 §7.4.1.4).
    UnsolicitedExtension(u16),
    /// The peer does not speak DTLS 1.2.
    ProtocolVersion { offered: u16 },
    /// No cipher suite in common; lists what the peer offered.
    NoCommonCipherSuite { offered: Vec<u16> },
    /// The peer supports no elliptic curve or signature algorithm that we do.
    NoCommonGroup,
    /// The peer did not negotiate the extended master secret (RFC 7627) and the config requires it.
    ExtendedMasterSecretRequired,
    /// The peer failed the secure renegotiation checks of RFC 5746.
    SecureRenegotiationFailed,
    /// The peer's Finished did not match the transcript: tampering or a broken peer.
    BadFinished,
    /// A handshake signature (ServerKeyExchange or CertificateVerify) did not verify.
    BadSignature,
    /// The peer's ECDHE public key was not a valid P-256 point.
    InvalidKeyShare,
    /// The peer's certificate was refused.
    Certificate(CertificateError),
    /// A client certificate was required and the client sent none.
    CertificateRequired,
    /// The peer sent a fatal alert.
    AlertReceived(AlertDescription),
    /// The handshake did not finish within the configured time.
    HandshakeTimeout,
    /// `send` was called before the handshake finished.
    NotConnected,
    /// The session is closed or failed; no more data can be sent.
    Closed,
    /// Application data larger than one record can carry at the configured MTU.
    MessageTooLarge { len: usize, max: usize },
    /// Invalid configuration, with what to change.
    Config(String),
    /// An internal invariant failed; this is a bug in puredtls.
    Internal(&'static str),
}

impl Error {
    /// The fatal alert this error sends to the peer, if any (RFC 5246 §7.2.2).
    pub fn alert(&self) -> Option<AlertDescription> {
        use AlertDescription as A;
        Some(match self {
            Self::Decode { .. } => A::DecodeError,
            Self::UnexpectedMessage { .. } => A::UnexpectedMessage,
            Self::IllegalParameter(_) | Self::InvalidKeyShare => A::IllegalParameter,
            Self::ProtocolVersion { .. } => A::ProtocolVersion,
            Self::UnsolicitedExtension(_) => A::UnsupportedExtension,
            Self::NoCommonCipherSuite { .. }
            | Self::NoCommonGroup
            | Self::ExtendedMasterSecretRequired
            | Self::SecureRenegotiationFailed
            | Self::CertificateRequired => A::HandshakeFailure,
            Self::BadFinished | Self::BadSignature => A::DecryptError,
            Self::Certificate(e) => A::from(e.alert_description_code()),
            Self::Internal(_) => A::InternalError,
            Self::AlertReceived(_)
            | Self::HandshakeTimeout
            | Self::NotConnected
            | Self::Closed
            | Self::MessageTooLarge { .. }
            | Self::Config(_) => return None,
        })
    }

    pub(crate) fn decode(message: &'static str, detail: impl fmt::Display) -> Self {
        Self::Decode {
            message,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn unexpected(expected: &'static str, received: impl fmt::Debug) -> Self {
        Self::UnexpectedMessage {
            expected,
            received: format!("{received:?}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode { message, detail } => {
                write!(f, "peer sent a malformed {message}: {detail}")
            }
            Self::UnexpectedMessage { expected, received } => write!(
                f,
                "peer sent {received} where {expected} was expected (a broken or hostile peer)"
            ),
            Self::IllegalParameter(what) => write!(f, "peer sent an illegal value: {what}"),
            Self::UnsolicitedExtension(t) => write!(
                f,
                "peer answered with extension {t:#06x}, which we did not offer (a broken peer)"
            ),
            Self::ProtocolVersion { offered } => write!(
                f,
                "peer offered protocol version {offered:#06x}; only DTLS 1.2 (0xfefd) is supported"
            ),
            Self::NoCommonCipherSuite { offered } => write!(
                f,
                "no cipher suite in common: peer offered {offered:04x?}; enable one of them or \
                 make the peer offer ECDHE-ECDSA-AES128-GCM-SHA256"
            ),
            Self::NoCommonGroup => write!(
                f,
                "no elliptic curve or signature algorithm in common: the peer must support \
                 secp256r1 (P-256) with ecdsa_secp256r1_sha256"
            ),
            Self::ExtendedMasterSecretRequired => write!(
                f,
                "peer did not negotiate the extended master secret (RFC 7627); upgrade the peer \
                 or set require_extended_master_secret = false"
            ),
            Self::SecureRenegotiationFailed => {
                write!(f, "peer failed the secure renegotiation check (RFC 5746)")
            }
            Self::BadFinished => write!(
                f,
                "peer's Finished does not match the handshake transcript (tampering or a broken peer)"
            ),
            Self::BadSignature => write!(f, "peer's handshake signature does not verify"),
            Self::InvalidKeyShare => {
                write!(f, "peer's ECDHE public key is not a valid uncompressed P-256 point")
            }
            Self::Certificate(e) => write!(f, "peer certificate refused: {e}"),
            Self::CertificateRequired => write!(
                f,
                "a client certificate is required and the client sent none"
            ),
            Self::AlertReceived(d) => write!(f, "peer sent a fatal alert: {d}"),
            Self::HandshakeTimeout => write!(
                f,
                "handshake timed out: no answer from the peer (is it running and reachable?)"
            ),
            Self::NotConnected => write!(f, "the handshake has not finished; wait for Connected"),
            Self::Closed => write!(f, "the session is closed"),
            Self::MessageTooLarge { len, max } => write!(
                f,
                "application data of {len} bytes does not fit one record; send at most {max} bytes \
                 per call or raise the MTU"
            ),
            Self::Config(msg) => write!(f, "invalid configuration: {msg}"),
            Self::Internal(what) => write!(f, "internal error (a bug in puredtls): {what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<CertificateError> for Error {
    fn from(e: CertificateError) -> Self {
        Self::Certificate(e)
    }
}
