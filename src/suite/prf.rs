//! The TLS 1.2 PRF and everything derived from it.
//!
//! - [`prf`]: `PRF(secret, label, seed) = P_<hash>(secret, label + seed)` (RFC 5246 §5).
//! - [`master_secret`] (RFC 5246 §8.1) and [`extended_master_secret`] (RFC 7627 §4).
//! - [`key_block`]: the write keys and IVs (RFC 5246 §6.3).
//! - [`finished_verify_data`] (RFC 5246 §7.4.9).
//! - [`export_keying_material`] (RFC 5705 §4), for DTLS-SRTP and friends.
//!
//! The PRF never allocates: the seed is passed as pieces and each HMAC is fed piecewise, and the
//! keyed HMAC state is computed once and cloned for every block.

use core::fmt;

use hmac::{digest::block_api::EagerHash, Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::hash::HashOutput;
use super::{HashAlgorithm, SuiteInfo};

/// Bytes in a master secret (RFC 5246 §8.1).
pub const MASTER_SECRET_LEN: usize = 48;
/// Bytes in Finished `verify_data` for every TLS 1.2 suite (RFC 5246 §7.4.9).
pub const VERIFY_DATA_LEN: usize = 12;
/// Largest key block any row of [`super::SUITES`] may use (room for ChaCha20-Poly1305's 88).
pub const MAX_KEY_BLOCK_LEN: usize = 128;

/// Labels the TLS 1.2 key schedule uses itself; the exporter must not produce them
/// (RFC 5705 §4: exporter labels must not collide with existing PRF labels).
const RESERVED_LABELS: [&[u8]; 5] = [
    b"client finished",
    b"server finished",
    b"master secret",
    b"extended master secret",
    b"key expansion",
];

/// HMAC keyed with `secret`.
fn keyed_hmac<D: EagerHash>(secret: &[u8]) -> Hmac<D> {
    match <Hmac<D> as KeyInit>::new_from_slice(secret) {
        Ok(mac) => mac,
        // RFC 2104 §2: keys of any length are valid (long ones are hashed first), and
        // `hmac` implements exactly that, so this arm cannot run.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// `P_hash(secret, label + seed)` with the seed given as pieces (RFC 5246 §5):
/// `A(0) = seed`, `A(i) = HMAC(secret, A(i-1))`, output `HMAC(secret, A(i) + seed)` for i = 1, 2, ...
fn p_hash<D: EagerHash>(secret: &[u8], label: &[u8], seeds: &[&[u8]], out: &mut [u8]) {
    let keyed = keyed_hmac::<D>(secret);
    let with_seed = |mut mac: Hmac<D>| {
        mac.update(label);
        for piece in seeds {
            mac.update(piece);
        }
        mac
    };
    // A(1) = HMAC(secret, A(0)) where A(0) is the seed itself.
    let mut a = with_seed(keyed.clone()).finalize().into_bytes();
    let mut chunks = out.chunks_mut(a.len()).peekable();
    while let Some(chunk) = chunks.next() {
        let mut mac = keyed.clone();
        mac.update(&a);
        let mut block = with_seed(mac).finalize().into_bytes();
        for (dst, src) in chunk.iter_mut().zip(block.iter()) {
            *dst = *src;
        }
        block.as_mut_slice().zeroize();
        if chunks.peek().is_some() {
            let mut mac = keyed.clone();
            mac.update(&a);
            a.as_mut_slice().zeroize();
            a = mac.finalize().into_bytes();
        }
    }
    a.as_mut_slice().zeroize();
}

/// The TLS 1.2 PRF: fills `out` with `P_<alg>(secret, label + seeds[0] + seeds[1] + ...)`
/// (RFC 5246 §5). Any output length works.
pub fn prf(alg: HashAlgorithm, secret: &[u8], label: &[u8], seeds: &[&[u8]], out: &mut [u8]) {
    match alg {
        HashAlgorithm::Sha256 => p_hash::<Sha256>(secret, label, seeds, out),
        HashAlgorithm::Sha384 => p_hash::<Sha384>(secret, label, seeds, out),
    }
}

/// `HMAC(key, parts[0] + parts[1] + ...)` (RFC 2104) with the PRF's hash.
///
/// The result is a plain [`HashOutput`] and is not zeroized: use it for MACs that are sent or
/// compared (cookies, test vectors), not for keys. Compare MACs with [`hmac_verify`].
pub fn hmac(alg: HashAlgorithm, key: &[u8], parts: &[&[u8]]) -> HashOutput {
    fn run<D: EagerHash>(key: &[u8], parts: &[&[u8]]) -> HashOutput {
        let mut mac = keyed_hmac::<D>(key);
        for part in parts {
            mac.update(part);
        }
        HashOutput::from_slice(&mac.finalize().into_bytes())
    }
    match alg {
        HashAlgorithm::Sha256 => run::<Sha256>(key, parts),
        HashAlgorithm::Sha384 => run::<Sha384>(key, parts),
    }
}

/// Checks `tag` against `HMAC(key, parts...)` in constant time.
///
/// `tag` may be a truncation of the HMAC (RFC 2104 §5) but no shorter than 10 bytes (80 bits,
/// RFC 2104's floor) nor longer than the hash; outside that range it never matches.
pub fn hmac_verify(alg: HashAlgorithm, key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    let expected = hmac(alg, key, parts);
    if tag.len() < 10 {
        return false;
    }
    match expected.as_slice().get(..tag.len()) {
        Some(prefix) => prefix.ct_eq(tag).into(),
        None => false,
    }
}

/// The premaster secret: the ECDH x-coordinate (RFC 8422 §5.10), or a PSK construction later.
/// Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PreMasterSecret(Vec<u8>);

impl PreMasterSecret {
    /// Copies `bytes` into a new premaster secret.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        // Exact capacity: the vector never reallocates and leaves no stray copy behind.
        let mut v = Vec::with_capacity(bytes.len());
        v.extend_from_slice(bytes);
        Self(v)
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for PreMasterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PreMasterSecret({} bytes, redacted)", self.0.len())
    }
}

/// The 48-byte master secret. Zeroized on drop; `Debug` never shows it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterSecret([u8; MASTER_SECRET_LEN]);

impl MasterSecret {
    /// Wraps a known master secret (session resumption, test vectors, key logs).
    pub fn from_bytes(bytes: [u8; MASTER_SECRET_LEN]) -> Self {
        Self(bytes)
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8; MASTER_SECRET_LEN] {
        &self.0
    }
}

impl fmt::Debug for MasterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterSecret(redacted)")
    }
}

