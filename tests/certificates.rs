//! The certificate layer: loading keys and certificates, fingerprints, generation, and chain
//! verification against a small PKI generated here (no files).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use puredtls::cert::testpki::{CertSpec, Eku, Issued, KeyKind, Ku, NOT_AFTER, NOT_BEFORE, NOW};
use puredtls::cert::{
    check_key_matches_certificate, fingerprint_sha256, generate_self_signed, leaf_public_key,
    load_certificates, parse_fingerprint, verify_chain, CertError, CertificateDer,
    CertificateError, KeyError, PeerPublicKey, PrivateKey, Purpose, ServerCertVerification,
    ServerName, TrustAnchors, UnixTime, VerifiedPeer, MAX_CHAIN_LEN,
};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// Root CA → intermediate CA → leaf for example.com.
struct Pki {
    root: Issued,
    inter: Issued,
    leaf: Issued,
}

fn pki(root_kind: KeyKind) -> Pki {
    let root = CertSpec::ca("Test Root")
        .key(root_kind)
        .self_signed()
        .unwrap();
    let inter = CertSpec::ca("Test Intermediate").issued_by(&root).unwrap();
    let leaf = CertSpec::leaf("example.com")
        .dns("example.com")
        .issued_by(&inter)
        .unwrap();
    Pki { root, inter, leaf }
}

fn anchors(certs: &[&Issued]) -> TrustAnchors {
    let certs: Vec<CertificateDer> = certs.iter().map(|i| i.cert.clone()).collect();
    TrustAnchors::from_certificates(&certs).unwrap()
}

fn name(s: &str) -> ServerName {
    ServerName::parse(s).unwrap()
}

fn chain(certs: &[&Issued]) -> Vec<CertificateDer> {
    certs.iter().map(|i| i.cert.clone()).collect()
}

/// Verifies `leaf` (+ `intermediates`) for `host` at [`NOW`] as a server certificate.
fn verify(
    certs: &[&Issued],
    roots: &[&Issued],
    host: Option<&str>,
) -> Result<VerifiedPeer, CertificateError> {
    let host = host.map(name);
    verify_chain(
        &chain(certs),
        &anchors(roots),
        host.as_ref(),
        NOW,
        Purpose::ServerAuth,
    )
}

/// A leaf for `host` directly under `root`, built from `spec`.
fn leaf_under(root: &Issued, spec: CertSpec) -> Issued {
    spec.issued_by(root).unwrap()
}

// RSA-2048 would be slow to embed; a 512-bit RSA key is enough to be recognised. Public test
// data, generated once with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512`
// (OpenSSL 3.0.19).
const RSA_PKCS8_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEA3hkNNS3z/QK097mz
P/Ac6F8ApEJw0W9SjKPU0PpS1Xn3ClQuJ6wAY375CihVQlowVzAPkmuaDfiuS8qH
JuF6KwIDAQABAkAwSq4uhAFrYC1NOBmbq2/9rrqK/M9fGp+OaQkbL3LXa7e+lHOk
P7yukfa19gD5Fg8d8JU6gxOl4MYJK5qZGiIhAiEA/gNOAUgxwBJ8dU7UwdvMH/tB
n/JE93qwYceMkMpIKKkCIQDf1dUpvAal9NaV13uMhLeqv+S/+x6n4DNadVZvSfAs
swIgBoDzKFk+3NocUayZCfWkvlTik0PSvDtp9Lb1RGfJfTECIBP66G4zRHyn4Ee7
1mFyr1pkiqzAY7okfzEB7Fc+yFuVAiEAmmzpY0mPHoW6NPlu0Q6ysO07g0edZJH0
Te0Ng+om1U8=
-----END PRIVATE KEY-----
";

/// The same key in PKCS#1 (`openssl rsa -traditional`).
const RSA_PKCS1_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIBOgIBAAJBAN4ZDTUt8/0CtPe5sz/wHOhfAKRCcNFvUoyj1ND6UtV59wpULies
AGN++QooVUJaMFcwD5Jrmg34rkvKhybheisCAwEAAQJAMEquLoQBa2AtTTgZm6tv
/a66ivzPXxqfjmkJGy9y12u3vpRzpD+8rpH2tfYA+RYPHfCVOoMTpeDGCSuamRoi
IQIhAP4DTgFIMcASfHVO1MHbzB/7QZ/yRPd6sGHHjJDKSCipAiEA39XVKbwGpfTW
ldd7jIS3qr/kv/sep+AzWnVWb0nwLLMCIAaA8yhZPtzaHFGsmQn1pL5U4pND0rw7
afS29URnyX0xAiAT+uhuM0R8p+BHu9Zhcq9aZIqswGO6JH8xAexXPshblQIhAJps
6WNJjx6FujT5btEOsrDtO4NHnWSR9E3tDYPqJtVP
-----END RSA PRIVATE KEY-----
";

/// A self-signed RSA certificate for that key (`openssl req -x509 -subj /CN=rsa.example`).
const RSA_CERT_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBmzCCAUWgAwIBAgIUIJgc/4EG7e0vn9aaCJmB6iCPAh8wDQYJKoZIhvcNAQEL
BQAwFjEUMBIGA1UEAwwLcnNhLmV4YW1wbGUwHhcNMjYxMTI2MTA1NTMzWhcNMzYx
MTIzMTA1NTMzWjAWMRQwEgYDVQQDDAtyc2EuZXhhbXBsZTBcMA0GCSqGSIb3DQEB
AQUAA0sAMEgCQQDeGQ01LfP9ArT3ubM/8BzoXwCkQnDRb1KMo9TQ+lLVefcKVC4n
rABjfvkKKFVCWjBXMA+Sa5oN+K5Lyocm4XorAgMBAAGjazBpMB0GA1UdDgQWBBSB
USNMr//lW5EC1I0VtikD93eTsDAfBgNVHSMEGDAWgBSBUSNMr//lW5EC1I0VtikD
93eTsDAPBgNVHRMBAf8EBTADAQH/MBYGA1UdEQQPMA2CC3JzYS5leGFtcGxlMA0G
CSqGSIb3DQEBCwUAA0EAQ0+RPJNkvzlklw0XHz8evQyIVKoWTMcZiU2MEnYBdb30
mSq63SRvIEEhYrvs89TfZSnP4e1iLbr5GXU4qz2idQ==
-----END CERTIFICATE-----
";

/// What `openssl x509 -in rsa.pem -noout -fingerprint -sha256` printed for RSA_CERT_PEM.
const RSA_CERT_OPENSSL_FINGERPRINT: &str = "D6:FD:71:77:C5:0E:C7:40:B7:7A:5D:9B:95:78:3F:B9:\
C3:27:34:BA:BA:3A:F6:43:4A:45:31:9B:17:AA:BB:AD";

/// `openssl pkcs8 -topk8 -v2 aes-128-cbc` of a P-256 key (password "test").
const ENCRYPTED_PKCS8_PEM: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjJJeXWNMMziAICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEJZoVG8rA3HGPtuSRIjzQtwEgZC8
/qCzRJYu4yTYHyiad7ZxfXtL/PZVMVZ62ZS6ZTh3yZHIWEKNIJ8WG88F+q6CVsVh
mz/6PFeEX8kUKAqTsNrJOqIuayeLPwlF7BNFH785nAPVJXAuAO9MQMhyqcBd+fft
uqxAacgZEotVgMv63tTHk2o5mNPJ8/jRpwGpr+Hc5stDI1Dn+44pNjg5j+xg8sM=
-----END ENCRYPTED PRIVATE KEY-----
";

/// `openssl genpkey -algorithm ED25519`.
const ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIC2Q0ojkPcXv4c9nRqFYJlw0iiugtR/sk9aXYlkJ1/8r
-----END PRIVATE KEY-----
";

/// `openssl ecparam -name prime256v1 -genkey`: SEC1 with an `EC PARAMETERS` block first, the
/// way many Godot tutorials produce keys.
const OPENSSL_SEC1_PEM: &str = "-----BEGIN EC PARAMETERS-----
BggqhkjOPQMBBw==
-----END EC PARAMETERS-----
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEINLRAgdQ46UjE0VRFAPJPAq4yOBdeJEJeH+Jnf1gIkHuoAoGCCqGSM49
AwEHoUQDQgAEHCqwgxIRJ4q7uTwGShWoPxe+NkfjAkP3Q7qO0s3zQLOPtWkBJgYm
0FX5yZSCQVxLsg7Gg0x1i4rDZLg5FVd0kw==
-----END EC PRIVATE KEY-----
";

/// Public key of OPENSSL_SEC1_PEM, from `openssl ec -pubout -outform DER | tail -c 65`.
const OPENSSL_SEC1_PUBLIC: &str = "041c2ab0831211278abbb93c064a15a83f17be3647e30243f743ba8ed\
2cdf340b38fb56901260626d055f9c99482415c4bb20ec6834c758b8ac364b83915577493";

