//! The alert protocol (RFC 5246 §7.2; RFC 6347 §4.1.2.7 for how DTLS treats them).

use core::fmt;

use crate::codec::{wire_enum, Reader};
use crate::handshake::message::DecodeError;

wire_enum! {
    /// `AlertLevel` (RFC 5246 §7.2).
    pub enum AlertLevel: u8 {
        Warning = 1,
        Fatal = 2,
    }
}

wire_enum! {
    /// `AlertDescription` (RFC 5246 §7.2, RFC 5746, RFC 6066, RFC 7301, RFC 7507).
    pub enum AlertDescription: u8 {
        CloseNotify = 0,
        UnexpectedMessage = 10,
        BadRecordMac = 20,
        RecordOverflow = 22,
        HandshakeFailure = 40,
        BadCertificate = 42,
        UnsupportedCertificate = 43,
        CertificateRevoked = 44,
        CertificateExpired = 45,
        CertificateUnknown = 46,
        IllegalParameter = 47,
        UnknownCa = 48,
        AccessDenied = 49,
        DecodeError = 50,
        DecryptError = 51,
        ProtocolVersion = 70,
        InsufficientSecurity = 71,
        InternalError = 80,
        InappropriateFallback = 86,
        UserCanceled = 90,
        NoRenegotiation = 100,
        UnsupportedExtension = 110,
        UnrecognizedName = 112,
        UnknownPskIdentity = 115,
        NoApplicationProtocol = 120,
    }
}

impl fmt::Display for AlertLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Warning => f.write_str("warning"),
            Self::Fatal => f.write_str("fatal"),
            Self::Unknown(v) => write!(f, "unknown level {v}"),
        }
    }
}

impl fmt::Display for AlertDescription {
    /// The RFC's name for the alert, such as `handshake_failure`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::CloseNotify => "close_notify",
            Self::UnexpectedMessage => "unexpected_message",
            Self::BadRecordMac => "bad_record_mac",
            Self::RecordOverflow => "record_overflow",
            Self::HandshakeFailure => "handshake_failure",
            Self::BadCertificate => "bad_certificate",
            Self::UnsupportedCertificate => "unsupported_certificate",
            Self::CertificateRevoked => "certificate_revoked",
            Self::CertificateExpired => "certificate_expired",
            Self::CertificateUnknown => "certificate_unknown",
            Self::IllegalParameter => "illegal_parameter",
            Self::UnknownCa => "unknown_ca",
            Self::AccessDenied => "access_denied",
            Self::DecodeError => "decode_error",
            Self::DecryptError => "decrypt_error",
            Self::ProtocolVersion => "protocol_version",
            Self::InsufficientSecurity => "insufficient_security",
            Self::InternalError => "internal_error",
            Self::InappropriateFallback => "inappropriate_fallback",
            Self::UserCanceled => "user_canceled",
            Self::NoRenegotiation => "no_renegotiation",
            Self::UnsupportedExtension => "unsupported_extension",
            Self::UnrecognizedName => "unrecognized_name",
            Self::UnknownPskIdentity => "unknown_psk_identity",
            Self::NoApplicationProtocol => "no_application_protocol",
            Self::Unknown(v) => return write!(f, "unknown alert {v}"),
        };
        f.write_str(name)
    }
}

/// An alert record's payload: a level and a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Alert {
    /// `fatal` ends the connection; a `warning` may be ignored (except close_notify).
    pub level: AlertLevel,
    /// What went wrong.
    pub description: AlertDescription,
}

impl Alert {
    /// A fatal alert: the sender closes the connection right after it.
    pub fn fatal(description: AlertDescription) -> Self {
        Self {
            level: AlertLevel::Fatal,
            description,
        }
    }

    /// A warning alert.
    pub fn warning(description: AlertDescription) -> Self {
        Self {
            level: AlertLevel::Warning,
            description,
        }
    }

