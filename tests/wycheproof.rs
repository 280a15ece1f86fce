//! Project Wycheproof vectors (../shared/vectors/wycheproof, see its SOURCE.md) through our API.
//!
//! For each file every test case runs against its expected result ("valid", "invalid",
//! "acceptable"); outcomes are counted and printed, and each test asserts zero mismatches and
//! that the cases run plus the cases skipped (with the reason) equal `numberOfTests`.
//! When ../shared is absent the tests print why and return.

use std::fmt;
use std::path::{Path, PathBuf};

use puredtls::suite::{ecdsa, prf, EcdheKeyPair, HashAlgorithm, SignatureScheme};
use serde_json::Value;

fn wycheproof(file: &str) -> Option<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if !dir.is_dir() {
        println!(
            "skipping {file}: ../shared not found (looked for {})",
            dir.display()
        );
        return None;
    }
    let path: PathBuf = dir.join("vectors/wycheproof").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(serde_json::from_str(&text).unwrap())
}

fn hex_field(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(
        v[key]
            .as_str()
            .unwrap_or_else(|| panic!("no string `{key}` in {v}")),
    )
    .unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Valid,
    Invalid,
    Acceptable,
}

fn expected(test: &Value) -> Expected {
    match test["result"].as_str().unwrap() {
        "valid" => Expected::Valid,
        "invalid" => Expected::Invalid,
        "acceptable" => Expected::Acceptable,
        other => panic!("unknown result {other}"),
    }
}

/// Outcome counts for one file.
#[derive(Default)]
struct Tally {
    name: &'static str,
    total_in_file: usize,
    valid_ok: usize,
    invalid_rejected: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    skipped: usize,
    skip_reason: &'static str,
    mismatches: Vec<String>,
}

impl Tally {
    fn new(name: &'static str, file: &Value) -> Self {
        Self {
            name,
            total_in_file: file["numberOfTests"].as_u64().unwrap() as usize,
            ..Self::default()
        }
    }

    /// Records one case: `accepted` is whether our code accepted the input (and, for valid
    /// cases, produced exactly the expected output).
    fn record(&mut self, test: &Value, accepted: bool) {
        match (expected(test), accepted) {
            (Expected::Valid, true) => self.valid_ok += 1,
            (Expected::Invalid, false) => self.invalid_rejected += 1,
            (Expected::Acceptable, true) => self.acceptable_accepted += 1,
            (Expected::Acceptable, false) => self.acceptable_rejected += 1,
            (want, _) => self.mismatches.push(format!(
                "tcId {} ({}; flags {}): expected {want:?}, we {}",
                test["tcId"],
                test["comment"].as_str().unwrap_or(""),
                test["flags"],
                if accepted { "accepted" } else { "rejected" }
            )),
        }
    }

    fn skip(&mut self, reason: &'static str) {
        self.skipped += 1;
        self.skip_reason = reason;
    }

    fn run(&self) -> usize {
        self.valid_ok
            + self.invalid_rejected
            + self.acceptable_accepted
            + self.acceptable_rejected
            + self.mismatches.len()
    }

    fn finish(self) {
        println!("{self}");
        for m in &self.mismatches {
            println!("  mismatch: {m}");
        }
        assert!(
            self.mismatches.is_empty(),
            "{}: {} mismatches",
            self.name,
            self.mismatches.len()
        );
        assert_eq!(
            self.run() + self.skipped,
            self.total_in_file,
            "{}: every case accounted for",
            self.name
        );
        assert!(self.run() > 0, "{}: nothing ran", self.name);
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} of {} cases run: {} valid ok, {} invalid rejected, {} acceptable accepted, \
             {} acceptable rejected, {} mismatches",
            self.name,
            self.run(),
            self.total_in_file,
            self.valid_ok,
            self.invalid_rejected,
            self.acceptable_accepted,
            self.acceptable_rejected,
            self.mismatches.len()
        )?;
        if self.skipped > 0 {
            write!(f, "; {} skipped ({})", self.skipped, self.skip_reason)?;
        }
        Ok(())
    }
}

