//! Hello extensions (RFC 5246 §7.4.1.4) and the ones DTLS 1.2 needs: server_name (RFC 6066 §3),
//! supported_groups and ec_point_formats (RFC 8422 §5.1), signature_algorithms
//! (RFC 5246 §7.4.1.4.1), extended_master_secret (RFC 7627 §5.1) and renegotiation_info
//! (RFC 5746 §3.2). Every other extension is kept as raw bytes in [`Extension::Unknown`].

use crate::codec::{wire_enum, Reader, Writer};
use crate::handshake::message::{
    check_len, finish, read_u16_list, write_u16_list, DecodeError, Need,
};
use crate::suite::{NamedGroup, SignatureScheme};

wire_enum! {
    /// `ExtensionType` (IANA "TLS ExtensionType Values").
    pub enum ExtensionType: u16 {
        ServerName = 0,
        MaxFragmentLength = 1,
        StatusRequest = 5,
        SupportedGroups = 10,
        EcPointFormats = 11,
        SignatureAlgorithms = 13,
        UseSrtp = 14,
        Alpn = 16,
        EncryptThenMac = 22,
        ExtendedMasterSecret = 23,
        RecordSizeLimit = 28,
        SessionTicket = 35,
        ConnectionId = 54,
        RenegotiationInfo = 0xff01,
    }
}

/// `ECPointFormat` uncompressed (RFC 8422 §5.1.2), the only point format RFC 8422 allows.
pub const EC_POINT_FORMAT_UNCOMPRESSED: u8 = 0;

/// `NameType` host_name (RFC 6066 §3).
const NAME_TYPE_HOST_NAME: u8 = 0;

/// One hello extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension {
    /// server_name (RFC 6066 §3): the DNS host name from the `ServerNameList`, printable ASCII.
    ///
    /// An empty string stands for the empty extension a server sends back to say it used the
    /// name. Names of other `NameType`s are dropped; a list without a host_name decodes as
    /// [`Extension::Unknown`].
    ServerName(String),
    /// supported_groups (RFC 8422 §5.1.1): `NamedGroup named_group_list<2..2^16-1>`, in the
    /// sender's order of preference.
    SupportedGroups(Vec<NamedGroup>),
    /// ec_point_formats (RFC 8422 §5.1.2): `ECPointFormat ec_point_format_list<1..2^8-1>`.
    EcPointFormats(Vec<u8>),
    /// signature_algorithms (RFC 5246 §7.4.1.4.1):
    /// `SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>`.
    SignatureAlgorithms(Vec<SignatureScheme>),
    /// extended_master_secret (RFC 7627 §5.1); its extension_data is empty.
    ExtendedMasterSecret,
    /// renegotiation_info (RFC 5746 §3.2): `opaque renegotiated_connection<0..255>`, empty on an
    /// initial handshake.
    RenegotiationInfo(Vec<u8>),
    /// Any other extension, kept so it can be ignored (or echoed) without loss.
    Unknown {
        /// The type on the wire (possibly a known one this library does not parse).
        extension_type: ExtensionType,
        /// The raw `extension_data`.
        data: Vec<u8>,
    },
}

impl Extension {
    /// The extension's type on the wire.
    pub fn extension_type(&self) -> ExtensionType {
        match self {
            Self::ServerName(_) => ExtensionType::ServerName,
            Self::SupportedGroups(_) => ExtensionType::SupportedGroups,
            Self::EcPointFormats(_) => ExtensionType::EcPointFormats,
            Self::SignatureAlgorithms(_) => ExtensionType::SignatureAlgorithms,
            Self::ExtendedMasterSecret => ExtensionType::ExtendedMasterSecret,
            Self::RenegotiationInfo(_) => ExtensionType::RenegotiationInfo,
            Self::Unknown { extension_type, .. } => *extension_type,
        }
    }

