//! Errors of the certificate layer: [`CertError`] for local input (files, names, generation),
//! [`CertificateError`] for what a peer presented.

use core::fmt;

use super::time::UnixTime;

/// A problem with certificates, fingerprints or names supplied by the local application
/// (loading files, parsing a pinned fingerprint, generating a certificate).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertError {
    /// A PEM block could not be decoded (bad base64, unterminated block, …).
    Pem(String),
    /// The input held no `CERTIFICATE` block; `found` lists the PEM labels that were there.
    NoCertificates {
        /// Labels of the PEM blocks found instead (e.g. `PRIVATE KEY`).
        found: Vec<String>,
    },
    /// Certificate number `index` (0-based) is not a valid X.509 certificate.
    Malformed {
        /// Position of the certificate in the input, 0-based.
        index: usize,
        /// What the parser said.
        reason: String,
    },
    /// The private key is not the one whose public key the certificate carries.
    KeyMismatch {
        /// Subject of the certificate, e.g. `CN=example.com`.
        subject: String,
    },
    /// A SHA-256 fingerprint string could not be parsed.
    InvalidFingerprint(String),
    /// A server name is neither a valid DNS name nor an IP address.
    InvalidServerName(String),
    /// Certificate generation failed (bad subject name, OS randomness unavailable, …).
    Generation(String),
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertError::Pem(reason) => write!(f, "invalid PEM: {reason}"),
            CertError::NoCertificates { found } if found.is_empty() => write!(
                f,
                "no certificate found: expected PEM with `-----BEGIN CERTIFICATE-----` \
                 blocks or a DER certificate"
            ),
            CertError::NoCertificates { found } => write!(
                f,
                "no CERTIFICATE block found in the PEM (found: {}); \
                 did you pass the key file instead of the certificate file?",
                found.join(", ")
            ),
            CertError::Malformed { index, reason } => write!(
                f,
                "certificate #{} is not a valid X.509 certificate: {reason}",
                index + 1
            ),
            CertError::KeyMismatch { subject } => write!(
                f,
                "the private key does not match the certificate (subject {subject}); \
                 check that the key and certificate files belong together"
            ),
            CertError::InvalidFingerprint(reason) => write!(
                f,
                "invalid SHA-256 fingerprint: {reason}; expected 32 bytes as hex, \
                 e.g. \"sha-256 AB:CD:…\" (95 characters with colons) or 64 hex digits"
            ),
            CertError::InvalidServerName(reason) => write!(f, "invalid server name: {reason}"),
            CertError::Generation(reason) => {
                write!(f, "could not generate a certificate: {reason}")
            }
        }
    }
}

impl std::error::Error for CertError {}

/// Why a peer's certificate chain was refused.
///
/// [`CertificateError::alert_description_code`] gives the TLS alert to send.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// The peer sent no certificate.
    Empty,
    /// No path from the leaf to a trust anchor: an intermediate is missing or the root is not
    /// trusted.
    UnknownIssuer,
    /// A certificate of the path is past its notAfter time.
    Expired {
        /// Subject of the expired certificate.
        subject: String,
        /// Its notAfter time.
        not_after: UnixTime,
        /// The time the check was made at.
        now: UnixTime,
    },
    /// A certificate of the path is before its notBefore time.
    NotYetValid {
        /// Subject of the certificate.
        subject: String,
        /// Its notBefore time.
        not_before: UnixTime,
        /// The time the check was made at.
        now: UnixTime,
    },
    /// The leaf is not valid for the expected name (only subjectAltName entries count).
    NameMismatch {
        /// The name the application expected (DNS name or IP address).
        expected: String,
        /// The subjectAltName entries of the leaf, as `DNS:…` / `IP:…`.
        presented: Vec<String>,
    },
    /// A certificate's signature does not verify with its issuer's public key.
    BadSignature,
    /// An issuer of the path is not a CA (basicConstraints CA=false or absent, or its keyUsage
    /// lacks keyCertSign).
    NotACa,
    /// A CA's pathLenConstraint is exceeded by the intermediates below it.
    PathTooLong,
    /// The leaf (or an intermediate) is not allowed for this use: extendedKeyUsage without
    /// serverAuth/clientAuth, or keyUsage without digitalSignature.
    InvalidPurpose,
    /// The leaf's SHA-256 fingerprint is not the pinned one.
    FingerprintMismatch {
        /// The pinned fingerprint, `AB:CD:…`.
        expected: String,
        /// The leaf's fingerprint, `AB:CD:…`.
        actual: String,
    },
    /// A key or signature algorithm other than ECDSA P-256/P-384 with SHA-256/SHA-384.
    UnsupportedAlgorithm(String),
    /// A certificate is not valid DER / X.509.
    BadEncoding(String),
    /// The application's verifier callback refused the chain, with its reason.
    Rejected(String),
    /// The peer sent more certificates than [`MAX_CHAIN_LEN`](super::MAX_CHAIN_LEN).
    ChainTooLong {
        /// How many certificates the peer sent.
        presented: usize,
        /// The limit.
        max: usize,
    },
    /// A certificate carries a critical extension this verifier does not implement
    /// (RFC 5280 §4.2: such a certificate must be rejected).
    UnsupportedCriticalExtension(String),
    /// A name of a certificate lies outside the nameConstraints of a CA above it.
    NameConstraintViolation {
        /// The offending name, `DNS:…` / `IP:…`.
        name: String,
    },
    /// A handshake signature (ServerKeyExchange, CertificateVerify) does not verify with the
    /// peer's public key.
    BadHandshakeSignature,
}

