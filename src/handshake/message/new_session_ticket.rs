//! NewSessionTicket (RFC 5077 §3.3).

use super::{finish, DecodeError, Need, Reader, Writer};

/// The NewSessionTicket body. This library never issues tickets and does not resume with them;
/// a client decodes one only to accept a server that sends it anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSessionTicket {
    /// Seconds the ticket may be kept; 0 means unspecified.
    pub ticket_lifetime_hint: u32,
    /// `opaque ticket<0..2^16-1>`, opaque to the client.
    pub ticket: Vec<u8>,
}

impl NewSessionTicket {
    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        w.u32(self.ticket_lifetime_hint);
        w.vec_u16(&self.ticket);
    }

    /// Parses a whole body.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let ticket_lifetime_hint = r.u32().need("NewSessionTicket.ticket_lifetime_hint")?;
        let ticket = r.vec_u16().need("NewSessionTicket.ticket")?.to_vec();
        finish(&r, "NewSessionTicket")?;
        Ok(Self {
            ticket_lifetime_hint,
            ticket,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The NewSessionTicket body OpenSSL 3 `s_server -dtls1_2` sent in hotplace-dtls12
    /// `dtls12mtu1500.pcapng`.
    const OPENSSL_NEW_SESSION_TICKET: &str = "\
        00001c20\
        00b0\
        de9b915cf34b417701c8519d146e19416968b72f43525efea2ebd94ddf8950210f9929f3dd91db165dfb\
        e2386cfc9b47019a70aae42842460b25ba5b43469bed43473e42b7301d5af42f7cfed59aeaafd92c1493\
        30102fcc36e87c74031f05d40d52e8a38e6778832018134148f8c51ef71932863161b7c15304f9e7c025\
        220a837df4a8f84fe2a273861f8070c92f0a250ab7bd9b22068336256a1f0f9301eb99af6b380a2bcd45\
        2b907e34846abefa";

    #[test]
    fn decodes_and_re_encodes_openssl_ticket() {
        let body = hex::decode(OPENSSL_NEW_SESSION_TICKET).unwrap();
        assert_eq!(body.len(), 182);
        let nst = NewSessionTicket::decode(&body).unwrap();
        assert_eq!(nst.ticket_lifetime_hint, 7200);
        assert_eq!(nst.ticket.len(), 176);
        assert_eq!(nst.ticket[..2], [0xde, 0x9b]);
        let mut out = Vec::new();
        nst.encode(&mut out);
        assert_eq!(out, body);
    }

    #[test]
    fn constructed_round_trips_and_malformed_is_rejected() {
        let nst = NewSessionTicket {
            ticket_lifetime_hint: 0,
            ticket: vec![],
        };
        let mut out = Vec::new();
        nst.encode(&mut out);
        assert_eq!(out, [0, 0, 0, 0, 0, 0]);
        assert_eq!(NewSessionTicket::decode(&out), Ok(nst));
        assert_eq!(
            NewSessionTicket::decode(&[0, 0, 0, 0, 0, 2, 1]),
            Err(DecodeError::Truncated {
                what: "NewSessionTicket.ticket"
            })
        );
        assert_eq!(
            NewSessionTicket::decode(&[0, 0, 0]),
            Err(DecodeError::Truncated {
                what: "NewSessionTicket.ticket_lifetime_hint"
            })
        );
        assert_eq!(
            NewSessionTicket::decode(&[0, 0, 0, 0, 0, 0, 9]),
            Err(DecodeError::TrailingBytes {
                what: "NewSessionTicket"
            })
        );
    }
}
