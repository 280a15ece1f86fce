//! A small PKI for tests and examples: root CAs (P-256 or P-384), intermediates and leaves with
//! any extensions, including wrong ones. Not a stable API.
//!
//! ```
//! use puredtls::cert::testpki::{CertSpec, KeyKind, NOW};
//! use puredtls::cert::{verify_chain, Purpose, ServerName, TrustAnchors};
//!
//! let root = CertSpec::ca("Test Root").key(KeyKind::P384).self_signed().unwrap();
//! let inter = CertSpec::ca("Test Intermediate").issued_by(&root).unwrap();
//! let leaf = CertSpec::leaf("example.com").dns("example.com").issued_by(&inter).unwrap();
//!
//! let anchors = TrustAnchors::from_certificates(&[root.cert.clone()]).unwrap();
//! let name = ServerName::parse("example.com").unwrap();
//! let chain = [leaf.cert.clone(), inter.cert.clone()];
//! verify_chain(&chain, &anchors, Some(&name), NOW, Purpose::ServerAuth).unwrap();
//! ```

use std::net::IpAddr;

use der::asn1::ObjectIdentifier;
use p256::elliptic_curve::Generate;
use p256::pkcs8::EncodePrivateKey;
use x509_cert::ext::pkix::constraints::name::{GeneralSubtree, NameConstraints};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectAltName};
use x509_cert::ext::Extension;
use x509_cert::name::Name;

use super::generate::{
    build_certificate, common_name, dns_general_name, extension, random_serial, validity,
    AnySigningKey, CertFields, BASIC_CONSTRAINTS, EXTENDED_KEY_USAGE, KEY_USAGE, NAME_CONSTRAINTS,
    OID_KP_CLIENT_AUTH, OID_KP_SERVER_AUTH, SUBJECT_ALT_NAME,
};
use super::key::PrivateKey;
use super::load::CertificateDer;
use super::time::UnixTime;

/// Default notBefore of test certificates: 2023-11-14 22:13:20 UTC.
pub const NOT_BEFORE: u64 = 1_700_000_000;
/// Default notAfter of test certificates: 2033-05-18 03:33:20 UTC.
pub const NOT_AFTER: u64 = 2_000_000_000;
/// A time inside the default validity: 2027-01-15 08:00:00 UTC.
pub const NOW: UnixTime = UnixTime(1_800_000_000);

/// The curve of a test key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// P-256; its certificates are signed with ecdsa-with-SHA256.
    P256,
    /// P-384; its certificates are signed with ecdsa-with-SHA384.
    P384,
}

/// An extendedKeyUsage purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eku {
    /// id-kp-serverAuth.
    ServerAuth,
    /// id-kp-clientAuth.
    ClientAuth,
    /// id-kp-codeSigning.
    CodeSigning,
    /// anyExtendedKeyUsage.
    Any,
}

/// A keyUsage bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ku {
    /// digitalSignature.
    DigitalSignature,
    /// keyEncipherment.
    KeyEncipherment,
    /// keyCertSign.
    KeyCertSign,
    /// cRLSign.
    CrlSign,
}

/// A certificate to make. Start from [`CertSpec::ca`] or [`CertSpec::leaf`], adjust, then
/// [`self_signed`](CertSpec::self_signed) or [`issued_by`](CertSpec::issued_by).
#[derive(Clone, Debug)]
pub struct CertSpec {
    cn: String,
    key: KeyKind,
    sans: Vec<San>,
    not_before: u64,
    not_after: u64,
    /// (cA, pathLenConstraint), or no extension.
    basic_constraints: Option<(bool, Option<u8>)>,
    key_usage: Option<Vec<Ku>>,
    eku: Option<Vec<Eku>>,
    permitted: Vec<San>,
    excluded: Vec<San>,
    extra: Vec<(String, bool, Vec<u8>)>,
    reuse_key: Option<AnySigningKey>,
}

#[derive(Clone, Debug)]
enum San {
    Dns(String),
    Ip(String),
    IpRange(String, String),
}