/// `PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)[0..47]`
/// (RFC 5246 §8.1). Use [`extended_master_secret`] whenever the peer negotiated it.
pub fn master_secret(
    alg: HashAlgorithm,
    pms: &PreMasterSecret,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> MasterSecret {
    let mut ms = MasterSecret([0; MASTER_SECRET_LEN]);
    prf(
        alg,
        pms.as_bytes(),
        b"master secret",
        &[client_random, server_random],
        &mut ms.0,
    );
    ms
}

/// `PRF(pre_master_secret, "extended master secret", session_hash)[0..47]` (RFC 7627 §4), where
/// `session_hash` is the transcript hash through ClientKeyExchange (RFC 7627 §3).
pub fn extended_master_secret(
    alg: HashAlgorithm,
    pms: &PreMasterSecret,
    session_hash: &[u8],
) -> MasterSecret {
    let mut ms = MasterSecret([0; MASTER_SECRET_LEN]);
    prf(
        alg,
        pms.as_bytes(),
        b"extended master secret",
        &[session_hash],
        &mut ms.0,
    );
    ms
}

/// The keys of one connection, cut from the key block (RFC 5246 §6.3). Zeroized on drop.
///
/// Layout for AEAD suites (no MAC keys): `client_write_key`, `server_write_key`,
/// `client_write_IV`, `server_write_IV`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct KeyBlock {
    bytes: [u8; MAX_KEY_BLOCK_LEN],
    #[zeroize(skip)]
    key_len: usize,
    #[zeroize(skip)]
    iv_len: usize,
}

impl KeyBlock {
    fn part(&self, index: usize, len: usize) -> &[u8] {
        let start = match index {
            0 => 0,
            1 => self.key_len,
            2 => 2 * self.key_len,
            _ => 2 * self.key_len + self.iv_len,
        };
        self.bytes.get(start..start + len).unwrap_or_default()
    }

    /// `client_write_key`.
    pub fn client_write_key(&self) -> &[u8] {
        self.part(0, self.key_len)
    }

    /// `server_write_key`.
    pub fn server_write_key(&self) -> &[u8] {
        self.part(1, self.key_len)
    }

    /// `client_write_IV`: for GCM the 4-byte salt of the client's nonces (RFC 5288 §3).
    pub fn client_write_iv(&self) -> &[u8] {
        self.part(2, self.iv_len)
    }

    /// `server_write_IV`: for GCM the 4-byte salt of the server's nonces (RFC 5288 §3).
    pub fn server_write_iv(&self) -> &[u8] {
        self.part(3, self.iv_len)
    }
}