/// `echo -n hello | openssl dgst -sha256 -sign` with OPENSSL_SEC1_PEM (random nonce).
const OPENSSL_SIGNATURE_OF_HELLO: &str = "3044022025653b0fc2d94efe431d664ee06acb5c72c9075384faab\
89588619dfa858bb5202202dbf12bb02c45bd9a4be1a2c3e899cfab6608e2a5578978c26525bc73f139be0";

/// A chain made by OpenSSL 3.0.19: a P-384 root ("OpenSSL Test Root", SHA-384) and a leaf
/// for DNS:openssl.test and IP:127.0.0.1 whose key is OPENSSL_SEC1_PEM. Valid from
/// 2026-11-26 to 2036-11-23.
const OPENSSL_ROOT_PEM: &str = "-----BEGIN CERTIFICATE-----
MIICDTCCAZKgAwIBAgIUcyF1VKZ5kUXtc4N1ZSUwyvSEyeIwCgYIKoZIzj0EAwMw
NTEaMBgGA1UEAwwRT3BlblNTTCBUZXN0IFJvb3QxFzAVBgNVBAoMDnB1cmVkdGxz
IHRlc3RzMB4XDTI2MTEyNjEwNTUzOFoXDTM2MTEyMzEwNTUzOFowNTEaMBgGA1UE
AwwRT3BlblNTTCBUZXN0IFJvb3QxFzAVBgNVBAoMDnB1cmVkdGxzIHRlc3RzMHYw
EAYHKoZIzj0CAQYFK4EEACIDYgAEnfo3U7K04vO+fVWGSp4DNpSYYnbLT0DlZ9KH
48Zl6rZX5n6MoKwk6iCNEjLZl+P1jgcFosYtZgyCVKKl5yd6RshpFmtwmpvq1YLQ
DA/OrHu7Qvds+caynSa32vUmkdY4o2MwYTAdBgNVHQ4EFgQUnddRrOf847SWXfdH
zy61ridyMNcwHwYDVR0jBBgwFoAUnddRrOf847SWXfdHzy61ridyMNcwDwYDVR0T
AQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwMDaQAwZgIxAKNh
34ztrcKHn5cZe6PQmB93Vpui+pYCyhXRH5vCjPRmAMnaZLi13OxrQZ0/LDMISwIx
AIOLBvN/3h454G/u/uDU/4VW3nq9Ap46OEJ5nM/0xjTY7J2faZaDLJvFtQZ83Icz
pQ==
-----END CERTIFICATE-----
";

const OPENSSL_LEAF_PEM: &str = "-----BEGIN CERTIFICATE-----
MIICBDCCAYqgAwIBAgIUGwwh49ybNUGW5ON2h80Ij009DK8wCgYIKoZIzj0EAwMw
NTEaMBgGA1UEAwwRT3BlblNTTCBUZXN0IFJvb3QxFzAVBgNVBAoMDnB1cmVkdGxz
IHRlc3RzMB4XDTI2MTEyNjEwNTUzOFoXDTM2MTEyMzEwNTUzOFowFzEVMBMGA1UE
AwwMb3BlbnNzbC50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEHCqwgxIR
J4q7uTwGShWoPxe+NkfjAkP3Q7qO0s3zQLOPtWkBJgYm0FX5yZSCQVxLsg7Gg0x1
i4rDZLg5FVd0k6OBlTCBkjAdBgNVHREEFjAUggxvcGVuc3NsLnRlc3SHBH8AAAEw
DAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAwwCgYIKwYBBQUH
AwEwHQYDVR0OBBYEFD/cxjv0cQwNuD58mzS2uSxWy1B/MB8GA1UdIwQYMBaAFJ3X
Uazn/OO0ll33R88uta4ncjDXMAoGCCqGSM49BAMDA2gAMGUCMFZxLGUpymIjKS/L
i3fSiHPshVB6j/biAjGH3T6mtR1P/7xALQOKtXj6oGMUtWNPtQIxAL7f51LqU2d0
js2NRn2RUW4C8P1xMX9vAUa/OBUrvyx3HbjwAv7RUc4M4EjSSF3y7A==
-----END CERTIFICATE-----
";

/// What `openssl x509 -noout -fingerprint -sha256` printed for OPENSSL_LEAF_PEM.
const OPENSSL_LEAF_FINGERPRINT: &str = "41:E2:93:EB:80:50:CE:B8:DA:52:30:27:14:22:18:EF:\
55:BF:85:C2:A9:45:C0:51:1B:01:3F:6A:BF:4D:32:83";

fn pem_encode(label: &str, der: &[u8]) -> String {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Verification: good chains
// ---------------------------------------------------------------------------------------------

#[test]
fn good_chain_under_a_p256_root_verifies() {
    let p = pki(KeyKind::P256);
    let peer = verify(&[&p.leaf, &p.inter], &[&p.root], Some("example.com")).unwrap();
    let leaf_key = p.leaf.private_key().unwrap().public_key_sec1();
    assert_eq!(peer.leaf_public_key, PeerPublicKey::P256(leaf_key));
    assert_eq!(peer.path_len, 2);
    assert_eq!(peer.trust_anchor, "CN=Test Root");
}

#[test]
fn good_chain_under_a_p384_root_verifies() {
    let p = pki(KeyKind::P384);
    let peer = verify(&[&p.leaf, &p.inter], &[&p.root], Some("example.com")).unwrap();
    assert_eq!(peer.path_len, 2);
    assert_eq!(peer.trust_anchor, "CN=Test Root");
}

#[test]
fn p384_leaf_key_is_returned_as_p384() {
    let root = CertSpec::ca("Root")
        .key(KeyKind::P384)
        .self_signed()
        .unwrap();
    let leaf = leaf_under(
        &root,
        CertSpec::leaf("p384.test")
            .dns("p384.test")
            .key(KeyKind::P384),
    );
    let peer = verify(&[&leaf], &[&root], Some("p384.test")).unwrap();
    let PeerPublicKey::P384(point) = &peer.leaf_public_key else {
        panic!("expected a P-384 key, got {:?}", peer.leaf_public_key);
    };
    assert_eq!(point.len(), 97);
    assert_eq!(point[0], 0x04);
    assert_eq!(leaf_public_key(&leaf.cert).unwrap(), peer.leaf_public_key);
}

#[test]
fn leaf_signed_directly_by_the_root_verifies() {
    let p = pki(KeyKind::P256);
    let leaf = leaf_under(&p.root, CertSpec::leaf("direct.test").dns("direct.test"));
    let peer = verify(&[&leaf], &[&p.root], Some("direct.test")).unwrap();
    assert_eq!(peer.path_len, 1);
}

#[test]
fn intermediates_in_any_order_with_extras_and_the_root_included() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let upper = CertSpec::ca("Upper CA").issued_by(&root).unwrap();
    let lower = CertSpec::ca("Lower CA").issued_by(&upper).unwrap();
    let leaf = leaf_under(&lower, CertSpec::leaf("deep.test").dns("deep.test"));
    let unrelated = CertSpec::ca("Unrelated CA").self_signed().unwrap();

    // The correct order is leaf, lower, upper; send them reversed, with noise and the root.
    for presented in [
        vec![&leaf, &upper, &lower],
        vec![&leaf, &unrelated, &upper, &root, &lower],
        vec![&leaf, &lower, &lower, &upper],
    ] {
        let peer = verify(&presented, &[&root], Some("deep.test")).unwrap();
        assert_eq!(
            peer.path_len,
            3,
            "presented {} certificates",
            presented.len()
        );
    }
}

#[test]
fn chain_made_by_openssl_verifies() {
    let chain = load_certificates(OPENSSL_LEAF_PEM.as_bytes()).unwrap();
    let anchors = TrustAnchors::from_pem(OPENSSL_ROOT_PEM.as_bytes()).unwrap();
    let now = UnixTime(1_800_000_000);
    for host in ["openssl.test", "127.0.0.1"] {
        let peer = verify_chain(
            &chain,
            &anchors,
            Some(&name(host)),
            now,
            Purpose::ServerAuth,
        )
        .unwrap();
        assert_eq!(peer.trust_anchor, "CN=OpenSSL Test Root, O=puredtls tests");
    }
    let key = PrivateKey::from_pem(OPENSSL_SEC1_PEM).unwrap();
    check_key_matches_certificate(&key, &chain[0]).unwrap();
    assert_eq!(
        verify_chain(&chain, &anchors, None, now, Purpose::ClientAuth).unwrap_err(),
        CertificateError::InvalidPurpose,
        "the OpenSSL leaf has extendedKeyUsage serverAuth only"
    );
}

