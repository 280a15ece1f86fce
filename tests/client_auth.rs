//! Certificates in the handshake: the client's verification policies and the server's
//! client authentication (none, optional, required).

mod common;

use std::sync::Arc;

use common::Pair;
use puredtls::alert::AlertDescription;
use puredtls::cert::testpki::{CertSpec, Issued, KeyKind, NOW};
use puredtls::cert::{CertificateError, TrustAnchors};
use puredtls::{ClientAuth, ClientConfig, Error, ServerCertVerification, ServerConfig, Status};

struct Pki {
    root: Issued,
    inter: Issued,
    server: Issued,
    client: Issued,
}

fn pki() -> Pki {
    pki_named("Test")
}

/// A PKI whose CA names start with `org` (a CA with another key but the same name would be an
/// impostor, refused as BadSignature rather than UnknownIssuer).
fn pki_named(org: &str) -> Pki {
    let root = CertSpec::ca(&format!("{org} Root"))
        .key(KeyKind::P384)
        .self_signed()
        .unwrap();
    let inter = CertSpec::ca(&format!("{org} Intermediate"))
        .issued_by(&root)
        .unwrap();
    let server = CertSpec::leaf("localhost")
        .dns("localhost")
        .ip("127.0.0.1")
        .issued_by(&inter)
        .unwrap();
    let client = CertSpec::leaf("client-1").issued_by(&inter).unwrap();
    Pki {
        root,
        inter,
        server,
        client,
    }
}

fn anchors(p: &Pki) -> TrustAnchors {
    TrustAnchors::from_certificates(std::slice::from_ref(&p.root.cert)).unwrap()
}

fn server_config(p: &Pki, auth: ClientAuth) -> ServerConfig {
    let mut c = ServerConfig::new(
        vec![p.server.cert.clone(), p.inter.cert.clone()],
        p.server.private_key().unwrap(),
    )
    .unwrap();
    c.client_auth = auth;
    c.verification_time = Some(NOW.0);
    c
}

fn client_config(p: &Pki, name: &str) -> ClientConfig {
    let mut c = ClientConfig::new(anchors(p), name);
    c.verification_time = Some(NOW.0);
    c
}

fn with_client_cert(p: &Pki, c: ClientConfig) -> ClientConfig {
    c.with_client_certificate(
        vec![p.client.cert.clone(), p.inter.cert.clone()],
        p.client.private_key().unwrap(),
    )
    .unwrap()
}

fn required(p: &Pki) -> ClientAuth {
    ClientAuth::Required(ServerCertVerification::WebPki {
        anchors: anchors(p),
    })
}

#[test]
fn client_verifies_chain_and_name() {
    let p = pki();
    let mut pair = Pair::new(
        server_config(&p, ClientAuth::None),
        client_config(&p, "localhost"),
    );
    pair.run(10);
    assert_eq!(pair.client.status(), &Status::Connected);
    assert_eq!(pair.client.peer_certificates().len(), 2);
    assert_eq!(pair.client.peer_certificates()[0], p.server.cert);
}

#[test]
fn client_verifies_ip_address_names() {
    let p = pki();
    let mut pair = Pair::new(
        server_config(&p, ClientAuth::None),
        client_config(&p, "127.0.0.1"),
    );
    pair.run(10);
    assert_eq!(pair.client.status(), &Status::Connected);
}

#[test]
fn wrong_name_fails_with_name_mismatch_and_bad_certificate_alert() {
    let p = pki();
    let mut pair = Pair::new(
        server_config(&p, ClientAuth::None),
        client_config(&p, "example.com"),
    );
    pair.run(10);
    match pair.client.status() {
        Status::Failed(Error::Certificate(CertificateError::NameMismatch { expected, .. })) => {
            assert_eq!(expected, "example.com")
        }
        other => panic!("expected a name mismatch, got {other:?}"),
    }
    assert_eq!(
        pair.server_failure(),
        Some(Error::AlertReceived(AlertDescription::BadCertificate))
    );
}

#[test]
fn unknown_ca_fails_with_unknown_ca_alert() {
    let p = pki();
    let other = pki_named("Other");
    let mut pair = Pair::new(
        server_config(&p, ClientAuth::None),
        client_config(&other, "localhost"),
    );
    pair.run(10);
    assert!(matches!(
        pair.client.status(),
        Status::Failed(Error::Certificate(CertificateError::UnknownIssuer))
    ));
    assert_eq!(
        pair.server_failure(),
        Some(Error::AlertReceived(AlertDescription::UnknownCa))
    );
}

#[test]
fn pinned_fingerprint_match_and_mismatch() {
    let p = pki();
    let pin =
        puredtls::cert::parse_fingerprint(&puredtls::cert::fingerprint_sha256(&p.server.cert))
            .unwrap();
    let ok = ClientConfig::with_verification(ServerCertVerification::PinnedSha256(pin), None);
    let mut pair = Pair::new(server_config(&p, ClientAuth::None), ok);
    pair.run(10);
    assert_eq!(pair.client.status(), &Status::Connected);

    let wrong =
        ClientConfig::with_verification(ServerCertVerification::PinnedSha256([7; 32]), None);
    let mut pair = Pair::new(server_config(&p, ClientAuth::None), wrong);
    pair.run(10);
    assert!(matches!(
        pair.client.status(),
        Status::Failed(Error::Certificate(
            CertificateError::FingerprintMismatch { .. }
        ))
    ));
}

