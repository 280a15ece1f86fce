//! Server names and how they are matched against a certificate: subjectAltName only
//! (RFC 6125 §6.4, RFC 9525), plus the nameConstraints of issuing CAs (RFC 5280 §4.2.1.10).

use core::fmt;
use core::str::FromStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use x509_parser::extensions::{GeneralName, NameConstraints as X509NameConstraints};
use x509_parser::prelude::X509Certificate;

use super::error::{CertError, CertificateError};

/// The name a client expects the server's certificate to be valid for.
///
/// ```
/// use puredtls::cert::ServerName;
/// use std::net::{IpAddr, Ipv4Addr};
///
/// assert_eq!(ServerName::parse("Example.COM.").unwrap(), ServerName::Dns("example.com".into()));
/// assert_eq!(ServerName::parse("127.0.0.1").unwrap(), ServerName::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)));
/// assert!(ServerName::parse("*.example.com").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ServerName {
    /// A DNS name, matched against dNSName subjectAltName entries (case-insensitively).
    Dns(String),
    /// An IP address, matched against iPAddress subjectAltName entries only.
    Ip(IpAddr),
}

impl ServerName {
    /// Parses an IP address (IPv6 optionally in brackets) or a DNS name. DNS names are
    /// lowercased and a single trailing dot is removed.
    pub fn parse(s: &str) -> Result<Self, CertError> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(ServerName::Ip(ip));
        }
        if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            if let Ok(ip) = inner.parse::<Ipv6Addr>() {
                return Ok(ServerName::Ip(IpAddr::V6(ip)));
            }
        }
        let name = s.strip_suffix('.').unwrap_or(s);
        validate_dns_name(name).map_err(|reason| {
            CertError::InvalidServerName(format!(
                "{s:?} is not an IP address nor a DNS name: {reason}"
            ))
        })?;
        Ok(ServerName::Dns(name.to_ascii_lowercase()))
    }
}

impl FromStr for ServerName {
    type Err = CertError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServerName::parse(s)
    }
}

impl TryFrom<&str> for ServerName {
    type Error = CertError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        ServerName::parse(s)
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerName::Dns(name) => f.write_str(name),
            ServerName::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// RFC 1035 §2.3.1 preferred syntax, relaxed as browsers do: underscores allowed, labels may
/// start with a digit. No wildcard: a reference name is never a pattern.
fn validate_dns_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("empty");
    }
    if name.len() > 253 {
        return Err("longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("empty label");
        }
        if label.len() > 63 {
            return Err("label longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("only letters, digits, '-' and '_' are allowed (use punycode for IDNs)");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label starts or ends with '-'");
        }
    }
    Ok(())
}

/// The subjectAltName entries of `cert` that name hosts, as `DNS:…` / `IP:…`.
pub(crate) fn presented_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|gn| match gn {
            GeneralName::DNSName(dns) => Some(format!("DNS:{dns}")),
            GeneralName::IPAddress(bytes) => Some(match ip_from_bytes(bytes) {
                Some(ip) => format!("IP:{ip}"),
                None => format!("IP:<{} bytes>", bytes.len()),
            }),
            _ => None,
        })
        .collect()
}

/// Whether `cert`'s subjectAltName covers `name`. The common name is never consulted, and a
/// certificate without subjectAltName matches nothing.
pub(crate) fn certificate_matches(cert: &X509Certificate<'_>, name: &ServerName) -> bool {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return false;
    };
    match name {
        ServerName::Dns(reference) => {
            let reference = reference.strip_suffix('.').unwrap_or(reference);
            san.value.general_names.iter().any(|gn| match gn {
                GeneralName::DNSName(presented) => dns_name_matches(presented, reference),
                _ => false,
            })
        }
        ServerName::Ip(ip) => san.value.general_names.iter().any(|gn| match gn {
            GeneralName::IPAddress(bytes) => ip_from_bytes(bytes) == Some(*ip),
            _ => false,
        }),
    }
}

/// RFC 6125 §6.4.3 as browsers apply it: case-insensitive; a wildcard only as the whole
/// left-most label, matching exactly one non-empty label, and only above at least two labels
/// (`*.com` matches nothing).
fn dns_name_matches(presented: &str, reference: &str) -> bool {
    if reference.is_empty() || reference.contains('*') {
        return false;
    }
    if let Some(rest) = presented.strip_prefix("*.") {
        if rest.contains('*') || !rest.contains('.') {
            return false;
        }
        return match reference.split_once('.') {
            Some((first, ref_rest)) => !first.is_empty() && ref_rest.eq_ignore_ascii_case(rest),
            None => false,
        };
    }
    !presented.contains('*') && presented.eq_ignore_ascii_case(reference)
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    <[u8; 16]>::try_from(bytes)
        .ok()
        .map(|v6| IpAddr::V6(Ipv6Addr::from(v6)))
}