#[test]
fn an_rsa_root_among_the_anchors_does_not_prevent_ecdsa_chains() {
    let p = pki(KeyKind::P256);
    let mut anchors = TrustAnchors::from_pem(RSA_CERT_PEM.as_bytes()).unwrap();
    anchors.add(&p.root.cert).unwrap();
    assert_eq!(anchors.len(), 2);
    let peer = verify_chain(
        &chain(&[&p.leaf, &p.inter]),
        &anchors,
        Some(&name("example.com")),
        NOW,
        Purpose::ServerAuth,
    )
    .unwrap();
    assert_eq!(peer.trust_anchor, "CN=Test Root");
}

// ---------------------------------------------------------------------------------------------
// Verification: issuers
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_intermediate_is_unknown_issuer() {
    let p = pki(KeyKind::P256);
    let err = verify(&[&p.leaf], &[&p.root], Some("example.com")).unwrap_err();
    assert_eq!(err, CertificateError::UnknownIssuer);
    assert_eq!(err.alert_description_code(), 48);
}

#[test]
fn untrusted_root_is_unknown_issuer() {
    let p = pki(KeyKind::P256);
    let other = CertSpec::ca("Other Root").self_signed().unwrap();
    let err = verify(&[&p.leaf, &p.inter], &[&other], Some("example.com")).unwrap_err();
    assert_eq!(err, CertificateError::UnknownIssuer);
    // Sending the root along does not make it trusted.
    let err = verify(
        &[&p.leaf, &p.inter, &p.root],
        &[&other],
        Some("example.com"),
    )
    .unwrap_err();
    assert_eq!(err, CertificateError::UnknownIssuer);
}

#[test]
fn empty_anchor_set_trusts_nothing() {
    let p = pki(KeyKind::P256);
    let err = verify(&[&p.leaf, &p.inter], &[], Some("example.com")).unwrap_err();
    assert_eq!(err, CertificateError::UnknownIssuer);
}

#[test]
fn impostor_root_with_the_same_name_is_a_bad_signature() {
    let p = pki(KeyKind::P256);
    let impostor = CertSpec::ca("Test Root").self_signed().unwrap();
    let err = verify(&[&p.leaf, &p.inter], &[&impostor], Some("example.com")).unwrap_err();
    assert_eq!(err, CertificateError::BadSignature);
    assert_eq!(err.alert_description_code(), 42);
}

#[test]
fn tampered_leaf_is_a_bad_signature() {
    let p = pki(KeyKind::P256);
    let mut der = p.leaf.cert.0.clone();
    // Change the SAN "example.com" to "exbmple.com" inside the signed tbsCertificate.
    let at = der.windows(11).position(|w| w == b"example.com").unwrap();
    der[at + 2] = b'b';
    let err = verify_chain(
        &[CertificateDer(der), p.inter.cert.clone()],
        &anchors(&[&p.root]),
        Some(&name("exbmple.com")),
        NOW,
        Purpose::ServerAuth,
    )
    .unwrap_err();
    assert_eq!(err, CertificateError::BadSignature);
}

#[test]
fn non_ca_intermediate_is_not_a_ca() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    for (what, spec) in [
        ("cA=false", CertSpec::ca("Inter").not_ca()),
        (
            "no basicConstraints",
            CertSpec::ca("Inter").no_basic_constraints(),
        ),
        (
            "keyUsage without keyCertSign",
            CertSpec::ca("Inter").key_usage(Some(&[Ku::DigitalSignature])),
        ),
    ] {
        let inter = spec.issued_by(&root).unwrap();
        let leaf = leaf_under(&inter, CertSpec::leaf("a.test").dns("a.test"));
        let err = verify(&[&leaf, &inter], &[&root], Some("a.test")).unwrap_err();
        assert_eq!(err, CertificateError::NotACa, "{what}");
        assert_eq!(err.alert_description_code(), 48);
    }
    // keyUsage absent altogether is fine for a CA.
    let inter = CertSpec::ca("Inter")
        .key_usage(None)
        .issued_by(&root)
        .unwrap();
    let leaf = leaf_under(&inter, CertSpec::leaf("a.test").dns("a.test"));
    verify(&[&leaf, &inter], &[&root], Some("a.test")).unwrap();
}

#[test]
fn a_leaf_cannot_issue_certificates() {
    let p = pki(KeyKind::P256);
    let below_leaf = leaf_under(&p.leaf, CertSpec::leaf("evil.test").dns("evil.test"));
    let err = verify(
        &[&below_leaf, &p.leaf, &p.inter],
        &[&p.root],
        Some("evil.test"),
    )
    .unwrap_err();
    assert_eq!(err, CertificateError::NotACa);
}

#[test]
fn a_pinned_non_ca_anchor_trusts_itself_but_cannot_issue() {
    let pinned = CertSpec::leaf("pinned.test")
        .dns("pinned.test")
        .not_ca()
        .self_signed()
        .unwrap();
    let peer = verify(&[&pinned], &[&pinned], Some("pinned.test")).unwrap();
    assert_eq!(peer.path_len, 1);
    let issued = leaf_under(&pinned, CertSpec::leaf("other.test").dns("other.test"));
    let err = verify(&[&issued], &[&pinned], Some("other.test")).unwrap_err();
    assert_eq!(err, CertificateError::NotACa);
}

#[test]
fn path_length_constraints_are_honoured() {
    // Root pathLen 0: no intermediate CA may follow it.
    let root0 = CertSpec::ca("Root0").path_len(0).self_signed().unwrap();
    let inter = CertSpec::ca("Inter").issued_by(&root0).unwrap();
    let leaf = leaf_under(&inter, CertSpec::leaf("a.test").dns("a.test"));
    let err = verify(&[&leaf, &inter], &[&root0], Some("a.test")).unwrap_err();
    assert_eq!(err, CertificateError::PathTooLong);
    assert_eq!(err.alert_description_code(), 48);
    // ...but it may sign a leaf directly.
    let direct = leaf_under(&root0, CertSpec::leaf("a.test").dns("a.test"));
    verify(&[&direct], &[&root0], Some("a.test")).unwrap();

    // Intermediate pathLen 0 followed by another intermediate.
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let upper = CertSpec::ca("Upper").path_len(0).issued_by(&root).unwrap();
    let lower = CertSpec::ca("Lower").issued_by(&upper).unwrap();
    let leaf = leaf_under(&lower, CertSpec::leaf("a.test").dns("a.test"));
    let err = verify(&[&leaf, &lower, &upper], &[&root], Some("a.test")).unwrap_err();
    assert_eq!(err, CertificateError::PathTooLong);

    // Root pathLen 1: one intermediate is fine, two are not.
    let root1 = CertSpec::ca("Root1").path_len(1).self_signed().unwrap();
    let upper = CertSpec::ca("Upper").issued_by(&root1).unwrap();
    let leaf = leaf_under(&upper, CertSpec::leaf("a.test").dns("a.test"));
    verify(&[&leaf, &upper], &[&root1], Some("a.test")).unwrap();
    let lower = CertSpec::ca("Lower").issued_by(&upper).unwrap();
    let leaf = leaf_under(&lower, CertSpec::leaf("a.test").dns("a.test"));
    let err = verify(&[&leaf, &lower, &upper], &[&root1], Some("a.test")).unwrap_err();
    assert_eq!(err, CertificateError::PathTooLong);
}

// ---------------------------------------------------------------------------------------------
// Verification: time
// ---------------------------------------------------------------------------------------------

#[test]
fn expired_leaf_is_expired() {
    let p = pki(KeyKind::P256);
    let leaf = leaf_under(
        &p.inter,
        CertSpec::leaf("example.com")
            .dns("example.com")
            .validity(NOT_BEFORE, 1_750_000_000),
    );
    let err = verify(&[&leaf, &p.inter], &[&p.root], Some("example.com")).unwrap_err();
    assert_eq!(
        err,
        CertificateError::Expired {
            subject: "CN=example.com".into(),
            not_after: UnixTime(1_750_000_000),
            now: NOW,
        }
    );
    assert_eq!(err.alert_description_code(), 45);
    assert_eq!(
        err.to_string(),
        "certificate CN=example.com expired at 2025-06-15 15:06:40 UTC \
         (now 2027-01-15 08:00:00 UTC); renew it, or check the clock"
    );
}

#[test]
fn not_yet_valid_leaf_is_not_yet_valid() {
    let p = pki(KeyKind::P256);
    let leaf = leaf_under(
        &p.inter,
        CertSpec::leaf("example.com")
            .dns("example.com")
            .validity(1_900_000_000, NOT_AFTER),
    );
    let err = verify(&[&leaf, &p.inter], &[&p.root], Some("example.com")).unwrap_err();
    assert_eq!(
        err,
        CertificateError::NotYetValid {
            subject: "CN=example.com".into(),
            not_before: UnixTime(1_900_000_000),
            now: NOW,
        }
    );
    assert_eq!(err.alert_description_code(), 45);
}

