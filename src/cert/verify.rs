//! Verifying a peer's certificate chain: RFC 5280 §6 path validation, simplified the way
//! production TLS clients do it (no policies, no revocation), and the RFC 6125 name check.

use core::fmt;
use std::sync::Arc;

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest, Sha256, Sha384};
use subtle::ConstantTimeEq;
use x509_parser::der_parser::asn1_rs::{Oid, Tag};
use x509_parser::extensions::{ExtendedKeyUsage, KeyUsage, ParsedExtension};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    OID_SIG_ECDSA_WITH_SHA256, OID_SIG_ECDSA_WITH_SHA384, OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER,
    OID_X509_EXT_BASIC_CONSTRAINTS, OID_X509_EXT_EXTENDED_KEY_USAGE, OID_X509_EXT_KEY_USAGE,
    OID_X509_EXT_NAME_CONSTRAINTS, OID_X509_EXT_SUBJECT_ALT_NAME,
    OID_X509_EXT_SUBJECT_KEY_IDENTIFIER,
};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::SubjectPublicKeyInfo;

use super::error::{CertError, CertificateError};
use super::load::{fingerprint_sha256, format_fingerprint, load_certificates, subject_string};
use super::name::{certificate_matches, presented_names, NameConstraints, ServerName};
use super::time::UnixTime;
use super::CertificateDer;

/// The most certificates a peer may send. A hostile peer can send many; real chains are
/// leaf + 1–3 intermediates.
pub const MAX_CHAIN_LEN: usize = 8;

/// The most candidate issuers path building examines (each costs a signature check), so a
/// chain of many certificates with the same name cannot make verification slow.
const MAX_PATH_BUILD_STEPS: usize = 32;

/// TLS SignatureScheme ecdsa_secp256r1_sha256 (RFC 8446 §4.2.3; in TLS 1.2 this is
/// SignatureAndHashAlgorithm {sha256, ecdsa}, RFC 5246 §7.4.1.4.1).
const ECDSA_SHA256: u16 = 0x0403;
/// TLS SignatureScheme ecdsa_secp384r1_sha384 / TLS 1.2 {sha384, ecdsa}.
const ECDSA_SHA384: u16 = 0x0503;

/// What the verified certificate is for: a server certificate must allow serverAuth, a client
/// certificate clientAuth (extendedKeyUsage, RFC 5280 §4.2.1.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// The peer is a server (the client verifies it).
    ServerAuth,
    /// The peer is a client (the server verifies it).
    ClientAuth,
}

/// The public key of the peer's leaf certificate, which the handshake uses to verify
/// ServerKeyExchange / CertificateVerify signatures.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PeerPublicKey {
    /// An uncompressed SEC1 P-256 point (65 bytes).
    P256(Vec<u8>),
    /// An uncompressed SEC1 P-384 point (97 bytes).
    P384(Vec<u8>),
}

impl PeerPublicKey {
    /// Verifies a DER ECDSA signature over `msg` with TLS signature scheme `scheme`:
    /// `0x0403` (SHA-256) or `0x0503` (SHA-384).
    ///
    /// In DTLS 1.2 the hash and the curve are independent (RFC 5246 §7.4.1.4.1), so either
    /// scheme works with either key. A signature that does not verify is
    /// [`CertificateError::BadHandshakeSignature`] (alert decrypt_error).
    pub fn verify(&self, scheme: u16, msg: &[u8], der_sig: &[u8]) -> Result<(), CertificateError> {
        use crate::suite::{ecdsa, CryptoError, SignatureScheme};
        let (PeerPublicKey::P256(point) | PeerPublicKey::P384(point)) = self;
        // One ECDSA verifier for the whole crate: the suite's, which binds the hash to the
        // scheme and takes the curve from the key, as TLS 1.2 does.
        match scheme {
            ECDSA_SHA256 | ECDSA_SHA384 => {}
            other => {
                return Err(CertificateError::UnsupportedAlgorithm(format!(
                    "signature scheme 0x{other:04x}"
                )))
            }
        }
        ecdsa::verify(SignatureScheme::from(scheme), point, msg, der_sig).map_err(|e| match e {
            CryptoError::BadSignature => CertificateError::BadHandshakeSignature,
            _ => CertificateError::BadEncoding("invalid public key point".to_string()),
        })
    }
}