/// One permitted or excluded subtree of a nameConstraints extension.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Subtree {
    /// A DNS domain, lowercased; a leading dot means "subdomains only".
    Dns(String),
    /// An address and its mask, both 4 or both 16 bytes.
    Ip { addr: Vec<u8>, mask: Vec<u8> },
}

/// The nameConstraints of a CA, for the DNS and IP forms (the only ones a DTLS peer is
/// identified by). Constraints on other forms are refused when the extension is read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NameConstraints {
    permitted: Vec<Subtree>,
    excluded: Vec<Subtree>,
}

impl NameConstraints {
    pub(crate) fn from_x509(nc: &X509NameConstraints<'_>) -> Result<Self, CertificateError> {
        let convert = |subtrees: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| {
            let mut out = Vec::new();
            for subtree in subtrees.iter().flatten() {
                out.push(match &subtree.base {
                    GeneralName::DNSName(dns) => Subtree::Dns(dns.to_ascii_lowercase()),
                    GeneralName::IPAddress(bytes) if bytes.len() == 8 || bytes.len() == 32 => {
                        let (addr, mask) = bytes.split_at(bytes.len() / 2);
                        Subtree::Ip {
                            addr: addr.to_vec(),
                            mask: mask.to_vec(),
                        }
                    }
                    other => {
                        return Err(CertificateError::UnsupportedCriticalExtension(format!(
                            "nameConstraints on {} names",
                            general_name_kind(other)
                        )))
                    }
                });
            }
            Ok(out)
        };
        Ok(Self {
            permitted: convert(&nc.permitted_subtrees)?,
            excluded: convert(&nc.excluded_subtrees)?,
        })
    }

    /// Checks every DNS and IP subjectAltName entry of `cert` (RFC 5280 §4.2.1.10: a
    /// constraint of one name form restricts only names of that form).
    pub(crate) fn check(&self, cert: &X509Certificate<'_>) -> Result<(), CertificateError> {
        let Ok(Some(san)) = cert.subject_alternative_name() else {
            return Ok(());
        };
        let permits_dns = self.permitted.iter().any(|s| matches!(s, Subtree::Dns(_)));
        let permits_ip = self
            .permitted
            .iter()
            .any(|s| matches!(s, Subtree::Ip { .. }));
        for gn in &san.value.general_names {
            let ok = match gn {
                GeneralName::DNSName(dns) => {
                    let dns = dns.to_ascii_lowercase();
                    let inside = |s: &Subtree| match s {
                        Subtree::Dns(base) => dns_in_subtree(&dns, base),
                        Subtree::Ip { .. } => false,
                    };
                    let touches = |s: &Subtree| match s {
                        Subtree::Dns(base) => dns_touches_subtree(&dns, base),
                        Subtree::Ip { .. } => false,
                    };
                    (!permits_dns || self.permitted.iter().any(inside))
                        && !self.excluded.iter().any(touches)
                }
                GeneralName::IPAddress(bytes) => {
                    let inside = |s: &Subtree| match s {
                        Subtree::Ip { addr, mask } => ip_in_subtree(bytes, addr, mask),
                        Subtree::Dns(_) => false,
                    };
                    (!permits_ip || self.permitted.iter().any(inside))
                        && !self.excluded.iter().any(inside)
                }
                _ => true,
            };
            if !ok {
                let name = match gn {
                    GeneralName::IPAddress(bytes) => match ip_from_bytes(bytes) {
                        Some(ip) => format!("IP:{ip}"),
                        None => "IP:<malformed>".to_string(),
                    },
                    GeneralName::DNSName(dns) => format!("DNS:{dns}"),
                    _ => String::new(),
                };
                return Err(CertificateError::NameConstraintViolation { name });
            }
        }
        Ok(())
    }
}