    /// Appends the whole extension: `extension_type`, then `extension_data<0..2^16-1>`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.write(&mut Writer::new(out));
    }

    /// Parses one whole extension (type, length and data) that fills `bytes` exactly.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let ext = Self::read(&mut r)?;
        finish(&r, "Extension")?;
        Ok(ext)
    }

    /// Parses the `extension_data` of an extension of type `extension_type`.
    pub fn decode_data(extension_type: ExtensionType, data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let ext = match extension_type {
            ExtensionType::ServerName => return decode_server_name(data),
            ExtensionType::SupportedGroups => {
                let groups = read_u16_list(&mut r, 2, "supported_groups.named_group_list")?;
                finish(&r, "supported_groups")?;
                Self::SupportedGroups(groups)
            }
            ExtensionType::EcPointFormats => {
                let formats = r.vec_u8().need("ec_point_formats.ec_point_format_list")?;
                check_len(
                    formats.len(),
                    1,
                    255,
                    "ec_point_formats.ec_point_format_list",
                )?;
                finish(&r, "ec_point_formats")?;
                Self::EcPointFormats(formats.to_vec())
            }
            ExtensionType::SignatureAlgorithms => {
                let schemes = read_u16_list(
                    &mut r,
                    2,
                    "signature_algorithms.supported_signature_algorithms",
                )?;
                finish(&r, "signature_algorithms")?;
                Self::SignatureAlgorithms(schemes)
            }
            // RFC 7627 §5.1: "The extension_data field of this extension SHALL be empty."
            ExtensionType::ExtendedMasterSecret => {
                check_len(data.len(), 0, 0, "extended_master_secret")?;
                Self::ExtendedMasterSecret
            }
            ExtensionType::RenegotiationInfo => {
                let connection = r
                    .vec_u8()
                    .need("renegotiation_info.renegotiated_connection")?;
                finish(&r, "renegotiation_info")?;
                Self::RenegotiationInfo(connection.to_vec())
            }
            other => Self::Unknown {
                extension_type: other,
                data: data.to_vec(),
            },
        };
        Ok(ext)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let extension_type = ExtensionType::from(r.u16().need("Extension.extension_type")?);
        let data = r.vec_u16().need("Extension.extension_data")?;
        Self::decode_data(extension_type, data)
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) {
        w.u16(u16::from(self.extension_type()));
        let data = w.begin_vec(2);
        match self {
            Self::ServerName(host_name) if host_name.is_empty() => {}
            Self::ServerName(host_name) => {
                let list = w.begin_vec(2);
                w.u8(NAME_TYPE_HOST_NAME);
                w.vec_u16(host_name.as_bytes());
                w.end_vec(list);
            }
            Self::SupportedGroups(groups) => write_u16_list(w, groups),
            Self::EcPointFormats(formats) => w.vec_u8(formats),
            Self::SignatureAlgorithms(schemes) => write_u16_list(w, schemes),
            Self::ExtendedMasterSecret => {}
            Self::RenegotiationInfo(connection) => w.vec_u8(connection),
            Self::Unknown { data: raw, .. } => w.bytes(raw),
        }
        w.end_vec(data);
    }
}

/// server_name's extension_data: empty (a server's acknowledgement) or a `ServerNameList`.
fn decode_server_name(data: &[u8]) -> Result<Extension, DecodeError> {
    if data.is_empty() {
        return Ok(Extension::ServerName(String::new()));
    }
    let mut r = Reader::new(data);
    let mut list = r.sub_u16().need("server_name.server_name_list")?;
    finish(&r, "server_name")?;
    check_len(
        list.remaining(),
        1,
        usize::MAX,
        "server_name.server_name_list",
    )?;
    let mut host_name = None;
    while !list.is_empty() {
        let name_type = list.u8().need("ServerName.name_type")?;
        // RFC 6066 §3: the name of every NameType, present or future, starts with a 16-bit length.
        let name = list.vec_u16().need("ServerName.name")?;
        if name_type != NAME_TYPE_HOST_NAME {
            continue;
        }
        if host_name.is_some() {
            // "The ServerNameList MUST NOT contain more than one name of the same name_type."
            return Err(DecodeError::InvalidValue {
                what: "server_name (two host_name entries)",
            });
        }
        check_len(name.len(), 1, usize::MAX, "ServerName.host_name")?;
        // A host name is ASCII (A-labels for IDNs); control characters and spaces are never part
        // of one and would only confuse certificate name matching.
        if !name.iter().all(u8::is_ascii_graphic) {
            return Err(DecodeError::InvalidValue {
                what: "ServerName.host_name (not printable ASCII)",
            });
        }
        host_name = Some(name);
    }
    Ok(match host_name {
        Some(name) => Extension::ServerName(name.iter().map(|&b| char::from(b)).collect()),
        None => Extension::Unknown {
            extension_type: ExtensionType::ServerName,
            data: data.to_vec(),
        },
    })
}

