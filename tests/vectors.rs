//! Known-answer tests for the cipher-suite crypto.
//!
//! Every file in `vectors/` (in the repository, so these never skip) is run through the public
//! `puredtls::suite` API; each vector is an assertion and each test prints how many passed.
//! The last tests replay real OpenSSL DTLS 1.2 sessions from `../shared` (skipped, with a
//! message, when that directory is absent).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use puredtls::suite::{
    self, ecdsa, prf, CipherSuite, EcdheKeyPair, HashAlgorithm, SignatureScheme, SigningKey,
    TranscriptHash,
};

// ---------------------------------------------------------------------------------------------
// The vector file format: blocks of `name = value` lines separated by blank lines. `#` starts a
// comment (whole line, or after a value). A `[NAME]` line names the block it starts. Values are
// hex, or ASCII in double quotes, or (for a few fields) plain words and numbers.

#[derive(Debug)]
struct Block {
    name: Option<String>,
    line: usize,
    fields: Vec<(String, String)>,
}

impl Block {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self, key: &str) -> &str {
        self.get(key)
            .unwrap_or_else(|| panic!("block at line {} has no `{key}`", self.line))
    }

    /// A hex value, or the bytes of a quoted ASCII value.
    fn bytes(&self, key: &str) -> Vec<u8> {
        let v = self.text(key);
        match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(ascii) => ascii.as_bytes().to_vec(),
            None => hex::decode(v)
                .unwrap_or_else(|e| panic!("line {}: `{key}` is not hex: {e}", self.line)),
        }
    }

    fn array<const N: usize>(&self, key: &str) -> [u8; N] {
        self.bytes(key).try_into().unwrap_or_else(|v: Vec<u8>| {
            panic!("line {}: `{key}` has {} bytes, not {N}", self.line, v.len())
        })
    }
}

fn parse_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            blocks.extend(current.take());
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            blocks.extend(current.take());
            let name = rest
                .split(']')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            current = Some(Block {
                name: Some(name),
                line: i + 1,
                fields: Vec::new(),
            });
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: expected `name = value`", i + 1));
        let value = value.trim();
        // An inline comment follows a value unless the value is quoted.
        let value = if value.starts_with('"') {
            value.split_inclusive('"').take(2).collect::<String>()
        } else {
            value
                .split('#')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        current
            .get_or_insert_with(|| Block {
                name: None,
                line: i + 1,
                fields: Vec::new(),
            })
            .fields
            .push((key.trim().to_string(), value));
    }
    blocks.extend(current);
    blocks
}

fn read_vectors(name: &str) -> Vec<Block> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        text.starts_with('#'),
        "{name}: every vector file starts with a header naming its source"
    );
    parse_blocks(&text)
}

fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipping: ../shared not found (looked for {})",
            dir.display()
        );
        None
    }
}

fn hash_named(name: &str) -> Option<HashAlgorithm> {
    match name {
        "SHA-256" => Some(HashAlgorithm::Sha256),
        "SHA-384" => Some(HashAlgorithm::Sha384),
        _ => None,
    }
}

/// DER `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 8422 §5.4), built
/// independently of the library so the exact bytes can be compared.
fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn integer(v: &[u8]) -> Vec<u8> {
        let first = v.iter().position(|&b| b != 0).unwrap_or(v.len() - 1);
        let mut body = v[first..].to_vec();
        if body[0] & 0x80 != 0 {
            body.insert(0, 0);
        }
        let mut out = vec![0x02, body.len() as u8];
        out.extend(body);
        out
    }
    let mut content = integer(r);
    content.extend(integer(s));
    assert!(content.len() < 128, "short-form length only");
    let mut out = vec![0x30, content.len() as u8];
    out.extend(content);
    out
}

// ---------------------------------------------------------------------------------------------