impl CertSpec {
    /// A CA: basicConstraints cA=true (critical), keyUsage keyCertSign + cRLSign, P-256.
    pub fn ca(cn: &str) -> Self {
        Self {
            basic_constraints: Some((true, None)),
            key_usage: Some(vec![Ku::KeyCertSign, Ku::CrlSign]),
            eku: None,
            ..Self::base(cn)
        }
    }

    /// A leaf: no basicConstraints, keyUsage digitalSignature, extendedKeyUsage serverAuth +
    /// clientAuth, P-256, no subjectAltName until added.
    pub fn leaf(cn: &str) -> Self {
        Self {
            basic_constraints: None,
            key_usage: Some(vec![Ku::DigitalSignature]),
            eku: Some(vec![Eku::ServerAuth, Eku::ClientAuth]),
            ..Self::base(cn)
        }
    }

    fn base(cn: &str) -> Self {
        Self {
            cn: cn.to_string(),
            key: KeyKind::P256,
            sans: Vec::new(),
            not_before: NOT_BEFORE,
            not_after: NOT_AFTER,
            basic_constraints: None,
            key_usage: None,
            eku: None,
            permitted: Vec::new(),
            excluded: Vec::new(),
            extra: Vec::new(),
            reuse_key: None,
        }
    }

    /// The curve of this certificate's key.
    pub fn key(mut self, kind: KeyKind) -> Self {
        self.key = kind;
        self
    }

    /// Adds a dNSName subjectAltName entry (taken literally, even if it looks like an IP).
    pub fn dns(mut self, name: &str) -> Self {
        self.sans.push(San::Dns(name.to_string()));
        self
    }

    /// Adds an iPAddress subjectAltName entry (building fails if `ip` is not an address).
    pub fn ip(mut self, ip: &str) -> Self {
        self.sans.push(San::Ip(ip.to_string()));
        self
    }

    /// Sets notBefore and notAfter (Unix seconds).
    pub fn validity(mut self, not_before: u64, not_after: u64) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// Sets basicConstraints cA=true with this pathLenConstraint.
    pub fn path_len(mut self, len: u8) -> Self {
        self.basic_constraints = Some((true, Some(len)));
        self
    }

    /// Sets basicConstraints cA=false.
    pub fn not_ca(mut self) -> Self {
        self.basic_constraints = Some((false, None));
        self
    }

    /// Omits basicConstraints.
    pub fn no_basic_constraints(mut self) -> Self {
        self.basic_constraints = None;
        self
    }

    /// Sets keyUsage (critical) to these bits; `None` omits the extension.
    pub fn key_usage(mut self, bits: Option<&[Ku]>) -> Self {
        self.key_usage = bits.map(<[Ku]>::to_vec);
        self
    }

    /// Sets extendedKeyUsage to these purposes; `None` omits the extension.
    pub fn eku(mut self, purposes: Option<&[Eku]>) -> Self {
        self.eku = purposes.map(<[Eku]>::to_vec);
        self
    }

    /// Adds a permitted dNSName subtree to nameConstraints.
    pub fn permit_dns(mut self, base: &str) -> Self {
        self.permitted.push(San::Dns(base.to_string()));
        self
    }

    /// Adds an excluded dNSName subtree to nameConstraints.
    pub fn exclude_dns(mut self, base: &str) -> Self {
        self.excluded.push(San::Dns(base.to_string()));
        self
    }

    /// Adds a permitted iPAddress subtree (address and mask) to nameConstraints.
    pub fn permit_ip(mut self, addr: &str, mask: &str) -> Self {
        self.permitted
            .push(San::IpRange(addr.to_string(), mask.to_string()));
        self
    }

    /// Adds an arbitrary extension: dotted OID, criticality, DER of the value.
    pub fn extension(mut self, oid: &str, critical: bool, value_der: &[u8]) -> Self {
        self.extra
            .push((oid.to_string(), critical, value_der.to_vec()));
        self
    }

