//! The local private key: ECDSA P-256, parsed once from PEM or DER.

use core::fmt;

use der::asn1::ObjectIdentifier;
use der::{AnyRef, Decode, Tag, Tagged};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::elliptic_curve::Generate;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use zeroize::Zeroizing;

use super::pem;

/// Why a private key could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// An ECDSA key on P-384 (only P-256 keys can sign for this library).
    P384,
    /// An RSA key (PKCS#8 or PKCS#1).
    Rsa,
    /// An encrypted key (PKCS#8 `ENCRYPTED PRIVATE KEY`, or legacy PEM `Proc-Type: 4,ENCRYPTED`).
    Encrypted,
    /// Another algorithm or curve, named in the string (e.g. `Ed25519`, `secp256k1`).
    Unsupported(String),
    /// Neither PEM nor DER of a private key; the string says what was found.
    NotAKey(String),
    /// A P-256 key whose contents are invalid (e.g. the scalar is zero or out of range).
    Invalid(String),
    /// The operating system's random number generator failed while generating a key.
    Randomness(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::P384 => write!(f, "private key is P-384, only P-256 is supported"),
            KeyError::Rsa => write!(f, "private key is RSA, only ECDSA P-256 is supported"),
            KeyError::Encrypted => write!(
                f,
                "private key is encrypted; decrypt it first \
                 (openssl pkey -in key.pem -out plain.pem)"
            ),
            KeyError::Unsupported(what) => {
                write!(f, "private key is {what}, only ECDSA P-256 is supported")
            }
            KeyError::NotAKey(detail) => write!(f, "not a PEM or DER private key: {detail}"),
            KeyError::Invalid(detail) => write!(f, "invalid P-256 private key: {detail}"),
            KeyError::Randomness(detail) => {
                write!(
                    f,
                    "could not generate a private key: OS randomness failed: {detail}"
                )
            }
        }
    }
}

impl std::error::Error for KeyError {}

const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
const X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");
const DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");

/// An ECDSA P-256 private key, parsed once (parsing PKCS#8 costs ~120 µs, so never do it per
/// connection) and shared by every handshake that signs with it.
///
/// The secret scalar is zeroized on drop (by `p256::ecdsa::SigningKey`); `Debug` shows only
/// the public key.
///
/// ```
/// use puredtls::cert::PrivateKey;
///
/// let pem = PrivateKey::generate().unwrap().to_pkcs8_pem();
/// let key = PrivateKey::from_pem(&pem).unwrap();
/// assert_eq!(key.public_key_sec1().len(), 65);
/// ```
#[derive(Clone)]
pub struct PrivateKey {
    signing_key: SigningKey,
    public_key: [u8; 65],
}

impl PrivateKey {
    /// Generates a fresh key from the operating system's random number generator.
    pub fn generate() -> Result<Self, KeyError> {
        let signing_key = SigningKey::try_generate_from_rng(&mut getrandom::SysRng)
            .map_err(|e| KeyError::Randomness(e.to_string()))?;
        Ok(Self::from_signing_key(signing_key))
    }

    /// Loads a key from PEM: `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1). Other blocks in
    /// the same text (`EC PARAMETERS`, certificates) are skipped.
    pub fn from_pem(pem_text: &str) -> Result<Self, KeyError> {
        let input = pem_text.as_bytes();
        if !pem::is_pem(input) {
            return Err(KeyError::NotAKey(
                "no `-----BEGIN … PRIVATE KEY-----` line found".to_string(),
            ));
        }
        let blocks = pem::blocks(input).map_err(KeyError::NotAKey)?;
        let key_block = blocks.iter().find(|b| b.label.ends_with("PRIVATE KEY"));
        let Some(block) = key_block else {
            let labels: Vec<&str> = blocks.iter().map(|b| b.label).collect();
            let hint = if labels.contains(&"CERTIFICATE") {
                "; did you swap the key and certificate files?"
            } else {
                ""
            };
            return Err(KeyError::NotAKey(format!(
                "the PEM holds no private key (found: {}){hint}",
                labels.join(", ")
            )));
        };
        match block.label {
            "ENCRYPTED PRIVATE KEY" => return Err(KeyError::Encrypted),
            "RSA PRIVATE KEY" => return Err(KeyError::Rsa),
            "DSA PRIVATE KEY" => return Err(KeyError::Unsupported("DSA".to_string())),
            "OPENSSH PRIVATE KEY" => {
                return Err(KeyError::NotAKey(
                    "this is an OpenSSH key; convert it with \
                     `ssh-keygen -p -m PKCS8 -f key` first"
                        .to_string(),
                ))
            }
            _ => {}
        }
        if block.has_legacy_encryption_header() {
            return Err(KeyError::Encrypted);
        }
        let der = block.decode().map_err(KeyError::NotAKey)?;
        Self::from_der(&der)
    }