fn general_name_kind(gn: &GeneralName<'_>) -> &'static str {
    match gn {
        GeneralName::OtherName(..) => "otherName",
        GeneralName::RFC822Name(_) => "rfc822Name (email)",
        GeneralName::DNSName(_) => "dNSName",
        GeneralName::X400Address(_) => "x400Address",
        GeneralName::DirectoryName(_) => "directoryName",
        GeneralName::EDIPartyName(_) => "ediPartyName",
        GeneralName::URI(_) => "uniformResourceIdentifier",
        GeneralName::IPAddress(_) => "malformed iPAddress",
        GeneralName::RegisteredID(_) => "registeredID",
        GeneralName::Invalid(..) => "invalid",
    }
}

/// RFC 5280 §4.2.1.10: a name satisfies a DNS constraint if it is the constraint with zero or
/// more labels added on the left. `.example.com` (common in practice) means subdomains only;
/// the empty constraint matches everything.
fn dns_in_subtree(name: &str, base: &str) -> bool {
    if base.is_empty() {
        return true;
    }
    if base.starts_with('.') {
        return name.len() > base.len() && name.ends_with(base);
    }
    name == base
        || name
            .strip_suffix(base)
            .is_some_and(|prefix| prefix.ends_with('.'))
}

/// Whether a presented name could denote a host inside an (excluded) subtree. A wildcard name
/// `*.rest` denotes every `x.rest`, so it touches `base` when `rest` is inside it or when
/// `base` is a single label above `rest`.
fn dns_touches_subtree(name: &str, base: &str) -> bool {
    let Some(rest) = name.strip_prefix("*.") else {
        return dns_in_subtree(name, base);
    };
    let trimmed = base.trim_start_matches('.');
    dns_in_subtree(rest, trimmed)
        || (rest == trimmed && base.starts_with('.'))
        || trimmed
            .strip_suffix(rest)
            .and_then(|p| p.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains('.'))
}

fn ip_in_subtree(ip: &[u8], addr: &[u8], mask: &[u8]) -> bool {
    ip.len() == addr.len()
        && ip
            .iter()
            .zip(addr)
            .zip(mask)
            .all(|((i, a), m)| i & m == a & m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_server_names() {
        assert_eq!(
            ServerName::parse("[::1]").unwrap(),
            ServerName::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST))
        );
        assert_eq!(
            ServerName::parse("a_b.Example.com").unwrap(),
            ServerName::Dns("a_b.example.com".into())
        );
        for bad in [
            "", ".", "a..b", "-a.com", "a-.com", "é.com", "a b.com", "*.a.com",
        ] {
            assert!(
                matches!(ServerName::parse(bad), Err(CertError::InvalidServerName(_))),
                "{bad:?} accepted"
            );
        }
        assert!(ServerName::parse(&"a".repeat(64)).is_err());
        let longest = ["a"; 127].join("."); // 253 characters, the limit
        assert!(ServerName::parse(&longest).is_ok());
        assert!(ServerName::parse(&format!("b{longest}")).is_err());
    }

    #[test]
    fn dns_matching_rules() {
        assert!(dns_name_matches("example.com", "example.com"));
        assert!(dns_name_matches("EXAMPLE.com", "example.COM"));
        assert!(!dns_name_matches("example.com", "www.example.com"));
        assert!(dns_name_matches("*.example.com", "www.example.com"));
        assert!(dns_name_matches("*.Example.com", "WWW.example.com"));
        assert!(!dns_name_matches("*.example.com", "example.com"));
        assert!(!dns_name_matches("*.example.com", "a.b.example.com"));
        assert!(!dns_name_matches("*.example.com", ".example.com"));
        assert!(!dns_name_matches("*.com", "example.com"));
        assert!(!dns_name_matches("w*.example.com", "www.example.com"));
        assert!(!dns_name_matches("*.*.example.com", "a.b.example.com"));
        assert!(!dns_name_matches("*", "localhost"));
    }

    #[test]
    fn dns_constraint_rules() {
        assert!(dns_in_subtree("example.com", "example.com"));
        assert!(dns_in_subtree("a.example.com", "example.com"));
        assert!(!dns_in_subtree("badexample.com", "example.com"));
        assert!(!dns_in_subtree("example.com", ".example.com"));
        assert!(dns_in_subtree("a.example.com", ".example.com"));
        assert!(dns_in_subtree("anything", ""));
        // Wildcards against excluded subtrees.
        assert!(dns_touches_subtree("*.example.com", "secret.example.com"));
        assert!(dns_touches_subtree("*.example.com", "example.com"));
        assert!(dns_touches_subtree("*.example.com", ".example.com"));
        assert!(dns_touches_subtree("*.a.example.com", "example.com"));
        assert!(!dns_touches_subtree(
            "*.example.com",
            "x.secret.example.com"
        ));
        assert!(!dns_touches_subtree("*.example.com", "other.com"));
    }

    #[test]
    fn ip_constraint_rules() {
        assert!(ip_in_subtree(
            &[10, 1, 2, 3],
            &[10, 0, 0, 0],
            &[255, 0, 0, 0]
        ));
        assert!(!ip_in_subtree(
            &[11, 1, 2, 3],
            &[10, 0, 0, 0],
            &[255, 0, 0, 0]
        ));
        assert!(!ip_in_subtree(&[0; 16], &[10, 0, 0, 0], &[0, 0, 0, 0]));
    }
}
