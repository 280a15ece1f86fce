//! Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1).
//!
//! `Cookie = generation ‖ HMAC-SHA256(Secret, Client-IP ‖ Client-Parameters)`. The parameters are
//! the ClientHello fields that precede the cookie (client_version, random, session_id): they are
//! all in the first fragment of even a fragmented ClientHello, so the front door can check the
//! cookie before it allocates any reassembly state. The random alone binds the cookie to one
//! ClientHello, since a client must repeat it verbatim after a HelloVerifyRequest.
//!
//! The secret rotates; a cookie made with the previous secret stays valid for one more period.
//! The one-byte generation tag tells which secret made a cookie, so checking costs one HMAC.

use core::net::SocketAddr;
use core::time::Duration;
use std::time::Instant;

use hmac::{KeyInit, Mac};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Length of the cookies we issue: a generation byte and a full HMAC-SHA256.
pub const COOKIE_LEN: usize = 33;

/// The ClientHello fields a cookie is bound to.
#[derive(Debug, Clone, Copy)]
pub struct CookieInput<'a> {
    pub peer: SocketAddr,
    pub client_version: u16,
    pub random: &'a [u8; 32],
    pub session_id: &'a [u8],
}

#[derive(Clone)]
struct Keyed {
    generation: u8,
    /// HMAC already keyed: cloning it skips the key schedule on every cookie.
    mac: HmacSha256,
}

impl Keyed {
    fn new(generation: u8, secret: &[u8; 32]) -> Self {
        // HMAC accepts keys of any length; this cannot fail.
        let mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        Self { generation, mac }
    }

    fn tag(&self, input: &CookieInput<'_>) -> [u8; COOKIE_LEN] {
        let mut mac = self.mac.clone();
        match input.peer {
            SocketAddr::V4(a) => {
                mac.update(&[4]);
                mac.update(&a.ip().octets());
                mac.update(&a.port().to_be_bytes());
            }
            SocketAddr::V6(a) => {
                mac.update(&[6]);
                mac.update(&a.ip().octets());
                mac.update(&a.port().to_be_bytes());
            }
        }
        mac.update(&input.client_version.to_be_bytes());
        mac.update(input.random);
        // session_id is at most 32 bytes (RFC 5246 §7.4.1.2); its length byte keeps the
        // encoding unambiguous.
        mac.update(&[input.session_id.len() as u8]);
        mac.update(input.session_id);
        let digest = mac.finalize().into_bytes();
        let mut out = [0u8; COOKIE_LEN];
        out[0] = self.generation;
        out[1..].copy_from_slice(&digest);
        out
    }
}

/// The cookie secrets: the current one and, for one period after a rotation, the previous one.
pub struct CookieKeys {
    current: Keyed,
    previous: Option<Keyed>,
    period: Duration,
    next_rotation: Option<Instant>,
}

impl core::fmt::Debug for CookieKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CookieKeys")
            .field("generation", &self.current.generation)
            .field("has_previous", &self.previous.is_some())
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

impl CookieKeys {
    /// Starts with `secret`; `rotate_if_due` replaces it every `period`.
    pub fn new(secret: &[u8; 32], period: Duration) -> Self {
        Self {
            current: Keyed::new(0, secret),
            previous: None,
            period,
            next_rotation: None,
        }
    }

    /// Makes `secret` current; the old current secret stays valid until the next rotation.
    /// Processes that share a secret (behind one UDP load balancer) rotate with this.
    pub fn rotate(&mut self, secret: &[u8; 32]) {
        let generation = self.current.generation.wrapping_add(1);
        let old = core::mem::replace(&mut self.current, Keyed::new(generation, secret));
        self.previous = Some(old);
    }

    /// Rotates to a fresh random secret when a period has passed since the last rotation.
    /// The first call only starts the clock.
    pub fn rotate_if_due(&mut self, now: Instant, fill_random: impl FnOnce(&mut [u8; 32])) {
        match self.next_rotation {
            None => self.next_rotation = Some(now + self.period),
            Some(due) if now >= due => {
                let mut secret = Zeroizing::new([0u8; 32]);
                fill_random(&mut secret);
                self.rotate(&secret);
                let next = due + self.period;
                if now >= next {
                    // Idle for a whole period or more: the old secret's cookies have expired
                    // too, and the schedule restarts from now.
                    self.previous = None;
                    self.next_rotation = Some(now + self.period);
                } else {
                    // Keep the schedule: a cookie lives at most two periods, however sparse
                    // the traffic that triggers rotations.
                    self.next_rotation = Some(next);
                }
            }
            Some(_) => {}
        }
    }

