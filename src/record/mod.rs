// src/record/mod.rs (TEMP)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolVersion(pub u16);
impl ProtocolVersion {
    pub const DTLS1_0: Self = Self(0xfeff);
    pub const DTLS1_2: Self = Self(0xfefd);
}
