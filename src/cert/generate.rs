//! Building certificates: [`generate_self_signed`], and the shared machinery the test PKI
//! (`testpki`) uses to make CAs, intermediates and leaves.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use der::asn1::{Any, Ia5String, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Tag};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{EncodePublicKey, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};

use super::error::CertError;
use super::key::PrivateKey;
use super::load::CertificateDer;

pub(crate) const OID_COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
pub(crate) const OID_KP_SERVER_AUTH: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
pub(crate) const OID_KP_CLIENT_AUTH: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");

/// Generates a P-256 key (from OS randomness) and a self-signed certificate for it.
///
/// - subject CN = the first name; subjectAltName = every name, as an iPAddress entry when it
///   parses as an IP address, as a dNSName entry otherwise;
/// - valid from one hour ago (tolerates peers whose clock is behind) to 30 days from now;
/// - basicConstraints cA=false, keyUsage digitalSignature, extendedKeyUsage serverAuth and
///   clientAuth (usable by either DTLS role, as WebRTC peers need);
/// - signed with ecdsa-with-SHA256.
///
/// ```
/// let (key, cert) = puredtls::cert::generate_self_signed(&["localhost", "127.0.0.1"]).unwrap();
/// puredtls::cert::check_key_matches_certificate(&key, &cert).unwrap();
/// assert_eq!(cert.subject(), "CN=localhost");
/// ```
pub fn generate_self_signed(
    subject_alt_names: &[&str],
) -> Result<(PrivateKey, CertificateDer), CertError> {
    let key = PrivateKey::generate().map_err(|e| CertError::Generation(e.to_string()))?;
    let cn = subject_alt_names.first().copied().unwrap_or("puredtls");
    let name = common_name(cn).map_err(CertError::Generation)?;
    let now = SystemTime::now();
    let not_before = now.checked_sub(Duration::from_secs(3600)).unwrap_or(now);
    let not_after = now + Duration::from_secs(30 * 86_400);

    let mut extensions = vec![
        extension(
            BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
        ),
        extension(
            KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::DigitalSignature.into()),
        ),
        extension(
            EXTENDED_KEY_USAGE,
            false,
            &ExtendedKeyUsage(vec![OID_KP_SERVER_AUTH, OID_KP_CLIENT_AUTH]),
        ),
    ];
    if !subject_alt_names.is_empty() {
        let sans = general_names(subject_alt_names).map_err(CertError::Generation)?;
        extensions.push(extension(SUBJECT_ALT_NAME, false, &SubjectAltName(sans)));
    }
    let extensions = extensions
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(CertError::Generation)?;

    let signer = AnySigningKey::P256(key.signing_key().clone());
    let cert = build_certificate(
        CertFields {
            subject: name.clone(),
            issuer: name,
            serial: random_serial().map_err(CertError::Generation)?,
            validity: validity(unix(not_before), unix(not_after)).map_err(CertError::Generation)?,
            spki: signer.spki().map_err(CertError::Generation)?,
            extensions,
        },
        &signer,
    )
    .map_err(CertError::Generation)?;
    Ok((key, cert))
}

fn unix(t: SystemTime) -> u64 {
    super::time::UnixTime::from_system_time(t).0
}

pub(crate) const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
pub(crate) const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
pub(crate) const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
pub(crate) const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
pub(crate) const NAME_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.30");

/// An extension with an explicit criticality.
pub(crate) fn extension<T: Encode>(
    oid: ObjectIdentifier,
    critical: bool,
    value: &T,
) -> Result<Extension, String> {
    let der = value.to_der().map_err(|e| e.to_string())?;
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(der).map_err(|e| e.to_string())?,
    })
}

/// A distinguished name with a single CN (UTF8String).
pub(crate) fn common_name(cn: &str) -> Result<Name, String> {
    let atv = AttributeTypeAndValue {
        oid: OID_COMMON_NAME,
        value: Any::new(Tag::Utf8String, cn.as_bytes()).map_err(|e| e.to_string())?,
    };
    let rdn = RelativeDistinguishedName::try_from(vec![atv]).map_err(|e| e.to_string())?;
    let mut seq = RdnSequence::default();
    seq.push(rdn);
    let der = seq.to_der().map_err(|e| e.to_string())?;
    Name::from_der(&der).map_err(|e| e.to_string())
}