#[test]
fn verifier_callback_that_rejects() {
    let p = pki();
    let cb = ServerCertVerification::Custom(Arc::new(|chain| {
        Err(format!("{} certificates, none welcome", chain.len()))
    }));
    let mut pair = Pair::new(
        server_config(&p, ClientAuth::None),
        ClientConfig::with_verification(cb, None),
    );
    pair.run(10);
    match pair.client.status() {
        Status::Failed(Error::Certificate(CertificateError::Rejected(why))) => {
            assert_eq!(why, "2 certificates, none welcome")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        pair.server_failure(),
        Some(Error::AlertReceived(AlertDescription::CertificateUnknown))
    );
}

#[test]
fn required_client_certificate_good() {
    let p = pki();
    let mut pair = Pair::new(
        server_config(&p, required(&p)),
        with_client_cert(&p, client_config(&p, "localhost")),
    );
    pair.run(10);
    assert_eq!(pair.client.status(), &Status::Connected);
    assert_eq!(pair.server_status(), Some(Status::Connected));
    let server = pair.server.session(&common::peer()).unwrap();
    assert_eq!(server.peer_certificates()[0], p.client.cert);
}

#[test]
fn required_client_certificate_none_sent_is_handshake_failure() {
    let p = pki();
    let mut pair = Pair::new(
        server_config(&p, required(&p)),
        client_config(&p, "localhost"),
    );
    pair.run(10);
    assert_eq!(pair.server_failure(), Some(Error::CertificateRequired));
    assert_eq!(
        pair.client.status(),
        &Status::Failed(Error::AlertReceived(AlertDescription::HandshakeFailure))
    );
}

#[test]
fn optional_client_certificate_none_sent_connects() {
    let p = pki();
    let auth = ClientAuth::Optional(ServerCertVerification::WebPki {
        anchors: anchors(&p),
    });
    let mut pair = Pair::new(server_config(&p, auth), client_config(&p, "localhost"));
    pair.run(10);
    assert_eq!(pair.client.status(), &Status::Connected);
    assert_eq!(pair.server_status(), Some(Status::Connected));
    assert!(pair
        .server
        .session(&common::peer())
        .unwrap()
        .peer_certificates()
        .is_empty());
}

#[test]
fn client_certificate_from_unknown_ca_is_refused() {
    let p = pki();
    let stranger = pki_named("Stranger");
    let mut pair = Pair::new(
        server_config(&p, required(&p)),
        with_client_cert(&stranger, client_config(&p, "localhost")),
    );
    pair.run(10);
    assert_eq!(
        pair.server_failure(),
        Some(Error::Certificate(CertificateError::UnknownIssuer))
    );
    assert_eq!(
        pair.client.status(),
        &Status::Failed(Error::AlertReceived(AlertDescription::UnknownCa))
    );
}

#[test]
fn certificate_verify_signed_by_another_key_is_decrypt_error() {
    let p = pki();
    let mut client = client_config(&p, "localhost");
    // The certificate is the client's, the signing key is not: bypass the config's check.
    client.client_certificate = Some((
        vec![p.client.cert.clone(), p.inter.cert.clone()],
        Arc::new(p.server.private_key().unwrap()),
    ));
    let mut pair = Pair::new(server_config(&p, required(&p)), client);
    pair.run(10);
    assert_eq!(pair.server_failure(), Some(Error::BadSignature));
    assert_eq!(
        pair.client.status(),
        &Status::Failed(Error::AlertReceived(AlertDescription::DecryptError))
    );
}

#[test]
fn certificate_without_certificate_verify_never_connects() {
    let p = pki();
    let mut pair = Pair::new(
        server_config(&p, required(&p)),
        with_client_cert(&p, client_config(&p, "localhost")),
    );
    // Run up to the client's flight, then remove the CertificateVerify record (handshake type
    // 15 in an epoch-0 handshake record) before the server sees it.
    pair.run(2);
    assert!(!pair.to_server.is_empty());
    for d in &mut pair.to_server {
        *d = strip_certificate_verify(d);
    }
    pair.run(10);
    assert_ne!(pair.server_status(), Some(Status::Connected));
    assert_ne!(pair.client.status(), &Status::Connected);
    let stats = pair.server.session(&common::peer()).map(|s| *s.stats());
    // The early ChangeCipherSpec is dropped and the Finished is never accepted.
    assert!(stats.is_none_or(|s| s.dropped_unexpected >= 1), "{stats:?}");
}

/// Removes epoch-0 handshake records that carry a CertificateVerify.
fn strip_certificate_verify(datagram: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = datagram;
    while rest.len() >= 13 {
        let len = u16::from_be_bytes([rest[11], rest[12]]) as usize;
        let (record, tail) = rest.split_at(13 + len);
        let is_cv = record[0] == 22 && record[3..5] == [0, 0] && record.get(13) == Some(&15);
        if !is_cv {
            out.extend_from_slice(record);
        }
        rest = tail;
    }
    out
}

#[test]
fn dangerous_accept_any_connects_to_any_server() {
    let p = pki();
    let mut pair = Pair::new(
        server_config(&p, ClientAuth::None),
        ClientConfig::dangerous_accept_any_certificate(),
    );
    pair.run(10);
    assert_eq!(pair.client.status(), &Status::Connected);
}