/// A decoded ECDSA verifying key (of an issuer, a trust anchor or a leaf).
#[derive(Clone, Debug)]
enum VerifyingKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl VerifyingKey {
    /// Reads a SubjectPublicKeyInfo: id-ecPublicKey on P-256 or P-384 (RFC 5480 §2).
    fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Result<Self, CertificateError> {
        let algorithm = &spki.algorithm.algorithm;
        if *algorithm != OID_KEY_TYPE_EC_PUBLIC_KEY {
            return Err(CertificateError::UnsupportedAlgorithm(
                if *algorithm == OID_PKCS1_RSAENCRYPTION {
                    "RSA public key".to_string()
                } else {
                    format!("public key algorithm {}", oid_name(algorithm))
                },
            ));
        }
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .filter(|p| p.tag() == Tag::Oid)
            .and_then(|p| Oid::try_from(p).ok())
            .ok_or_else(|| {
                CertificateError::UnsupportedAlgorithm(
                    "EC public key without a named curve".to_string(),
                )
            })?;
        let point = &spki.subject_public_key.data;
        let bad_point = |_| CertificateError::BadEncoding("invalid EC public key point".into());
        if curve == OID_EC_P256 {
            p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map(VerifyingKey::P256)
                .map_err(bad_point)
        } else if curve == OID_NIST_EC_P384 {
            p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map(VerifyingKey::P384)
                .map_err(bad_point)
        } else {
            Err(CertificateError::UnsupportedAlgorithm(format!(
                "EC public key on curve {}",
                oid_name(&curve)
            )))
        }
    }

    fn to_peer(&self) -> PeerPublicKey {
        match self {
            VerifyingKey::P256(k) => {
                PeerPublicKey::P256(k.to_sec1_point(false).as_bytes().to_vec())
            }
            VerifyingKey::P384(k) => {
                PeerPublicKey::P384(k.to_sec1_point(false).as_bytes().to_vec())
            }
        }
    }

    /// ECDSA verification of a DER signature over a hash of any length (FIPS 186-5 §6.4.2
    /// truncates or pads it to the order's size).
    fn verify_prehash(&self, hash: &[u8], der_sig: &[u8]) -> bool {
        match self {
            VerifyingKey::P256(k) => p256::ecdsa::DerSignature::from_bytes(der_sig)
                .is_ok_and(|sig| k.verify_prehash(hash, &sig).is_ok()),
            VerifyingKey::P384(k) => p384::ecdsa::DerSignature::from_bytes(der_sig)
                .is_ok_and(|sig| k.verify_prehash(hash, &sig).is_ok()),
        }
    }
}

fn oid_name(oid: &Oid<'_>) -> String {
    let s = oid.to_id_string();
    let name = match s.as_str() {
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        _ => return s,
    };
    format!("{name} ({s})")
}

/// Checks `cert`'s signature with its issuer's key (RFC 5280 §6.1.3 (a)(1)).
fn check_signature(
    cert: &X509Certificate<'_>,
    issuer: &VerifyingKey,
) -> Result<(), CertificateError> {
    // RFC 5280 §4.1.1.2: signatureAlgorithm must equal tbsCertificate.signature.
    if cert.signature_algorithm != cert.tbs_certificate.signature {
        return Err(CertificateError::BadEncoding(
            "signatureAlgorithm differs from the signature field of tbsCertificate".to_string(),
        ));
    }
    let algorithm = &cert.signature_algorithm.algorithm;
    let tbs = cert.tbs_certificate.as_ref();
    let hash = if *algorithm == OID_SIG_ECDSA_WITH_SHA256 {
        Sha256::digest(tbs).to_vec()
    } else if *algorithm == OID_SIG_ECDSA_WITH_SHA384 {
        Sha384::digest(tbs).to_vec()
    } else {
        return Err(CertificateError::UnsupportedAlgorithm(format!(
            "certificate signature algorithm {}",
            oid_name(algorithm)
        )));
    };
    if cert.signature_value.unused_bits != 0 {
        return Err(CertificateError::BadEncoding(
            "signature BIT STRING with unused bits".to_string(),
        ));
    }
    if issuer.verify_prehash(&hash, &cert.signature_value.data) {
        Ok(())
    } else {
        Err(CertificateError::BadSignature)
    }
}

