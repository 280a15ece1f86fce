//! The anti-replay window (RFC 6347 §4.1.2.6, after RFC 4303 §3.4.3).
//!
//! The right edge of the window is the highest sequence number whose record authenticated; a
//! record left of the window, or one already seen inside it, is a replay. One window covers one
//! epoch: a session starts a new window when the peer's epoch changes.
//!
//! ```
//! use puredtls::record::ReplayWindow;
//!
//! let mut w = ReplayWindow::default(); // 64 records wide
//! assert!(w.check(5));
//! w.mark(5); // only after the record authenticated
//! assert!(!w.check(5), "a duplicate");
//! assert!(w.check(3), "older but inside the window and new");
//! w.mark(100);
//! assert!(!w.check(36), "100 - 36 = 64: just left of the window");
//! assert!(w.check(37));
//! ```

use super::MAX_SEQUENCE_NUMBER;

/// Bits of history the window can hold: the widest window allowed.
const CAPACITY_BITS: u32 = 1024;
const WORDS: usize = (CAPACITY_BITS / 64) as usize;

/// A sliding bitmap of received sequence numbers, for one epoch.
///
/// Fixed size (144 bytes) whatever the width; checking and marking never allocate. The bitmap is
/// a ring indexed by `sequence_number mod 1024`, so sliding the window clears bits instead of
/// shifting words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayWindow {
    /// Highest sequence number marked so far (0 before any: the receive counter starts at 0).
    right_edge: u64,
    width: u32,
    /// Bit `s % 1024` is set when `s`, within the last `width` numbers, has been received.
    bits: [u64; WORDS],
}

impl Default for ReplayWindow {
    /// A window of 64 records, the width RFC 6347 §4.1.2.6 recommends.
    fn default() -> Self {
        Self::new(Self::DEFAULT_WIDTH)
    }
}

impl ReplayWindow {
    /// The default width (RFC 6347 §4.1.2.6: "a window size of 64 is preferred").
    pub const DEFAULT_WIDTH: u32 = 64;
    /// The narrowest window accepted.
    pub const MIN_WIDTH: u32 = 64;
    /// The widest window accepted.
    pub const MAX_WIDTH: u32 = CAPACITY_BITS;

    /// A window that accepts records up to `width - 1` behind the highest one received.
    /// `width` is clamped to `64..=1024`.
    pub fn new(width: u32) -> Self {
        Self {
            right_edge: 0,
            width: width.clamp(Self::MIN_WIDTH, Self::MAX_WIDTH),
            bits: [0; WORDS],
        }
    }

    /// The width in records.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The highest sequence number marked, or `None` if nothing has been marked yet.
    pub fn highest(&self) -> Option<u64> {
        self.is_set(self.right_edge).then_some(self.right_edge)
    }

    /// Forgets everything (for a new epoch).
    pub fn reset(&mut self) {
        *self = Self::new(self.width);
    }

    /// Cheap check before decrypting: `false` for a number seen before, one left of the window,
    /// or one past 2^48-1 (no DTLS 1.2 record carries it).
    pub fn check(&self, sequence_number: u64) -> bool {
        if sequence_number > MAX_SEQUENCE_NUMBER {
            return false;
        }
        if sequence_number > self.right_edge {
            return true;
        }
        let behind = self.right_edge - sequence_number;
        behind < u64::from(self.width) && !self.is_set(sequence_number)
    }

    /// Marks `sequence_number` as received. Call only after its record authenticated
    /// (RFC 6347 §4.1.2.6), so a forged record cannot move the window.
    ///
    /// A number right of the window slides it (a jump of a whole width or more clears it); one
    /// left of the window, or past 2^48-1, is ignored.
    pub fn mark(&mut self, sequence_number: u64) {
        if sequence_number > MAX_SEQUENCE_NUMBER {
            return;
        }
        if sequence_number > self.right_edge {
            let advance = sequence_number - self.right_edge;
            if advance >= u64::from(CAPACITY_BITS) {
                self.bits = [0; WORDS];
            } else {
                // Ring slots right_edge+1 ..= sequence_number last held numbers 1024 older.
                self.clear_range(self.right_edge + 1, advance);
            }
            self.right_edge = sequence_number;
        } else if self.right_edge - sequence_number >= u64::from(self.width) {
            return;
        }
        let (word, bit) = slot(sequence_number);
        if let Some(w) = self.bits.get_mut(word) {
            *w |= bit;
        }
    }