#[test]
fn expired_intermediate_is_expired() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let inter = CertSpec::ca("Old Intermediate")
        .validity(NOT_BEFORE, 1_750_000_000)
        .issued_by(&root)
        .unwrap();
    let leaf = leaf_under(&inter, CertSpec::leaf("a.test").dns("a.test"));
    let err = verify(&[&leaf, &inter], &[&root], Some("a.test")).unwrap_err();
    assert!(
        matches!(&err, CertificateError::Expired { subject, .. } if subject == "CN=Old Intermediate"),
        "{err:?}"
    );
}

#[test]
fn validity_bounds_are_inclusive() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let leaf = leaf_under(
        &root,
        CertSpec::leaf("a.test")
            .dns("a.test")
            .validity(1_800_000_000, 1_800_000_100),
    );
    let anchors = anchors(&[&root]);
    let at = |t: u64| {
        verify_chain(
            &chain(&[&leaf]),
            &anchors,
            None,
            UnixTime(t),
            Purpose::ServerAuth,
        )
        .map(|_| ())
    };
    assert!(matches!(
        at(1_799_999_999),
        Err(CertificateError::NotYetValid { .. })
    ));
    assert_eq!(at(1_800_000_000), Ok(()));
    assert_eq!(at(1_800_000_100), Ok(()));
    assert!(matches!(
        at(1_800_000_101),
        Err(CertificateError::Expired { .. })
    ));
}

#[test]
fn dates_after_2049_use_generalized_time_and_verify() {
    let root = CertSpec::ca("Root")
        .validity(NOT_BEFORE, 4_102_444_800)
        .self_signed()
        .unwrap();
    let leaf = leaf_under(
        &root,
        CertSpec::leaf("a.test")
            .dns("a.test")
            .validity(NOT_BEFORE, 4_102_444_800),
    );
    let anchors = anchors(&[&root]);
    let late = UnixTime(4_000_000_000); // 2096
    verify_chain(&chain(&[&leaf]), &anchors, None, late, Purpose::ServerAuth).unwrap();
    let err = verify_chain(
        &chain(&[&leaf]),
        &anchors,
        None,
        UnixTime(4_102_444_801),
        Purpose::ServerAuth,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        CertificateError::Expired {
            not_after: UnixTime(4_102_444_800),
            ..
        }
    ));
}

// ---------------------------------------------------------------------------------------------
// Verification: names
// ---------------------------------------------------------------------------------------------

#[test]
fn wrong_name_is_name_mismatch() {
    let p = pki(KeyKind::P256);
    let err = verify(&[&p.leaf, &p.inter], &[&p.root], Some("other.com")).unwrap_err();
    assert_eq!(
        err,
        CertificateError::NameMismatch {
            expected: "other.com".into(),
            presented: vec!["DNS:example.com".into()],
        }
    );
    assert_eq!(err.alert_description_code(), 42);
    assert_eq!(
        err.to_string(),
        "the certificate is not valid for other.com; it is valid for DNS:example.com"
    );
}

#[test]
fn dns_names_match_case_insensitively_and_with_a_trailing_dot() {
    let p = pki(KeyKind::P256);
    for host in ["EXAMPLE.com", "example.com.", "Example.Com"] {
        verify(&[&p.leaf, &p.inter], &[&p.root], Some(host)).unwrap();
    }
    // A ServerName built by hand, not normalised, still matches.
    verify_chain(
        &chain(&[&p.leaf, &p.inter]),
        &anchors(&[&p.root]),
        Some(&ServerName::Dns("Example.COM".into())),
        NOW,
        Purpose::ServerAuth,
    )
    .unwrap();
}

#[test]
fn no_name_given_skips_the_name_check() {
    let p = pki(KeyKind::P256);
    verify(&[&p.leaf, &p.inter], &[&p.root], None).unwrap();
}

#[test]
fn ip_san_matches_its_address_only() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let leaf = leaf_under(&root, CertSpec::leaf("127.0.0.1").ip("127.0.0.1").ip("::1"));
    verify(&[&leaf], &[&root], Some("127.0.0.1")).unwrap();
    verify(&[&leaf], &[&root], Some("::1")).unwrap();
    verify(&[&leaf], &[&root], Some("[::1]")).unwrap();
    let err = verify(&[&leaf], &[&root], Some("127.0.0.2")).unwrap_err();
    assert_eq!(
        err,
        CertificateError::NameMismatch {
            expected: "127.0.0.2".into(),
            presented: vec!["IP:127.0.0.1".into(), "IP:::1".into()],
        }
    );
    // An IPv4-mapped IPv6 address is a different address.
    assert!(verify(&[&leaf], &[&root], Some("::ffff:127.0.0.1")).is_err());
    // An IP SAN does not match a DNS name spelled like it would not parse as IP either.
    assert!(verify(&[&leaf], &[&root], Some("localhost")).is_err());
}

#[test]
fn dns_san_spelled_like_an_ip_does_not_match_the_ip() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let leaf = leaf_under(&root, CertSpec::leaf("127.0.0.1").dns("127.0.0.1"));
    let err = verify(&[&leaf], &[&root], Some("127.0.0.1")).unwrap_err();
    assert_eq!(
        err,
        CertificateError::NameMismatch {
            expected: "127.0.0.1".into(),
            presented: vec!["DNS:127.0.0.1".into()],
        }
    );
}

#[test]
fn wildcard_matches_exactly_one_label() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let leaf = leaf_under(&root, CertSpec::leaf("*.example.com").dns("*.example.com"));
    verify(&[&leaf], &[&root], Some("www.example.com")).unwrap();
    verify(&[&leaf], &[&root], Some("API.Example.com")).unwrap();
    for host in [
        "example.com",
        "a.b.example.com",
        "www.example.org",
        "wwwexample.com",
    ] {
        let err = verify(&[&leaf], &[&root], Some(host)).unwrap_err();
        assert_eq!(
            err,
            CertificateError::NameMismatch {
                expected: host.into(),
                presented: vec!["DNS:*.example.com".into()],
            }
        );
    }
}

#[test]
fn wildcard_never_matches_an_ip_address() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let leaf = leaf_under(&root, CertSpec::leaf("*.0.0.1").dns("*.0.0.1"));
    let err = verify(&[&leaf], &[&root], Some("127.0.0.1")).unwrap_err();
    assert!(matches!(err, CertificateError::NameMismatch { .. }));
}

#[test]
fn common_name_is_ignored_and_no_san_means_no_name() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let leaf = leaf_under(&root, CertSpec::leaf("example.com")); // CN only
    let err = verify(&[&leaf], &[&root], Some("example.com")).unwrap_err();
    assert_eq!(
        err,
        CertificateError::NameMismatch {
            expected: "example.com".into(),
            presented: vec![],
        }
    );
    assert_eq!(
        err.to_string(),
        "the certificate is not valid for example.com: it has no subjectAltName \
         (the common name is not used for name checks)"
    );
    // With a SAN for another name, the CN does not help either.
    let leaf = leaf_under(&root, CertSpec::leaf("example.com").dns("other.example"));
    assert!(matches!(
        verify(&[&leaf], &[&root], Some("example.com")),
        Err(CertificateError::NameMismatch { .. })
    ));
}

#[test]
fn name_constraints_of_an_intermediate_are_enforced() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let inter = CertSpec::ca("Constrained CA")
        .permit_dns("example.com")
        .exclude_dns("secret.example.com")
        .permit_ip("10.0.0.0", "255.0.0.0")
        .issued_by(&root)
        .unwrap();
    let ok = leaf_under(
        &inter,
        CertSpec::leaf("a").dns("www.example.com").ip("10.1.2.3"),
    );
    verify(&[&ok, &inter], &[&root], Some("www.example.com")).unwrap();

    for (spec, bad) in [
        (
            CertSpec::leaf("b").dns("www.example.com").dns("evil.com"),
            "DNS:evil.com",
        ),
        (
            CertSpec::leaf("c").dns("badexample.com"),
            "DNS:badexample.com",
        ),
        (
            CertSpec::leaf("d").dns("x.secret.example.com"),
            "DNS:x.secret.example.com",
        ),
        (
            CertSpec::leaf("e").dns("*.example.com"),
            "DNS:*.example.com",
        ),
        (
            CertSpec::leaf("f").dns("www.example.com").ip("192.168.1.1"),
            "IP:192.168.1.1",
        ),
    ] {
        let leaf = leaf_under(&inter, spec);
        let err = verify(&[&leaf, &inter], &[&root], None).unwrap_err();
        assert_eq!(
            err,
            CertificateError::NameConstraintViolation { name: bad.into() },
            "{bad}"
        );
        assert_eq!(err.alert_description_code(), 42);
    }
}

#[test]
fn name_constraints_of_a_root_are_enforced() {
    let root = CertSpec::ca("Root")
        .permit_dns("corp.test")
        .self_signed()
        .unwrap();
    let inter = CertSpec::ca("Inter").issued_by(&root).unwrap();
    let inside = leaf_under(&inter, CertSpec::leaf("a").dns("host.corp.test"));
    verify(&[&inside, &inter], &[&root], Some("host.corp.test")).unwrap();
    let outside = leaf_under(&inter, CertSpec::leaf("b").dns("host.other.test"));
    let err = verify(&[&outside, &inter], &[&root], Some("host.other.test")).unwrap_err();
    assert_eq!(
        err,
        CertificateError::NameConstraintViolation {
            name: "DNS:host.other.test".into()
        }
    );
}