/// The extensions the verifier acts on, read once per certificate. Any other critical
/// extension makes the certificate unacceptable (RFC 5280 §4.2).
struct Extensions<'c> {
    /// basicConstraints: (cA, pathLenConstraint).
    basic_constraints: Option<(bool, Option<u32>)>,
    key_usage: Option<&'c KeyUsage>,
    extended_key_usage: Option<&'c ExtendedKeyUsage<'c>>,
    name_constraints: Option<NameConstraints>,
}

impl<'c> Extensions<'c> {
    fn read(cert: &'c X509Certificate<'c>) -> Result<Self, CertificateError> {
        cert.extensions_map()
            .map_err(|_| CertificateError::BadEncoding("duplicate extension".to_string()))?;
        let mut out = Extensions {
            basic_constraints: None,
            key_usage: None,
            extended_key_usage: None,
            name_constraints: None,
        };
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::ParseError { .. } => {
                    return Err(CertificateError::BadEncoding(format!(
                        "malformed extension {}",
                        ext.oid.to_id_string()
                    )))
                }
                ParsedExtension::BasicConstraints(bc) => {
                    out.basic_constraints = Some((bc.ca, bc.path_len_constraint));
                }
                ParsedExtension::KeyUsage(ku) => out.key_usage = Some(ku),
                ParsedExtension::ExtendedKeyUsage(eku) => out.extended_key_usage = Some(eku),
                ParsedExtension::NameConstraints(nc) => {
                    out.name_constraints = Some(NameConstraints::from_x509(nc)?);
                }
                _ => {
                    let understood = [
                        &OID_X509_EXT_SUBJECT_ALT_NAME,
                        &OID_X509_EXT_SUBJECT_KEY_IDENTIFIER,
                        &OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER,
                        &OID_X509_EXT_BASIC_CONSTRAINTS,
                        &OID_X509_EXT_KEY_USAGE,
                        &OID_X509_EXT_EXTENDED_KEY_USAGE,
                        &OID_X509_EXT_NAME_CONSTRAINTS,
                    ]
                    .contains(&&ext.oid);
                    if ext.critical && !understood {
                        return Err(CertificateError::UnsupportedCriticalExtension(oid_name(
                            &ext.oid,
                        )));
                    }
                }
            }
        }
        Ok(out)
    }

    /// extendedKeyUsage, where present, must allow `purpose` (or anyExtendedKeyUsage).
    fn check_purpose(&self, purpose: Purpose) -> Result<(), CertificateError> {
        match self.extended_key_usage {
            Some(eku)
                if !eku.any
                    && !match purpose {
                        Purpose::ServerAuth => eku.server_auth,
                        Purpose::ClientAuth => eku.client_auth,
                    } =>
            {
                Err(CertificateError::InvalidPurpose)
            }
            _ => Ok(()),
        }
    }

    /// RFC 5280 §6.1.4 (k), (l), (m), (n): an issuer must be a CA, must be allowed to sign
    /// certificates, and its pathLenConstraint bounds the intermediates below it.
    fn check_issuer(&self, intermediates_below: usize) -> Result<(), CertificateError> {
        let Some((true, path_len)) = self.basic_constraints else {
            return Err(CertificateError::NotACa);
        };
        if self.key_usage.is_some_and(|ku| !ku.key_cert_sign()) {
            return Err(CertificateError::NotACa);
        }
        if path_len.is_some_and(|max| intermediates_below > max as usize) {
            return Err(CertificateError::PathTooLong);
        }
        Ok(())
    }
}

