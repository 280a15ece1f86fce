//! Reassembly of handshake fragments into whole messages, in message_seq order
//! (RFC 6347 §4.2.2, §4.2.3).
//!
//! Fragments may arrive in any order, overlap and repeat. Messages ahead of the next expected
//! message_seq are buffered, but only within a small window and under a byte cap, so a peer (or an
//! off-path attacker, before the handshake is authenticated) cannot make us allocate without bound.

use crate::handshake::fragment::HandshakeFragment;
use crate::handshake::HandshakeType;

/// Caps on what the reassembler may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Largest handshake message accepted (a certificate chain is the largest real one).
    pub max_message_len: u32,
    /// How many message_seq values ahead of the next expected one may be buffered.
    pub max_future_messages: u16,
    /// Total bytes of message bodies held at once.
    pub max_buffered_bytes: usize,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        Self {
            max_message_len: 32 * 1024,
            max_future_messages: 8,
            max_buffered_bytes: 64 * 1024,
        }
    }
}

/// A complete handshake message, reassembled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeMessage {
    pub msg_type: HandshakeType,
    /// The record epoch its fragments arrived in (RFC 6347 §4.1: Finished must be epoch 1).
    pub epoch: u16,
    pub message_seq: u16,
    pub body: Vec<u8>,
}

/// What happened to a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored (or already known); a message may now be ready to `pop`.
    Accepted,
    /// message_seq is below the next expected one: the peer retransmitted an earlier flight.
    Old,
    /// Dropped, with the reason.
    Dropped(ReassemblyDrop),
}

/// Why a fragment was dropped. None of these is fatal: the peer retransmits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReassemblyDrop {
    /// message_seq beyond the buffering window.
    TooFarAhead,
    /// The message is longer than `max_message_len`.
    TooLarge,
    /// Buffering it would exceed `max_buffered_bytes`.
    OverCapacity,
    /// Its msg_type, epoch or length disagrees with earlier fragments of the same message_seq.
    Inconsistent,
    /// The message already has too many separate holes (a hostile sprinkle of tiny fragments).
    TooFragmented,
}

/// Most disjoint byte ranges a partial message may have before further scattered fragments
/// are refused; honest peers send contiguous fragments, which merge into one range.
const MAX_RANGES: usize = 32;

#[derive(Debug)]
struct Partial {
    msg_type: HandshakeType,
    epoch: u16,
    message_seq: u16,
    body: Vec<u8>,
    /// Received byte ranges, sorted and disjoint, half-open.
    ranges: Vec<(u32, u32)>,
}

impl Partial {
    fn is_complete(&self) -> bool {
        match self.ranges.as_slice() {
            [] => self.body.is_empty(),
            [(0, end)] => *end as usize == self.body.len(),
            _ => false,
        }
    }

    /// Records `[start, end)` as received; false when that would need too many ranges.
    fn add_range(&mut self, start: u32, end: u32) -> bool {
        if start == end {
            return true;
        }
        // Merge with every range that overlaps or touches [start, end).
        let mut merged = (start, end);
        let mut kept = Vec::with_capacity(self.ranges.len() + 1);
        for &(s, e) in &self.ranges {
            if e < merged.0 || s > merged.1 {
                kept.push((s, e));
            } else {
                merged = (merged.0.min(s), merged.1.max(e));
            }
        }
        let at = kept.partition_point(|&(s, _)| s < merged.0);
        kept.insert(at, merged);
        if kept.len() > MAX_RANGES {
            return false;
        }
        self.ranges = kept;
        true
    }
}

/// Reassembles fragments into messages delivered strictly in message_seq order.
#[derive(Debug)]
pub struct Reassembler {
    next_seq: u16,
    partials: Vec<Partial>,
    buffered_bytes: usize,
    limits: ReassemblyLimits,
}

impl Reassembler {
    pub fn new(limits: ReassemblyLimits) -> Self {
        Self {
            next_seq: 0,
            partials: Vec::new(),
            buffered_bytes: 0,
            limits,
        }
    }

    /// The message_seq of the next message `pop` will return.
    pub fn next_seq(&self) -> u16 {
        self.next_seq
    }

