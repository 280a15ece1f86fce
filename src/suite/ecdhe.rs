//! Ephemeral ECDH over P-256 (RFC 8422 §5.4, §5.7, §5.10, §5.11).
//!
//! Each handshake generates a fresh [`EcdheKeyPair`], sends [`EcdheKeyPair::public_key`] in its
//! ServerKeyExchange or ClientKeyExchange, and turns the peer's point into the premaster secret
//! with [`EcdheKeyPair::agree`], which consumes the key pair.

use core::fmt;

use p256::elliptic_curve::{ecdh::diffie_hellman, sec1::ToSec1Point, Generate};
use p256::{NonZeroScalar, PublicKey};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::prf::PreMasterSecret;
use super::{CryptoError, NamedGroup};

/// Bytes in an uncompressed P-256 point: `0x04 || X || Y` (SEC 1 §2.3.3).
pub const P256_UNCOMPRESSED_LEN: usize = 65;

/// An ephemeral P-256 key pair for one handshake. The private scalar is zeroized on drop.
pub struct EcdheKeyPair {
    scalar: NonZeroScalar,
    public: [u8; P256_UNCOMPRESSED_LEN],
}

impl EcdheKeyPair {
    /// A fresh key pair from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_scalar(NonZeroScalar::generate_from_rng(rng))
    }

    /// A key pair with a known private scalar (big-endian, leading zero bytes allowed).
    ///
    /// For known-answer tests only: a real handshake must use [`EcdheKeyPair::generate`].
    #[doc(hidden)]
    pub fn from_private_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        const WHY: &str = "the P-256 private scalar must be in [1, n-1]";
        let first_nonzero = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        let digits = bytes.get(first_nonzero..).unwrap_or_default();
        let pad = 32usize
            .checked_sub(digits.len())
            .ok_or(CryptoError::InvalidKey(WHY))?;
        let mut repr = Zeroizing::new(p256::FieldBytes::default());
        for (dst, src) in repr.iter_mut().skip(pad).zip(digits) {
            *dst = *src;
        }
        let scalar = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr(*repr))
            .ok_or(CryptoError::InvalidKey(WHY))?;
        Ok(Self::from_scalar(scalar))
    }

    fn from_scalar(scalar: NonZeroScalar) -> Self {
        let point = PublicKey::from_secret_scalar(&scalar)
            .as_affine()
            .to_sec1_point(false);
        let mut public = [0; P256_UNCOMPRESSED_LEN];
        for (dst, src) in public.iter_mut().zip(point.as_bytes()) {
            *dst = *src;
        }
        Self { scalar, public }
    }

    /// The group of this key pair, for ServerKeyExchange's `ECParameters` (RFC 8422 §5.4).
    pub fn group(&self) -> NamedGroup {
        NamedGroup::Secp256r1
    }

    /// Our public point, uncompressed (65 bytes), as sent in the key exchange messages.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// ECDH with the peer's point: the premaster secret is the x-coordinate of the shared point
    /// (RFC 8422 §5.10).
    ///
    /// The peer's point must be uncompressed (`0x04 || X || Y`, exactly 65 bytes; RFC 8422
    /// §5.1.2 deprecates every other format) and lie on P-256 (RFC 8422 §5.11). Anything else is
    /// [`CryptoError::InvalidPeerPublicKey`]. The point at infinity has no 65-byte encoding and
    /// P-256 has cofactor 1, so a valid point never yields the identity.
    pub fn agree(self, peer_public: &[u8]) -> Result<PreMasterSecret, CryptoError> {
        let peer = parse_uncompressed_p256(peer_public)?;
        let shared = diffie_hellman(&self.scalar, peer.as_affine());
        Ok(PreMasterSecret::from_bytes(shared.raw_secret_bytes()))
    }
}

/// Parses and validates a peer's uncompressed P-256 point (RFC 8422 §5.11).
fn parse_uncompressed_p256(bytes: &[u8]) -> Result<PublicKey, CryptoError> {
    if bytes.len() != P256_UNCOMPRESSED_LEN || bytes.first() != Some(&0x04) {
        return Err(CryptoError::InvalidPeerPublicKey);
    }
    // Checks that both coordinates are below p and that the point satisfies the curve equation.
    PublicKey::from_sec1_bytes(bytes).map_err(|_| CryptoError::InvalidPeerPublicKey)
}

impl Drop for EcdheKeyPair {
    fn drop(&mut self) {
        self.scalar.zeroize();
    }
}

impl ZeroizeOnDrop for EcdheKeyPair {}

