//! ECDSA: signing with our P-256 key, verifying the peer's P-256 or P-384 signatures.
//!
//! Signatures travel DER-encoded (`Ecdsa-Sig-Value`, RFC 8422 §5.4 and §5.8). Signing is
//! deterministic (RFC 6979), so it needs no randomness and gives reproducible test vectors.

use core::fmt;

use p256::ecdsa::signature::{hazmat::PrehashVerifier, Signer};
use p256::pkcs8::DecodePrivateKey;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::{CryptoError, SignatureScheme};

/// Longest digest [`verify`] computes (SHA-512).
const MAX_DIGEST_LEN: usize = 64;

/// A P-256 ECDSA private key. Zeroized on drop; `Debug` shows only the public key.
///
/// ```
/// use puredtls::suite::{ecdsa, SigningKey};
///
/// let key = SigningKey::from_bytes(&[7; 32])?;
/// let params = b"client_random + server_random + ServerECDHParams";
/// let signature = key.sign(params); // DER, goes into ServerKeyExchange (RFC 8422 §5.4)
/// ecdsa::verify(key.scheme(), key.public_key_sec1(), params, &signature)?;
/// assert!(ecdsa::verify(key.scheme(), key.public_key_sec1(), b"other", &signature).is_err());
/// # Ok::<(), puredtls::suite::CryptoError>(())
/// ```
pub struct SigningKey {
    inner: p256::ecdsa::SigningKey,
    public: [u8; 65],
}

impl SigningKey {
    /// From the 32-byte big-endian private scalar.
    pub fn from_bytes(scalar: &[u8; 32]) -> Result<Self, CryptoError> {
        p256::ecdsa::SigningKey::from_slice(scalar)
            .map(Self::new)
            .map_err(|_| {
                CryptoError::InvalidKey(
                    "the P-256 private scalar is zero or not below the group order",
                )
            })
    }

    /// From a DER `PrivateKeyInfo` (PKCS #8, RFC 5208; PEM label "PRIVATE KEY") holding a
    /// P-256 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        p256::ecdsa::SigningKey::from_pkcs8_der(der)
            .map(Self::new)
            .map_err(|_| {
                CryptoError::InvalidKey(
                    "not a DER PKCS #8 P-256 private key; convert it with \
                 `openssl pkcs8 -topk8 -nocrypt -outform DER`, and check the key is on P-256 \
                 (prime256v1)",
                )
            })
    }

    /// From a DER `ECPrivateKey` (SEC 1, RFC 5915; PEM label "EC PRIVATE KEY") holding a
    /// P-256 key.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, CryptoError> {
        p256::SecretKey::from_sec1_der(der)
            .map(|secret| Self::new(p256::ecdsa::SigningKey::from(&secret)))
            .map_err(|_| {
                CryptoError::InvalidKey(
                    "not a DER SEC 1 ECPrivateKey on P-256; convert it with \
                     `openssl ec -outform DER`, and check the key is on P-256 (prime256v1)",
                )
            })
    }

    fn new(inner: p256::ecdsa::SigningKey) -> Self {
        let point = inner.verifying_key().to_sec1_point(false);
        let mut public = [0; 65];
        for (dst, src) in public.iter_mut().zip(point.as_bytes()) {
            *dst = *src;
        }
        Self { inner, public }
    }

    /// Our public key as an uncompressed SEC 1 point (65 bytes).
    pub fn public_key_sec1(&self) -> &[u8] {
        &self.public
    }

    /// The scheme our signatures use: ECDSA with SHA-256 (`0x0403`).
    pub fn scheme(&self) -> SignatureScheme {
        SignatureScheme::EcdsaSecp256r1Sha256
    }

    /// Signs `msg` (hashed with SHA-256) and returns the DER signature, at most 72 bytes.
    ///
    /// Deterministic (RFC 6979): the same key and message always give the same signature.
    /// See [`SigningKey::try_sign`] for the error case; this returns an empty vector there,
    /// which every peer rejects.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.try_sign(msg).unwrap_or_default()
    }

    /// Like [`SigningKey::sign`], but reports the one way signing can fail: RFC 6979's `k`
    /// giving `r = 0` or `s = 0`, which happens with probability about 2^-256.
    pub fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let signature: p256::ecdsa::DerSignature = self
            .inner
            .try_sign(msg)
            .map_err(|_| CryptoError::InvalidKey("ECDSA signing produced r = 0 or s = 0"))?;
        Ok(signature.as_bytes().to_vec())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey { public: ")?;
        for b in &self.public {
            write!(f, "{b:02x}")?;
        }
        f.write_str(", .. }")
    }
}