#[test]
fn hmac_rfc4231() {
    let blocks = read_vectors("hmac_rfc4231.txt");
    let mut passed = 0;
    for b in &blocks {
        let (key, data) = (b.bytes("key"), b.bytes("data"));
        for (field, alg) in [
            ("hmac_sha256", HashAlgorithm::Sha256),
            ("hmac_sha384", HashAlgorithm::Sha384),
        ] {
            let expected = b.bytes(field);
            let full = prf::hmac(alg, &key, &[&data]);
            assert_eq!(full.len(), alg.output_len());
            match b.get("truncate_bits") {
                Some(bits) => {
                    // Test case 5: the RFC lists only the first 128 bits.
                    assert_eq!(
                        expected.len() * 8,
                        bits.parse::<usize>().unwrap(),
                        "case {}",
                        b.text("case")
                    );
                    assert_eq!(
                        &full.as_ref()[..expected.len()],
                        &expected[..],
                        "case {} {field}",
                        b.text("case")
                    );
                }
                None => assert_eq!(
                    full.as_ref(),
                    &expected[..],
                    "case {} {field}",
                    b.text("case")
                ),
            }
            assert!(
                prf::hmac_verify(alg, &key, &[&data], &expected),
                "case {} {field}",
                b.text("case")
            );
            // The same input split in two pieces.
            let (d1, d2) = data.split_at(data.len() / 2);
            assert_eq!(prf::hmac(alg, &key, &[d1, d2]), full);
            passed += 1;
        }
    }
    println!(
        "hmac_rfc4231: {passed} vectors passed ({} test cases x SHA-256, SHA-384)",
        blocks.len()
    );
    assert_eq!(blocks.len(), 7, "RFC 4231 has test cases 1 to 7");
    assert_eq!(passed, 14);
}

#[test]
fn ecdh_p256_rfc5903() {
    let blocks = read_vectors("ecdh_p256_rfc5903.txt");
    let mut passed = 0;
    for b in &blocks {
        let point = |x: &str, y: &str| [vec![0x04], b.bytes(x), b.bytes(y)].concat();
        let (gi, gr) = (point("gix", "giy"), point("grx", "gry"));
        let initiator = EcdheKeyPair::from_private_bytes(&b.bytes("i")).unwrap();
        let responder = EcdheKeyPair::from_private_bytes(&b.bytes("r")).unwrap();
        assert_eq!(initiator.public_key(), &gi[..], "g^i");
        assert_eq!(responder.public_key(), &gr[..], "g^r");
        let pms_i = initiator.agree(&gr).unwrap();
        let pms_r = responder.agree(&gi).unwrap();
        assert_eq!(
            pms_i.as_bytes(),
            &b.bytes("girx")[..],
            "initiator's shared x"
        );
        assert_eq!(
            pms_r.as_bytes(),
            &b.bytes("girx")[..],
            "responder's shared x"
        );
        // The common point's y must not leak into the premaster secret (RFC 8422 §5.10).
        assert_ne!(pms_i.as_bytes(), &b.bytes("giry")[..]);
        passed += 1;
    }
    println!("ecdh_p256_rfc5903: {passed} vector passed (both public keys, both directions of agreement)");
    assert_eq!(passed, 1);
}

fn ecdsa_scheme(hash: &str) -> SignatureScheme {
    match hash {
        "SHA-256" => SignatureScheme::EcdsaSecp256r1Sha256,
        "SHA-384" => SignatureScheme::EcdsaSecp384r1Sha384,
        "SHA-512" => SignatureScheme::EcdsaSecp521r1Sha512,
        other => panic!("no TLS 1.2 ECDSA scheme for {other}"),
    }
}

/// Runs an RFC 6979 file: verify every signature (and a tampered copy); returns
/// (key block, signature blocks, verified count).
fn ecdsa_rfc6979_verify(file: &str) -> (Vec<u8>, Vec<Block>, usize) {
    let mut blocks = read_vectors(file);
    let key = blocks.remove(0);
    let public = [vec![0x04], key.bytes("ux"), key.bytes("uy")].concat();
    let mut verified = 0;
    for b in &blocks {
        let scheme = ecdsa_scheme(b.text("hash"));
        let msg = b.bytes("message");
        let sig = der_signature(&b.bytes("r"), &b.bytes("s"));
        ecdsa::verify(scheme, &public, &msg, &sig)
            .unwrap_or_else(|e| panic!("{file} line {}: {e}", b.line));
        let mut tampered_s = b.bytes("s");
        *tampered_s.last_mut().unwrap() ^= 1;
        let bad = der_signature(&b.bytes("r"), &tampered_s);
        assert_eq!(
            ecdsa::verify(scheme, &public, &msg, &bad),
            Err(suite::CryptoError::BadSignature)
        );
        verified += 1;
    }
    (public, blocks, verified)
}