impl fmt::Debug for EcdheKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcdheKeyPair")
            .field("group", &self.group())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn rng(seed: u8) -> ChaCha20Rng {
        ChaCha20Rng::from_seed([seed; 32])
    }

    #[test]
    fn both_sides_agree_on_the_premaster_secret() {
        let mut r = rng(1);
        for _ in 0..4 {
            let a = EcdheKeyPair::generate(&mut r);
            let b = EcdheKeyPair::generate(&mut r);
            assert_eq!(a.group(), NamedGroup::Secp256r1);
            assert_eq!(a.public_key().len(), 65);
            assert_eq!(a.public_key()[0], 0x04);
            assert_ne!(a.public_key(), b.public_key());
            let (pa, pb) = (a.public_key().to_vec(), b.public_key().to_vec());
            let s1 = a.agree(&pb).unwrap();
            let s2 = b.agree(&pa).unwrap();
            assert_eq!(s1.as_bytes(), s2.as_bytes());
            assert_eq!(s1.as_bytes().len(), 32, "the x-coordinate only");
        }
    }

    #[test]
    fn same_seed_same_key() {
        let a = EcdheKeyPair::generate(&mut rng(7));
        let b = EcdheKeyPair::generate(&mut rng(7));
        assert_eq!(a.public_key(), b.public_key());
    }

    #[test]
    fn rejects_every_non_uncompressed_or_off_curve_point() {
        let peer = EcdheKeyPair::generate(&mut rng(2));
        let good = peer.public_key().to_vec();
        let me = || EcdheKeyPair::generate(&mut rng(3));
        let bad = CryptoError::InvalidPeerPublicKey;

        // Compressed form of the same (valid) point.
        let y_odd = good[64] & 1;
        let mut compressed = vec![0x02 | y_odd];
        compressed.extend_from_slice(&good[1..33]);
        assert!(
            PublicKey::from_sec1_bytes(&compressed).is_ok(),
            "it is a valid point"
        );
        assert_eq!(me().agree(&compressed).unwrap_err(), bad, "compressed");

        assert_eq!(me().agree(&good[..64]).unwrap_err(), bad, "short");
        let mut long = good.clone();
        long.push(0);
        assert_eq!(me().agree(&long).unwrap_err(), bad, "long");
        assert_eq!(me().agree(&[]).unwrap_err(), bad, "empty");
        assert_eq!(
            me().agree(&[0x00]).unwrap_err(),
            bad,
            "SEC1 identity encoding"
        );
        let mut zeros = vec![0x04];
        zeros.extend_from_slice(&[0; 64]);
        assert_eq!(
            me().agree(&zeros).unwrap_err(),
            bad,
            "(0, 0) is not on the curve"
        );

        let mut hybrid = good.clone();
        hybrid[0] = 0x06 | y_odd;
        assert_eq!(me().agree(&hybrid).unwrap_err(), bad, "hybrid form");

        let mut off_curve = good.clone();
        off_curve[64] ^= 1;
        assert_eq!(
            me().agree(&off_curve).unwrap_err(),
            bad,
            "y changed: off the curve"
        );

        // x = p (not reduced) with any y.
        let mut unreduced = vec![0x04];
        unreduced.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]);
        unreduced.extend_from_slice(&[0; 12]);
        unreduced.extend_from_slice(&[0xff; 12]);
        unreduced.extend_from_slice(&good[33..]);
        assert_eq!(me().agree(&unreduced).unwrap_err(), bad, "x >= p");

        assert!(
            me().agree(&good).is_ok(),
            "and the untouched point still works"
        );
    }

    #[test]
    fn private_bytes_are_range_checked() {
        assert!(EcdheKeyPair::from_private_bytes(&[0; 32]).is_err(), "zero");
        assert!(
            EcdheKeyPair::from_private_bytes(&[]).is_err(),
            "empty is zero"
        );
        assert!(
            EcdheKeyPair::from_private_bytes(&[0xff; 32]).is_err(),
            ">= n"
        );
        assert!(
            EcdheKeyPair::from_private_bytes(&[1; 33]).is_err(),
            "too long"
        );
        let one = EcdheKeyPair::from_private_bytes(&[1]).unwrap();
        let padded = EcdheKeyPair::from_private_bytes(&[0, 0, 1]).unwrap();
        assert_eq!(one.public_key(), padded.public_key());
        // 1·G is the generator (SEC 2 §2.4.2).
        assert_eq!(
            &one.public_key()[1..9],
            &[0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47],
            "x(G) starts 6B17D1F2 E12C4247"
        );
    }

    #[test]
    fn debug_hides_the_scalar() {
        let kp = EcdheKeyPair::generate(&mut rng(4));
        assert_eq!(format!("{kp:?}"), "EcdheKeyPair { group: Secp256r1, .. }");
    }
}