    /// Certifies the key of `other` instead of a fresh one (re-keyed or cross certificates,
    /// and hostile chains where many certificates share a name and a key).
    pub fn same_key_as(mut self, other: &Issued) -> Self {
        self.reuse_key = Some(other.key.clone());
        self
    }

    fn subject_key(&self) -> Result<AnySigningKey, String> {
        match &self.reuse_key {
            Some(key) => Ok(key.clone()),
            None => new_key(self.key),
        }
    }

    /// Makes a self-signed certificate (a root, or a self-signed leaf).
    pub fn self_signed(self) -> Result<Issued, String> {
        let key = self.subject_key()?;
        let name = common_name(&self.cn)?;
        let cert = self.build(name.clone(), &key, &key)?;
        Ok(Issued { cert, key, name })
    }

    /// Makes a certificate signed by `issuer`.
    pub fn issued_by(self, issuer: &Issued) -> Result<Issued, String> {
        let key = self.subject_key()?;
        let name = common_name(&self.cn)?;
        let cert = self.build(issuer.name.clone(), &key, &issuer.key)?;
        Ok(Issued { cert, key, name })
    }

    fn build(
        &self,
        issuer: Name,
        subject_key: &AnySigningKey,
        signer: &AnySigningKey,
    ) -> Result<CertificateDer, String> {
        let mut extensions: Vec<Extension> = Vec::new();
        if let Some((ca, path_len_constraint)) = self.basic_constraints {
            extensions.push(extension(
                BASIC_CONSTRAINTS,
                true,
                &BasicConstraints {
                    ca,
                    path_len_constraint,
                },
            )?);
        }
        if let Some(bits) = &self.key_usage {
            extensions.push(extension(KEY_USAGE, true, &key_usage_bits(bits)?)?);
        }
        if let Some(purposes) = &self.eku {
            let oids = purposes
                .iter()
                .map(|p| match p {
                    Eku::ServerAuth => OID_KP_SERVER_AUTH,
                    Eku::ClientAuth => OID_KP_CLIENT_AUTH,
                    Eku::CodeSigning => ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3"),
                    Eku::Any => ObjectIdentifier::new_unwrap("2.5.29.37.0"),
                })
                .collect();
            extensions.push(extension(
                EXTENDED_KEY_USAGE,
                false,
                &ExtendedKeyUsage(oids),
            )?);
        }
        if !self.sans.is_empty() {
            let names = self
                .sans
                .iter()
                .map(general_name)
                .collect::<Result<Vec<_>, _>>()?;
            extensions.push(extension(SUBJECT_ALT_NAME, false, &SubjectAltName(names))?);
        }
        if !self.permitted.is_empty() || !self.excluded.is_empty() {
            let subtrees = |list: &[San]| -> Result<Option<Vec<GeneralSubtree>>, String> {
                if list.is_empty() {
                    return Ok(None);
                }
                list.iter()
                    .map(|san| {
                        Ok(GeneralSubtree {
                            base: general_name(san)?,
                            minimum: 0,
                            maximum: None,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
                    .map(Some)
            };
            extensions.push(extension(
                NAME_CONSTRAINTS,
                true,
                &NameConstraints {
                    permitted_subtrees: subtrees(&self.permitted)?,
                    excluded_subtrees: subtrees(&self.excluded)?,
                },
            )?);
        }
        for (oid, critical, value) in &self.extra {
            let oid = ObjectIdentifier::new(oid).map_err(|e| e.to_string())?;
            let any =
                <der::asn1::Any as der::Decode>::from_der(value).map_err(|e| e.to_string())?;
            extensions.push(extension(oid, *critical, &any)?);
        }
        build_certificate(
            CertFields {
                subject: common_name(&self.cn)?,
                issuer,
                serial: random_serial()?,
                validity: validity(self.not_before, self.not_after)?,
                spki: subject_key.spki()?,
                extensions,
            },
            signer,
        )
    }
}

/// keyUsage as a DER BIT STRING of named bits: trailing zero bits dropped (X.690 §11.2.2).
fn key_usage_bits(bits: &[Ku]) -> Result<der::asn1::BitString, String> {
    let mut value: u16 = 0;
    for bit in bits {
        let n = match bit {
            Ku::DigitalSignature => 0,
            Ku::KeyEncipherment => 2,
            Ku::KeyCertSign => 5,
            Ku::CrlSign => 6,
        };
        value |= 0x8000 >> n;
    }
    let bytes = value.to_be_bytes();
    let used_bits = 16 - value.trailing_zeros() as usize;
    let len = used_bits.div_ceil(8);
    let unused = (len * 8 - used_bits) as u8;
    der::asn1::BitString::new(unused, bytes.get(..len).unwrap_or_default())
        .map_err(|e| e.to_string())
}

fn general_name(san: &San) -> Result<GeneralName, String> {
    match san {
        San::Dns(name) => dns_general_name(name),
        San::Ip(ip) => Ok(GeneralName::from(parse_ip(ip)?)),
        San::IpRange(addr, mask) => {
            let (addr, mask) = (parse_ip(addr)?, parse_ip(mask)?);
            let mut bytes = match addr {
                IpAddr::V4(a) => a.octets().to_vec(),
                IpAddr::V6(a) => a.octets().to_vec(),
            };
            match mask {
                IpAddr::V4(m) => bytes.extend_from_slice(&m.octets()),
                IpAddr::V6(m) => bytes.extend_from_slice(&m.octets()),
            }
            der::asn1::OctetString::new(bytes)
                .map(GeneralName::IpAddress)
                .map_err(|e| e.to_string())
        }
    }
}

fn parse_ip(s: &str) -> Result<IpAddr, String> {
    s.parse().map_err(|_| format!("{s:?} is not an IP address"))
}

fn new_key(kind: KeyKind) -> Result<AnySigningKey, String> {
    let mut rng = getrandom::SysRng;
    Ok(match kind {
        KeyKind::P256 => AnySigningKey::P256(
            p256::ecdsa::SigningKey::try_generate_from_rng(&mut rng).map_err(|e| e.to_string())?,
        ),
        KeyKind::P384 => AnySigningKey::P384(
            p384::ecdsa::SigningKey::try_generate_from_rng(&mut rng).map_err(|e| e.to_string())?,
        ),
    })
}

/// A certificate made by [`CertSpec`], with its key; it can issue further certificates.
#[derive(Clone)]
pub struct Issued {
    /// The certificate.
    pub cert: CertificateDer,
    key: AnySigningKey,
    name: Name,
}

impl core::fmt::Debug for Issued {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Issued")
            .field("cert", &self.cert)
            .finish_non_exhaustive()
    }
}

impl Issued {
    /// The key as a [`PrivateKey`], if it is P-256.
    pub fn private_key(&self) -> Option<PrivateKey> {
        match &self.key {
            AnySigningKey::P256(k) => Some(PrivateKey::from_signing_key(k.clone())),
            AnySigningKey::P384(_) => None,
        }
    }

    /// The key as PKCS#8 DER (either curve).
    pub fn key_pkcs8_der(&self) -> Result<Vec<u8>, String> {
        match &self.key {
            AnySigningKey::P256(k) => k.to_pkcs8_der(),
            AnySigningKey::P384(k) => k.to_pkcs8_der(),
        }
        .map(|doc| doc.as_bytes().to_vec())
        .map_err(|e| e.to_string())
    }

    /// The key as SEC1 `ECPrivateKey` DER (either curve), with its curve parameters.
    pub fn key_sec1_der(&self) -> Result<Vec<u8>, String> {
        match &self.key {
            AnySigningKey::P256(k) => p256::SecretKey::from(k.as_nonzero_scalar()).to_sec1_der(),
            AnySigningKey::P384(k) => p384::SecretKey::from(k.as_nonzero_scalar()).to_sec1_der(),
        }
        .map(|der| der.to_vec())
        .map_err(|e| e.to_string())
    }
}
