//! ServerHelloDone (RFC 5246 §7.4.5).

use super::DecodeError;

/// The ServerHelloDone body, which is empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerHelloDone;

impl ServerHelloDone {
    /// Appends the (empty) body: nothing.
    pub fn encode(&self, _out: &mut Vec<u8>) {}

    /// Accepts only an empty body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        if body.is_empty() {
            Ok(Self)
        } else {
            Err(DecodeError::TrailingBytes {
                what: "ServerHelloDone",
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_empty() {
        let mut out = vec![0xee];
        ServerHelloDone.encode(&mut out);
        assert_eq!(out, [0xee]);
        assert_eq!(ServerHelloDone::decode(&[]), Ok(ServerHelloDone));
        assert_eq!(
            ServerHelloDone::decode(&[0]),
            Err(DecodeError::TrailingBytes {
                what: "ServerHelloDone"
            })
        );
    }
}