/// Verifies a DER ECDSA signature over `msg`.
///
/// TLS 1.2 semantics (RFC 5246 §7.4.1.4.1, RFC 8422 §5.10): the scheme names the hash
/// (`0x0403` SHA-256, `0x0503` SHA-384, `0x0603` SHA-512) and the curve is the one of
/// `public_key_sec1`, which may be P-256 or P-384 in compressed or uncompressed SEC 1 form.
/// Other schemes give [`CryptoError::UnsupportedScheme`], other curves
/// [`CryptoError::InvalidKey`], and a malformed or wrong signature [`CryptoError::BadSignature`].
pub fn verify(
    scheme: SignatureScheme,
    public_key_sec1: &[u8],
    msg: &[u8],
    der_signature: &[u8],
) -> Result<(), CryptoError> {
    let mut digest = [0u8; MAX_DIGEST_LEN];
    let digest_len = match scheme {
        SignatureScheme::EcdsaSecp256r1Sha256 => copy_digest(&mut digest, &Sha256::digest(msg)),
        SignatureScheme::EcdsaSecp384r1Sha384 => copy_digest(&mut digest, &Sha384::digest(msg)),
        SignatureScheme::EcdsaSecp521r1Sha512 => copy_digest(&mut digest, &Sha512::digest(msg)),
        other => return Err(CryptoError::UnsupportedScheme(other)),
    };
    let prehash = digest.get(..digest_len).unwrap_or_default();

    // SEC 1 lengths: 1 + 2·32 or 1 + 32 for P-256, 1 + 2·48 or 1 + 48 for P-384.
    match public_key_sec1.len() {
        65 | 33 => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key_sec1)
                .map_err(|_| CryptoError::InvalidKey("the public key is not a valid P-256 point"))?;
            let sig = p256::ecdsa::Signature::from_der(der_signature)
                .map_err(|_| CryptoError::BadSignature)?;
            key.verify_prehash(prehash, &sig).map_err(|_| CryptoError::BadSignature)
        }
        97 | 49 => {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(public_key_sec1)
                .map_err(|_| CryptoError::InvalidKey("the public key is not a valid P-384 point"))?;
            let sig = p384::ecdsa::Signature::from_der(der_signature)
                .map_err(|_| CryptoError::BadSignature)?;
            key.verify_prehash(prehash, &sig).map_err(|_| CryptoError::BadSignature)
        }
        _ => Err(CryptoError::InvalidKey(
            "the public key is not a P-256 or P-384 point; only those curves are supported for ECDSA",
        )),
    }
}

