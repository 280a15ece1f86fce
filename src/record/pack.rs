//! Packing serialized records into datagrams no larger than the path MTU (RFC 6347 §4.1.1:
//! several records may share a datagram, a record never spans two).
//!
//! ```
//! use puredtls::record::DatagramPacker;
//!
//! let mut p = DatagramPacker::new(100);
//! p.push(&[1; 60]);
//! p.push(&[2; 40]); // 60 + 40 = 100: fits exactly
//! p.push(&[3; 1]); // starts a new datagram
//! let datagrams = p.finish();
//! assert_eq!(datagrams.iter().map(Vec::len).collect::<Vec<_>>(), [100, 1]);
//! ```

const MAX_UDP_PAYLOAD: usize = 65_535;

/// Accumulates serialized records into datagrams of at most `mtu` bytes (UDP payload).
#[derive(Debug, Clone)]
pub struct DatagramPacker {
    mtu: usize,
    done: Vec<Vec<u8>>,
    current: Vec<u8>,
}

impl DatagramPacker {
    /// A packer for datagrams of at most `mtu` bytes.
    pub fn new(mtu: usize) -> Self {
        Self {
            mtu,
            done: Vec::new(),
            current: Vec::new(),
        }
    }

    /// The MTU this packer was made with.
    pub fn mtu(&self) -> usize {
        self.mtu
    }

    /// Bytes still free in the current datagram: a record of at most this length joins it, a
    /// longer one starts a new datagram (of `mtu` free bytes). Lets the handshake layer size a
    /// fragment to fill the datagram.
    pub fn remaining(&self) -> usize {
        self.mtu.saturating_sub(self.current.len())
    }

    /// Appends `record`: to the current datagram if it fits, else to a new one. A record larger
    /// than the MTU goes alone in its own datagram. An empty slice is ignored.
    pub fn push(&mut self, record: &[u8]) {
        if record.is_empty() {
            return;
        }
        self.buffer_for(record.len()).extend_from_slice(record);
    }

    /// The datagram a record of `record_len` bytes should be appended to, starting a new one if
    /// it does not fit in the current one. Lets a record be sealed straight into the datagram
    /// (e.g. with `RecordProtection::seal_append`) without an intermediate copy. The caller
    /// appends exactly one record of `record_len` bytes.
    pub fn buffer_for(&mut self, record_len: usize) -> &mut Vec<u8> {
        let fits = self
            .current
            .len()
            .checked_add(record_len)
            .is_some_and(|total| total <= self.mtu);
        if !fits && !self.current.is_empty() {
            self.flush();
        }
        if self.current.capacity() == 0 {
            // A UDP payload never exceeds 65 535 bytes, whatever MTU was configured.
            self.current
                .reserve_exact(self.mtu.max(record_len).min(MAX_UDP_PAYLOAD));
        }
        &mut self.current
    }

    /// Number of datagrams so far, counting the one being filled.
    pub fn len(&self) -> usize {
        self.done.len() + usize::from(!self.current.is_empty())
    }

    /// True if nothing has been pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The datagrams, in order. No datagram is empty.
    pub fn finish(mut self) -> Vec<Vec<u8>> {
        if !self.current.is_empty() {
            self.flush();
        }
        self.done
    }

    fn flush(&mut self) {
        let full = core::mem::take(&mut self.current);
        self.done.push(full);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lens(p: DatagramPacker) -> Vec<usize> {
        p.finish().iter().map(Vec::len).collect()
    }

    #[test]
    fn datagram_exactly_at_mtu_is_kept_together() {
        let mut p = DatagramPacker::new(100);
        p.push(&[0; 50]);
        assert_eq!(p.remaining(), 50);
        p.push(&[0; 50]);
        assert_eq!(p.remaining(), 0);
        assert_eq!(lens(p), [100]);
    }

    #[test]
    fn one_byte_over_mtu_starts_a_new_datagram() {
        let mut p = DatagramPacker::new(100);
        p.push(&[1; 50]);
        p.push(&[2; 51]);
        assert_eq!(p.remaining(), 49);
        p.push(&[3; 49]);
        let d = p.finish();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0], [1; 50]);
        let mut second = vec![2; 51];
        second.extend_from_slice(&[3; 49]);
        assert_eq!(d[1], second, "records keep their order and bytes");
    }

    #[test]
    fn record_of_exactly_mtu_fills_a_datagram() {
        let mut p = DatagramPacker::new(64);
        p.push(&[0; 64]);
        p.push(&[0; 1]);
        assert_eq!(lens(p), [64, 1]);
    }

    #[test]
    fn record_larger_than_mtu_goes_alone() {
        let mut p = DatagramPacker::new(64);
        p.push(&[0; 10]);
        p.push(&[0; 65]);
        p.push(&[0; 10]);
        assert_eq!(lens(p), [10, 65, 10]);
    }

    #[test]
    fn many_small_records_fill_each_datagram_to_the_limit() {
        let mut p = DatagramPacker::new(1200);
        for _ in 0..100 {
            p.push(&[7; 37]); // 32 records of 37 = 1184 per datagram
        }
        assert_eq!(p.len(), 4);
        assert_eq!(lens(p), [1184, 1184, 1184, 37 * 4]);
    }

    #[test]
    fn empty_packer_and_empty_records() {
        let mut p = DatagramPacker::new(100);
        assert!(p.is_empty());
        p.push(&[]);
        assert!(p.is_empty());
        assert_eq!(p.finish(), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn buffer_for_places_records_like_push() {
        let mut p = DatagramPacker::new(30);
        p.buffer_for(20).extend_from_slice(&[1; 20]);
        p.buffer_for(10).extend_from_slice(&[2; 10]);
        p.buffer_for(11).extend_from_slice(&[3; 11]);
        assert_eq!(lens(p), [30, 11]);
    }

    #[test]
    fn huge_mtu_does_not_over_reserve() {
        let mut p = DatagramPacker::new(usize::MAX);
        p.push(&[1; 10]);
        assert_eq!(p.remaining(), usize::MAX - 10);
        assert_eq!(lens(p), [10]);
    }
}