#[test]
fn name_constraints_on_other_name_forms_are_refused() {
    // nameConstraints { permittedSubtrees { { base rfc822Name "example.com" } } }
    let mut email_only = vec![0x30, 0x11, 0xa0, 0x0f, 0x30, 0x0d, 0x81, 0x0b];
    email_only.extend_from_slice(b"example.com");
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let inter = CertSpec::ca("Mail CA")
        .extension("2.5.29.30", true, &email_only)
        .issued_by(&root)
        .unwrap();
    let leaf = leaf_under(&inter, CertSpec::leaf("a").dns("a.test"));
    let expected = CertificateError::UnsupportedCriticalExtension(
        "nameConstraints on rfc822Name (email) names".into(),
    );
    assert_eq!(
        verify(&[&leaf, &inter], &[&root], None).unwrap_err(),
        expected
    );
    // The same constraint on a trust anchor: the anchor loads, chains through it fail.
    let root = CertSpec::ca("Mail Root")
        .extension("2.5.29.30", true, &email_only)
        .self_signed()
        .unwrap();
    let leaf = leaf_under(&root, CertSpec::leaf("a").dns("a.test"));
    assert_eq!(verify(&[&leaf], &[&root], None).unwrap_err(), expected);
}

// ---------------------------------------------------------------------------------------------
// Verification: purpose and extensions
// ---------------------------------------------------------------------------------------------

#[test]
fn client_auth_only_leaf_is_refused_for_server_auth() {
    let p = pki(KeyKind::P256);
    let leaf = leaf_under(
        &p.inter,
        CertSpec::leaf("client")
            .dns("client.test")
            .eku(Some(&[Eku::ClientAuth])),
    );
    let err = verify(&[&leaf, &p.inter], &[&p.root], Some("client.test")).unwrap_err();
    assert_eq!(err, CertificateError::InvalidPurpose);
    assert_eq!(err.alert_description_code(), 43);
    // The same certificate is a fine client certificate.
    verify_chain(
        &chain(&[&leaf, &p.inter]),
        &anchors(&[&p.root]),
        None,
        NOW,
        Purpose::ClientAuth,
    )
    .unwrap();
}

#[test]
fn extended_key_usage_rules() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let check = |ekus: Option<&[Eku]>, purpose: Purpose| {
        let leaf = leaf_under(&root, CertSpec::leaf("a").dns("a.test").eku(ekus));
        verify_chain(&chain(&[&leaf]), &anchors(&[&root]), None, NOW, purpose).map(|_| ())
    };
    assert_eq!(check(None, Purpose::ServerAuth), Ok(()));
    assert_eq!(check(Some(&[Eku::Any]), Purpose::ServerAuth), Ok(()));
    assert_eq!(check(Some(&[Eku::Any]), Purpose::ClientAuth), Ok(()));
    assert_eq!(check(Some(&[Eku::ServerAuth]), Purpose::ServerAuth), Ok(()));
    assert_eq!(
        check(Some(&[Eku::ServerAuth]), Purpose::ClientAuth),
        Err(CertificateError::InvalidPurpose)
    );
    assert_eq!(
        check(Some(&[Eku::CodeSigning]), Purpose::ServerAuth),
        Err(CertificateError::InvalidPurpose)
    );
}

#[test]
fn intermediate_extended_key_usage_constrains_the_chain() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let inter = CertSpec::ca("Client CA")
        .eku(Some(&[Eku::ClientAuth]))
        .issued_by(&root)
        .unwrap();
    let leaf = leaf_under(&inter, CertSpec::leaf("a").dns("a.test").eku(None));
    let err = verify(&[&leaf, &inter], &[&root], Some("a.test")).unwrap_err();
    assert_eq!(err, CertificateError::InvalidPurpose);
}

#[test]
fn leaf_key_usage_must_allow_signatures() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let leaf = leaf_under(
        &root,
        CertSpec::leaf("a")
            .dns("a.test")
            .key_usage(Some(&[Ku::KeyEncipherment])),
    );
    let err = verify(&[&leaf], &[&root], Some("a.test")).unwrap_err();
    assert_eq!(err, CertificateError::InvalidPurpose);
    // Without keyUsage the leaf is fine.
    let leaf = leaf_under(&root, CertSpec::leaf("a").dns("a.test").key_usage(None));
    verify(&[&leaf], &[&root], Some("a.test")).unwrap();
}

#[test]
fn unknown_critical_extension_is_refused_and_non_critical_is_ignored() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let null = [0x05, 0x00];
    let critical = leaf_under(
        &root,
        CertSpec::leaf("a")
            .dns("a.test")
            .extension("1.2.3.4", true, &null),
    );
    let err = verify(&[&critical], &[&root], Some("a.test")).unwrap_err();
    assert_eq!(
        err,
        CertificateError::UnsupportedCriticalExtension("1.2.3.4".into())
    );
    assert_eq!(err.alert_description_code(), 43);
    let benign = leaf_under(
        &root,
        CertSpec::leaf("a")
            .dns("a.test")
            .extension("1.2.3.4", false, &null),
    );
    verify(&[&benign], &[&root], Some("a.test")).unwrap();
}

#[test]
fn unsupported_signature_algorithm_is_named() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let leaf = leaf_under(&root, CertSpec::leaf("a").dns("a.test"));
    // ecdsa-with-SHA256 (…04 03 02) → ecdsa-with-SHA512 (…04 03 04), in tbs and outer fields.
    let sha256_oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let mut der = leaf.cert.0.clone();
    let mut replaced = 0;
    let mut i = 0;
    while i + sha256_oid.len() <= der.len() {
        if der[i..i + sha256_oid.len()] == sha256_oid {
            der[i + sha256_oid.len() - 1] = 0x04;
            replaced += 1;
        }
        i += 1;
    }
    assert_eq!(replaced, 2);
    let err = verify_chain(
        &[CertificateDer(der)],
        &anchors(&[&root]),
        None,
        NOW,
        Purpose::ServerAuth,
    )
    .unwrap_err();
    assert_eq!(
        err,
        CertificateError::UnsupportedAlgorithm(
            "certificate signature algorithm ecdsa-with-SHA512 (1.2.840.10045.4.3.4)".into()
        )
    );
    assert_eq!(err.alert_description_code(), 43);
}

#[test]
fn rsa_leaf_is_unsupported() {
    let rsa = load_certificates(RSA_CERT_PEM.as_bytes()).unwrap();
    let err = leaf_public_key(&rsa[0]).unwrap_err();
    assert_eq!(
        err,
        CertificateError::UnsupportedAlgorithm("RSA public key".into())
    );
    let anchors = TrustAnchors::from_certificates(&rsa).unwrap();
    let err = verify_chain(&rsa, &anchors, None, NOW, Purpose::ServerAuth).unwrap_err();
    assert_eq!(
        err,
        CertificateError::UnsupportedAlgorithm("RSA public key".into())
    );
}

// ---------------------------------------------------------------------------------------------
// Verification: hostile input
// ---------------------------------------------------------------------------------------------

#[test]
fn chain_of_twenty_certificates_is_refused_without_hanging() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let mut cas = vec![root.clone()];
    for i in 0..19 {
        let next = CertSpec::ca(&format!("CA {i}"))
            .issued_by(cas.last().unwrap())
            .unwrap();
        cas.push(next);
    }
    let leaf = leaf_under(cas.last().unwrap(), CertSpec::leaf("a").dns("a.test"));
    let mut presented: Vec<&Issued> = vec![&leaf];
    presented.extend(cas[1..].iter().rev());
    assert_eq!(presented.len(), 20);
    let started = Instant::now();
    let err = verify(&presented, &[&root], Some("a.test")).unwrap_err();
    assert_eq!(
        err,
        CertificateError::ChainTooLong {
            presented: 20,
            max: MAX_CHAIN_LEN,
        }
    );
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
    // Every policy applies the limit.
    let long = chain(&presented);
    let err = ServerCertVerification::DangerousAcceptAnyCertificate
        .verify(&long, None, NOW)
        .unwrap_err();
    assert!(matches!(
        err,
        CertificateError::ChainTooLong { presented: 20, .. }
    ));
    // A chain exactly at the limit (leaf + 7 intermediates) verifies.
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let mut cas = vec![root.clone()];
    for i in 0..7 {
        let next = CertSpec::ca(&format!("CA {i}"))
            .issued_by(cas.last().unwrap())
            .unwrap();
        cas.push(next);
    }
    let leaf = leaf_under(cas.last().unwrap(), CertSpec::leaf("a").dns("a.test"));
    let mut presented: Vec<&Issued> = vec![&leaf];
    presented.extend(cas[1..].iter());
    assert_eq!(presented.len(), MAX_CHAIN_LEN);
    assert_eq!(
        verify(&presented, &[&root], Some("a.test"))
            .unwrap()
            .path_len,
        8
    );
}