impl CertificateError {
    /// The TLS alert (RFC 5246 §7.2.2) to send for this error, as its wire code.
    ///
    /// The choices, per variant:
    /// - `Empty` → handshake_failure (40): RFC 5246 §7.4.6, a required certificate is missing.
    /// - `UnknownIssuer`, `NotACa`, `PathTooLong` → unknown_ca (48): no acceptable CA was
    ///   found for the chain (OpenSSL maps its INVALID_CA and PATH_LENGTH_EXCEEDED the same way).
    /// - `Expired`, `NotYetValid` → certificate_expired (45): "has expired or is not currently
    ///   valid".
    /// - `NameMismatch`, `BadSignature`, `BadEncoding`, `FingerprintMismatch`,
    ///   `ChainTooLong`, `NameConstraintViolation` → bad_certificate (42): the certificate (or
    ///   chain) itself is wrong. A bad signature *on a certificate* is bad_certificate.
    /// - `InvalidPurpose`, `UnsupportedAlgorithm`, `UnsupportedCriticalExtension` →
    ///   unsupported_certificate (43): a certificate type / use we do not accept.
    /// - `Rejected` → certificate_unknown (46): "some other issue … rendering it unacceptable".
    /// - `BadHandshakeSignature` → decrypt_error (51): RFC 5246 §7.2.2, "unable to correctly
    ///   verify a signature" of a handshake message.
    pub fn alert_description_code(&self) -> u8 {
        const HANDSHAKE_FAILURE: u8 = 40;
        const BAD_CERTIFICATE: u8 = 42;
        const UNSUPPORTED_CERTIFICATE: u8 = 43;
        const CERTIFICATE_EXPIRED: u8 = 45;
        const CERTIFICATE_UNKNOWN: u8 = 46;
        const UNKNOWN_CA: u8 = 48;
        const DECRYPT_ERROR: u8 = 51;
        match self {
            CertificateError::Empty => HANDSHAKE_FAILURE,
            CertificateError::UnknownIssuer
            | CertificateError::NotACa
            | CertificateError::PathTooLong => UNKNOWN_CA,
            CertificateError::Expired { .. } | CertificateError::NotYetValid { .. } => {
                CERTIFICATE_EXPIRED
            }
            CertificateError::NameMismatch { .. }
            | CertificateError::BadSignature
            | CertificateError::BadEncoding(_)
            | CertificateError::FingerprintMismatch { .. }
            | CertificateError::ChainTooLong { .. }
            | CertificateError::NameConstraintViolation { .. } => BAD_CERTIFICATE,
            CertificateError::InvalidPurpose
            | CertificateError::UnsupportedAlgorithm(_)
            | CertificateError::UnsupportedCriticalExtension(_) => UNSUPPORTED_CERTIFICATE,
            CertificateError::Rejected(_) => CERTIFICATE_UNKNOWN,
            CertificateError::BadHandshakeSignature => DECRYPT_ERROR,
        }
    }
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateError::Empty => write!(f, "the peer sent no certificate"),
            CertificateError::UnknownIssuer => write!(
                f,
                "the certificate is not signed by a trusted CA: an intermediate certificate is \
                 missing from the peer's chain, or its root is not among the trust anchors"
            ),
            CertificateError::Expired {
                subject,
                not_after,
                now,
            } => write!(
                f,
                "certificate {subject} expired at {not_after} (now {now}); renew it, \
                 or check the clock"
            ),
            CertificateError::NotYetValid {
                subject,
                not_before,
                now,
            } => write!(
                f,
                "certificate {subject} is not valid before {not_before} (now {now}); \
                 check the clock"
            ),
            CertificateError::NameMismatch {
                expected,
                presented,
            } if presented.is_empty() => write!(
                f,
                "the certificate is not valid for {expected}: it has no subjectAltName \
                 (the common name is not used for name checks)"
            ),
            CertificateError::NameMismatch {
                expected,
                presented,
            } => write!(
                f,
                "the certificate is not valid for {expected}; it is valid for {}",
                presented.join(", ")
            ),
            CertificateError::BadSignature => {
                write!(
                    f,
                    "a certificate's signature does not verify with its issuer's key"
                )
            }
            CertificateError::NotACa => write!(
                f,
                "a certificate that issued another one is not a CA \
                 (basicConstraints CA=true and keyUsage keyCertSign are required)"
            ),
            CertificateError::PathTooLong => write!(
                f,
                "the chain has more intermediate CAs than a pathLenConstraint allows"
            ),
            CertificateError::InvalidPurpose => write!(
                f,
                "the certificate is not allowed for this use (extendedKeyUsage or keyUsage)"
            ),
            CertificateError::FingerprintMismatch { expected, actual } => write!(
                f,
                "the certificate fingerprint is sha-256 {actual}, expected {expected}"
            ),
            CertificateError::UnsupportedAlgorithm(what) => write!(
                f,
                "unsupported algorithm: {what}; only ECDSA P-256/P-384 with SHA-256/SHA-384 \
                 is supported"
            ),
            CertificateError::BadEncoding(reason) => {
                write!(f, "malformed certificate: {reason}")
            }
            CertificateError::Rejected(reason) => {
                write!(f, "the certificate verifier rejected the chain: {reason}")
            }
            CertificateError::ChainTooLong { presented, max } => write!(
                f,
                "the peer sent {presented} certificates, more than the limit of {max}"
            ),
            CertificateError::UnsupportedCriticalExtension(what) => {
                write!(f, "unsupported critical certificate extension: {what}")
            }
            CertificateError::NameConstraintViolation { name } => write!(
                f,
                "the name {name} is outside the nameConstraints of an issuing CA"
            ),
            CertificateError::BadHandshakeSignature => write!(
                f,
                "the peer's handshake signature does not verify with its certificate's key"
            ),
        }
    }
}

impl std::error::Error for CertificateError {}
