#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| puredtls_fuzz::targets::handshake(data));