/// subjectAltName entries: an iPAddress when the string parses as an IP, a dNSName otherwise.
pub(crate) fn general_names(names: &[&str]) -> Result<Vec<GeneralName>, String> {
    names
        .iter()
        .map(|name| match name.parse::<IpAddr>() {
            Ok(ip) => Ok(GeneralName::from(ip)),
            Err(_) => dns_general_name(name),
        })
        .collect()
}

/// A dNSName entry, without interpreting the string.
pub(crate) fn dns_general_name(name: &str) -> Result<GeneralName, String> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{name:?} is not a DNS name (printable ASCII without spaces; use punycode for IDNs)"
        ));
    }
    Ia5String::new(name)
        .map(GeneralName::DnsName)
        .map_err(|e| e.to_string())
}

/// A positive 127-bit random serial number (RFC 5280 §4.1.2.2: unique per issuer, ≤ 20 bytes).
pub(crate) fn random_serial() -> Result<SerialNumber, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("OS randomness failed: {e}"))?;
    if let Some(first) = bytes.first_mut() {
        *first = (*first & 0x7f) | 0x01;
    }
    SerialNumber::new(&bytes).map_err(|e| e.to_string())
}

/// A validity period from Unix times (UTCTime through 2049, GeneralizedTime after).
pub(crate) fn validity(not_before: u64, not_after: u64) -> Result<Validity, String> {
    let time = |secs: u64| {
        der::DateTime::from_unix_duration(Duration::from_secs(secs))
            .map(Time::from)
            .map_err(|e| e.to_string())
    };
    Ok(Validity::new(time(not_before)?, time(not_after)?))
}

/// The key that signs a certificate: P-256 signs with SHA-256, P-384 with SHA-384.
#[derive(Clone)]
pub(crate) enum AnySigningKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl core::fmt::Debug for AnySigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            AnySigningKey::P256(_) => "P256(<secret>)",
            AnySigningKey::P384(_) => "P384(<secret>)",
        })
    }
}

impl AnySigningKey {
    pub(crate) fn spki(&self) -> Result<SubjectPublicKeyInfoOwned, String> {
        let der = match self {
            AnySigningKey::P256(k) => k.verifying_key().to_public_key_der(),
            AnySigningKey::P384(k) => k.verifying_key().to_public_key_der(),
        }
        .map_err(|e| e.to_string())?;
        SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).map_err(|e| e.to_string())
    }
}

/// Everything of a certificate but the signature.
pub(crate) struct CertFields {
    pub(crate) subject: Name,
    pub(crate) issuer: Name,
    pub(crate) serial: SerialNumber,
    pub(crate) validity: Validity,
    pub(crate) spki: SubjectPublicKeyInfoOwned,
    pub(crate) extensions: Vec<Extension>,
}

/// A builder profile that adds nothing: the caller chooses every extension.
struct ExactProfile {
    subject: Name,
    issuer: Name,
}

impl BuilderProfile for ExactProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(Vec::new())
    }
}

/// Signs the certificate with `signer` (ecdsa-with-SHA256 for P-256, -SHA384 for P-384).
pub(crate) fn build_certificate(
    fields: CertFields,
    signer: &AnySigningKey,
) -> Result<CertificateDer, String> {
    let profile = ExactProfile {
        subject: fields.subject,
        issuer: fields.issuer,
    };
    let mut builder = CertificateBuilder::new(profile, fields.serial, fields.validity, fields.spki)
        .map_err(|e| e.to_string())?;
    for ext in fields.extensions {
        builder.add_extension(ext).map_err(|e| e.to_string())?;
    }
    let cert = match signer {
        AnySigningKey::P256(k) => builder.build::<_, p256::ecdsa::DerSignature>(k),
        AnySigningKey::P384(k) => builder.build::<_, p384::ecdsa::DerSignature>(k),
    }
    .map_err(|e| e.to_string())?;
    cert.to_der().map(CertificateDer).map_err(|e| e.to_string())
}
