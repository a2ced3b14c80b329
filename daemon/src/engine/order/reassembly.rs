//! Putting messages back together from their fragments, per sending
//! daemon (each daemon sends a message's fragments in sequence order).

use crate::packet::FragHeader;
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
        let expected = p.next_index + 1;
        let position = if header.index < 0 {
            -header.index
        } else {
            header.index
        };
        if position != expected {
            let got = header.index;
            self.partial.remove(&origin);
            return Err(format!(
                "fragment {got} from {origin} where {expected} was expected"
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
}