/// The extensions block of a ClientHello or ServerHello: `Extension extensions<0..2^16-1>`.
///
/// A hello may omit the block entirely (RFC 5246 §7.4.1.2); that decodes as an empty list, and
/// an empty list encodes as nothing at all, as real peers do. A type may appear only once
/// (RFC 5246 §7.4.1.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions(pub Vec<Extension>);

impl Extensions {
    /// An empty block (encodes as nothing).
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// The extension of type `t`, if present.
    pub fn get(&self, t: ExtensionType) -> Option<&Extension> {
        self.0.iter().find(|e| e.extension_type() == t)
    }

    /// Adds `ext`, or replaces the extension of the same type in place, so that the block never
    /// holds a duplicate.
    pub fn push(&mut self, ext: Extension) {
        let t = ext.extension_type();
        match self.0.iter_mut().find(|e| e.extension_type() == t) {
            Some(slot) => *slot = ext,
            None => self.0.push(ext),
        }
    }

    /// How many extensions the block holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the block holds no extension (and so encodes as nothing).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The host_name of server_name; `Some("")` for a server's empty acknowledgement.
    pub fn server_name(&self) -> Option<&str> {
        match self.get(ExtensionType::ServerName)? {
            Extension::ServerName(name) => Some(name),
            _ => None,
        }
    }

    /// The peer's supported_groups, in its order of preference.
    pub fn supported_groups(&self) -> Option<&[NamedGroup]> {
        match self.get(ExtensionType::SupportedGroups)? {
            Extension::SupportedGroups(groups) => Some(groups),
            _ => None,
        }
    }

    /// The peer's ec_point_formats (see [`EC_POINT_FORMAT_UNCOMPRESSED`]).
    pub fn ec_point_formats(&self) -> Option<&[u8]> {
        match self.get(ExtensionType::EcPointFormats)? {
            Extension::EcPointFormats(formats) => Some(formats),
            _ => None,
        }
    }

    /// The peer's signature_algorithms, in its order of preference.
    pub fn signature_algorithms(&self) -> Option<&[SignatureScheme]> {
        match self.get(ExtensionType::SignatureAlgorithms)? {
            Extension::SignatureAlgorithms(schemes) => Some(schemes),
            _ => None,
        }
    }

    /// Whether extended_master_secret is present (RFC 7627).
    pub fn has_extended_master_secret(&self) -> bool {
        matches!(
            self.get(ExtensionType::ExtendedMasterSecret),
            Some(Extension::ExtendedMasterSecret)
        )
    }

    /// renegotiated_connection from renegotiation_info, if present (RFC 5746 §3.2).
    pub fn renegotiation_info(&self) -> Option<&[u8]> {
        match self.get(ExtensionType::RenegotiationInfo)? {
            Extension::RenegotiationInfo(connection) => Some(connection),
            _ => None,
        }
    }