    /// Loads a key from DER: PKCS#8 `PrivateKeyInfo`, else SEC1 `ECPrivateKey`. Encrypted
    /// PKCS#8, RSA (PKCS#8 or PKCS#1) and other curves are recognised and named in the error.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let fields = Vec::<AnyRef<'_>>::from_der(der)
            .map_err(|e| KeyError::NotAKey(format!("not a DER SEQUENCE ({e})")))?;
        let tags: Vec<Tag> = fields.iter().map(|f| f.tag()).collect();
        match tags.as_slice() {
            // RFC 5208 §5 / RFC 5958 §2: version, privateKeyAlgorithm, privateKey, …
            [Tag::Integer, Tag::Sequence, Tag::OctetString, ..] => Self::from_pkcs8(der),
            // RFC 5208 §6: encryptionAlgorithm, encryptedData
            [Tag::Sequence, Tag::OctetString] => Err(KeyError::Encrypted),
            // RFC 5915 §3: version 1, privateKey, [0] parameters, [1] publicKey
            [Tag::Integer, Tag::OctetString, ..] => Self::from_sec1(der),
            // RFC 8017 §A.1.2 RSAPrivateKey: nine INTEGERs (or more, multi-prime)
            t if t.len() >= 9 && t.iter().all(|t| *t == Tag::Integer) => Err(KeyError::Rsa),
            _ => Err(KeyError::NotAKey(
                "the DER structure is neither PKCS#8 nor SEC1".to_string(),
            )),
        }
    }

    fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let info = pkcs8::PrivateKeyInfoRef::try_from(der)
            .map_err(|e| KeyError::NotAKey(format!("malformed PKCS#8 ({e})")))?;
        let algorithm = info.algorithm.oid;
        if algorithm != ID_EC_PUBLIC_KEY {
            return Err(unsupported_algorithm(algorithm));
        }
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|e| KeyError::NotAKey(format!("EC key without a named curve ({e})")))?;
        check_curve(curve)?;
        SigningKey::from_pkcs8_der(der)
            .map(Self::from_signing_key)
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }

    fn from_sec1(der: &[u8]) -> Result<Self, KeyError> {
        let key = sec1::EcPrivateKey::try_from(der)
            .map_err(|e| KeyError::NotAKey(format!("malformed SEC1 EC key ({e})")))?;
        match key.parameters.and_then(|p| p.named_curve()) {
            Some(curve) => check_curve(curve)?,
            // Without parameters, the scalar's length tells the curve.
            None => match key.private_key.len() {
                32 => {}
                48 => return Err(KeyError::P384),
                66 => return Err(KeyError::Unsupported("P-521".to_string())),
                n => return Err(KeyError::Invalid(format!("{n}-byte private scalar"))),
            },
        }
        p256::SecretKey::from_sec1_der(der)
            .map(|secret| Self::from_signing_key(SigningKey::from(secret)))
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }

    pub(crate) fn from_signing_key(signing_key: SigningKey) -> Self {
        let point = signing_key.verifying_key().to_sec1_point(false);
        let mut public_key = [0u8; 65];
        // An uncompressed P-256 point is always 65 bytes.
        if let Some(src) = point.as_bytes().get(..65) {
            public_key.copy_from_slice(src);
        }
        Self {
            signing_key,
            public_key,
        }
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// The public key as an uncompressed SEC1 point (`04 || x || y`, 65 bytes).
    pub fn public_key_sec1(&self) -> Vec<u8> {
        self.public_key.to_vec()
    }

    /// Signs `msg` with ECDSA P-256 / SHA-256 (TLS scheme 0x0403) and returns the DER
    /// `Ecdsa-Sig-Value`. The nonce is derived deterministically (RFC 6979), so the same
    /// message always gives the same signature and no randomness is needed.
    pub fn sign_sha256(&self, msg: &[u8]) -> Vec<u8> {
        let signature: DerSignature = self.signing_key.sign(msg);
        signature.as_bytes().to_vec()
    }

    /// The key as PKCS#8 DER, in a buffer that is zeroized on drop.
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        // Encoding a valid in-memory P-256 key into a Vec cannot fail.
        let doc = self
            .signing_key
            .to_pkcs8_der()
            .expect("PKCS#8 encoding of a P-256 key is infallible");
        Zeroizing::new(doc.as_bytes().to_vec())
    }

    /// The key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), zeroized on drop.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        // Encoding a valid in-memory P-256 key into a String cannot fail.
        self.signing_key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PKCS#8 PEM encoding of a P-256 key is infallible")
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut prefix = String::with_capacity(16);
        for b in self.public_key.get(1..9).unwrap_or_default() {
            prefix.push_str(&format!("{b:02x}"));
        }
        f.debug_struct("PrivateKey")
            .field("algorithm", &"ECDSA P-256")
            .field("public_key_x", &format_args!("{prefix}…"))
            .finish_non_exhaustive()
    }
}