    fn is_set(&self, sequence_number: u64) -> bool {
        let (word, bit) = slot(sequence_number);
        self.bits.get(word).is_some_and(|w| w & bit != 0)
    }

    /// Clears `count` (< 1024) consecutive ring slots starting at `from`'s.
    fn clear_range(&mut self, from: u64, count: u64) {
        let mut pos = (from % u64::from(CAPACITY_BITS)) as u32;
        let mut left = count as u32;
        while left > 0 {
            let offset = pos % 64;
            let n = left.min(64 - offset);
            let mask = if n == 64 {
                u64::MAX
            } else {
                ((1u64 << n) - 1) << offset
            };
            if let Some(w) = self.bits.get_mut((pos / 64) as usize) {
                *w &= !mask;
            }
            left -= n;
            pos = (pos + n) % CAPACITY_BITS;
        }
    }
}

/// Ring slot of a sequence number: word index and bit mask.
fn slot(sequence_number: u64) -> (usize, u64) {
    let pos = sequence_number % u64::from(CAPACITY_BITS);
    ((pos / 64) as usize, 1u64 << (pos % 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference model: the set of every marked number, and the highest.
    fn model_check(marked: &[u64], width: u64, s: u64) -> bool {
        if s > MAX_SEQUENCE_NUMBER {
            return false;
        }
        let top = marked.iter().copied().max().unwrap_or(0);
        s > top || (top - s < width && !marked.contains(&s))
    }

    #[test]
    fn default_is_64_wide_and_empty() {
        let w = ReplayWindow::default();
        assert_eq!(w.width(), 64);
        assert_eq!(w.highest(), None);
        assert!(
            w.check(0),
            "the first record, sequence number 0, is accepted"
        );
        assert!(w.check(63));
        assert!(w.check(MAX_SEQUENCE_NUMBER));
    }

    #[test]
    fn width_is_clamped() {
        assert_eq!(ReplayWindow::new(0).width(), 64);
        assert_eq!(ReplayWindow::new(32).width(), 64);
        assert_eq!(ReplayWindow::new(100).width(), 100);
        assert_eq!(ReplayWindow::new(1024).width(), 1024);
        assert_eq!(ReplayWindow::new(u32::MAX).width(), 1024);
    }

    #[test]
    fn duplicate_is_rejected() {
        let mut w = ReplayWindow::default();
        w.mark(0);
        assert!(!w.check(0));
        assert_eq!(w.highest(), Some(0));
        w.mark(10);
        assert!(!w.check(10));
        assert!(!w.check(0));
        assert!(w.check(5));
        w.mark(5);
        assert!(!w.check(5));
        assert!(w.check(4) && w.check(6) && w.check(11));
    }

    #[test]
    fn in_window_and_too_old_edges_width_64() {
        let mut w = ReplayWindow::new(64);
        w.mark(1000);
        assert!(w.check(1000 - 63), "the left edge is in the window");
        assert!(!w.check(1000 - 64), "one further left is too old");
        assert!(!w.check(0));
        assert!(w.check(1001));
        // Marking a too-old number changes nothing.
        let before = w.clone();
        w.mark(1000 - 64);
        assert_eq!(w, before);
        // Marking the left edge works.
        w.mark(1000 - 63);
        assert!(!w.check(1000 - 63));
    }

    #[test]
    fn in_window_and_too_old_edges_width_1000() {
        let mut w = ReplayWindow::new(1000);
        w.mark(5000);
        assert!(w.check(4001));
        assert!(!w.check(4000));
        w.mark(4001);
        w.mark(4500);
        assert!(!w.check(4001) && !w.check(4500) && !w.check(5000));
        assert!(w.check(4002) && w.check(4999));
        // Slide by 1: 4001 falls out as too old; 4500 is still remembered.
        w.mark(5001);
        assert!(!w.check(4001));
        assert!(w.check(4002));
        assert!(!w.check(4500));
    }

    #[test]
    fn sliding_forgets_nothing_still_in_window() {
        let mut w = ReplayWindow::new(64);
        for s in [1, 2, 3, 40, 63] {
            w.mark(s);
        }
        w.mark(64); // slides by one: 0 leaves, the rest stay
        for s in [1, 2, 3, 40, 63, 64] {
            assert!(!w.check(s), "{s} still marked");
        }
        assert!(!w.check(0), "left of the window now");
        assert!(w.check(4) && w.check(62));
    }

    #[test]
    fn far_ahead_jump_clears_the_window() {
        for width in [64, 1024] {
            let mut w = ReplayWindow::new(width);
            for s in 0..2000 {
                w.mark(s);
            }
            let top = 2000 + u64::from(width) + 5000;
            w.mark(top);
            assert_eq!(w.highest(), Some(top));
            for back in 1..u64::from(width) {
                assert!(w.check(top - back), "width {width}: {back} behind is fresh");
            }
            assert!(!w.check(top - u64::from(width)));
            assert!(!w.check(top));
        }
    }

    #[test]
    fn jump_shorter_than_ring_clears_exactly_the_passed_slots() {
        // A jump of 1000 with width 64 reuses ring slots of numbers 1024 older.
        let mut w = ReplayWindow::new(64);
        for s in 0..100 {
            w.mark(s);
        }
        w.mark(99 + 1000);
        assert!(!w.check(1099));
        for s in 1036..1099 {
            assert!(w.check(s), "{s} was never received");
        }
        assert!(!w.check(1035));
        // Slot of 1024 (== slot of 0) must not still look marked after 1024 is reached.
        let mut w = ReplayWindow::new(1024);
        w.mark(0);
        w.mark(1023);
        w.mark(1024);
        assert!(w.check(1), "slot 1 was never marked");
        assert!(!w.check(0), "0 is now 1024 behind: too old");
        assert!(!w.check(1023) && !w.check(1024));
        w.mark(2047);
        assert!(w.check(1025), "slot of 1 (and 1025) cleared by the slide");
        assert!(!w.check(1024));
    }

    #[test]
    fn forty_eight_bit_maximum() {
        let mut w = ReplayWindow::default();
        assert!(w.check(MAX_SEQUENCE_NUMBER));
        assert!(!w.check(MAX_SEQUENCE_NUMBER + 1));
        assert!(!w.check(u64::MAX));
        w.mark(MAX_SEQUENCE_NUMBER);
        assert_eq!(w.highest(), Some(MAX_SEQUENCE_NUMBER));
        assert!(!w.check(MAX_SEQUENCE_NUMBER), "duplicate at the maximum");
        assert!(w.check(MAX_SEQUENCE_NUMBER - 1));
        assert!(w.check(MAX_SEQUENCE_NUMBER - 63));
        assert!(!w.check(MAX_SEQUENCE_NUMBER - 64));
        // Nothing wraps: an out-of-range mark is ignored and does not move the window.
        let before = w.clone();
        w.mark(MAX_SEQUENCE_NUMBER + 1);
        w.mark(u64::MAX);
        assert_eq!(w, before);
        assert!(!w.check(0));
    }

    #[test]
    fn reset_forgets() {
        let mut w = ReplayWindow::new(128);
        w.mark(500);
        w.reset();
        assert_eq!(w, ReplayWindow::new(128));
        assert!(w.check(0) && w.check(500));
    }

    #[test]
    fn matches_a_reference_model_on_a_pseudo_random_walk() {
        for width in [64u32, 65, 127, 200, 1024] {
            let mut w = ReplayWindow::new(width);
            let mut marked = Vec::new();
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ u64::from(width);
            let mut base = 0u64;
            let (mut fresh, mut dup, mut old) = (0, 0, 0);
            for _ in 0..4000 {
                // xorshift
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let recent = marked.len().min(80) as u64;
                let s = match x % 10 {
                    0 if x & (1 << 40) != 0 => base + 2000 + x % 3000, // far ahead
                    0 => base + 64 + (x >> 8) % 1000,                  // ahead, inside the ring
                    1..=4 => base + (x >> 8) % 70,                     // near the edge
                    5..=6 if recent > 0 => {
                        // a replay of a recently accepted record
                        marked[marked.len() - 1 - ((x >> 8) % recent) as usize]
                    }
                    _ => base.saturating_sub((x >> 8) % 2500) + 30, // behind
                };
                assert_eq!(
                    w.check(s),
                    model_check(&marked, u64::from(width), s),
                    "width {width} s {s}"
                );
                if w.check(s) {
                    w.mark(s);
                    marked.push(s);
                    base = base.max(s);
                    fresh += 1;
                } else if marked.contains(&s) {
                    dup += 1;
                } else {
                    old += 1;
                }
            }
            // The walk exercises every outcome, not just one.
            assert!(fresh > 500 && dup > 200 && old > 200, "{fresh} {dup} {old}");
        }
    }
}
