//! Bounded wire codec: a [`Reader`] that can never read past its slice and a [`Writer`].
//!
//! Every read is checked and returns `None` on truncation, so a parser written with `?` on
//! these calls cannot panic on any input. A length prefix is read once and turned into a
//! sub-reader with [`Reader::sub`], so a nested structure can never read past its own length
//! (the idea of rustls' `Codec`, RFC 5246 §4 presentation language).

/// A cursor over a byte slice; every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Reads everything that is left.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.rest();
        self.pos = self.buf.len();
        rest
    }

    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(len)?;
        let out = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    pub fn take_array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// A reader over exactly the next `len` bytes; it can never read past them.
    pub fn sub(&mut self, len: usize) -> Option<Reader<'a>> {
        self.take(len).map(Reader::new)
    }

    pub fn u8(&mut self) -> Option<u8> {
        let [b] = self.take_array::<1>()?;
        Some(b)
    }

    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take_array()?))
    }

    pub fn u24(&mut self) -> Option<u32> {
        let [a, b, c] = self.take_array::<3>()?;
        Some(u32::from_be_bytes([0, a, b, c]))
    }

    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take_array()?))
    }

    pub fn u48(&mut self) -> Option<u64> {
        let [a, b, c, d, e, f] = self.take_array::<6>()?;
        Some(u64::from_be_bytes([0, 0, a, b, c, d, e, f]))
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take_array()?))
    }

    /// `opaque v<0..2^8-1>`: the bytes of a vector with a one-byte length.
    pub fn vec_u8(&mut self) -> Option<&'a [u8]> {
        let len = self.u8()?;
        self.take(usize::from(len))
    }

    /// `opaque v<0..2^16-1>`.
    pub fn vec_u16(&mut self) -> Option<&'a [u8]> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }

    /// `opaque v<0..2^24-1>`.
    pub fn vec_u24(&mut self) -> Option<&'a [u8]> {
        let len = self.u24()?;
        self.take(usize::try_from(len).ok()?)
    }

    /// A sub-reader over a vector with a one-byte length.
    pub fn sub_u8(&mut self) -> Option<Reader<'a>> {
        self.vec_u8().map(Reader::new)
    }

    pub fn sub_u16(&mut self) -> Option<Reader<'a>> {
        self.vec_u16().map(Reader::new)
    }

    pub fn sub_u24(&mut self) -> Option<Reader<'a>> {
        self.vec_u24().map(Reader::new)
    }

    /// `None` unless everything was read: trailing bytes in a structure are a decode error.
    pub fn finish(&self) -> Option<()> {
        self.is_empty().then_some(())
    }
}

/// Appends big-endian wire values to a `Vec<u8>`.
///
/// Length-prefixed vectors are written with a placeholder that [`Writer::end_vec`] patches, so
/// nested structures are written in one pass without intermediate buffers.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut Vec<u8>,
}

/// A pending length prefix: where it starts and how many bytes it has.
#[derive(Debug, Clone, Copy)]
#[must_use = "a length prefix must be closed with Writer::end_vec"]
pub struct LengthPrefix {
    at: usize,
    width: usize,
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        Self { buf }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }

    /// Writes the low 24 bits of `v`.
    pub fn u24(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes()[1..]);
    }

    pub fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    /// Writes the low 48 bits of `v`.
    pub fn u48(&mut self, v: u64) {
        self.bytes(&v.to_be_bytes()[2..]);
    }

    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_be_bytes());
    }

    /// Opens a vector with a `width`-byte length prefix (1, 2 or 3).
    pub fn begin_vec(&mut self, width: usize) -> LengthPrefix {
        debug_assert!((1..=3).contains(&width));
        let at = self.buf.len();
        self.buf.extend(core::iter::repeat_n(0, width));
        LengthPrefix { at, width }
    }

    /// Patches the length prefix with the number of bytes written since [`Writer::begin_vec`].
    ///
    /// Our own encoders never produce vectors longer than their prefix allows; if one did, the
    /// length saturates to the maximum rather than wrapping, and the peer rejects the message.
    pub fn end_vec(&mut self, prefix: LengthPrefix) {
        let body = self.buf.len() - prefix.at - prefix.width;
        let max = (1usize << (8 * prefix.width)) - 1;
        let len = body.min(max) as u32;
        let be = len.to_be_bytes();
        self.buf[prefix.at..prefix.at + prefix.width].copy_from_slice(&be[4 - prefix.width..]);
    }

    pub fn vec_u8(&mut self, b: &[u8]) {
        let p = self.begin_vec(1);
        self.bytes(b);
        self.end_vec(p);
    }

    pub fn vec_u16(&mut self, b: &[u8]) {
        let p = self.begin_vec(2);
        self.bytes(b);
        self.end_vec(p);
    }

    pub fn vec_u24(&mut self, b: &[u8]) {
        let p = self.begin_vec(3);
        self.bytes(b);
        self.end_vec(p);
    }
}