#[test]
fn ecdsa_p256_rfc6979() {
    let key_block = &read_vectors("ecdsa_p256_rfc6979.txt")[0];
    assert_eq!(key_block.text("curve"), "P-256");
    let key = SigningKey::from_bytes(&key_block.array("x")).unwrap();
    let (public, blocks, verified) = ecdsa_rfc6979_verify("ecdsa_p256_rfc6979.txt");
    assert_eq!(key.public_key_sec1(), &public[..], "U = xG");
    let mut signed = 0;
    for b in blocks.iter().filter(|b| b.text("hash") == "SHA-256") {
        let expected = der_signature(&b.bytes("r"), &b.bytes("s"));
        assert_eq!(
            key.sign(&b.bytes("message")),
            expected,
            "line {}: deterministic r, s",
            b.line
        );
        signed += 1;
    }
    println!(
        "ecdsa_p256_rfc6979: {signed} signatures reproduced byte for byte (SHA-256), \
         {verified} verified (SHA-256/384/512), {verified} tampered copies rejected"
    );
    assert_eq!((signed, verified), (2, 6));
}

#[test]
fn ecdsa_p384_rfc6979() {
    let (_, _, verified) = ecdsa_rfc6979_verify("ecdsa_p384_rfc6979.txt");
    println!("ecdsa_p384_rfc6979: {verified} verified (SHA-256/384/512 on P-384), {verified} tampered copies rejected");
    assert_eq!(verified, 6);
}

#[test]
fn tls12_prf() {
    let blocks = read_vectors("tls12_prf.txt");
    let (mut passed, mut skipped) = (Vec::new(), Vec::new());
    for b in &blocks {
        let name = b
            .name
            .clone()
            .unwrap_or_else(|| panic!("unnamed block at line {}", b.line));
        let Some(alg) = hash_named(b.text("Hash")) else {
            // P_SHA224 and P_SHA512: no TLS 1.2 suite here uses them.
            skipped.push(name);
            continue;
        };
        let out_len: usize = b.text("OutLen").parse().unwrap();
        match name.as_str() {
            "P_SHA256" | "P_SHA384" => {
                let mut out = vec![0u8; out_len];
                prf::prf(
                    alg,
                    &b.bytes("Secret"),
                    &b.bytes("Label"),
                    &[&b.bytes("Seed")],
                    &mut out,
                );
                assert_eq!(out, b.bytes("Output"), "{name}");
            }
            "MASTER_SECRET_SHA256" => {
                assert_eq!(b.bytes("Label"), b"master secret");
                let pms = prf::PreMasterSecret::from_bytes(&b.bytes("PreMasterSecret"));
                let ms = prf::master_secret(
                    alg,
                    &pms,
                    &b.array("ClientRandom"),
                    &b.array("ServerRandom"),
                );
                assert_eq!(ms.as_bytes().len(), out_len);
                assert_eq!(&ms.as_bytes()[..], &b.bytes("MasterSecret")[..], "{name}");
            }
            "KEY_EXPANSION_SHA256" => {
                assert_eq!(b.bytes("Label"), b"key expansion");
                let ms = prf::MasterSecret::from_bytes(b.array("MasterSecret"));
                let (client, server) = (b.array("ClientRandom"), b.array("ServerRandom"));
                let expected = b.bytes("KeyBlock");
                let mut out = vec![0u8; out_len];
                prf::prf(
                    alg,
                    ms.as_bytes(),
                    b"key expansion",
                    &[&server, &client],
                    &mut out,
                );
                assert_eq!(out, expected, "{name}: the raw 128 bytes");
                // Our AES-128-GCM key block is the first 40 bytes of the same stream.
                let info =
                    suite::lookup(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256).unwrap();
                let kb = prf::key_block(info, &ms, &client, &server);
                assert_eq!(kb.client_write_key(), &expected[0..16]);
                assert_eq!(kb.server_write_key(), &expected[16..32]);
                assert_eq!(kb.client_write_iv(), &expected[32..36]);
                assert_eq!(kb.server_write_iv(), &expected[36..40]);
            }
            other => panic!("unknown block [{other}]"),
        }
        passed.push(name);
    }
    println!("tls12_prf: {} vectors passed {passed:?}; {} skipped (hash not used by DTLS 1.2 suites) {skipped:?}", passed.len(), skipped.len());
    assert_eq!(passed.len(), 4);
    assert_eq!(skipped, ["P_SHA224", "P_SHA512"]);
}

