//! Codecs for the body of every DTLS 1.2 handshake message, and for ChangeCipherSpec.
//!
//! A body is what follows the 12-byte DTLS handshake header (RFC 6347 §4.2.2); the fragment
//! layer owns that header. Every type has `encode(&self, out)`, which appends the body to `out`,
//! and `decode(body)`, which parses a whole body and rejects trailing bytes. Decoding never
//! panics and never allocates more than the body's own size.
//!
//! Encoders write what they are given: the caller keeps each field within the bounds the RFC
//! gives it (documented on the field), and the decoder enforces those bounds on what peers send.
//! Within those bounds, `decode(encode(x)) == x`, and for every well-formed body
//! `encode(decode(body)) == body`.
//!
//! ```
//! use puredtls::handshake::message::{DecodeError, HelloVerifyRequest};
//! use puredtls::record::ProtocolVersion;
//!
//! let hvr = HelloVerifyRequest { server_version: ProtocolVersion::DTLS1_0, cookie: vec![0xab; 4] };
//! let mut body = Vec::new();
//! hvr.encode(&mut body);
//! assert_eq!(body, [0xfe, 0xff, 4, 0xab, 0xab, 0xab, 0xab]);
//! assert_eq!(HelloVerifyRequest::decode(&body)?, hvr);
//! assert_eq!(
//!     HelloVerifyRequest::decode(&body[..5]),
//!     Err(DecodeError::Truncated { what: "HelloVerifyRequest.cookie" })
//! );
//! # Ok::<(), DecodeError>(())
//! ```

mod certificate;
mod certificate_request;
mod certificate_verify;
mod change_cipher_spec;
mod client_hello;
mod client_key_exchange;
mod digitally_signed;
mod finished;
mod hello_request;
mod hello_verify_request;
mod new_session_ticket;
mod server_hello;
mod server_hello_done;
mod server_key_exchange;

#[cfg(test)]
mod captures;

pub use certificate::Certificate;
pub use certificate_request::{CertificateRequest, ClientCertificateType};
pub use certificate_verify::CertificateVerify;
pub use change_cipher_spec::ChangeCipherSpec;
pub use client_hello::{ClientHello, ClientHelloPrefix};
pub use client_key_exchange::ClientKeyExchange;
pub use digitally_signed::DigitallySigned;
pub use finished::Finished;
pub use hello_request::HelloRequest;
pub use hello_verify_request::HelloVerifyRequest;
pub use new_session_ticket::NewSessionTicket;
pub use server_hello::ServerHello;
pub use server_hello_done::ServerHelloDone;
pub use server_key_exchange::{ServerEcdhParams, ServerKeyExchange, EC_CURVE_TYPE_NAMED_CURVE};

use core::fmt;

use crate::codec::{Reader, Writer};
use crate::handshake::extension::ExtensionType;

/// `Random`: 32 bytes chosen by each side (RFC 5246 §7.4.1.2).
pub type Random = [u8; 32];