impl fmt::Debug for KeyBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyBlock")
            .field("key_len", &self.key_len)
            .field("iv_len", &self.iv_len)
            .finish_non_exhaustive()
    }
}

/// `PRF(master_secret, "key expansion", server_random + client_random)`, split for `info`
/// (RFC 5246 §6.3). Note the order of the randoms: server first, unlike the master secret.
pub fn key_block(
    info: &SuiteInfo,
    ms: &MasterSecret,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> KeyBlock {
    let mut kb = KeyBlock {
        bytes: [0; MAX_KEY_BLOCK_LEN],
        key_len: 0,
        iv_len: 0,
    };
    // The table is static and a unit test checks every row fits; a row that did not would get
    // empty keys, which the AEAD rejects, instead of a panic.
    if info.key_block_len() <= MAX_KEY_BLOCK_LEN {
        kb.key_len = info.key_len;
        kb.iv_len = info.fixed_iv_len;
    }
    let len = 2 * kb.key_len + 2 * kb.iv_len;
    if let Some(out) = kb.bytes.get_mut(..len) {
        prf(
            info.hash,
            &ms.0,
            b"key expansion",
            &[server_random, client_random],
            out,
        );
    }
    kb
}

/// `PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]` (RFC 5246 §7.4.9), with
/// `finished_label` "client finished" when `from_client`, else "server finished".
///
/// Compare a received value with [`verify_data_matches`], which runs in constant time.
pub fn finished_verify_data(
    alg: HashAlgorithm,
    ms: &MasterSecret,
    from_client: bool,
    handshake_hash: &[u8],
) -> [u8; VERIFY_DATA_LEN] {
    let label: &[u8] = if from_client {
        b"client finished"
    } else {
        b"server finished"
    };
    let mut out = [0; VERIFY_DATA_LEN];
    prf(alg, &ms.0, label, &[handshake_hash], &mut out);
    out
}

/// Constant-time check of a received Finished `verify_data` (any length mismatch fails).
pub fn verify_data_matches(expected: &[u8; VERIFY_DATA_LEN], received: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    received.len() == VERIFY_DATA_LEN && bool::from(expected.ct_eq(received))
}

/// Why [`export_keying_material`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportError {
    /// The label is one the TLS key schedule uses itself.
    ReservedLabel,
    /// The context is longer than the 65535 bytes its 2-byte length prefix can describe.
    ContextTooLong { len: usize },
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedLabel => f.write_str(
                "the exporter label is one the TLS key schedule uses itself (\"client finished\", \
                 \"server finished\", \"master secret\", \"extended master secret\", \
                 \"key expansion\"); use a registered exporter label such as \
                 \"EXTRACTOR-dtls_srtp\" or one starting with \"EXPERIMENTAL\" (RFC 5705 §4)",
            ),
            Self::ContextTooLong { len } => write!(
                f,
                "the exporter context is {len} bytes but at most 65535 fit its length prefix \
                 (RFC 5705 §4); pass a shorter context"
            ),
        }
    }
}

impl std::error::Error for ExportError {}