#[test]
fn tls12_prf_copy_is_identical_to_the_shared_file() {
    let Some(shared) = shared_dir() else { return };
    let ours =
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/tls12_prf.txt")).unwrap();
    let theirs = fs::read(shared.join("vectors/tls12_prf.txt")).unwrap();
    assert!(
        ours == theirs,
        "vectors/tls12_prf.txt differs from ../shared/vectors/tls12_prf.txt"
    );
    println!(
        "tls12_prf: vectors/tls12_prf.txt is byte-identical to ../shared/vectors/tls12_prf.txt"
    );
}

#[test]
fn parser_reads_both_styles() {
    let blocks = parse_blocks(
        "# header\n\n[A]   (note)\nLabel = \"a # b\"   # comment\nSeed = 0102 # hex\n\nx = ff\ny = \"\"\n",
    );
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].name.as_deref(), Some("A"));
    assert_eq!(blocks[0].bytes("label"), b"a # b");
    assert_eq!(blocks[0].bytes("seed"), [1, 2]);
    assert_eq!(blocks[1].bytes("x"), [0xff]);
    assert_eq!(blocks[1].bytes("y"), b"");
}

// ---------------------------------------------------------------------------------------------
// Real sessions: OpenSSL `s_server -dtls1_2` / `s_client -dtls1_2` captures with their key log
// (../shared/vectors/captures/hotplace-dtls12, see its SOURCE.md). From the logged master secret
// and the captured records we rebuild the DTLS transcript (RFC 6347 §4.2.6: ClientHello #1 and
// HelloVerifyRequest left out; each message hashed with an unfragmented 12-byte header) and check
// OpenSSL's Finished messages against our key block, TranscriptHash and finished_verify_data.
// All four negotiated extended master secret, and the ECDHE private keys are not logged, so the
// master secret itself cannot be rederived.

struct Capture {
    client_random: [u8; 32],
    master_secret: [u8; 48],
    /// (from_client, UDP payload)
    datagrams: Vec<(bool, Vec<u8>)>,
}

fn read_capture(yaml: &str, example: &str) -> Capture {
    let start = yaml
        .find(&format!("- example: DTLS {example}"))
        .unwrap_or_else(|| panic!("{example} not in the YAML"));
    let section = &yaml[start + 1..];
    let section = &section[..section.find("- example:").unwrap_or(section.len())];
    let mut keylog = None;
    let mut datagrams = Vec::new();
    let mut dir = None;
    for line in section.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("- item: CLIENT_RANDOM ") {
            let mut parts = rest.split_whitespace();
            let cr = hex::decode(parts.next().unwrap()).unwrap();
            let ms = hex::decode(parts.next().unwrap()).unwrap();
            keylog = Some((cr.try_into().unwrap(), ms.try_into().unwrap()));
        } else if let Some(d) = line.strip_prefix("dir: ") {
            dir = Some(d == "from_client");
        } else if let Some(r) = line.strip_prefix("record: ") {
            datagrams.push((
                dir.take().expect("dir before record"),
                hex::decode(r).unwrap(),
            ));
        }
    }
    let (client_random, master_secret) = keylog.expect("a CLIENT_RANDOM line");
    Capture {
        client_random,
        master_secret,
        datagrams,
    }
}

/// From DERIVED_KEYS.txt: the key block and, per encrypted record (hex), the plaintext that
/// the session team decrypted (AEAD tag or EtM HMAC verified).
fn read_derived(text: &str, example: &str) -> (Vec<u8>, HashMap<String, Vec<u8>>) {
    let start = text.find(&format!("## {example}")).unwrap();
    let section = &text[start + 3..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut key_block = None;
    let mut plaintexts = HashMap::new();
    let mut last_record = None;
    for line in section.lines() {
        if line.starts_with("key_block") {
            key_block = Some(hex::decode(line.rsplit(':').next().unwrap().trim()).unwrap());
        } else if let Some((_, rec)) = line.split_once("record=") {
            last_record = Some(rec.trim().to_string());
        } else if let Some(p) = line.trim().strip_prefix("plaintext: ") {
            let hex_part = p.split_whitespace().next().unwrap();
            plaintexts.insert(last_record.take().unwrap(), hex::decode(hex_part).unwrap());
        }
    }
    (key_block.unwrap(), plaintexts)
}

struct Record<'a> {
    content_type: u8,
    epoch: u16,
    fragment: &'a [u8],
    /// Header and fragment, as on the wire.
    whole: Vec<u8>,
    inner: puredtls::record::Record<'a>,
}