    /// Appends the block: nothing when empty, else the 2-byte length and every extension.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.write(&mut Writer::new(out));
    }

    /// Parses everything that follows the compression method(s) of a hello: no bytes at all
    /// (no block), or a block that fills `bytes` exactly.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let exts = Self::read(&mut r)?;
        finish(&r, "extensions")?;
        Ok(exts)
    }

    /// Reads the block if any bytes are left in `r`.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.is_empty() {
            return Ok(Self::new());
        }
        let mut block = r.sub_u16().need("extensions")?;
        let mut exts = Vec::new();
        while !block.is_empty() {
            exts.push(Extension::read(&mut block)?);
        }
        // Sorting the types finds a duplicate in O(n log n) even in a 64 KiB block of empty
        // extensions.
        let mut types: Vec<u16> = exts.iter().map(|e| e.extension_type().into()).collect();
        types.sort_unstable();
        if let Some(pair) = types.windows(2).find(|pair| pair.first() == pair.last()) {
            let t = pair.first().copied().unwrap_or_default();
            return Err(DecodeError::DuplicateExtension(ExtensionType::from(t)));
        }
        Ok(Self(exts))
    }

    pub(crate) fn write(&self, w: &mut Writer<'_>) {
        if self.0.is_empty() {
            return;
        }
        let block = w.begin_vec(2);
        for ext in &self.0 {
            ext.write(w);
        }
        w.end_vec(block);
    }
}