fn check_validity(cert: &X509Certificate<'_>, now: UnixTime) -> Result<(), CertificateError> {
    let validity = cert.validity();
    let now_secs = i128::from(now.0);
    let not_before = validity.not_before.timestamp();
    let not_after = validity.not_after.timestamp();
    // RFC 5280 §4.1.2.5: both bounds are inclusive.
    if now_secs < i128::from(not_before) {
        return Err(CertificateError::NotYetValid {
            subject: subject_string(cert),
            not_before: UnixTime::from_i64(not_before),
            now,
        });
    }
    if now_secs > i128::from(not_after) {
        return Err(CertificateError::Expired {
            subject: subject_string(cert),
            not_after: UnixTime::from_i64(not_after),
            now,
        });
    }
    Ok(())
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok((rest, _)) => Err(format!("{} bytes of trailing data", rest.len())),
        Err(e) => Err(e.to_string()),
    }
}

/// A trust anchor, read once from its certificate: RFC 5280 §6.1.1 (d) uses only its name,
/// key and (as webpki and OpenSSL do) its basicConstraints and nameConstraints. Its own
/// validity period is not checked.
#[derive(Clone)]
struct Anchor {
    /// The whole certificate, to recognise a peer presenting the anchor itself.
    der: Vec<u8>,
    subject_raw: Vec<u8>,
    subject: String,
    key: Result<VerifyingKey, CertificateError>,
    /// What limits the anchor as an issuer; an error if its extensions cannot be honoured
    /// (e.g. nameConstraints on directory names), reported when a chain needs the anchor.
    issuing: Result<AnchorIssuing, CertificateError>,
}

#[derive(Clone)]
struct AnchorIssuing {
    /// False when basicConstraints says cA=false or keyUsage lacks keyCertSign: such an
    /// anchor (a pinned self-signed leaf) trusts itself only, it cannot issue.
    may_issue: bool,
    path_len: Option<u32>,
    name_constraints: Option<NameConstraints>,
}

/// The certificates a peer's chain must lead to, each parsed once.
///
/// Anchors with keys this library cannot verify with (e.g. RSA roots of a system bundle) are
/// kept, and only a chain that needs them fails (with `UnsupportedAlgorithm`).
#[derive(Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<Anchor>,
}

impl TrustAnchors {
    /// No anchors: nothing verifies until some are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Anchors from certificates (roots, or a self-signed peer certificate to pin).
    pub fn from_certificates(certs: &[CertificateDer]) -> Result<Self, CertError> {
        let mut anchors = Self::new();
        for (index, cert) in certs.iter().enumerate() {
            anchors.add(cert).map_err(|e| match e {
                CertError::Malformed { reason, .. } => CertError::Malformed { index, reason },
                other => other,
            })?;
        }
        Ok(anchors)
    }

    /// Anchors from a PEM bundle (or one DER certificate), as [`load_certificates`] reads it.
    pub fn from_pem(pem_or_der: &[u8]) -> Result<Self, CertError> {
        Self::from_certificates(&load_certificates(pem_or_der)?)
    }

    /// Adds one anchor.
    pub fn add(&mut self, cert: &CertificateDer) -> Result<(), CertError> {
        let parsed = parse(&cert.0).map_err(|reason| CertError::Malformed { index: 0, reason })?;
        let issuing = Extensions::read(&parsed).map(|ext| AnchorIssuing {
            may_issue: ext.basic_constraints.is_none_or(|(ca, _)| ca)
                && ext.key_usage.is_none_or(|ku| ku.key_cert_sign()),
            path_len: ext.basic_constraints.and_then(|(_, len)| len),
            name_constraints: ext.name_constraints,
        });
        self.anchors.push(Anchor {
            der: cert.0.clone(),
            subject_raw: parsed.subject().as_raw().to_vec(),
            subject: subject_string(&parsed),
            key: VerifyingKey::from_spki(parsed.public_key()),
            issuing,
        });
        Ok(())
    }

    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether there are no anchors.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

impl fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.anchors.iter().map(|a| &a.subject))
            .finish()
    }
}

/// The result of a successful [`verify_chain`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedPeer {
    /// The leaf's public key, for the handshake signature.
    pub leaf_public_key: PeerPublicKey,
    /// How many of the peer's certificates the validated path uses (leaf and intermediates,
    /// not the anchor); 1 when the leaf is itself an anchor or signed by one.
    pub path_len: usize,
    /// Subject of the trust anchor the path ends at.
    pub trust_anchor: String,
}