    /// `close_notify` at warning level, as RFC 5246 §7.2.1 sends it.
    pub fn close_notify() -> Self {
        Self::warning(AlertDescription::CloseNotify)
    }

    /// The two payload bytes: level, then description.
    pub fn encode(&self) -> [u8; 2] {
        [u8::from(self.level), u8::from(self.description)]
    }

    /// Accepts a payload of exactly two bytes. Unknown levels and descriptions decode as
    /// `Unknown(..)`.
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(payload);
        let [level, description] = r
            .take_array::<2>()
            .ok_or(DecodeError::Truncated { what: "Alert" })?;
        r.finish()
            .ok_or(DecodeError::TrailingBytes { what: "Alert" })?;
        Ok(Self {
            level: AlertLevel::from(level),
            description: AlertDescription::from(description),
        })
    }
}

impl fmt::Display for Alert {
    /// For example `fatal alert handshake_failure`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} alert {}", self.level, self.description)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes_exact_bytes() {
        let alert = Alert::fatal(AlertDescription::HandshakeFailure);
        assert_eq!(alert.encode(), [2, 40]);
        assert_eq!(Alert::decode(&[2, 40]), Ok(alert));
        assert_eq!(Alert::close_notify().encode(), [1, 0]);
        assert_eq!(
            Alert::decode(&[1, 0]),
            Ok(Alert {
                level: AlertLevel::Warning,
                description: AlertDescription::CloseNotify
            })
        );
        assert_eq!(
            Alert::warning(AlertDescription::NoRenegotiation).encode(),
            [1, 100]
        );
    }

    #[test]
    fn every_byte_pair_round_trips() {
        for level in 0..=255u8 {
            for description in 0..=255u8 {
                let alert = Alert::decode(&[level, description]).unwrap();
                assert_eq!(alert.encode(), [level, description]);
            }
        }
        assert_eq!(
            Alert::decode(&[3, 200]),
            Ok(Alert {
                level: AlertLevel::Unknown(3),
                description: AlertDescription::Unknown(200)
            })
        );
    }

    #[test]
    fn only_two_bytes_are_accepted() {
        assert_eq!(
            Alert::decode(&[]),
            Err(DecodeError::Truncated { what: "Alert" })
        );
        assert_eq!(
            Alert::decode(&[2]),
            Err(DecodeError::Truncated { what: "Alert" })
        );
        assert_eq!(
            Alert::decode(&[2, 40, 0]),
            Err(DecodeError::TrailingBytes { what: "Alert" })
        );
    }

    #[test]
    fn display_uses_the_rfc_names() {
        let names: &[(u8, &str)] = &[
            (0, "close_notify"),
            (10, "unexpected_message"),
            (20, "bad_record_mac"),
            (22, "record_overflow"),
            (40, "handshake_failure"),
            (42, "bad_certificate"),
            (43, "unsupported_certificate"),
            (44, "certificate_revoked"),
            (45, "certificate_expired"),
            (46, "certificate_unknown"),
            (47, "illegal_parameter"),
            (48, "unknown_ca"),
            (49, "access_denied"),
            (50, "decode_error"),
            (51, "decrypt_error"),
            (70, "protocol_version"),
            (71, "insufficient_security"),
            (80, "internal_error"),
            (86, "inappropriate_fallback"),
            (90, "user_canceled"),
            (100, "no_renegotiation"),
            (110, "unsupported_extension"),
            (112, "unrecognized_name"),
            (115, "unknown_psk_identity"),
            (120, "no_application_protocol"),
            (21, "unknown alert 21"),
        ];
        for &(value, name) in names {
            assert_eq!(AlertDescription::from(value).to_string(), name);
        }
        assert_eq!(
            Alert::fatal(AlertDescription::DecodeError).to_string(),
            "fatal alert decode_error"
        );
        assert_eq!(
            Alert::decode(&[9, 0]).unwrap().to_string(),
            "unknown level 9 alert close_notify"
        );
    }
}