impl From<Vec<Extension>> for Extensions {
    fn from(v: Vec<Extension>) -> Self {
        Self(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(ext: &Extension) -> Vec<u8> {
        let mut out = Vec::new();
        ext.encode(&mut out);
        out
    }

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// Every extension: the exact bytes it encodes to, and back.
    #[test]
    fn every_extension_round_trips_through_exact_bytes() {
        let cases: Vec<(Extension, &str)> = vec![
            // RFC 6066 §3 ServerNameList with one host_name "example.com".
            (
                Extension::ServerName("example.com".into()),
                "00000010000e00000b6578616d706c652e636f6d",
            ),
            (Extension::ServerName(String::new()), "00000000"),
            (
                Extension::SupportedGroups(vec![
                    NamedGroup::X25519,
                    NamedGroup::Secp256r1,
                    NamedGroup::Unknown(30),
                ]),
                "000a00080006001d0017001e",
            ),
            (
                Extension::EcPointFormats(vec![EC_POINT_FORMAT_UNCOMPRESSED]),
                "000b00020100",
            ),
            (
                Extension::SignatureAlgorithms(vec![
                    SignatureScheme::EcdsaSecp256r1Sha256,
                    SignatureScheme::RsaPssRsaeSha256,
                    SignatureScheme::Unknown(0x0201),
                ]),
                "000d00080006040308040201",
            ),
            (Extension::ExtendedMasterSecret, "00170000"),
            (Extension::RenegotiationInfo(vec![]), "ff01000100"),
            (
                Extension::RenegotiationInfo(vec![0xaa; 12]),
                "ff01000d0caaaaaaaaaaaaaaaaaaaaaaaa",
            ),
            (
                Extension::Unknown {
                    extension_type: ExtensionType::SessionTicket,
                    data: vec![],
                },
                "00230000",
            ),
            (
                Extension::Unknown {
                    extension_type: ExtensionType::Unknown(0xfe0d),
                    data: vec![1, 2, 3],
                },
                "fe0d0003010203",
            ),
        ];
        for (ext, wire) in cases {
            assert_eq!(hex::encode(encoded(&ext)), wire, "{ext:?}");
            assert_eq!(Extension::decode(&hex(wire)), Ok(ext.clone()), "{wire}");
        }
    }

    #[test]
    fn server_name_rejects_what_is_not_a_host_name() {
        // Non-ASCII byte in the name.
        assert_eq!(
            Extension::decode(&hex("00000008000600000363e96f")),
            Err(DecodeError::InvalidValue {
                what: "ServerName.host_name (not printable ASCII)"
            })
        );
        // A NUL cannot hide a second name from certificate matching.
        assert!(Extension::decode(&hex("00000008000600000361006f")).is_err());
        // Empty host name (HostName<1..2^16-1>).
        assert_eq!(
            Extension::decode(&hex("00000005000300000000")),
            Err(DecodeError::InvalidLength {
                what: "ServerName.host_name"
            })
        );
        // Empty list (server_name_list<1..2^16-1>).
        assert_eq!(
            Extension::decode(&hex("000000020000")),
            Err(DecodeError::InvalidLength {
                what: "server_name.server_name_list"
            })
        );
        // Two host names.
        assert!(Extension::decode(&hex("0000000a00080000016100000162")).is_err());
    }

    #[test]
    fn server_name_keeps_only_the_host_name() {
        // An unknown NameType 7 entry before the host_name "a".
        let wire = hex("0000000b0009070002ffff00000161");
        assert_eq!(
            Extension::decode(&wire),
            Ok(Extension::ServerName("a".into()))
        );
        // A list with no host_name at all is kept raw.
        let wire = hex("0000000700050700020102");
        assert_eq!(
            Extension::decode(&wire),
            Ok(Extension::Unknown {
                extension_type: ExtensionType::ServerName,
                data: hex(concat!("0005", "0700020102")),
            })
        );
    }

    #[test]
    fn malformed_extension_data_is_rejected() {
        let cases: &[(&str, DecodeError)] = &[
            // EMS with a body.
            (
                "0017000100",
                DecodeError::InvalidLength {
                    what: "extended_master_secret",
                },
            ),
            // supported_groups: odd length, empty, trailing byte, list past the data.
            (
                "000a000300011d",
                DecodeError::InvalidLength {
                    what: "supported_groups.named_group_list",
                },
            ),
            (
                "000a00020000",
                DecodeError::InvalidLength {
                    what: "supported_groups.named_group_list",
                },
            ),
            (
                "000a00050002001d00",
                DecodeError::TrailingBytes {
                    what: "supported_groups",
                },
            ),
            (
                "000a00040004001d",
                DecodeError::Truncated {
                    what: "supported_groups.named_group_list",
                },
            ),
            (
                "000b000100",
                DecodeError::InvalidLength {
                    what: "ec_point_formats.ec_point_format_list",
                },
            ),
            (
                "000d000400020403ff",
                DecodeError::TrailingBytes { what: "Extension" },
            ),
            (
                "ff0100020000",
                DecodeError::TrailingBytes {
                    what: "renegotiation_info",
                },
            ),
            (
                "ff01000101",
                DecodeError::Truncated {
                    what: "renegotiation_info.renegotiated_connection",
                },
            ),
            // extension_data longer than what is there.
            (
                "00170001",
                DecodeError::Truncated {
                    what: "Extension.extension_data",
                },
            ),
            (
                "00",
                DecodeError::Truncated {
                    what: "Extension.extension_type",
                },
            ),
        ];
        for (wire, want) in cases {
            assert_eq!(Extension::decode(&hex(wire)), Err(*want), "{wire}");
        }
    }

    #[test]
    fn absent_block_is_empty_and_empty_encodes_to_nothing() {
        assert_eq!(Extensions::decode(&[]), Ok(Extensions::new()));
        let mut out = vec![0xee];
        Extensions::new().encode(&mut out);
        assert_eq!(out, [0xee]);
        // A present but empty block (length 0) is valid too.
        assert_eq!(Extensions::decode(&[0, 0]), Ok(Extensions::new()));
    }

    #[test]
    fn block_round_trips_and_helpers_find_each_extension() {
        let mut exts = Extensions::new();
        exts.push(Extension::ServerName("puredtls.test".into()));
        exts.push(Extension::SupportedGroups(vec![NamedGroup::Secp256r1]));
        exts.push(Extension::EcPointFormats(vec![0]));
        exts.push(Extension::SignatureAlgorithms(vec![
            SignatureScheme::EcdsaSecp256r1Sha256,
        ]));
        exts.push(Extension::ExtendedMasterSecret);
        exts.push(Extension::RenegotiationInfo(vec![]));
        let mut out = Vec::new();
        exts.encode(&mut out);
        assert_eq!(
            hex::encode(&out),
            "0035\
             00000012001000000d7075726564746c732e74657374\
             000a000400020017\
             000b00020100\
             000d000400020403\
             00170000\
             ff01000100"
        );
        let back = Extensions::decode(&out).unwrap();
        assert_eq!(back, exts);
        assert_eq!(back.len(), 6);
        assert_eq!(back.server_name(), Some("puredtls.test"));
        assert_eq!(back.supported_groups(), Some(&[NamedGroup::Secp256r1][..]));
        assert_eq!(back.ec_point_formats(), Some(&[0u8][..]));
        assert_eq!(
            back.signature_algorithms(),
            Some(&[SignatureScheme::EcdsaSecp256r1Sha256][..])
        );
        assert!(back.has_extended_master_secret());
        assert_eq!(back.renegotiation_info(), Some(&[][..]));
        assert_eq!(
            back.get(ExtensionType::EcPointFormats),
            Some(&Extension::EcPointFormats(vec![0]))
        );
        assert_eq!(back.get(ExtensionType::Alpn), None);

        let none = Extensions::new();
        assert_eq!(none.server_name(), None);
        assert_eq!(none.supported_groups(), None);
        assert_eq!(none.ec_point_formats(), None);
        assert_eq!(none.signature_algorithms(), None);
        assert!(!none.has_extended_master_secret());
        assert_eq!(none.renegotiation_info(), None);
    }

    #[test]
    fn push_replaces_an_extension_of_the_same_type() {
        let mut exts = Extensions::new();
        exts.push(Extension::RenegotiationInfo(vec![]));
        exts.push(Extension::ExtendedMasterSecret);
        exts.push(Extension::RenegotiationInfo(vec![7]));
        assert_eq!(
            exts.0,
            vec![
                Extension::RenegotiationInfo(vec![7]),
                Extension::ExtendedMasterSecret
            ]
        );
    }

    #[test]
    fn duplicate_extension_is_an_error() {
        // EMS, renegotiation_info, EMS.
        let wire = hex(concat!("000d", "00170000", "ff01000100", "00170000"));
        assert_eq!(
            Extensions::decode(&wire),
            Err(DecodeError::DuplicateExtension(
                ExtensionType::ExtendedMasterSecret
            ))
        );
        // Duplicate unknown types count too.
        let wire = hex(concat!("0008", "abcd0000", "abcd0000"));
        assert_eq!(
            Extensions::decode(&wire),
            Err(DecodeError::DuplicateExtension(ExtensionType::Unknown(
                0xabcd
            )))
        );
    }

    #[test]
    fn block_length_must_match_its_content() {
        let good = hex(concat!("0009", "00170000", "ff01000100"));
        assert!(Extensions::decode(&good).is_ok());
        // Block claims one byte less: the last extension is cut inside the block.
        let short = hex(concat!("0008", "00170000", "ff01000100"));
        assert_eq!(
            Extensions::decode(&short),
            Err(DecodeError::Truncated {
                what: "Extension.extension_data"
            })
        );
        // Block claims one byte more than the message has.
        let long = hex(concat!("000a", "00170000", "ff01000100"));
        assert_eq!(
            Extensions::decode(&long),
            Err(DecodeError::Truncated { what: "extensions" })
        );
        // Bytes after the block.
        let trailing = hex(concat!("0004", "00170000", "ff"));
        assert_eq!(
            Extensions::decode(&trailing),
            Err(DecodeError::TrailingBytes { what: "extensions" })
        );
        // A lone length byte.
        assert_eq!(
            Extensions::decode(&[0]),
            Err(DecodeError::Truncated { what: "extensions" })
        );
    }

    #[test]
    fn many_empty_extensions_decode_quickly() {
        // 16383 distinct empty extensions: the largest block that fits; the duplicate check is
        // n log n.
        let mut exts = Extensions::new();
        for t in 0..16383u16 {
            exts.0.push(Extension::Unknown {
                extension_type: ExtensionType::Unknown(0x4000 + t),
                data: vec![],
            });
        }
        let mut out = Vec::new();
        exts.encode(&mut out);
        assert_eq!(out.len(), 2 + 16383 * 4);
        assert_eq!(Extensions::decode(&out).map(|e| e.len()), Ok(16383));
    }
}