/// Verifies a peer's chain: `chain[0]` is the leaf, the rest are intermediates in any order
/// (as the peer sent them; extra or duplicate certificates are tolerated).
///
/// Rules (RFC 5280 §6, as production TLS clients apply it):
/// - a path is built from the leaf through the intermediates to a trust anchor, matching
///   issuer to subject and checking every signature (ECDSA P-256/P-384 with SHA-256/SHA-384);
///   a leaf that *is* an anchor is trusted directly;
/// - every certificate of the path must be valid at `now`;
/// - issuers need basicConstraints cA=true, keyCertSign where keyUsage is present, and their
///   pathLenConstraint and nameConstraints (DNS and IP forms) hold;
/// - extendedKeyUsage, where present (leaf and intermediates), must allow `purpose`; the leaf's
///   keyUsage, where present, must have digitalSignature;
/// - `name`, if given, must match a subjectAltName entry (the common name is ignored);
/// - unknown critical extensions are refused.
///
/// A leaf with basicConstraints cA=true is accepted (self-signed certificates made by
/// `openssl req -x509` are CAs), and the anchor's own validity period is not checked (RFC 5280
/// §6.1.1 (d): an anchor is a name and a key).
///
/// Work is bounded: at most [`MAX_CHAIN_LEN`] certificates and a fixed number of path-building
/// steps.
pub fn verify_chain(
    chain: &[CertificateDer],
    anchors: &TrustAnchors,
    name: Option<&ServerName>,
    now: UnixTime,
    purpose: Purpose,
) -> Result<VerifiedPeer, CertificateError> {
    if chain.len() > MAX_CHAIN_LEN {
        return Err(CertificateError::ChainTooLong {
            presented: chain.len(),
            max: MAX_CHAIN_LEN,
        });
    }
    let Some(leaf_der) = chain.first() else {
        return Err(CertificateError::Empty);
    };
    let mut certs = Vec::with_capacity(chain.len());
    for (i, der) in chain.iter().enumerate() {
        certs.push(parse(&der.0).map_err(|e| {
            CertificateError::BadEncoding(format!("certificate #{} of the chain: {e}", i + 1))
        })?);
    }
    let Some(leaf) = certs.first() else {
        return Err(CertificateError::Empty);
    };
    let leaf_ext = Extensions::read(leaf)?;
    check_validity(leaf, now)?;
    let leaf_key = VerifyingKey::from_spki(leaf.public_key())?;

    let (anchor, path_len) = match anchors.anchors.iter().find(|a| a.der == leaf_der.0) {
        Some(anchor) => (anchor, 1),
        None => {
            let mut builder = PathBuilder {
                certs: &certs,
                anchors: &anchors.anchors,
                now,
                purpose,
                steps: 0,
            };
            let mut path = vec![0];
            let anchor = builder.build(&mut path)?;
            (anchor, path.len())
        }
    };

    leaf_ext.check_purpose(purpose)?;
    // The DTLS 1.2 ECDHE_ECDSA suites sign with the leaf key (RFC 8422 §5.10 / RFC 5280
    // §4.2.1.3: digitalSignature).
    if leaf_ext.key_usage.is_some_and(|ku| !ku.digital_signature()) {
        return Err(CertificateError::InvalidPurpose);
    }
    if let Some(name) = name {
        if !certificate_matches(leaf, name) {
            return Err(CertificateError::NameMismatch {
                expected: name.to_string(),
                presented: presented_names(leaf),
            });
        }
    }
    Ok(VerifiedPeer {
        leaf_public_key: leaf_key.to_peer(),
        path_len,
        trust_anchor: anchor.subject.clone(),
    })
}

/// Depth-first search for an issuer path, bounded by [`MAX_PATH_BUILD_STEPS`].
struct PathBuilder<'a, 'c> {
    certs: &'a [X509Certificate<'c>],
    anchors: &'a [Anchor],
    now: UnixTime,
    purpose: Purpose,
    steps: usize,
}

