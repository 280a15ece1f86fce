//! Loading certificates, matching them with the key, and their SHA-256 fingerprints.

use core::fmt;

use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::error::CertError;
use super::key::PrivateKey;
use super::pem;
use super::verify::{leaf_public_key, PeerPublicKey};

/// One X.509 certificate in DER form.
///
/// `Debug` shows the subject and the SHA-256 fingerprint, not the bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CertificateDer(pub Vec<u8>);

impl CertificateDer {
    /// The DER bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The subject distinguished name in RFC 4514 form (e.g. `CN=example.com`), or a
    /// placeholder if the bytes are not a certificate.
    pub fn subject(&self) -> String {
        match X509Certificate::from_der(&self.0) {
            Ok((_, cert)) => subject_string(&cert),
            Err(_) => "<not a certificate>".to_string(),
        }
    }

    /// The certificate as a PEM `CERTIFICATE` block.
    pub fn to_pem(&self) -> String {
        pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &self.0)
            .unwrap_or_default()
    }
}

impl AsRef<[u8]> for CertificateDer {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for CertificateDer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateDer")
            .field("subject", &self.subject())
            .field("sha256", &fingerprint_sha256(self))
            .finish()
    }
}

/// The subject of a parsed certificate as a string, never failing.
pub(crate) fn subject_string(cert: &X509Certificate<'_>) -> String {
    let s = cert.subject().to_string();
    if s.is_empty() {
        "<empty subject>".to_string()
    } else {
        s
    }
}

/// Loads certificates from PEM (one or many `CERTIFICATE` blocks, in file order; other
/// blocks such as keys are skipped) or from a single DER certificate.
///
/// Every certificate is parsed once to check that it is an X.509 certificate.
pub fn load_certificates(pem_or_der: &[u8]) -> Result<Vec<CertificateDer>, CertError> {
    if !pem::is_pem(pem_or_der) {
        check_certificate(pem_or_der, 0)?;
        return Ok(vec![CertificateDer(pem_or_der.to_vec())]);
    }
    let blocks = pem::blocks(pem_or_der).map_err(CertError::Pem)?;
    let mut certs = Vec::new();
    for block in blocks.iter().filter(|b| b.label == "CERTIFICATE") {
        let der = block.decode().map_err(CertError::Pem)?;
        check_certificate(&der, certs.len())?;
        certs.push(CertificateDer(der.to_vec()));
    }
    if certs.is_empty() {
        return Err(CertError::NoCertificates {
            found: blocks.iter().map(|b| b.label.to_string()).collect(),
        });
    }
    Ok(certs)
}

fn check_certificate(der: &[u8], index: usize) -> Result<(), CertError> {
    match X509Certificate::from_der(der) {
        Ok(([], _)) => Ok(()),
        Ok((rest, _)) => Err(CertError::Malformed {
            index,
            reason: format!("{} bytes of trailing data", rest.len()),
        }),
        Err(e) => Err(CertError::Malformed {
            index,
            reason: e.to_string(),
        }),
    }
}

/// Checks that `cert` carries the public key of `key`, so a server does not start with a key
/// and certificate that do not belong together.
pub fn check_key_matches_certificate(
    key: &PrivateKey,
    cert: &CertificateDer,
) -> Result<(), CertError> {
    match leaf_public_key(cert) {
        Ok(PeerPublicKey::P256(point)) if point == key.public_key_sec1() => Ok(()),
        Ok(_) => Err(CertError::KeyMismatch {
            subject: cert.subject(),
        }),
        Err(e) => Err(CertError::Malformed {
            index: 0,
            reason: e.to_string(),
        }),
    }
}

/// The SHA-256 fingerprint of the certificate's DER, as 32 uppercase hex bytes separated by
/// colons (`AB:CD:…`, 95 characters): the form of SDP `a=fingerprint:sha-256` (RFC 8122 §5)
/// and of `openssl x509 -fingerprint -sha256`.
pub fn fingerprint_sha256(cert: &CertificateDer) -> String {
    format_fingerprint(&Sha256::digest(&cert.0).into())
}

pub(crate) fn format_fingerprint(digest: &[u8; 32]) -> String {
    let mut out = String::with_capacity(95);
    for (i, b) in digest.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{b:02X}"));
    }
    out
}

/// Parses a SHA-256 fingerprint: 32 bytes as hex, upper or lower case, either all separated
/// by colons or not at all, optionally preceded by `sha-256 ` (as in SDP).
pub fn parse_fingerprint(s: &str) -> Result<[u8; 32], CertError> {
    let mut text = s.trim();
    if let Some(prefix) = text.get(..7) {
        if prefix.eq_ignore_ascii_case("sha-256") {
            text = text.get(7..).unwrap_or_default().trim_start();
        }
    }
    let hex: Vec<u8> = if text.contains(':') {
        let groups: Vec<&str> = text.split(':').collect();
        if groups.len() != 32 || groups.iter().any(|g| g.len() != 2) {
            return Err(CertError::InvalidFingerprint(
                "with colons, each of the 32 bytes must be exactly 2 hex digits".to_string(),
            ));
        }
        groups.concat().into_bytes()
    } else {
        text.as_bytes().to_vec()
    };
    if hex.len() != 64 {
        return Err(CertError::InvalidFingerprint(format!(
            "{} hex digits instead of 64",
            hex.len()
        )));
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let digit = |i: usize| pair.get(i).copied().and_then(hex_value);
        let (Some(hi), Some(lo)) = (digit(0), digit(1)) else {
            return Err(CertError::InvalidFingerprint(format!(
                "`{}` is not a hex byte",
                String::from_utf8_lossy(pair)
            )));
        };
        *byte = hi << 4 | lo;
    }
    Ok(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_format_and_parse_round_trip() {
        let digest: [u8; 32] = core::array::from_fn(|i| (i * 9) as u8);
        let s = format_fingerprint(&digest);
        assert_eq!(s.len(), 95);
        assert!(s.starts_with("00:09:12:1B:"));
        assert_eq!(parse_fingerprint(&s).unwrap(), digest);
        assert_eq!(parse_fingerprint(&s.to_lowercase()).unwrap(), digest);
        assert_eq!(parse_fingerprint(&s.replace(':', "")).unwrap(), digest);
        assert_eq!(parse_fingerprint(&format!("SHA-256 {s}")).unwrap(), digest);
        assert_eq!(
            parse_fingerprint(&format!("  sha-256   {}  ", s.to_lowercase())).unwrap(),
            digest
        );
    }

    #[test]
    fn malformed_fingerprints_are_refused() {
        let good = format_fingerprint(&[0xAB; 32]);
        for bad in [
            "",
            "sha-256",
            &good[..94],
            &good[3..],
            &good.replacen(':', "", 1),
            &format!("{good}:AB"),
            &good.replacen("AB", "AG", 1),
            &"é".repeat(32),
            "sha-1 AB:CD",
        ] {
            assert!(
                matches!(
                    parse_fingerprint(bad),
                    Err(CertError::InvalidFingerprint(_))
                ),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn garbage_der_is_malformed_certificate_zero() {
        let err = load_certificates(&[0x30, 0x03, 0x02, 0x01, 0x00]).unwrap_err();
        assert!(
            matches!(err, CertError::Malformed { index: 0, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn pem_with_only_a_key_says_so() {
        let err =
            load_certificates(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no CERTIFICATE block found in the PEM (found: PRIVATE KEY); \
             did you pass the key file instead of the certificate file?"
        );
    }
}