fn copy_digest(dst: &mut [u8; MAX_DIGEST_LEN], src: &[u8]) -> usize {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
    src.len().min(MAX_DIGEST_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn key() -> SigningKey {
        // RFC 6979 A.2.5 private key; tests/vectors.rs checks its signatures byte for byte.
        let x: [u8; 32] = hex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
            .try_into()
            .unwrap();
        SigningKey::from_bytes(&x).unwrap()
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let k = key();
        assert_eq!(k.scheme(), SignatureScheme::EcdsaSecp256r1Sha256);
        let sig = k.sign(b"server key exchange params");
        assert_eq!(sig[0], 0x30, "DER SEQUENCE");
        assert!(sig.len() <= 72);
        assert_eq!(sig, k.sign(b"server key exchange params"), "deterministic");
        verify(
            k.scheme(),
            k.public_key_sec1(),
            b"server key exchange params",
            &sig,
        )
        .unwrap();
    }

    #[test]
    fn tampering_fails() {
        let k = key();
        let msg = b"params";
        let sig = k.sign(msg);
        let pk = k.public_key_sec1();
        let s = SignatureScheme::EcdsaSecp256r1Sha256;
        assert_eq!(
            verify(s, pk, b"paramt", &sig),
            Err(CryptoError::BadSignature),
            "other msg"
        );
        let mut flipped = sig.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(
            verify(s, pk, msg, &flipped),
            Err(CryptoError::BadSignature),
            "s changed"
        );
        assert_eq!(
            verify(s, pk, msg, &sig[..sig.len() - 1]),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(verify(s, pk, msg, &[]), Err(CryptoError::BadSignature));
        let mut trailing = sig.clone();
        trailing.push(0);
        assert_eq!(
            verify(s, pk, msg, &trailing),
            Err(CryptoError::BadSignature),
            "trailing byte"
        );
        // Right signature, other hash.
        assert_eq!(
            verify(SignatureScheme::EcdsaSecp384r1Sha384, pk, msg, &sig),
            Err(CryptoError::BadSignature)
        );
        // Right signature, other key.
        let other = SigningKey::from_bytes(&[7; 32]).unwrap();
        assert_eq!(
            verify(s, other.public_key_sec1(), msg, &sig),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn unsupported_schemes_and_keys_are_named() {
        let k = key();
        let sig = k.sign(b"m");
        for scheme in [
            SignatureScheme::Ed25519,
            SignatureScheme::RsaPkcs1Sha256,
            SignatureScheme::RsaPssRsaeSha256,
            SignatureScheme::Unknown(0x0203),
        ] {
            assert_eq!(
                verify(scheme, k.public_key_sec1(), b"m", &sig),
                Err(CryptoError::UnsupportedScheme(scheme))
            );
        }
        let s = SignatureScheme::EcdsaSecp256r1Sha256;
        assert!(matches!(
            verify(s, &[4; 10], b"m", &sig),
            Err(CryptoError::InvalidKey(_))
        ));
        let mut off_curve = k.public_key_sec1().to_vec();
        off_curve[64] ^= 1;
        assert!(matches!(
            verify(s, &off_curve, b"m", &sig),
            Err(CryptoError::InvalidKey(_))
        ));
    }

    #[test]
    fn compressed_public_key_verifies_too() {
        let k = key();
        let pk = k.public_key_sec1();
        let mut compressed = vec![0x02 | (pk[64] & 1)];
        compressed.extend_from_slice(&pk[1..33]);
        let sig = k.sign(b"m");
        verify(
            SignatureScheme::EcdsaSecp256r1Sha256,
            &compressed,
            b"m",
            &sig,
        )
        .unwrap();
    }

    #[test]
    fn key_loading_rejects_garbage_with_advice() {
        assert!(SigningKey::from_bytes(&[0; 32]).is_err());
        assert!(SigningKey::from_bytes(&[0xff; 32]).is_err());
        let e = SigningKey::from_pkcs8_der(b"not der").unwrap_err();
        assert!(e.to_string().contains("openssl pkcs8"), "{e}");
        let e = SigningKey::from_sec1_der(b"not der").unwrap_err();
        assert!(e.to_string().contains("openssl ec"), "{e}");
    }

    #[test]
    fn pkcs8_and_sec1_der_load_the_same_key() {
        // The RFC 6979 A.2.5 key in both encodings, built by hand: SEC 1 ECPrivateKey with the
        // named-curve parameter (RFC 5915 §3), and PKCS #8 PrivateKeyInfo (RFC 5208 §5) with
        // id-ecPublicKey/prime256v1 around an ECPrivateKey without parameters (RFC 5915 §3).
        let sec1 = hex(
            "30310201010420c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721\
             a00a06082a8648ce3d030107",
        );
        let pkcs8 = hex(
            "3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420\
             c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
        );
        let a = SigningKey::from_sec1_der(&sec1).unwrap();
        let b = SigningKey::from_pkcs8_der(&pkcs8).unwrap();
        assert_eq!(a.public_key_sec1(), key().public_key_sec1());
        assert_eq!(b.public_key_sec1(), key().public_key_sec1());
        assert!(
            SigningKey::from_pkcs8_der(&sec1).is_err(),
            "formats are not interchangeable"
        );
    }

    #[test]
    fn debug_shows_only_the_public_key() {
        let d = format!("{:?}", key());
        assert!(
            d.starts_with("SigningKey { public: 0460fed4ba255a9d31"),
            "{d}"
        );
        assert!(!d.contains("c9afa9d8"), "{d}");
    }
}