impl<'a> PathBuilder<'a, '_> {
    /// Extends `path` (indices into `certs`, leaf first) until a trust anchor signs its last
    /// certificate; returns that anchor. On failure `path` is left as it was given.
    fn build(&mut self, path: &mut Vec<usize>) -> Result<&'a Anchor, CertificateError> {
        let certs = self.certs;
        let child_index = *path.last().ok_or(CertificateError::Empty)?;
        let child = certs.get(child_index).ok_or(CertificateError::Empty)?;
        let issuer_name = child.issuer().as_raw();
        // Intermediates between the issuer being tried and the leaf.
        let intermediates_below = path.len().saturating_sub(1);
        let mut best: Option<CertificateError> = None;

        for anchor in self.anchors.iter().filter(|a| a.subject_raw == issuer_name) {
            if let Err(e) = self.take_step() {
                keep_most_relevant(&mut best, e);
                return Err(best.unwrap_or(CertificateError::UnknownIssuer));
            }
            match self.check_anchor(anchor, child, path, intermediates_below) {
                Ok(()) => return Ok(anchor),
                Err(e) => keep_most_relevant(&mut best, e),
            }
        }
        for (index, candidate) in certs.iter().enumerate().skip(1) {
            if path.contains(&index) || candidate.subject().as_raw() != issuer_name {
                continue;
            }
            if let Err(e) = self.take_step() {
                keep_most_relevant(&mut best, e);
                break;
            }
            if let Err(e) = self.check_intermediate(candidate, child, path, intermediates_below) {
                keep_most_relevant(&mut best, e);
                continue;
            }
            path.push(index);
            match self.build(path) {
                Ok(anchor) => return Ok(anchor),
                Err(e) => {
                    keep_most_relevant(&mut best, e);
                    path.pop();
                }
            }
        }
        Err(best.unwrap_or(CertificateError::UnknownIssuer))
    }

    fn take_step(&mut self) -> Result<(), CertificateError> {
        self.steps += 1;
        if self.steps > MAX_PATH_BUILD_STEPS {
            Err(CertificateError::UnknownIssuer)
        } else {
            Ok(())
        }
    }

    fn check_anchor(
        &self,
        anchor: &Anchor,
        child: &X509Certificate<'_>,
        path: &[usize],
        intermediates_below: usize,
    ) -> Result<(), CertificateError> {
        let key = anchor.key.as_ref().map_err(Clone::clone)?;
        check_signature(child, key)?;
        let issuing = anchor.issuing.as_ref().map_err(Clone::clone)?;
        if !issuing.may_issue {
            return Err(CertificateError::NotACa);
        }
        if issuing
            .path_len
            .is_some_and(|max| intermediates_below > max as usize)
        {
            return Err(CertificateError::PathTooLong);
        }
        if let Some(nc) = &issuing.name_constraints {
            self.check_name_constraints(nc, path)?;
        }
        Ok(())
    }

    fn check_intermediate(
        &self,
        candidate: &X509Certificate<'_>,
        child: &X509Certificate<'_>,
        path: &[usize],
        intermediates_below: usize,
    ) -> Result<(), CertificateError> {
        // The signature first: a candidate whose key did not sign the child is not its issuer,
        // and its other properties are irrelevant.
        check_signature(child, &VerifyingKey::from_spki(candidate.public_key())?)?;
        let ext = Extensions::read(candidate)?;
        ext.check_issuer(intermediates_below)?;
        check_validity(candidate, self.now)?;
        ext.check_purpose(self.purpose)?;
        if let Some(nc) = &ext.name_constraints {
            self.check_name_constraints(nc, path)?;
        }
        Ok(())
    }

    /// A CA's nameConstraints apply to every certificate below it (RFC 5280 §6.1.3 (b)).
    fn check_name_constraints(
        &self,
        nc: &NameConstraints,
        path: &[usize],
    ) -> Result<(), CertificateError> {
        for cert in path.iter().filter_map(|&i| self.certs.get(i)) {
            nc.check(cert)?;
        }
        Ok(())
    }
}