/// Why a message body (or an extension, alert or ChangeCipherSpec) could not be parsed.
///
/// Every variant means the peer sent something malformed; a session answers each of them with
/// a fatal `decode_error` alert. `what` names the field, as the RFC spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body ends before the field does, or a length prefix points past the end.
    Truncated {
        /// The field, as the RFC names it.
        what: &'static str,
    },
    /// Bytes are left over after the structure (or after a length-prefixed part of it).
    TrailingBytes {
        /// The structure that should have ended.
        what: &'static str,
    },
    /// A vector's length is outside the range the RFC gives it (too short, too long, or not a
    /// whole number of elements).
    InvalidLength {
        /// The field, as the RFC names it.
        what: &'static str,
    },
    /// A field holds a value that is never valid there.
    InvalidValue {
        /// The field, as the RFC names it.
        what: &'static str,
    },
    /// The same extension type appears twice in one hello (RFC 5246 §7.4.1.4).
    DuplicateExtension(ExtensionType),
    /// A ServerKeyExchange with an `ECCurveType` other than `named_curve` (3): explicit curves are
    /// deprecated by RFC 8422 §5.4 and not supported.
    UnsupportedCurveType(u8),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { what } => write!(
                f,
                "malformed {what}: the peer's message ends before this field does \
                 (truncated, or a length prefix points past the end)"
            ),
            Self::TrailingBytes { what } => write!(
                f,
                "malformed {what}: the peer's message has unexpected bytes after its end"
            ),
            Self::InvalidLength { what } => write!(
                f,
                "malformed {what}: its length is outside the range the RFC allows"
            ),
            Self::InvalidValue { what } => {
                write!(f, "malformed {what}: the peer sent a value that is never valid here")
            }
            Self::DuplicateExtension(t) => write!(
                f,
                "the peer sent the {t:?} extension twice in one hello (RFC 5246 §7.4.1.4 forbids this)"
            ),
            Self::UnsupportedCurveType(t) => write!(
                f,
                "the peer's ServerKeyExchange uses ECCurveType {t}; only named_curve (3) is \
                 supported (RFC 8422 §5.4): configure the peer to use a named curve"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Turns a failed bounded read into [`DecodeError::Truncated`] naming the field.
pub(crate) trait Need<T> {
    fn need(self, what: &'static str) -> Result<T, DecodeError>;
}

impl<T> Need<T> for Option<T> {
    fn need(self, what: &'static str) -> Result<T, DecodeError> {
        self.ok_or(DecodeError::Truncated { what })
    }
}

/// Fails with [`DecodeError::TrailingBytes`] unless `r` has been read to its end.
pub(crate) fn finish(r: &Reader<'_>, what: &'static str) -> Result<(), DecodeError> {
    r.finish().ok_or(DecodeError::TrailingBytes { what })
}

/// Fails with [`DecodeError::InvalidLength`] unless `min <= len <= max`.
pub(crate) fn check_len(
    len: usize,
    min: usize,
    max: usize,
    what: &'static str,
) -> Result<(), DecodeError> {
    if (min..=max).contains(&len) {
        Ok(())
    } else {
        Err(DecodeError::InvalidLength { what })
    }
}

/// Reads a vector of 16-bit wire values with a 2-byte length prefix, such as
/// `CipherSuite cipher_suites<2..2^16-2>`. The length must be even and at least `min_bytes`.
/// Unknown values decode as the enum's `Unknown(..)` variant.
pub(crate) fn read_u16_list<T: From<u16>>(
    r: &mut Reader<'_>,
    min_bytes: usize,
    what: &'static str,
) -> Result<Vec<T>, DecodeError> {
    let bytes = r.vec_u16().need(what)?;
    if bytes.len() < min_bytes || bytes.len() % 2 != 0 {
        return Err(DecodeError::InvalidLength { what });
    }
    let mut items = Reader::new(bytes);
    let mut out = Vec::with_capacity(bytes.len() / 2);
    while let Some(value) = items.u16() {
        out.push(T::from(value));
    }
    Ok(out)
}

/// Writes a vector of 16-bit wire values with a 2-byte length prefix.
pub(crate) fn write_u16_list<T: Copy>(w: &mut Writer<'_>, items: &[T])
where
    u16: From<T>,
{
    let prefix = w.begin_vec(2);
    for &item in items {
        w.u16(u16::from(item));
    }
    w.end_vec(prefix);
}

/// Reads `SessionID session_id<0..32>` (RFC 5246 §7.4.1.2).
pub(crate) fn read_session_id<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
) -> Result<&'a [u8], DecodeError> {
    let session_id = r.vec_u8().need(what)?;
    check_len(session_id.len(), 0, 32, what)?;
    Ok(session_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_field_and_the_cause() {
        let e = DecodeError::Truncated {
            what: "ClientHello.cookie",
        };
        assert_eq!(
            e.to_string(),
            "malformed ClientHello.cookie: the peer's message ends before this field does \
             (truncated, or a length prefix points past the end)"
        );
        assert_eq!(
            DecodeError::DuplicateExtension(ExtensionType::SupportedGroups).to_string(),
            "the peer sent the SupportedGroups extension twice in one hello \
             (RFC 5246 §7.4.1.4 forbids this)"
        );
        assert!(DecodeError::UnsupportedCurveType(1)
            .to_string()
            .contains("ECCurveType 1"));
    }

    #[test]
    fn u16_list_rejects_odd_and_short_lengths() {
        let mut r = Reader::new(&[0, 3, 0xc0, 0x2b, 0x00]);
        assert_eq!(
            read_u16_list::<u16>(&mut r, 2, "list"),
            Err(DecodeError::InvalidLength { what: "list" })
        );
        let mut r = Reader::new(&[0, 0]);
        assert_eq!(
            read_u16_list::<u16>(&mut r, 2, "list"),
            Err(DecodeError::InvalidLength { what: "list" })
        );
        let mut r = Reader::new(&[0, 4, 0xc0, 0x2b, 0x00]);
        assert_eq!(
            read_u16_list::<u16>(&mut r, 2, "list"),
            Err(DecodeError::Truncated { what: "list" })
        );
        let mut r = Reader::new(&[0, 4, 0xc0, 0x2b, 0x00, 0xff]);
        assert_eq!(
            read_u16_list::<u16>(&mut r, 2, "list"),
            Ok(vec![0xc02b, 0x00ff])
        );
    }
}
