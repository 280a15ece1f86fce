//! Finished (RFC 5246 §7.4.9).

use subtle::ConstantTimeEq;

use super::DecodeError;

/// Length of `verify_data` for every suite this library implements (RFC 5246 §7.4.9).
const VERIFY_DATA_LEN: usize = 12;

/// The Finished body: `verify_data`, the PRF over the handshake transcript.
///
/// `==` compares in constant time, so comparing a received Finished with the expected one
/// leaks nothing about where they differ.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    /// `PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]`.
    pub verify_data: [u8; VERIFY_DATA_LEN],
}

impl Finished {
    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.verify_data);
    }

    /// Accepts exactly 12 bytes: every suite we negotiate has `verify_data_length` 12.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let verify_data = body.try_into().map_err(|_| DecodeError::InvalidLength {
            what: "Finished.verify_data",
        })?;
        Ok(Self { verify_data })
    }
}

impl PartialEq for Finished {
    fn eq(&self, other: &Self) -> bool {
        self.verify_data[..].ct_eq(&other.verify_data[..]).into()
    }
}

impl Eq for Finished {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client's Finished body from "The Illustrated TLS 1.2 Connection" (tls.xargs.org,
    /// `caps/clientfinishedplain`, after its 4-byte TLS handshake header).
    const CLIENT_FINISHED: &str = "cf919626f1360c536aaad73a";

    #[test]
    fn decodes_and_re_encodes_a_real_finished() {
        let body = hex::decode(CLIENT_FINISHED).unwrap();
        let fin = Finished::decode(&body).unwrap();
        assert_eq!(fin.verify_data[..], body[..]);
        let mut out = Vec::new();
        fin.encode(&mut out);
        assert_eq!(out, body);
    }

    #[test]
    fn only_twelve_bytes_are_accepted() {
        let body = hex::decode(CLIENT_FINISHED).unwrap();
        for len in [0, 11, 13, 48] {
            let mut v = body.clone();
            v.resize(len, 0);
            assert_eq!(
                Finished::decode(&v),
                Err(DecodeError::InvalidLength {
                    what: "Finished.verify_data"
                }),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn equality_compares_every_byte() {
        let a = Finished {
            verify_data: [1; 12],
        };
        let mut b = a;
        assert_eq!(a, b);
        b.verify_data[11] = 2;
        assert_ne!(a, b);
        b.verify_data = [1; 12];
        b.verify_data[0] = 0;
        assert_ne!(a, b);
    }
}