/// When every candidate issuer failed, report the most telling reason: a property of a
/// genuine issuer (its signature verified) beats a signature failure, which beats "no issuer".
fn keep_most_relevant(best: &mut Option<CertificateError>, new: CertificateError) {
    let rank = |e: &CertificateError| match e {
        CertificateError::UnknownIssuer => 0,
        CertificateError::BadSignature => 1,
        _ => 2,
    };
    if best.as_ref().is_none_or(|b| rank(&new) > rank(b)) {
        *best = Some(new);
    }
}

/// The public key of a certificate without verifying anything else, for pinned fingerprints
/// or application-verified chains.
pub fn leaf_public_key(cert: &CertificateDer) -> Result<PeerPublicKey, CertificateError> {
    let parsed = parse(&cert.0).map_err(CertificateError::BadEncoding)?;
    Ok(VerifyingKey::from_spki(parsed.public_key())?.to_peer())
}

/// An application's own chain check: `Err(reason)` refuses the chain.
pub type CertVerifierFn = dyn Fn(&[CertificateDer]) -> Result<(), String> + Send + Sync;

/// How a client decides whether to trust the server's certificate chain.
#[derive(Clone)]
pub enum ServerCertVerification {
    /// Full verification against trust anchors (chain, time, purpose, name).
    WebPki {
        /// The roots (or pinned self-signed certificates) to chain to.
        anchors: TrustAnchors,
    },
    /// The leaf's SHA-256 fingerprint must be this one (WebRTC, RFC 8122); time, name and
    /// issuer are not checked.
    PinnedSha256([u8; 32]),
    /// The application decides; `Err(reason)` refuses the chain.
    Custom(Arc<CertVerifierFn>),
    /// No verification at all: anyone can impersonate the server. For tests only.
    DangerousAcceptAnyCertificate,
}

impl fmt::Debug for ServerCertVerification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerCertVerification::WebPki { anchors } => {
                f.debug_struct("WebPki").field("anchors", anchors).finish()
            }
            ServerCertVerification::PinnedSha256(fp) => f
                .debug_tuple("PinnedSha256")
                .field(&format_fingerprint(fp))
                .finish(),
            ServerCertVerification::Custom(_) => f.write_str("Custom(<callback>)"),
            ServerCertVerification::DangerousAcceptAnyCertificate => {
                f.write_str("DangerousAcceptAnyCertificate")
            }
        }
    }
}

impl ServerCertVerification {
    /// Applies the policy to a server's chain (leaf first) and returns the leaf's public key.
    pub fn verify(
        &self,
        chain: &[CertificateDer],
        name: Option<&ServerName>,
        now: UnixTime,
    ) -> Result<PeerPublicKey, CertificateError> {
        self.verify_for(chain, name, now, Purpose::ServerAuth)
    }

    /// As [`verify`](Self::verify), for either purpose (a server verifies client
    /// certificates with `Purpose::ClientAuth` and usually no name).
    pub fn verify_for(
        &self,
        chain: &[CertificateDer],
        name: Option<&ServerName>,
        now: UnixTime,
        purpose: Purpose,
    ) -> Result<PeerPublicKey, CertificateError> {
        if chain.len() > MAX_CHAIN_LEN {
            return Err(CertificateError::ChainTooLong {
                presented: chain.len(),
                max: MAX_CHAIN_LEN,
            });
        }
        let Some(leaf) = chain.first() else {
            return Err(CertificateError::Empty);
        };
        match self {
            ServerCertVerification::WebPki { anchors } => {
                verify_chain(chain, anchors, name, now, purpose).map(|v| v.leaf_public_key)
            }
            ServerCertVerification::PinnedSha256(expected) => {
                let actual: [u8; 32] = Sha256::digest(&leaf.0).into();
                if bool::from(actual.ct_eq(expected)) {
                    leaf_public_key(leaf)
                } else {
                    Err(CertificateError::FingerprintMismatch {
                        expected: format_fingerprint(expected),
                        actual: fingerprint_sha256(leaf),
                    })
                }
            }
            ServerCertVerification::Custom(callback) => {
                callback(chain).map_err(CertificateError::Rejected)?;
                leaf_public_key(leaf)
            }
            ServerCertVerification::DangerousAcceptAnyCertificate => leaf_public_key(leaf),
        }
    }
}