    /// Skips ahead, e.g. a server that answered ClientHello message_seq 0 statelessly expects 1
    /// next (RFC 6347 §4.2.2). Buffered fragments below `seq` are discarded.
    pub fn set_next_seq(&mut self, seq: u16) {
        self.next_seq = seq;
        self.partials.retain(|p| p.message_seq >= seq);
        self.recount();
    }

    /// Bytes of message bodies currently held.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered_bytes
    }

    /// Drops everything buffered (e.g. once the handshake is over) and frees the memory.
    pub fn clear(&mut self) {
        self.partials = Vec::new();
        self.buffered_bytes = 0;
    }

    fn recount(&mut self) {
        self.buffered_bytes = self.partials.iter().map(|p| p.body.len()).sum();
    }

    /// Adds a fragment that arrived in a record of `epoch`.
    pub fn insert(&mut self, fragment: &HandshakeFragment<'_>, epoch: u16) -> Inserted {
        let h = &fragment.header;
        if h.message_seq < self.next_seq {
            return Inserted::Old;
        }
        if h.message_seq - self.next_seq >= self.limits.max_future_messages {
            return Inserted::Dropped(ReassemblyDrop::TooFarAhead);
        }
        if h.length > self.limits.max_message_len {
            return Inserted::Dropped(ReassemblyDrop::TooLarge);
        }
        let index = match self
            .partials
            .iter()
            .position(|p| p.message_seq == h.message_seq)
        {
            Some(i) => {
                let p = &self.partials[i];
                if p.msg_type != h.msg_type || p.epoch != epoch || p.body.len() != h.length as usize
                {
                    return Inserted::Dropped(ReassemblyDrop::Inconsistent);
                }
                i
            }
            None => {
                let length = h.length as usize;
                if self.buffered_bytes.saturating_add(length) > self.limits.max_buffered_bytes {
                    return Inserted::Dropped(ReassemblyDrop::OverCapacity);
                }
                self.buffered_bytes += length;
                self.partials.push(Partial {
                    msg_type: h.msg_type,
                    epoch,
                    message_seq: h.message_seq,
                    body: vec![0; length],
                    ranges: Vec::new(),
                });
                self.partials.len() - 1
            }
        };
        let partial = &mut self.partials[index];
        // The fragment iterator checked offset + length <= message length, and the body is
        // exactly fragment_length bytes; `get_mut` keeps this panic-free regardless.
        let start = h.fragment_offset;
        let end = start.saturating_add(h.fragment_length);
        let Some(dst) = partial.body.get_mut(start as usize..end as usize) else {
            return Inserted::Dropped(ReassemblyDrop::Inconsistent);
        };
        if dst.len() != fragment.body.len() {
            return Inserted::Dropped(ReassemblyDrop::Inconsistent);
        }
        // Overlapping retransmitted bytes are the same bytes from an honest peer; the
        // transcript (Finished) catches any difference, so the latest copy simply wins.
        dst.copy_from_slice(fragment.body);
        if !partial.add_range(start, end) {
            return Inserted::Dropped(ReassemblyDrop::TooFragmented);
        }
        Inserted::Accepted
    }

    /// The next message in order, once all of its bytes have arrived.
    pub fn pop(&mut self) -> Option<HandshakeMessage> {
        let i = self
            .partials
            .iter()
            .position(|p| p.message_seq == self.next_seq && p.is_complete())?;
        let p = self.partials.swap_remove(i);
        self.buffered_bytes -= p.body.len();
        self.next_seq = self.next_seq.wrapping_add(1);
        Some(HandshakeMessage {
            msg_type: p.msg_type,
            epoch: p.epoch,
            message_seq: p.message_seq,
            body: p.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::fragment::{for_each_fragment, fragments};

    fn pieces(msg_type: HandshakeType, seq: u16, body: &[u8], max: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for_each_fragment(msg_type, seq, body, max, |f| out.push(f.to_vec()));
        out
    }

    fn feed(r: &mut Reassembler, raw: &[u8]) -> Inserted {
        let f = fragments(raw).next().unwrap().unwrap();
        r.insert(&f, 0)
    }

    fn body(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn reassembles_out_of_order_with_duplicates() {
        let b = body(1000);
        let mut ps = pieces(HandshakeType::Certificate, 0, &b, 97);
        ps.reverse();
        let dup = ps[3].clone();
        ps.push(dup);
        let mut r = Reassembler::new(ReassemblyLimits::default());
        for (i, p) in ps.iter().enumerate() {
            assert_eq!(feed(&mut r, p), Inserted::Accepted);
            if i + 1 < ps.len() - 1 {
                assert!(r.pop().is_none(), "incomplete after {i} pieces");
            }
        }
        let m = r.pop().unwrap();
        assert_eq!((m.msg_type, m.message_seq), (HandshakeType::Certificate, 0));
        assert_eq!(m.body, b);
        assert_eq!(r.next_seq(), 1);
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn overlapping_fragments_of_different_sizes() {
        let b = body(500);
        let mut r = Reassembler::new(ReassemblyLimits::default());
        // Odd-sized pieces over the first part, even-sized over all: heavy overlap.
        for p in pieces(HandshakeType::Certificate, 0, &b[..], 150)
            .iter()
            .step_by(2)
        {
            feed(&mut r, p);
        }
        assert!(r.pop().is_none());
        for p in pieces(HandshakeType::Certificate, 0, &b, 64) {
            feed(&mut r, &p);
        }
        assert_eq!(r.pop().unwrap().body, b);
    }

    #[test]
    fn delivers_in_message_seq_order_and_flags_old() {
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let later = pieces(HandshakeType::ServerHelloDone, 1, &[], 100);
        let first = pieces(HandshakeType::ServerHello, 0, &body(40), 100);
        assert_eq!(feed(&mut r, &later[0]), Inserted::Accepted);
        assert!(r.pop().is_none(), "seq 1 waits for seq 0");
        feed(&mut r, &first[0]);
        assert_eq!(r.pop().unwrap().message_seq, 0);
        assert_eq!(r.pop().unwrap().message_seq, 1);
        assert!(r.pop().is_none());
        assert_eq!(feed(&mut r, &first[0]), Inserted::Old);
    }

    #[test]
    fn limits_are_enforced() {
        let limits = ReassemblyLimits {
            max_message_len: 1000,
            max_future_messages: 4,
            max_buffered_bytes: 1500,
        };
        let mut r = Reassembler::new(limits);
        let far = pieces(HandshakeType::Finished, 4, &body(12), 100);
        assert_eq!(
            feed(&mut r, &far[0]),
            Inserted::Dropped(ReassemblyDrop::TooFarAhead)
        );
        let big = pieces(HandshakeType::Certificate, 0, &body(1001), 100);
        assert_eq!(
            feed(&mut r, &big[0]),
            Inserted::Dropped(ReassemblyDrop::TooLarge)
        );
        let a = pieces(HandshakeType::Certificate, 1, &body(1000), 100);
        let b = pieces(HandshakeType::Certificate, 2, &body(600), 100);
        assert_eq!(feed(&mut r, &a[0]), Inserted::Accepted);
        assert_eq!(
            feed(&mut r, &b[0]),
            Inserted::Dropped(ReassemblyDrop::OverCapacity)
        );
        assert_eq!(r.buffered_bytes(), 1000);
        // Same seq, different length: inconsistent.
        let c = pieces(HandshakeType::Certificate, 1, &body(999), 100);
        assert_eq!(
            feed(&mut r, &c[0]),
            Inserted::Dropped(ReassemblyDrop::Inconsistent)
        );
    }

    #[test]
    fn scattered_tiny_fragments_are_refused_past_the_range_cap() {
        let b = body(400);
        let ps = pieces(HandshakeType::Certificate, 0, &b, 1);
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let mut refused = 0;
        for p in ps.iter().step_by(2) {
            if feed(&mut r, p) == Inserted::Dropped(ReassemblyDrop::TooFragmented) {
                refused += 1;
            }
        }
        assert_eq!(refused, 200 - MAX_RANGES);
        // Filling the gaps contiguously still completes the message.
        for p in &ps {
            feed(&mut r, p);
        }
        assert_eq!(r.pop().unwrap().body, b);
    }

    #[test]
    fn set_next_seq_discards_older() {
        let mut r = Reassembler::new(ReassemblyLimits::default());
        feed(
            &mut r,
            &pieces(HandshakeType::ClientHello, 0, &body(50), 20)[0],
        );
        assert_eq!(r.buffered_bytes(), 50);
        r.set_next_seq(1);
        assert_eq!(r.buffered_bytes(), 0);
        assert_eq!(r.next_seq(), 1);
    }
}