/// Declares a wire enum with an `Unknown(..)` variant, so any value decodes and round-trips.
///
/// ```ignore
/// wire_enum! { pub enum AlertLevel: u8 { Warning = 1, Fatal = 2 } }
/// ```
macro_rules! wire_enum {
    ($(#[$meta:meta])* pub enum $name:ident : $repr:ty { $($(#[$vmeta:meta])* $variant:ident = $value:expr),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this library does not know; kept so that it round-trips.
            Unknown($repr),
        }

        impl From<$repr> for $name {
            fn from(v: $repr) -> Self {
                match v {
                    $($value => Self::$variant,)+
                    other => Self::Unknown(other),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> $repr {
                match v {
                    $($name::$variant => $value,)+
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}
pub(crate) use wire_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_all_widths_big_endian() {
        let data = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        let mut r = Reader::new(&data);
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.u16(), Some(0x0203));
        assert_eq!(r.u24(), Some(0x040506));
        assert_eq!(r.u48(), Some(0x0708090a0b0c));
        assert_eq!(r.u24(), Some(0x0d0e0f));
        assert_eq!(r.remaining(), 1);
        assert_eq!(r.u16(), None, "a short read fails");
        assert_eq!(r.u8(), Some(16), "and consumes nothing");
        assert!(r.finish().is_some());
    }

    #[test]
    fn sub_reader_cannot_read_past_its_length() {
        let data = [2, 0xaa, 0xbb, 0xcc];
        let mut r = Reader::new(&data);
        let mut sub = r.sub_u8().unwrap();
        assert_eq!(sub.u16(), Some(0xaabb));
        assert_eq!(sub.u8(), None, "the 0xcc after the vector is out of reach");
        assert_eq!(r.u8(), Some(0xcc));
    }

    #[test]
    fn never_panics_on_any_truncation() {
        let full = [3u8, 0, 0, 5, 1, 2, 3, 4, 5, 0xff, 0xff, 0xff];
        for cut in 0..=full.len() {
            let mut r = Reader::new(&full[..cut]);
            let _ = r.vec_u24();
            let _ = r.vec_u16();
            let _ = r.vec_u8();
            let _ = r.u48();
            let _ = r.sub(usize::MAX);
            let _ = r.take(usize::MAX - 1);
        }
        // A length that claims more than is there fails without consuming.
        let mut r = Reader::new(&[0xff, 0xff, 1, 2]);
        assert_eq!(r.vec_u16(), None);
    }

    #[test]
    fn writer_patches_nested_lengths() {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        let outer = w.begin_vec(2);
        w.vec_u8(&[9, 9]);
        w.u24(0x010203);
        w.end_vec(outer);
        w.u48(0x0000_1122_3344_5566);
        assert_eq!(
            out,
            [0, 6, 2, 9, 9, 1, 2, 3, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66]
        );
        let mut r = Reader::new(&out);
        let mut inner = r.sub_u16().unwrap();
        assert_eq!(inner.vec_u8(), Some(&[9u8, 9][..]));
        assert_eq!(inner.u24(), Some(0x010203));
        assert_eq!(r.u48(), Some(0x1122_3344_5566));
    }

    wire_enum! { pub enum Demo: u8 { A = 1, B = 2 } }

    #[test]
    fn wire_enum_unknown_round_trips() {
        assert_eq!(Demo::from(1), Demo::A);
        assert_eq!(Demo::from(7), Demo::Unknown(7));
        assert_eq!(u8::from(Demo::Unknown(7)), 7);
        for v in 0..=255u8 {
            assert_eq!(u8::from(Demo::from(v)), v);
        }
    }
}
