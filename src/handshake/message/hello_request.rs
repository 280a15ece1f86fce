//! HelloRequest (RFC 5246 §7.4.1.1).

use super::DecodeError;

/// The HelloRequest body, which is empty. This library never renegotiates: a client answers a
/// HelloRequest with a `no_renegotiation` warning or ignores it (RFC 5746 §4.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HelloRequest;

impl HelloRequest {
    /// Appends the (empty) body: nothing.
    pub fn encode(&self, _out: &mut Vec<u8>) {}

    /// Accepts only an empty body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        if body.is_empty() {
            Ok(Self)
        } else {
            Err(DecodeError::TrailingBytes {
                what: "HelloRequest",
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_empty() {
        let mut out = Vec::new();
        HelloRequest.encode(&mut out);
        assert!(out.is_empty());
        assert_eq!(HelloRequest::decode(&out), Ok(HelloRequest));
        assert_eq!(
            HelloRequest::decode(&[1]),
            Err(DecodeError::TrailingBytes {
                what: "HelloRequest"
            })
        );
    }
}