/// Splits a datagram with the crate's record layer (RFC 6347 §4.1); every captured datagram
/// must split cleanly.
fn split_records(datagram: &[u8]) -> Vec<Record<'_>> {
    let mut iter = puredtls::record::records(datagram);
    let mut out = Vec::new();
    for inner in &mut iter {
        let mut whole = inner.header.encode().to_vec();
        whole.extend_from_slice(inner.fragment);
        out.push(Record {
            content_type: u8::from(inner.header.content_type),
            epoch: inner.header.epoch,
            fragment: inner.fragment,
            whole,
            inner,
        });
    }
    assert!(
        !iter.malformed_tail(),
        "a captured datagram splits into whole records"
    );
    out
}

fn u24(b: &[u8]) -> usize {
    (b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize
}

/// Authenticates and decrypts a record with the crate's record protection (RFC 5288 §3,
/// RFC 6347 §4.1.2.1).
fn gcm_open(key: &[u8], salt: &[u8], record: &Record<'_>) -> Vec<u8> {
    use puredtls::record::protect::{AeadAlgorithm, RecordProtection};
    let alg = match key.len() {
        16 => AeadAlgorithm::Aes128Gcm,
        32 => AeadAlgorithm::Aes256Gcm,
        n => panic!("no AES-GCM with {n}-byte keys"),
    };
    let protection = RecordProtection::new(alg, key, salt).expect("key block sizes fit the AEAD");
    let mut out = vec![0u8; record.fragment.len()];
    let plain = protection
        .open(&record.inner, &mut out)
        .expect("the AEAD tag verifies with our key block");
    plain.to_vec()
}

#[derive(Default)]
struct SessionCounts {
    finished: usize,
    decrypted: usize,
}

/// Replays one capture. `gcm` is Some(suite) when we can decrypt ourselves (AES-GCM suites);
/// otherwise the epoch-1 plaintexts come from DERIVED_KEYS.txt.
fn replay(
    shared: &Path,
    example: &str,
    alg: HashAlgorithm,
    gcm: Option<CipherSuite>,
) -> SessionCounts {
    let dir = shared.join("vectors/captures/hotplace-dtls12");
    let yaml = fs::read_to_string(dir.join("testvector_pcap_dtls12.yml")).unwrap();
    let derived = fs::read_to_string(dir.join("DERIVED_KEYS.txt")).unwrap();
    let capture = read_capture(&yaml, example);
    let (derived_key_block, derived_plain) = read_derived(&derived, example);
    let ms = prf::MasterSecret::from_bytes(capture.master_secret);

    let mut transcript = TranscriptHash::new(alg);
    let mut client_random = None;
    let mut server_random: Option<[u8; 32]> = None;
    // (from_client, message_seq) -> (msg_type, body being reassembled, bytes filled)
    let mut partial: HashMap<(bool, u16), (u8, Vec<u8>, usize)> = HashMap::new();
    let mut counts = SessionCounts::default();

    for (from_client, datagram) in &capture.datagrams {
        for record in split_records(datagram) {
            if record.content_type != 22 {
                if record.epoch == 1 {
                    // Application data and alerts: decrypting them checks both write keys.
                    if let Some(suite) = gcm {
                        let plain = open(
                            &ms,
                            suite,
                            &capture,
                            server_random.unwrap(),
                            *from_client,
                            &record,
                        );
                        assert_eq!(Some(&plain), derived_plain.get(&hex::encode(&record.whole)));
                        counts.decrypted += 1;
                    }
                }
                continue;
            }
            if record.epoch == 1 {
                // Finished (RFC 5246 §7.4.9), the first message under the new keys.
                let server_random = server_random.expect("ServerHello before Finished");
                let plain = match gcm {
                    Some(suite) => {
                        let p = open(&ms, suite, &capture, server_random, *from_client, &record);
                        assert_eq!(Some(&p), derived_plain.get(&hex::encode(&record.whole)));
                        counts.decrypted += 1;
                        p
                    }
                    None => derived_plain[&hex::encode(&record.whole)].clone(),
                };
                assert_eq!(plain[0], 20, "Finished");
                assert_eq!(u24(&plain[1..4]), 12);
                let expected = prf::finished_verify_data(
                    alg,
                    &ms,
                    *from_client,
                    transcript.current().as_ref(),
                );
                assert_eq!(
                    &plain[12..],
                    &expected[..],
                    "{example}: {} Finished",
                    if *from_client { "client" } else { "server" }
                );
                assert!(prf::verify_data_matches(&expected, &plain[12..]));
                transcript.update(&plain);
                counts.finished += 1;
                continue;
            }
            let mut frag = record.fragment;
            while !frag.is_empty() {
                let (msg_type, length) = (frag[0], u24(&frag[1..4]));
                let message_seq = u16::from_be_bytes([frag[4], frag[5]]);
                let (offset, frag_len) = (u24(&frag[6..9]), u24(&frag[9..12]));
                let body = &frag[12..12 + frag_len];
                frag = &frag[12 + frag_len..];
                let entry = partial
                    .entry((*from_client, message_seq))
                    .or_insert_with(|| (msg_type, vec![0; length], 0));
                entry.1[offset..offset + frag_len].copy_from_slice(body);
                entry.2 += frag_len;
                if entry.2 != length {
                    continue;
                }
                let (msg_type, body, _) = partial.remove(&(*from_client, message_seq)).unwrap();
                match msg_type {
                    1 => client_random = Some(<[u8; 32]>::try_from(&body[2..34]).unwrap()),
                    2 => server_random = Some(body[2..34].try_into().unwrap()),
                    _ => {}
                }
                // RFC 6347 §4.2.6: the first ClientHello and HelloVerifyRequest are not hashed.
                if (msg_type == 1 && message_seq == 0) || msg_type == 3 {
                    continue;
                }
                let mut header = vec![msg_type];
                header.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
                header.extend_from_slice(&message_seq.to_be_bytes());
                header.extend_from_slice(&[0, 0, 0]);
                header.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
                transcript.update(&header);
                transcript.update(&body);
            }
        }
    }
    assert_eq!(
        client_random,
        Some(capture.client_random),
        "the key log belongs to this session"
    );
    // The key expansion of the session's suite is a prefix of the same PRF stream.
    let mut stream = vec![0u8; derived_key_block.len()];
    prf::prf(
        alg,
        &ms.as_bytes()[..],
        b"key expansion",
        &[&server_random.unwrap(), &capture.client_random],
        &mut stream,
    );
    assert_eq!(stream, derived_key_block, "{example}: key block");
    assert!(partial.is_empty(), "every handshake message was complete");
    counts
}

fn open(
    ms: &prf::MasterSecret,
    suite: CipherSuite,
    capture: &Capture,
    server_random: [u8; 32],
    from_client: bool,
    record: &Record<'_>,
) -> Vec<u8> {
    let info = suite::lookup(suite).unwrap();
    let kb = prf::key_block(info, ms, &capture.client_random, &server_random);
    if from_client {
        gcm_open(kb.client_write_key(), kb.client_write_iv(), record)
    } else {
        gcm_open(kb.server_write_key(), kb.server_write_iv(), record)
    }
}

#[test]
fn openssl_dtls12_sessions_finished_and_key_block() {
    let Some(shared) = shared_dir() else { return };
    // Negotiated 0xc030 ECDHE_RSA_WITH_AES_256_GCM_SHA384 (misnamed upstream, see SOURCE.md). Its
    // PRF hash, AEAD and key block layout are those of our 0xc02c row (RFC 5289 §3.2: the suites
    // differ only in how the server authenticates), so our SuiteInfo decrypts it.
    let gcm = replay(
        &shared,
        "dtls12_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.pcapng",
        HashAlgorithm::Sha384,
        Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
    );
    assert_eq!((gcm.finished, gcm.decrypted), (2, 5));
    println!(
        "openssl session AES-256-GCM/SHA-384: {} Finished verified, {} records decrypted and authenticated by our record layer",
        gcm.finished, gcm.decrypted
    );
    // SHA-256 PRF sessions (CBC-SHA256 + EtM, ChaCha20-Poly1305): no cipher of ours, so the
    // Finished plaintexts are the tag-checked ones in DERIVED_KEYS.txt; the key block, transcript
    // hash and verify_data are ours.
    for example in [
        "dtls12.pcapng",
        "dtls12mtu1500.pcapng",
        "dtls12_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256.pcapng",
    ] {
        let c = replay(&shared, example, HashAlgorithm::Sha256, None);
        assert_eq!(c.finished, 2, "{example}");
        println!(
            "openssl session {example} (SHA-256 PRF): {} Finished verified, key block matches",
            c.finished
        );
    }
}
