//! The DTLS 1.2 handshake layer: message and extension codecs, the 12-byte DTLS handshake
//! header with fragmentation and reassembly.

pub mod extension;
pub mod fragment;
pub mod message;
pub mod reassembly;

crate::codec::wire_enum! {
    /// RFC 5246 §7.4 and RFC 6347 §4.3.2.
    pub enum HandshakeType: u8 {
        HelloRequest = 0, ClientHello = 1, ServerHello = 2, HelloVerifyRequest = 3,
        NewSessionTicket = 4, Certificate = 11, ServerKeyExchange = 12, CertificateRequest = 13,
        ServerHelloDone = 14, CertificateVerify = 15, ClientKeyExchange = 16, Finished = 20
    }
}
