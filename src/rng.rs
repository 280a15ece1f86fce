//! Randomness: the library never picks a source behind the caller's back.
//!
//! Sessions draw randoms, ECDHE keys and cookie secrets from a [`RandomSource`] held in their
//! config. The default is the operating system's generator; tests and simulations plug in a
//! seeded one to make whole handshakes reproducible.

use core::convert::Infallible;
use core::fmt;
use std::sync::Arc;

/// A cryptographically secure random byte source, shared by the sessions of one config.
pub trait RandomSource: Send + Sync + fmt::Debug {
    /// Fills `dest` with random bytes. Must not fail: a source that cannot produce randomness
    /// must abort rather than return predictable bytes.
    fn fill(&self, dest: &mut [u8]);
}

/// The operating system's generator (getrandom).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, dest: &mut [u8]) {
        // Running without an OS RNG would mean predictable keys: refuse loudly.
        if let Err(e) = getrandom::fill(dest) {
            panic!("the operating system's random generator failed: {e}");
        }
    }
}

/// The default source, as an `Arc` for configs.
pub fn os_random() -> Arc<dyn RandomSource> {
    Arc::new(OsRandom)
}

/// Adapts a [`RandomSource`] to the `rand_core` traits the RustCrypto crates take.
pub(crate) struct CryptoRngAdapter<'a>(pub &'a dyn RandomSource);

impl rand_core::TryRng for CryptoRngAdapter<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for CryptoRngAdapter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_random_fills() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        OsRandom.fill(&mut a);
        OsRandom.fill(&mut b);
        assert_ne!(a, b);
    }
}
