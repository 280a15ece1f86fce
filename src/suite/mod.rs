// src/suite/mod.rs (TEMP)
crate::codec::wire_enum! { #[allow(non_camel_case_types)] pub enum CipherSuite: u16 { TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c, TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff } }
crate::codec::wire_enum! { pub enum NamedGroup: u16 { Secp256r1 = 23, Secp384r1 = 24, Secp521r1 = 25, X25519 = 29 } }
crate::codec::wire_enum! { pub enum SignatureScheme: u16 { EcdsaSecp256r1Sha256 = 0x0403, EcdsaSecp384r1Sha384 = 0x0503, EcdsaSecp521r1Sha512 = 0x0603, Ed25519 = 0x0807, RsaPssRsaeSha256 = 0x0804, RsaPkcs1Sha256 = 0x0401 } }