#[test]
fn many_interchangeable_issuers_cannot_cause_exponential_path_building() {
    // Seven CA certificates with the same name and the same key: each can issue every other
    // one, so a naive search would try all 7! orders. None leads to the trusted root.
    let first = CertSpec::ca("Loop CA").self_signed().unwrap();
    let mut loop_cas = vec![first.clone()];
    for _ in 0..6 {
        loop_cas.push(
            CertSpec::ca("Loop CA")
                .same_key_as(&first)
                .issued_by(&first)
                .unwrap(),
        );
    }
    let leaf = leaf_under(&first, CertSpec::leaf("a").dns("a.test"));
    let root = CertSpec::ca("Real Root").self_signed().unwrap();
    let mut presented: Vec<&Issued> = vec![&leaf];
    presented.extend(loop_cas.iter());
    assert_eq!(presented.len(), MAX_CHAIN_LEN);
    let started = Instant::now();
    let err = verify(&presented, &[&root], Some("a.test")).unwrap_err();
    assert_eq!(err, CertificateError::UnknownIssuer);
    // 32 signature checks at most; a debug build does one in ~2 ms.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn empty_chain_and_garbage_are_refused() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let anchors = anchors(&[&root]);
    let err = verify_chain(&[], &anchors, None, NOW, Purpose::ServerAuth).unwrap_err();
    assert_eq!(err, CertificateError::Empty);
    assert_eq!(err.alert_description_code(), 40);
    for garbage in [
        vec![],
        vec![0x30],
        vec![0x30, 0x80, 0x00, 0x00],
        vec![0xff; 100],
    ] {
        let err = verify_chain(
            &[CertificateDer(garbage)],
            &anchors,
            None,
            NOW,
            Purpose::ServerAuth,
        )
        .unwrap_err();
        assert!(matches!(err, CertificateError::BadEncoding(_)), "{err:?}");
        assert_eq!(err.alert_description_code(), 42);
    }
    // Trailing bytes after a valid certificate are refused too.
    let mut der = root.cert.0.clone();
    der.push(0);
    let err = verify_chain(
        &[CertificateDer(der)],
        &anchors,
        None,
        NOW,
        Purpose::ServerAuth,
    )
    .unwrap_err();
    assert_eq!(
        err,
        CertificateError::BadEncoding(
            "certificate #1 of the chain: 1 bytes of trailing data".into()
        )
    );
}

