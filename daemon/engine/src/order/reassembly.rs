//! Putting messages back together from their fragments, per sending
//! daemon (each daemon sends a message's fragments in sequence order).

use crate::packet::{FragHeader, MAX_MESSAGE_FRAGMENTS};
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Reassembly {
    partial: HashMap<u32, Partial>,
}

#[derive(Debug, Default)]
struct Partial {
    bytes: Vec<u8>,
    next_index: i16,
}

impl Reassembly {
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
        let p = self.partial.entry(origin).or_default();
        // In i32: the network may send any i16, i16::MIN included.
        let expected = i32::from(p.next_index) + 1;
        let position = i32::from(header.index).abs();
        if position != expected || position > MAX_MESSAGE_FRAGMENTS as i32 {
            let got = header.index;
            self.partial.remove(&origin);
            return Err(format!(
                "fragment {got} from {origin} where {expected} was expected (at most {MAX_MESSAGE_FRAGMENTS})"
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
}