/// Keying material exporter (RFC 5705 §4): fills `out` with
/// `PRF(master_secret, label, client_random + server_random [+ context_length(u16) + context])`.
///
/// `context: None` and `context: Some(b"")` give different output, as the RFC requires.
pub fn export_keying_material(
    alg: HashAlgorithm,
    ms: &MasterSecret,
    label: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    context: Option<&[u8]>,
    out: &mut [u8],
) -> Result<(), ExportError> {
    if RESERVED_LABELS.contains(&label) {
        return Err(ExportError::ReservedLabel);
    }
    match context {
        None => prf(alg, &ms.0, label, &[client_random, server_random], out),
        Some(context) => {
            let len = u16::try_from(context.len())
                .map_err(|_| ExportError::ContextTooLong { len: context.len() })?;
            let prefix = len.to_be_bytes();
            prf(
                alg,
                &ms.0,
                label,
                &[client_random, server_random, &prefix, context],
                out,
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{lookup, CipherSuite, HashAlgorithm::*};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn ms(byte: u8) -> MasterSecret {
        MasterSecret::from_bytes([byte; 48])
    }

    /// A plain, allocating P_hash straight from RFC 5246 §5, to check the piecewise one.
    fn reference_p_hash(alg: HashAlgorithm, secret: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut a = seed.to_vec();
        while out.len() < len {
            a = hmac(alg, secret, &[&a]).as_slice().to_vec();
            out.extend_from_slice(hmac(alg, secret, &[&a, seed]).as_slice());
        }
        out.truncate(len);
        out
    }

    // Section A of /work/shared/vectors/tls12_prf.txt (IETF TLS WG list vectors); the full file
    // runs in tests/vectors.rs.
    #[test]
    fn prf_sha256_known_answer() {
        let mut out = [0u8; 100];
        prf(
            Sha256,
            &hex("9bbe436ba940f017b17652849a71db35"),
            b"test label",
            &[&hex("a0ba9f936cda311827a6f796ffd5198c")],
            &mut out,
        );
        assert_eq!(
            out.to_vec(),
            hex(
                "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9\
                 a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa480\
                 82d122ee42c5a72e5a5110fff70187347b66"
            )
        );
    }

    #[test]
    fn prf_matches_reference_for_every_length_and_seed_split() {
        for alg in [Sha256, Sha384] {
            for len in [0, 1, 12, 31, 32, 33, 47, 48, 49, 95, 96, 97, 150] {
                let expected = reference_p_hash(alg, b"secret", b"labelseedpart2", len);
                let mut one = vec![0u8; len];
                prf(alg, b"secret", b"label", &[b"seedpart2"], &mut one);
                let mut split = vec![0u8; len];
                prf(
                    alg,
                    b"secret",
                    b"lab",
                    &[b"el", b"", b"seed", b"part2"],
                    &mut split,
                );
                assert_eq!(one, expected, "{alg:?} len {len}");
                // The label and seeds are one byte string: where it is cut does not matter.
                assert_eq!(split, expected, "{alg:?} len {len} split");
            }
        }
    }

    #[test]
    fn master_secret_uses_client_then_server_random() {
        let pms = PreMasterSecret::from_bytes(&[3; 32]);
        let (c, s) = ([1u8; 32], [2u8; 32]);
        for alg in [Sha256, Sha384] {
            let m = master_secret(alg, &pms, &c, &s);
            let mut expected = [0u8; 48];
            prf(
                alg,
                &[3; 32],
                b"master secret",
                &[&[1; 32], &[2; 32]],
                &mut expected,
            );
            assert_eq!(m.as_bytes(), &expected);
            assert_ne!(master_secret(alg, &pms, &s, &c).as_bytes(), m.as_bytes());
        }
        assert_ne!(
            master_secret(Sha256, &pms, &c, &s).as_bytes(),
            master_secret(Sha384, &pms, &c, &s).as_bytes()
        );
    }

    #[test]
    fn extended_master_secret_depends_on_session_hash_and_label() {
        let pms = PreMasterSecret::from_bytes(&[9; 32]);
        let h1 = crate::suite::hash::hash(Sha256, b"transcript 1");
        let h2 = crate::suite::hash::hash(Sha256, b"transcript 2");
        let a = extended_master_secret(Sha256, &pms, h1.as_ref());
        let mut expected = [0u8; 48];
        prf(
            Sha256,
            &[9; 32],
            b"extended master secret",
            &[h1.as_ref()],
            &mut expected,
        );
        assert_eq!(a.as_bytes(), &expected);
        assert_ne!(
            extended_master_secret(Sha256, &pms, h2.as_ref()).as_bytes(),
            a.as_bytes()
        );
        // Not the classic derivation with the hash in place of the randoms.
        let mut classic = [0u8; 48];
        prf(
            Sha256,
            &[9; 32],
            b"master secret",
            &[h1.as_ref()],
            &mut classic,
        );
        assert_ne!(a.as_bytes(), &classic);
    }

    #[test]
    fn key_block_split_for_both_suites() {
        let m = ms(0x42);
        let (c, s) = ([0xc1u8; 32], [0x5eu8; 32]);
        for (suite, key_len, alg) in [
            (
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                16,
                Sha256,
            ),
            (
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                32,
                Sha384,
            ),
        ] {
            let info = lookup(suite).unwrap();
            let kb = key_block(info, &m, &c, &s);
            let mut full = vec![0u8; 2 * key_len + 8];
            prf(alg, m.as_bytes(), b"key expansion", &[&s, &c], &mut full);
            assert_eq!(kb.client_write_key(), &full[..key_len], "{suite:?}");
            assert_eq!(kb.server_write_key(), &full[key_len..2 * key_len]);
            assert_eq!(kb.client_write_iv(), &full[2 * key_len..2 * key_len + 4]);
            assert_eq!(kb.server_write_iv(), &full[2 * key_len + 4..]);
            assert_eq!(kb.client_write_iv().len(), 4);
            assert_ne!(kb.client_write_key(), kb.server_write_key());
        }
    }

    #[test]
    fn verify_data_labels_differ_by_side() {
        let m = ms(7);
        let h = crate::suite::hash::hash(Sha256, b"handshake");
        let client = finished_verify_data(Sha256, &m, true, h.as_ref());
        let server = finished_verify_data(Sha256, &m, false, h.as_ref());
        let mut expected = [0u8; 12];
        prf(
            Sha256,
            m.as_bytes(),
            b"client finished",
            &[h.as_ref()],
            &mut expected,
        );
        assert_eq!(client, expected);
        prf(
            Sha256,
            m.as_bytes(),
            b"server finished",
            &[h.as_ref()],
            &mut expected,
        );
        assert_eq!(server, expected);
        assert_ne!(client, server);
        assert!(verify_data_matches(&client, &client));
        assert!(!verify_data_matches(&client, &server));
        assert!(
            !verify_data_matches(&client, &client[..11]),
            "a short value fails"
        );
    }

    #[test]
    fn exporter_context_changes_output_and_matches_rfc5705_layout() {
        let m = ms(1);
        let (c, s) = ([0xaau8; 32], [0xbbu8; 32]);
        let label = b"EXTRACTOR-dtls_srtp";
        let mut none = [0u8; 60];
        let mut empty = [0u8; 60];
        let mut some = [0u8; 60];
        export_keying_material(Sha256, &m, label, &c, &s, None, &mut none).unwrap();
        export_keying_material(Sha256, &m, label, &c, &s, Some(b""), &mut empty).unwrap();
        export_keying_material(Sha256, &m, label, &c, &s, Some(b"ctx"), &mut some).unwrap();
        assert_ne!(none, empty, "no context differs from an empty context");
        assert_ne!(empty, some);
        let mut expected = [0u8; 60];
        prf(Sha256, m.as_bytes(), label, &[&c, &s], &mut expected);
        assert_eq!(none, expected);
        prf(
            Sha256,
            m.as_bytes(),
            label,
            &[&c, &s, &[0, 3], b"ctx"],
            &mut expected,
        );
        assert_eq!(some, expected);
    }

    #[test]
    fn exporter_rejects_reserved_labels_and_huge_context() {
        let m = ms(1);
        let r = [0u8; 32];
        let mut out = [0u8; 16];
        for label in RESERVED_LABELS {
            assert_eq!(
                export_keying_material(Sha256, &m, label, &r, &r, None, &mut out),
                Err(ExportError::ReservedLabel),
                "{}",
                String::from_utf8_lossy(label)
            );
        }
        assert_eq!(out, [0; 16], "nothing written on refusal");
        let big = vec![0u8; 65536];
        assert_eq!(
            export_keying_material(Sha256, &m, b"EXPERIMENTAL x", &r, &r, Some(&big), &mut out),
            Err(ExportError::ContextTooLong { len: 65536 })
        );
        assert!(export_keying_material(
            Sha256,
            &m,
            b"EXPERIMENTAL x",
            &r,
            &r,
            Some(&big[1..]),
            &mut out
        )
        .is_ok());
        assert!(ExportError::ReservedLabel
            .to_string()
            .contains("EXTRACTOR-dtls_srtp"));
    }

    #[test]
    fn hmac_verify_is_strict() {
        let tag = hmac(Sha256, b"k", &[b"msg"]);
        assert!(hmac_verify(Sha256, b"k", &[b"m", b"sg"], tag.as_ref()));
        assert!(
            hmac_verify(Sha256, b"k", &[b"msg"], &tag.as_ref()[..16]),
            "truncated tag"
        );
        assert!(
            !hmac_verify(Sha256, b"k", &[b"msg"], &tag.as_ref()[..9]),
            "too short"
        );
        assert!(!hmac_verify(Sha256, b"k", &[b"msh"], tag.as_ref()));
        let mut long = tag.as_ref().to_vec();
        long.push(0);
        assert!(
            !hmac_verify(Sha256, b"k", &[b"msg"], &long),
            "longer than the hash"
        );
        let mut flipped = tag.as_ref().to_vec();
        flipped[31] ^= 1;
        assert!(!hmac_verify(Sha256, b"k", &[b"msg"], &flipped));
    }

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let m = ms(0xab);
        assert_eq!(format!("{m:?}"), "MasterSecret(redacted)");
        let p = PreMasterSecret::from_bytes(&[0xab; 32]);
        assert_eq!(format!("{p:?}"), "PreMasterSecret(32 bytes, redacted)");
        let info = lookup(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256).unwrap();
        let kb = format!("{:?}", key_block(info, &m, &[0; 32], &[0; 32]));
        assert!(!kb.contains("ab") && kb.contains("key_len: 16"), "{kb}");
    }
}