#[test]
fn truncated_certificates_never_panic() {
    let p = pki(KeyKind::P384);
    let anchors = anchors(&[&p.root]);
    let der = &p.leaf.cert.0;
    for len in 0..der.len() {
        let truncated = CertificateDer(der[..len].to_vec());
        assert!(verify_chain(
            &[truncated.clone(), p.inter.cert.clone()],
            &anchors,
            None,
            NOW,
            Purpose::ServerAuth
        )
        .is_err());
        assert!(leaf_public_key(&truncated).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------

#[test]
fn pinned_fingerprint_that_matches_is_accepted() {
    let (key, cert) = generate_self_signed(&["peer"]).unwrap();
    let pin = parse_fingerprint(&fingerprint_sha256(&cert)).unwrap();
    let policy = ServerCertVerification::PinnedSha256(pin);
    // No name, time or issuer checks: WebRTC semantics.
    let leaf_key = policy
        .verify(&[cert], Some(&name("unrelated.test")), UnixTime(0))
        .unwrap();
    assert_eq!(leaf_key, PeerPublicKey::P256(key.public_key_sec1()));
}

#[test]
fn pinned_fingerprint_that_differs_is_refused() {
    let (_, cert) = generate_self_signed(&["peer"]).unwrap();
    let (_, other) = generate_self_signed(&["peer"]).unwrap();
    let pin = parse_fingerprint(&fingerprint_sha256(&other)).unwrap();
    let err = ServerCertVerification::PinnedSha256(pin)
        .verify(std::slice::from_ref(&cert), None, NOW)
        .unwrap_err();
    assert_eq!(
        err,
        CertificateError::FingerprintMismatch {
            expected: fingerprint_sha256(&other),
            actual: fingerprint_sha256(&cert),
        }
    );
    assert_eq!(err.alert_description_code(), 42);
}

#[test]
fn verifier_callback_can_reject_and_accept() {
    let p = pki(KeyKind::P256);
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let rejecting = ServerCertVerification::Custom(Arc::new(move |chain: &[CertificateDer]| {
        counter.store(chain.len(), Ordering::SeqCst);
        Err("not on the allow list".to_string())
    }));
    let err = rejecting
        .verify(&chain(&[&p.leaf, &p.inter]), None, NOW)
        .unwrap_err();
    assert_eq!(
        err,
        CertificateError::Rejected("not on the allow list".into())
    );
    assert_eq!(err.alert_description_code(), 46);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        2,
        "the callback sees the whole chain"
    );
    assert_eq!(
        err.to_string(),
        "the certificate verifier rejected the chain: not on the allow list"
    );

    let accepting = ServerCertVerification::Custom(Arc::new(|_: &[CertificateDer]| Ok(())));
    let key = accepting
        .verify(&chain(&[&p.leaf, &p.inter]), None, NOW)
        .unwrap();
    assert_eq!(
        key,
        PeerPublicKey::P256(p.leaf.private_key().unwrap().public_key_sec1())
    );
}

#[test]
fn dangerous_accept_any_accepts_any_parseable_chain() {
    let root = CertSpec::ca("Root").self_signed().unwrap();
    let expired_wrong_name = leaf_under(
        &root,
        CertSpec::leaf("x")
            .dns("x.test")
            .validity(NOT_BEFORE, NOT_BEFORE + 1),
    );
    let key = ServerCertVerification::DangerousAcceptAnyCertificate
        .verify(&chain(&[&expired_wrong_name]), Some(&name("y.test")), NOW)
        .unwrap();
    assert_eq!(
        key,
        PeerPublicKey::P256(expired_wrong_name.private_key().unwrap().public_key_sec1())
    );
    // It still needs a certificate whose key it can extract.
    let policy = ServerCertVerification::DangerousAcceptAnyCertificate;
    assert_eq!(
        policy.verify(&[], None, NOW).unwrap_err(),
        CertificateError::Empty
    );
    assert!(matches!(
        policy.verify(&[CertificateDer(vec![1, 2, 3])], None, NOW),
        Err(CertificateError::BadEncoding(_))
    ));
}

#[test]
fn webpki_policy_verifies_the_chain_and_name() {
    let p = pki(KeyKind::P384);
    let policy = ServerCertVerification::WebPki {
        anchors: anchors(&[&p.root]),
    };
    let good = chain(&[&p.leaf, &p.inter]);
    policy
        .verify(&good, Some(&name("example.com")), NOW)
        .unwrap();
    assert!(matches!(
        policy.verify(&good, Some(&name("example.org")), NOW),
        Err(CertificateError::NameMismatch { .. })
    ));
    assert_eq!(
        policy.verify(&good[..1], Some(&name("example.com")), NOW),
        Err(CertificateError::UnknownIssuer)
    );
    let debug = format!("{policy:?}");
    assert_eq!(debug, "WebPki { anchors: [\"CN=Test Root\"] }");
}

// ---------------------------------------------------------------------------------------------
// Handshake signatures
// ---------------------------------------------------------------------------------------------

#[test]
fn handshake_signatures_verify_with_the_leaf_key() {
    let (key, cert) = generate_self_signed(&["peer"]).unwrap();
    let peer_key = leaf_public_key(&cert).unwrap();
    let msg = b"client_random || server_random || ServerECDHParams";
    let sig = key.sign_sha256(msg);
    peer_key.verify(0x0403, msg, &sig).unwrap();

    let err = peer_key.verify(0x0403, b"tampered", &sig).unwrap_err();
    assert_eq!(err, CertificateError::BadHandshakeSignature);
    assert_eq!(err.alert_description_code(), 51);
    // The signature is over SHA-256; checked as SHA-384 it fails.
    assert_eq!(
        peer_key.verify(0x0503, msg, &sig),
        Err(CertificateError::BadHandshakeSignature)
    );
    assert_eq!(
        peer_key.verify(0x0804, msg, &sig),
        Err(CertificateError::UnsupportedAlgorithm(
            "signature scheme 0x0804".into()
        ))
    );
    assert_eq!(
        peer_key.verify(0x0403, msg, &[0x30, 0x00]),
        Err(CertificateError::BadHandshakeSignature)
    );
}

#[test]
fn p384_handshake_signatures_verify_with_sha384_and_sha256() {
    use p384::ecdsa::signature::hazmat::PrehashSigner;
    use p384::elliptic_curve::Generate;
    let sk = p384::ecdsa::SigningKey::try_generate_from_rng(&mut getrandom::SysRng).unwrap();
    let point = sk.verifying_key().to_sec1_point(false).as_bytes().to_vec();
    let peer_key = PeerPublicKey::P384(point);
    let msg = b"params";
    for (scheme, hash) in [
        (0x0503u16, sha2::Sha384::digest(msg).to_vec()),
        (0x0403u16, Sha256::digest(msg).to_vec()),
    ] {
        let sig: p384::ecdsa::Signature = sk.sign_prehash(&hash).unwrap();
        let der = sig.to_der();
        peer_key.verify(scheme, msg, der.as_bytes()).unwrap();
        assert_eq!(
            peer_key.verify(scheme, b"other", der.as_bytes()),
            Err(CertificateError::BadHandshakeSignature)
        );
    }
}

#[test]
fn openssl_signature_verifies() {
    let key = PrivateKey::from_pem(OPENSSL_SEC1_PEM).unwrap();
    let peer = PeerPublicKey::P256(key.public_key_sec1());
    let sig = hex::decode(OPENSSL_SIGNATURE_OF_HELLO).unwrap();
    peer.verify(0x0403, b"hello", &sig).unwrap();
    assert_eq!(
        peer.verify(0x0403, b"hellO", &sig),
        Err(CertificateError::BadHandshakeSignature)
    );
}

// ---------------------------------------------------------------------------------------------
// Loading keys
// ---------------------------------------------------------------------------------------------

#[test]
fn pkcs8_pem_round_trips() {
    let key = PrivateKey::generate().unwrap();
    let pem = key.to_pkcs8_pem();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let loaded = PrivateKey::from_pem(&pem).unwrap();
    assert_eq!(loaded.public_key_sec1(), key.public_key_sec1());
    // Deterministic signatures: the same key signs identically.
    assert_eq!(loaded.sign_sha256(b"m"), key.sign_sha256(b"m"));
    // With CRLF line endings, as saved by Windows editors.
    let crlf = pem.replace('\n', "\r\n");
    assert_eq!(
        PrivateKey::from_pem(&crlf).unwrap().public_key_sec1(),
        key.public_key_sec1()
    );
}

#[test]
fn sec1_pem_loads() {
    let issued = CertSpec::leaf("k").self_signed().unwrap();
    let expected = issued.private_key().unwrap().public_key_sec1();
    let pem = pem_encode("EC PRIVATE KEY", &issued.key_sec1_der().unwrap());
    assert_eq!(
        PrivateKey::from_pem(&pem).unwrap().public_key_sec1(),
        expected
    );
    check_key_matches_certificate(&PrivateKey::from_pem(&pem).unwrap(), &issued.cert).unwrap();
}

#[test]
fn openssl_sec1_pem_with_ec_parameters_loads() {
    let key = PrivateKey::from_pem(OPENSSL_SEC1_PEM).unwrap();
    assert_eq!(hex::encode(key.public_key_sec1()), OPENSSL_SEC1_PUBLIC);
}

#[test]
fn der_keys_load_in_both_forms() {
    let issued = CertSpec::leaf("k").self_signed().unwrap();
    let expected = issued.private_key().unwrap().public_key_sec1();
    let pkcs8 = PrivateKey::from_der(&issued.key_pkcs8_der().unwrap()).unwrap();
    let sec1 = PrivateKey::from_der(&issued.key_sec1_der().unwrap()).unwrap();
    assert_eq!(pkcs8.public_key_sec1(), expected);
    assert_eq!(sec1.public_key_sec1(), expected);
    assert_eq!(expected.len(), 65);
    assert_eq!(expected[0], 0x04);
    // And the DER PrivateKey::to_pkcs8_der writes loads back.
    assert_eq!(
        PrivateKey::from_der(&pkcs8.to_pkcs8_der())
            .unwrap()
            .public_key_sec1(),
        expected
    );
}

#[test]
fn p384_key_is_refused_with_an_exact_message() {
    let issued = CertSpec::leaf("k")
        .key(KeyKind::P384)
        .self_signed()
        .unwrap();
    let pkcs8_der = issued.key_pkcs8_der().unwrap();
    let sec1_der = issued.key_sec1_der().unwrap();
    for result in [
        PrivateKey::from_der(&pkcs8_der),
        PrivateKey::from_der(&sec1_der),
        PrivateKey::from_pem(&pem_encode("PRIVATE KEY", &pkcs8_der)),
        PrivateKey::from_pem(&pem_encode("EC PRIVATE KEY", &sec1_der)),
    ] {
        let err = result.unwrap_err();
        assert_eq!(err, KeyError::P384);
        assert_eq!(
            err.to_string(),
            "private key is P-384, only P-256 is supported"
        );
    }
}

#[test]
fn rsa_key_is_refused_with_an_exact_message() {
    let pkcs1_der = pem_rfc7468::decode_vec(RSA_PKCS1_PEM.as_bytes()).unwrap().1;
    let pkcs8_der = pem_rfc7468::decode_vec(RSA_PKCS8_PEM.as_bytes()).unwrap().1;
    for result in [
        PrivateKey::from_pem(RSA_PKCS8_PEM),
        PrivateKey::from_pem(RSA_PKCS1_PEM),
        PrivateKey::from_der(&pkcs8_der),
        PrivateKey::from_der(&pkcs1_der),
    ] {
        let err = result.unwrap_err();
        assert_eq!(err, KeyError::Rsa);
        assert_eq!(
            err.to_string(),
            "private key is RSA, only ECDSA P-256 is supported"
        );
    }
}

#[test]
fn encrypted_key_is_refused_with_an_exact_message() {
    let der = pem_rfc7468::decode_vec(ENCRYPTED_PKCS8_PEM.as_bytes())
        .unwrap()
        .1;
    for result in [
        PrivateKey::from_pem(ENCRYPTED_PKCS8_PEM),
        PrivateKey::from_der(&der),
    ] {
        let err = result.unwrap_err();
        assert_eq!(err, KeyError::Encrypted);
        assert_eq!(
            err.to_string(),
            "private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)"
        );
    }
}

#[test]
fn ed25519_key_is_named() {
    let err = PrivateKey::from_pem(ED25519_PEM).unwrap_err();
    assert_eq!(
        err.to_string(),
        "private key is Ed25519, only ECDSA P-256 is supported"
    );
}

#[test]
fn garbage_is_not_a_key() {
    for input in [
        "",
        "hello",
        "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
    ] {
        let err = PrivateKey::from_pem(input).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("not a PEM or DER private key: "),
            "{input:?}: {err}"
        );
    }
    for input in [
        &[][..],
        &[0x30, 0x00],
        &[0x04, 0x01, 0x00],
        &[0xde, 0xad, 0xbe, 0xef],
    ] {
        let err = PrivateKey::from_der(input).unwrap_err();
        assert!(matches!(err, KeyError::NotAKey(_)), "{input:?}: {err:?}");
    }
    // A certificate handed in as the key.
    let (_, cert) = generate_self_signed(&["x"]).unwrap();
    assert!(matches!(
        PrivateKey::from_der(&cert.0),
        Err(KeyError::NotAKey(_))
    ));
    assert_eq!(
        PrivateKey::from_pem(&cert.to_pem())
            .unwrap_err()
            .to_string(),
        "not a PEM or DER private key: the PEM holds no private key (found: CERTIFICATE); \
         did you swap the key and certificate files?"
    );
}

#[test]
fn zero_scalar_key_is_invalid() {
    // SEC1 ECPrivateKey with a private key of 32 zero bytes on P-256.
    let mut der = vec![0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20];
    der.extend_from_slice(&[0; 32]);
    der.extend_from_slice(&[
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ]);
    der[1] = (der.len() - 2) as u8;
    assert!(matches!(
        PrivateKey::from_der(&der),
        Err(KeyError::Invalid(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Loading certificates
// ---------------------------------------------------------------------------------------------

#[test]
fn multi_certificate_pem_loads_in_order() {
    let p = pki(KeyKind::P384);
    let text = format!(
        "subject=CN=example.com\n{}\nsome notes\n{}{}",
        p.leaf.cert.to_pem(),
        p.inter.cert.to_pem().replace('\n', "\r\n"),
        p.root.cert.to_pem()
    );
    let certs = load_certificates(text.as_bytes()).unwrap();
    assert_eq!(certs, chain(&[&p.leaf, &p.inter, &p.root]));
    // A key in the same file is skipped.
    let key_pem = PrivateKey::generate().unwrap().to_pkcs8_pem();
    let with_key = format!("{}{}", key_pem.as_str(), p.leaf.cert.to_pem());
    assert_eq!(
        load_certificates(with_key.as_bytes()).unwrap(),
        chain(&[&p.leaf])
    );
}

#[test]
fn single_der_certificate_loads() {
    let p = pki(KeyKind::P256);
    assert_eq!(
        load_certificates(&p.leaf.cert.0).unwrap(),
        chain(&[&p.leaf])
    );
}

#[test]
fn malformed_certificate_in_a_bundle_is_located() {
    let p = pki(KeyKind::P256);
    let text = format!(
        "{}{}",
        p.leaf.cert.to_pem(),
        pem_encode("CERTIFICATE", &[0x30, 0x00])
    );
    let err = load_certificates(text.as_bytes()).unwrap_err();
    assert!(
        matches!(err, CertError::Malformed { index: 1, .. }),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .starts_with("certificate #2 is not a valid X.509 certificate: "));
    assert!(matches!(
        load_certificates(b"").unwrap_err(),
        CertError::Malformed { index: 0, .. }
    ));
    assert_eq!(
        load_certificates(b"-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap_err(),
        CertError::Pem("no `-----END CERTIFICATE-----` line".into())
    );
}

#[test]
fn key_certificate_mismatch_is_detected() {
    let (key, cert) = generate_self_signed(&["localhost"]).unwrap();
    check_key_matches_certificate(&key, &cert).unwrap();
    let other = PrivateKey::generate().unwrap();
    let err = check_key_matches_certificate(&other, &cert).unwrap_err();
    assert_eq!(
        err,
        CertError::KeyMismatch {
            subject: "CN=localhost".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "the private key does not match the certificate (subject CN=localhost); \
         check that the key and certificate files belong together"
    );
    // A P-384 certificate never matches a P-256 key.
    let p384 = CertSpec::leaf("p384")
        .key(KeyKind::P384)
        .self_signed()
        .unwrap();
    assert!(matches!(
        check_key_matches_certificate(&key, &p384.cert),
        Err(CertError::KeyMismatch { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Fingerprints
// ---------------------------------------------------------------------------------------------

#[test]
fn fingerprint_is_uppercase_colon_separated_sha256_of_the_der() {
    let (_, cert) = generate_self_signed(&["fp.test"]).unwrap();
    let fp = fingerprint_sha256(&cert);
    assert_eq!(fp.len(), 95);
    let expected: Vec<String> = Sha256::digest(&cert.0)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(fp, expected.join(":"));
    for (i, c) in fp.chars().enumerate() {
        if i % 3 == 2 {
            assert_eq!(c, ':');
        } else {
            assert!(c.is_ascii_digit() || ('A'..='F').contains(&c), "{fp}");
        }
    }
    let digest: [u8; 32] = Sha256::digest(&cert.0).into();
    assert_eq!(parse_fingerprint(&fp).unwrap(), digest);
    assert_eq!(
        parse_fingerprint(&format!("sha-256 {}", fp.to_lowercase())).unwrap(),
        digest
    );
    assert_eq!(parse_fingerprint(&fp.replace(':', "")).unwrap(), digest);
}

#[test]
fn fingerprints_match_openssl() {
    let rsa = load_certificates(RSA_CERT_PEM.as_bytes()).unwrap();
    assert_eq!(fingerprint_sha256(&rsa[0]), RSA_CERT_OPENSSL_FINGERPRINT);
    let leaf = load_certificates(OPENSSL_LEAF_PEM.as_bytes()).unwrap();
    assert_eq!(fingerprint_sha256(&leaf[0]), OPENSSL_LEAF_FINGERPRINT);
}

#[test]
fn certificate_debug_shows_subject_and_fingerprint_not_bytes() {
    let rsa = load_certificates(RSA_CERT_PEM.as_bytes()).unwrap();
    assert_eq!(
        format!("{:?}", rsa[0]),
        format!(
            "CertificateDer {{ subject: \"CN=rsa.example\", sha256: \"{RSA_CERT_OPENSSL_FINGERPRINT}\" }}"
        )
    );
    assert_eq!(
        format!("{:?}", CertificateDer(vec![1, 2])),
        format!(
            "CertificateDer {{ subject: \"<not a certificate>\", sha256: \"{}\" }}",
            fingerprint_sha256(&CertificateDer(vec![1, 2]))
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

#[test]
fn generated_certificate_has_names_validity_and_key() {
    let (key, cert) = generate_self_signed(&["localhost", "127.0.0.1", "::1"]).unwrap();
    check_key_matches_certificate(&key, &cert).unwrap();
    assert_eq!(cert.subject(), "CN=localhost");
    let anchors = TrustAnchors::from_certificates(std::slice::from_ref(&cert)).unwrap();
    let now = UnixTime::from_system_time(SystemTime::now());
    let at = |t: UnixTime, host: &str| {
        verify_chain(
            std::slice::from_ref(&cert),
            &anchors,
            Some(&name(host)),
            t,
            Purpose::ServerAuth,
        )
    };
    for host in ["localhost", "127.0.0.1", "::1"] {
        let peer = at(now, host).unwrap();
        assert_eq!(
            peer.leaf_public_key,
            PeerPublicKey::P256(key.public_key_sec1())
        );
        assert_eq!(peer.path_len, 1);
    }
    assert!(matches!(
        at(now, "127.0.0.2"),
        Err(CertificateError::NameMismatch { .. })
    ));
    // Valid from now - 1 h to now + 30 days (allowing a few seconds for the test's own run).
    at(UnixTime(now.0 - 3590), "localhost").unwrap();
    assert!(matches!(
        at(UnixTime(now.0 - 3610), "localhost"),
        Err(CertificateError::NotYetValid { .. })
    ));
    at(UnixTime(now.0 + 30 * 86_400 - 10), "localhost").unwrap();
    assert!(matches!(
        at(UnixTime(now.0 + 30 * 86_400 + 10), "localhost"),
        Err(CertificateError::Expired { .. })
    ));
    // Usable by either DTLS role.
    verify_chain(
        std::slice::from_ref(&cert),
        &anchors,
        None,
        now,
        Purpose::ClientAuth,
    )
    .unwrap();
}

#[test]
fn generated_certificates_are_unique() {
    let (k1, c1) = generate_self_signed(&["a"]).unwrap();
    let (k2, c2) = generate_self_signed(&["a"]).unwrap();
    assert_ne!(k1.public_key_sec1(), k2.public_key_sec1());
    assert_ne!(fingerprint_sha256(&c1), fingerprint_sha256(&c2));
}

#[test]
fn generation_refuses_invalid_names() {
    for bad in ["", "a b", "é.example"] {
        let err = generate_self_signed(&[bad]).unwrap_err();
        assert!(matches!(err, CertError::Generation(_)), "{bad:?}: {err:?}");
    }
    // No names at all: a certificate without subjectAltName (for pinning only).
    let (_, cert) = generate_self_signed(&[]).unwrap();
    assert_eq!(cert.subject(), "CN=puredtls");
}

// ---------------------------------------------------------------------------------------------
// Names and alerts
// ---------------------------------------------------------------------------------------------

#[test]
fn server_name_parsing() {
    assert_eq!(name("Example.COM."), ServerName::Dns("example.com".into()));
    assert_eq!(name("10.0.0.1").to_string(), "10.0.0.1");
    assert_eq!(name("[fe80::1]").to_string(), "fe80::1");
    for bad in ["", "*.example.com", "exa mple.com", "a..b", "ä.com"] {
        assert!(
            matches!(ServerName::parse(bad), Err(CertError::InvalidServerName(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn every_error_maps_to_its_alert() {
    let cases = [
        (CertificateError::Empty, 40),
        (CertificateError::UnknownIssuer, 48),
        (CertificateError::NotACa, 48),
        (CertificateError::PathTooLong, 48),
        (
            CertificateError::Expired {
                subject: String::new(),
                not_after: UnixTime(0),
                now: UnixTime(1),
            },
            45,
        ),
        (
            CertificateError::NotYetValid {
                subject: String::new(),
                not_before: UnixTime(1),
                now: UnixTime(0),
            },
            45,
        ),
        (
            CertificateError::NameMismatch {
                expected: String::new(),
                presented: vec![],
            },
            42,
        ),
        (CertificateError::BadSignature, 42),
        (CertificateError::BadEncoding(String::new()), 42),
        (
            CertificateError::FingerprintMismatch {
                expected: String::new(),
                actual: String::new(),
            },
            42,
        ),
        (
            CertificateError::ChainTooLong {
                presented: 9,
                max: 8,
            },
            42,
        ),
        (
            CertificateError::NameConstraintViolation {
                name: String::new(),
            },
            42,
        ),
        (CertificateError::InvalidPurpose, 43),
        (CertificateError::UnsupportedAlgorithm(String::new()), 43),
        (
            CertificateError::UnsupportedCriticalExtension(String::new()),
            43,
        ),
        (CertificateError::Rejected(String::new()), 46),
        (CertificateError::BadHandshakeSignature, 51),
    ];
    for (err, code) in cases {
        assert_eq!(err.alert_description_code(), code, "{err:?}");
        assert!(!err.to_string().is_empty());
    }
}
