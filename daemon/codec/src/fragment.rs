//! Fragment headers and the walk over the fragments of a data packet
//! (§2.7). The first fragment's header lives in the packet header and its
//! bytes start the body; every further fragment is a whole message preceded
//! by its own 4-byte header at the next 4-byte-aligned body offset.

use super::error::{PacketError, Result};
use super::wire::{read_u16, write_u16};
use super::MAX_BODY_LEN;
use spread_core::wire::ByteOrder;

pub const FRAG_HEADER_LEN: usize = 4;

/// `fragment_index` is 1, 2, ... for the non-final fragments of a message
/// and −(number of fragments) for its final one (−1: a whole message).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragHeader {
    pub index: i16,
    pub len: i16,
}

impl FragHeader {
    pub fn decode(b: [u8; 4], order: ByteOrder) -> FragHeader {
        FragHeader {
            index: read_u16(order, [b[0], b[1]]) as i16,
            len: read_u16(order, [b[2], b[3]]) as i16,
        }
    }

    pub fn encode(&self, order: ByteOrder) -> [u8; 4] {
        let i = write_u16(order, self.index as u16);
        let l = write_u16(order, self.len as u16);
        [i[0], i[1], l[0], l[1]]
    }

    /// The final fragment of its message.
    pub fn is_last(&self) -> bool {
        self.index < 0
    }

    /// A whole one-fragment message.
    pub fn is_whole(&self) -> bool {
        self.index == -1
    }

    /// 1-based position of the fragment in its message.
    pub fn position(&self) -> u16 {
        self.index.unsigned_abs()
    }
}

/// Padding that brings a body offset to the next multiple of 4.
pub(crate) fn padding_after(offset: usize) -> usize {
    (4 - offset % 4) % 4
}

/// Fragments a message of `len` bytes occupies (a 0-byte message still
/// takes one).
pub fn fragment_count(len: usize) -> usize {
    len.div_ceil(MAX_BODY_LEN).max(1)
}

/// One fragment: its header, its bytes (borrowed from the body, in the
/// writer's form: nothing inside a fragment is ever byte-swapped) and the
/// body offset where its header sits (`None` for the first fragment, whose
/// header is in the packet header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment<'a> {
    pub header: FragHeader,
    pub bytes: &'a [u8],
    pub header_offset: Option<usize>,
}

/// Iterator over the fragments of a body, mirroring how 5.0.1 walks it
/// (Deliver_packet): yields `Err` once and stops at the first header or
/// fragment that does not fit in the body.
pub struct Fragments<'a> {
    body: &'a [u8],
    order: ByteOrder,
    first: Option<FragHeader>,
    pos: usize,
    failed: bool,
}

impl<'a> Fragments<'a> {
    pub fn new(body: &'a [u8], first: FragHeader, order: ByteOrder) -> Fragments<'a> {
        Fragments {
            body,
            order,
            first: Some(first),
            pos: 0,
            failed: false,
        }
    }

    fn fail(&mut self, what: &'static str, at: usize, need: usize) -> Option<Result<Fragment<'a>>> {
        self.failed = true;
        Some(Err(PacketError::Truncated {
            what,
            at,
            need,
            have: self.body.len().saturating_sub(at),
        }))
    }

    fn fragment_at(
        &mut self,
        header: FragHeader,
        at: usize,
        hdr: Option<usize>,
    ) -> Option<Result<Fragment<'a>>> {
        if header.len < 0 {
            self.failed = true;
            return Some(Err(PacketError::OutOfRange {
                what: "fragment_len",
                value: header.len.into(),
            }));
        }
        let len = header.len as usize;
        if at + len > self.body.len() {
            return self.fail("fragment bytes", at, len);
        }
        self.pos = at + len;
        Some(Ok(Fragment {
            header,
            bytes: &self.body[at..at + len],
            header_offset: hdr,
        }))
    }
}

impl<'a> Iterator for Fragments<'a> {
    type Item = Result<Fragment<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if let Some(first) = self.first.take() {
            return self.fragment_at(first, 0, None);
        }
        if self.pos >= self.body.len() {
            return None;
        }
        let at = self.pos + padding_after(self.pos);
        if at + FRAG_HEADER_LEN > self.body.len() {
            return self.fail("fragment header", at, FRAG_HEADER_LEN);
        }
        let b = &self.body[at..at + FRAG_HEADER_LEN];
        let header = FragHeader::decode([b[0], b[1], b[2], b[3]], self.order);
        self.fragment_at(header, at + FRAG_HEADER_LEN, Some(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_both_orders() {
        let h = FragHeader {
            index: -3,
            len: 216,
        };
        assert_eq!(h.encode(ByteOrder::Little), [0xfd, 0xff, 0xd8, 0x00]);
        assert_eq!(h.encode(ByteOrder::Big), [0xff, 0xfd, 0x00, 0xd8]);
        for o in [ByteOrder::Little, ByteOrder::Big] {
            assert_eq!(FragHeader::decode(h.encode(o), o), h);
        }
        assert!(h.is_last() && !h.is_whole());
        assert_eq!(h.position(), 3);
    }

    #[test]
    fn counts_and_padding() {
        assert_eq!(fragment_count(0), 1);
        assert_eq!(fragment_count(1432), 1);
        assert_eq!(fragment_count(1433), 2);
        assert_eq!(fragment_count(3080), 3);
        assert_eq!(padding_after(141), 3);
        assert_eq!(padding_after(216), 0);
    }

    #[test]
    fn walk_with_padding() {
        // first fragment of 5 bytes, 3 padding, header (-1, 2), 2 bytes
        let mut body = vec![1, 2, 3, 4, 5, 0, 0, 0];
        body.extend_from_slice(&FragHeader { index: -1, len: 2 }.encode(ByteOrder::Little));
        body.extend_from_slice(&[9, 9]);
        let first = FragHeader { index: -1, len: 5 };
        let f: Vec<_> = Fragments::new(&body, first, ByteOrder::Little)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].bytes, &[1, 2, 3, 4, 5]);
        assert_eq!(f[1].bytes, &[9, 9]);
        assert_eq!(f[1].header_offset, Some(8));
    }

    #[test]
    fn broken_chains_stop_with_an_error() {
        let body = [0u8; 10];
        let over = FragHeader { index: -1, len: 11 };
        let mut it = Fragments::new(&body, over, ByteOrder::Little);
        assert!(matches!(
            it.next(),
            Some(Err(PacketError::Truncated { .. }))
        ));
        assert!(it.next().is_none());
        // 6 bytes, padding to 8, then only 2 bytes: no room for a header
        let short = FragHeader { index: -1, len: 6 };
        let r: Vec<_> = Fragments::new(&body, short, ByteOrder::Little).collect();
        assert_eq!(r.len(), 2);
        assert!(r[1].is_err());
        let neg = FragHeader { index: -1, len: -4 };
        assert!(Fragments::new(&body, neg, ByteOrder::Little)
            .next()
            .unwrap()
            .is_err());
    }
}
