//! The DTLS 1.2 handshake protocol (RFC 6347 §4.2 on RFC 5246 §7.4).
//!
//! [`message`] holds the codecs for every handshake message body and [`extension`] the hello
//! extensions. The 12-byte DTLS handshake header, fragmentation and reassembly live beside them.

pub mod extension;
pub mod message;

use crate::codec::wire_enum;

wire_enum! {
    /// `HandshakeType`, the first byte of the DTLS handshake header (RFC 6347 §4.3.2,
    /// RFC 5246 §7.4, RFC 5077 §3.3 for `NewSessionTicket`).
    pub enum HandshakeType: u8 {
        HelloRequest = 0,
        ClientHello = 1,
        ServerHello = 2,
        HelloVerifyRequest = 3,
        NewSessionTicket = 4,
        Certificate = 11,
        ServerKeyExchange = 12,
        CertificateRequest = 13,
        ServerHelloDone = 14,
        CertificateVerify = 15,
        ClientKeyExchange = 16,
        Finished = 20,
    }
}