fn cases(file: &Value) -> impl Iterator<Item = (&Value, &Value)> {
    file["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap().iter().map(move |t| (g, t)))
}

// ---------------------------------------------------------------------------------------------

/// AES-GCM as DTLS 1.2 uses it (RFC 5288): 128- or 256-bit keys, 12-byte nonce, 16-byte tag.
/// The record layer lives elsewhere; this drives the aes-gcm crate the suites are built on.
#[test]
fn aes_gcm() {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let Some(file) = wycheproof("aes_gcm_test.json") else {
        return;
    };
    let mut tally = Tally::new("aes_gcm", &file);
    for (group, test) in cases(&file) {
        let (key_size, iv_size, tag_size) = (
            group["keySize"].as_u64(),
            group["ivSize"].as_u64(),
            group["tagSize"].as_u64(),
        );
        if !matches!(key_size, Some(128 | 256)) || iv_size != Some(96) || tag_size != Some(128) {
            tally.skip("key, IV or tag size not used by DTLS 1.2 GCM suites");
            continue;
        }
        let (key, iv, aad, msg) = (
            hex_field(test, "key"),
            hex_field(test, "iv"),
            hex_field(test, "aad"),
            hex_field(test, "msg"),
        );
        let sealed = [hex_field(test, "ct"), hex_field(test, "tag")].concat();
        let nonce = aes_gcm::Nonce::try_from(&iv[..]).unwrap();
        let (opened, encrypted) = match key.len() {
            16 => {
                let c = aes_gcm::Aes128Gcm::new_from_slice(&key).unwrap();
                (
                    c.decrypt(
                        &nonce,
                        Payload {
                            msg: &sealed,
                            aad: &aad,
                        },
                    ),
                    c.encrypt(
                        &nonce,
                        Payload {
                            msg: &msg,
                            aad: &aad,
                        },
                    ),
                )
            }
            _ => {
                let c = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
                (
                    c.decrypt(
                        &nonce,
                        Payload {
                            msg: &sealed,
                            aad: &aad,
                        },
                    ),
                    c.encrypt(
                        &nonce,
                        Payload {
                            msg: &msg,
                            aad: &aad,
                        },
                    ),
                )
            }
        };
        let accepted = match opened {
            // A valid case must also encrypt to exactly ct || tag.
            Ok(plain) => plain == msg && encrypted.as_deref() == Ok(&sealed[..]),
            Err(_) => false,
        };
        tally.record(test, accepted);
    }
    tally.finish();
}

fn ecdsa_file(file_name: &str, name: &'static str, scheme: SignatureScheme) {
    let Some(file) = wycheproof(file_name) else {
        return;
    };
    let mut tally = Tally::new(name, &file);
    for (group, test) in cases(&file) {
        let public = hex_field(&group["publicKey"], "uncompressed");
        let (msg, sig) = (hex_field(test, "msg"), hex_field(test, "sig"));
        tally.record(test, ecdsa::verify(scheme, &public, &msg, &sig).is_ok());
    }
    tally.finish();
}

/// DER signatures through our `suite::ecdsa::verify`.
#[test]
fn ecdsa_secp256r1_sha256() {
    ecdsa_file(
        "ecdsa_secp256r1_sha256_test.json",
        "ecdsa_secp256r1_sha256",
        SignatureScheme::EcdsaSecp256r1Sha256,
    );
}

#[test]
fn ecdsa_secp384r1_sha384() {
    ecdsa_file(
        "ecdsa_secp384r1_sha384_test.json",
        "ecdsa_secp384r1_sha384",
        SignatureScheme::EcdsaSecp384r1Sha384,
    );
}

/// ECDH with the peer's point as raw SEC 1 bytes, as a ClientKeyExchange or ServerKeyExchange
/// carries it, through `EcdheKeyPair::agree`.
///
/// Policy (RFC 8422 §5.1.2): only uncompressed points are accepted, so the one "acceptable"
/// case (a valid compressed point) is rejected on purpose, and that is asserted.
#[test]
fn ecdh_secp256r1_ecpoint() {
    let Some(file) = wycheproof("ecdh_secp256r1_ecpoint_test.json") else {
        return;
    };
    let mut tally = Tally::new("ecdh_secp256r1_ecpoint", &file);
    for (_, test) in cases(&file) {
        let (private, public, shared) = (
            hex_field(test, "private"),
            hex_field(test, "public"),
            hex_field(test, "shared"),
        );
        let pair = EcdheKeyPair::from_private_bytes(&private)
            .unwrap_or_else(|e| panic!("tcId {}: private key rejected: {e}", test["tcId"]));
        let accepted = match pair.agree(&public) {
            Ok(pms) => pms.as_bytes() == &shared[..],
            Err(_) => false,
        };
        if expected(test) == Expected::Acceptable {
            let flags = test["flags"].to_string();
            assert!(
                flags.contains("CompressedPublic") && !accepted,
                "tcId {}: policy is uncompressed only",
                test["tcId"]
            );
        }
        tally.record(test, accepted);
    }
    assert_eq!(tally.acceptable_rejected, 1, "the compressed point");
    tally.finish();
}

fn hmac_file(file_name: &str, name: &'static str, alg: HashAlgorithm) {
    let Some(file) = wycheproof(file_name) else {
        return;
    };
    let mut tally = Tally::new(name, &file);
    for (group, test) in cases(&file) {
        let tag_len = group["tagSize"].as_u64().unwrap() as usize / 8;
        let (key, msg, tag) = (
            hex_field(test, "key"),
            hex_field(test, "msg"),
            hex_field(test, "tag"),
        );
        let full = prf::hmac(alg, &key, &[&msg]);
        let computed_matches = full.as_ref().get(..tag_len) == Some(&tag[..]);
        // The constant-time check must agree with the plain comparison.
        assert_eq!(
            prf::hmac_verify(alg, &key, &[&msg], &tag),
            computed_matches,
            "tcId {}",
            test["tcId"]
        );
        tally.record(test, computed_matches);
    }
    tally.finish();
}

/// HMAC, the building block of the PRF, through `suite::prf::hmac` / `hmac_verify`
/// (full and truncated 128-bit tags; keys shorter and longer than the block).
#[test]
fn hmac_sha256() {
    hmac_file(
        "hmac_sha256_test.json",
        "hmac_sha256",
        HashAlgorithm::Sha256,
    );
}

#[test]
fn hmac_sha384() {
    hmac_file(
        "hmac_sha384_test.json",
        "hmac_sha384",
        HashAlgorithm::Sha384,
    );
}