    /// When the next rotation is due, once the clock has started.
    pub fn next_rotation(&self) -> Option<Instant> {
        self.next_rotation
    }

    /// The cookie for this ClientHello and peer.
    pub fn generate(&self, input: &CookieInput<'_>) -> [u8; COOKIE_LEN] {
        self.current.tag(input)
    }

    /// True when `cookie` was made by the current or the previous secret for this input.
    /// The comparison is constant time.
    pub fn verify(&self, input: &CookieInput<'_>, cookie: &[u8]) -> bool {
        let Some(&generation) = cookie.first() else {
            return false;
        };
        let keyed = if generation == self.current.generation {
            &self.current
        } else {
            match &self.previous {
                Some(p) if p.generation == generation => p,
                _ => return false,
            }
        };
        let expected = keyed.tag(input);
        cookie.len() == COOKIE_LEN && bool::from(expected.as_slice().ct_eq(cookie))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(peer: &str, random: &'a [u8; 32]) -> CookieInput<'a> {
        CookieInput {
            peer: peer.parse().unwrap(),
            client_version: 0xfefd,
            random,
            session_id: &[],
        }
    }

    #[test]
    fn cookie_is_bound_to_peer_and_hello() {
        let keys = CookieKeys::new(&[7; 32], Duration::from_secs(60));
        let r = [1u8; 32];
        let c = keys.generate(&input("127.0.0.1:5000", &r));
        assert_eq!(c.len(), COOKIE_LEN);
        assert!(keys.verify(&input("127.0.0.1:5000", &r), &c));
        assert!(!keys.verify(&input("127.0.0.1:5001", &r), &c), "other port");
        assert!(
            !keys.verify(&input("127.0.0.2:5000", &r), &c),
            "other address"
        );
        assert!(
            !keys.verify(&input("127.0.0.1:5000", &[2; 32]), &c),
            "other random"
        );
        let mut other_version = input("127.0.0.1:5000", &r);
        other_version.client_version = 0xfeff;
        assert!(!keys.verify(&other_version, &c));
        let mut with_session = input("127.0.0.1:5000", &r);
        with_session.session_id = &[1];
        assert!(!keys.verify(&with_session, &c));
        assert!(
            !keys.verify(&input("127.0.0.1:5000", &r), &c[..32]),
            "truncated"
        );
        assert!(!keys.verify(&input("127.0.0.1:5000", &r), &[]), "empty");
        let mut flipped = c;
        flipped[20] ^= 1;
        assert!(!keys.verify(&input("127.0.0.1:5000", &r), &flipped));
    }

    #[test]
    fn previous_secret_valid_for_one_period() {
        let period = Duration::from_secs(10);
        let mut keys = CookieKeys::new(&[7; 32], period);
        let t0 = Instant::now();
        let r = [3u8; 32];
        let inp = input("[::1]:4242", &r);
        keys.rotate_if_due(t0, |_| unreachable!("first call only starts the clock"));
        let old = keys.generate(&inp);
        keys.rotate_if_due(t0 + Duration::from_secs(9), |_| unreachable!("not due"));
        keys.rotate_if_due(t0 + period, |s| *s = [8; 32]);
        assert!(keys.verify(&inp, &old), "previous secret still accepted");
        let new = keys.generate(&inp);
        assert_ne!(old, new);
        keys.rotate_if_due(t0 + 2 * period, |s| *s = [9; 32]);
        assert!(!keys.verify(&inp, &old), "two rotations later it expired");
        assert!(keys.verify(&inp, &new));
    }

    #[test]
    fn long_idle_drops_previous() {
        let period = Duration::from_secs(10);
        let mut keys = CookieKeys::new(&[7; 32], period);
        let t0 = Instant::now();
        let r = [3u8; 32];
        let inp = input("127.0.0.1:1", &r);
        keys.rotate_if_due(t0, |_| {});
        let old = keys.generate(&inp);
        keys.rotate_if_due(t0 + 5 * period, |s| *s = [1; 32]);
        assert!(!keys.verify(&inp, &old));
    }

    #[test]
    fn shared_secret_accepts_each_others_cookies() {
        let a = CookieKeys::new(&[5; 32], Duration::from_secs(60));
        let b = CookieKeys::new(&[5; 32], Duration::from_secs(60));
        let r = [4u8; 32];
        assert!(b.verify(
            &input("127.0.0.1:9", &r),
            &a.generate(&input("127.0.0.1:9", &r))
        ));
    }
}
