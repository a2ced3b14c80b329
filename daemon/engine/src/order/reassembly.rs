//! Putting messages back together from their fragments, per sending
//! daemon (each daemon sends a message's fragments in sequence order).
//!
//! Memory is bounded: one partial message per ring member, each at most
//! the ring's message limit (a fragment past it drops the partial), grown
//! only as its fragments arrive (nothing is reserved from a header); the
//! partials of an old ring are dropped when a new one is installed.

use crate::packet::{FragHeader, MAX_BODY_LEN, MAX_MESSAGE_FRAGMENTS};
use std::collections::HashMap;

#[derive(Debug)]
pub struct Reassembly {
    partial: HashMap<u32, Partial>,
    /// Fragments one message may have on this ring.
    max_fragments: usize,
}

impl Default for Reassembly {
    fn default() -> Reassembly {
        Reassembly::new(MAX_MESSAGE_FRAGMENTS * MAX_BODY_LEN, MAX_BODY_LEN)
    }
}

#[derive(Debug, Default)]
struct Partial {
    bytes: Vec<u8>,
    next_index: i16,
}

impl Reassembly {
    /// Reassembles messages of up to `max_len` bytes (the ring's limit)
    /// sent in packets of up to `body` bytes.
    pub fn new(max_len: usize, body: usize) -> Reassembly {
        Reassembly {
            partial: HashMap::new(),
            max_fragments: max_len.div_ceil(body.max(1)).max(1),
        }
    }

    /// Bytes held in partial messages.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.partial.values().map(|p| p.bytes.len()).sum()
    }

    /// Adds a fragment from `origin`; returns the whole message when this
    /// was its last fragment. A fragment out of sequence drops what was
    /// collected (it cannot happen on a correct ring; counting it is up to
    /// the caller).
    pub fn add(
        &mut self,
        origin: u32,
        header: FragHeader,
        bytes: &[u8],
    ) -> Result<Option<Vec<u8>>, String> {
        // On a ring of ours with a MaxMessageSize, one-packet messages of
        // other senders overtake a large one (`Packer`): complete by
        // themselves, they leave its partial as it is.
        if header.index == -1 && self.max_fragments > MAX_MESSAGE_FRAGMENTS {
            return Ok(Some(bytes.to_vec()));
        }
        let p = self.partial.entry(origin).or_default();
        // In i32: the network may send any i16, i16::MIN included.
        let expected = i32::from(p.next_index) + 1;
        let position = i32::from(header.index).abs();
        let max = self.max_fragments;
        if position != expected || position > max as i32 {
            let got = header.index;
            self.partial.remove(&origin);
            return Err(format!(
                "fragment {got} from {origin} where {expected} was expected (at most {max})"
            ));
        }
        if header.index < 0 {
            let mut whole = std::mem::take(&mut p.bytes);
            whole.extend_from_slice(bytes);
            self.partial.remove(&origin);
            return Ok(Some(whole));
        }
        p.bytes.extend_from_slice(bytes);
        p.next_index = header.index;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(index: i16, len: usize) -> FragHeader {
        FragHeader {
            index,
            len: len as i16,
        }
    }

    #[test]
    fn whole_and_split_messages() {
        let mut r = Reassembly::default();
        assert_eq!(r.add(1, h(-1, 3), b"abc").unwrap(), Some(b"abc".to_vec()));
        assert_eq!(r.add(1, h(1, 2), b"ab").unwrap(), None);
        assert_eq!(r.add(2, h(-1, 1), b"z").unwrap(), Some(b"z".to_vec()));
        assert_eq!(r.add(1, h(2, 2), b"cd").unwrap(), None);
        assert_eq!(r.add(1, h(-3, 1), b"e").unwrap(), Some(b"abcde".to_vec()));
        assert!(r.add(1, h(2, 1), b"x").is_err());
    }

    /// What a broken or hostile peer can send: indexes at the edges of
    /// i16, and more fragments than a message can have.
    #[test]
    fn hostile_indexes_are_refused_without_overflow() {
        let mut r = Reassembly::default();
        assert!(r.add(1, h(i16::MIN, 1), b"x").is_err());
        assert!(r.add(1, h(i16::MAX, 1), b"x").is_err());
        assert!(r.add(1, h(-i16::MAX, 1), b"x").is_err());
        // 100 fragments make a message; a 101st is refused, and nothing
        // of the 100 is kept.
        for i in 1..=100 {
            assert_eq!(r.add(2, h(i, 1), b"y").unwrap(), None);
        }
        assert!(r.add(2, h(101, 1), b"y").is_err());
        assert!(r.add(2, h(-1, 1), b"z").unwrap() == Some(b"z".to_vec()));
        for i in 1..=99 {
            assert_eq!(r.add(3, h(i, 1), b"y").unwrap(), None);
        }
        assert_eq!(
            r.add(3, h(-100, 1), b"y").unwrap().map(|m| m.len()),
            Some(100)
        );
    }

    /// A ring with a MaxMessageSize takes as many fragments as its limit
    /// needs and no more: a forged or endless message is dropped at the
    /// limit, and what it held is freed.
    #[test]
    fn a_larger_limit_bounds_the_partial_message() {
        let max_len = 10 * MAX_BODY_LEN;
        let mut r = Reassembly::new(max_len, MAX_BODY_LEN);
        let full = vec![7u8; MAX_BODY_LEN];
        for i in 1..=10 {
            assert_eq!(r.add(1, h(i, MAX_BODY_LEN), &full).unwrap(), None);
        }
        assert_eq!(r.held(), max_len);
        assert!(r.add(1, h(11, MAX_BODY_LEN), &full).is_err());
        assert_eq!(r.held(), 0);
        for i in 1..=9 {
            assert_eq!(r.add(2, h(i, MAX_BODY_LEN), &full).unwrap(), None);
        }
        let whole = r.add(2, h(-10, 5), b"12345").unwrap().unwrap();
        assert_eq!(whole.len(), 9 * MAX_BODY_LEN + 5);
        assert_eq!(r.held(), 0);
        // Above 5.0.1's 100 fragments, a one-packet message between two
        // fragments is whole by itself.
        let mut r = Reassembly::new(200 * MAX_BODY_LEN, MAX_BODY_LEN);
        assert_eq!(r.add(3, h(1, 1), b"a").unwrap(), None);
        assert_eq!(r.add(3, h(-1, 1), b"z").unwrap(), Some(b"z".to_vec()));
        assert_eq!(r.add(3, h(-2, 1), b"b").unwrap(), Some(b"ab".to_vec()));
        // The largest limit numbers its fragments within an i16.
        r = Reassembly::new(crate::packet::MAX_LARGE_MESSAGE_LEN, MAX_BODY_LEN);
        assert!(r.max_fragments <= i16::MAX as usize);
    }
}
