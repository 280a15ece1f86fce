//! ChangeCipherSpec (RFC 5246 §7.1): the payload of a `change_cipher_spec` record, not a
//! handshake message.

use super::{finish, DecodeError, Need, Reader};

/// `ChangeCipherSpec.type`: change_cipher_spec(1), the only value.
const CHANGE_CIPHER_SPEC: u8 = 1;

/// The ChangeCipherSpec record payload: exactly the byte `0x01`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangeCipherSpec;

impl ChangeCipherSpec {
    /// Appends the payload, `0x01`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(CHANGE_CIPHER_SPEC);
    }

    /// Accepts exactly `[0x01]`.
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(payload);
        if r.u8().need("ChangeCipherSpec.type")? != CHANGE_CIPHER_SPEC {
            return Err(DecodeError::InvalidValue {
                what: "ChangeCipherSpec.type",
            });
        }
        finish(&r, "ChangeCipherSpec")?;
        Ok(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_exactly_one_byte_0x01() {
        let mut out = Vec::new();
        ChangeCipherSpec.encode(&mut out);
        assert_eq!(out, [1]);
        assert_eq!(ChangeCipherSpec::decode(&[1]), Ok(ChangeCipherSpec));
        assert_eq!(
            ChangeCipherSpec::decode(&[]),
            Err(DecodeError::Truncated {
                what: "ChangeCipherSpec.type"
            })
        );
        assert_eq!(
            ChangeCipherSpec::decode(&[2]),
            Err(DecodeError::InvalidValue {
                what: "ChangeCipherSpec.type"
            })
        );
        assert_eq!(
            ChangeCipherSpec::decode(&[1, 1]),
            Err(DecodeError::TrailingBytes {
                what: "ChangeCipherSpec"
            })
        );
    }
}