fn check_curve(curve: ObjectIdentifier) -> Result<(), KeyError> {
    if curve == SECP256R1 {
        Ok(())
    } else if curve == SECP384R1 {
        Err(KeyError::P384)
    } else if curve == SECP521R1 {
        Err(KeyError::Unsupported("P-521".to_string()))
    } else if curve == SECP256K1 {
        Err(KeyError::Unsupported("secp256k1".to_string()))
    } else {
        Err(KeyError::Unsupported(format!(
            "on the elliptic curve {curve}"
        )))
    }
}

fn unsupported_algorithm(oid: ObjectIdentifier) -> KeyError {
    if oid == RSA_ENCRYPTION || oid == RSASSA_PSS {
        KeyError::Rsa
    } else if oid == ED25519 {
        KeyError::Unsupported("Ed25519".to_string())
    } else if oid == ED448 {
        KeyError::Unsupported("Ed448".to_string())
    } else if oid == X25519 {
        KeyError::Unsupported("X25519 (a key-agreement key, it cannot sign)".to_string())
    } else if oid == DSA {
        KeyError::Unsupported("DSA".to_string())
    } else {
        KeyError::Unsupported(format!("of algorithm {oid}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_does_not_print_the_secret() {
        let key = PrivateKey::generate().unwrap();
        let secret_hex: String = key
            .signing_key
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let debug = format!("{key:?}");
        assert!(debug.starts_with("PrivateKey { algorithm: \"ECDSA P-256\""));
        assert!(!debug.contains(&secret_hex[..16]));
    }

    #[test]
    fn signatures_are_deterministic_and_verify() {
        use p256::ecdsa::signature::Verifier;
        let key = PrivateKey::generate().unwrap();
        let a = key.sign_sha256(b"hello");
        assert_eq!(a, key.sign_sha256(b"hello"));
        assert_ne!(a, key.sign_sha256(b"hellp"));
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&key.public_key_sec1()).unwrap();
        let sig = p256::ecdsa::DerSignature::from_bytes(&a).unwrap();
        vk.verify(b"hello", &sig).unwrap();
    }

    #[test]
    fn pem_without_a_key_names_what_it_found() {
        let err =
            PrivateKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a PEM or DER private key: the PEM holds no private key (found: CERTIFICATE); \
             did you swap the key and certificate files?"
        );
    }

    #[test]
    fn legacy_encrypted_pem_is_recognised() {
        let pem = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                   DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n\
                   -----END EC PRIVATE KEY-----\n";
        assert_eq!(PrivateKey::from_pem(pem).unwrap_err(), KeyError::Encrypted);
    }

    #[test]
    fn pkcs1_rsa_label_is_recognised() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(PrivateKey::from_pem(pem).unwrap_err(), KeyError::Rsa);
    }
}
