//! Cutting client messages into fragments and filling data packets with
//! them exactly as 5.0.1 does (Send_new_packets, §2.7).
//!
//! A queued message is the bytes the daemon stores for it (48-byte client
//! header, group names, payload) cut into fragments of at most 1432 bytes.
//! Each packet starts with the next fragment of the message at the head of
//! the queue (its header goes into the packet header); then, while the
//! queue is not empty, the next fragment fits after 4-byte alignment and
//! its own 4-byte header, and the next message's service is compatible, that
//! fragment is appended. In practice only whole one-fragment messages are
//! appended: a non-final fragment is always a full 1432 bytes.
//!
//! On a ring of ours with a `MaxMessageSize` above 5.0.1's limit (the hash
//! keeps 5.0.1 daemons out), one-packet messages of other senders may
//! overtake a message cut into many fragments: after each packet of it, one
//! packet of such messages, so a 16 MB message does not hold up the small
//! messages of the daemon's other clients. Senders are the callers'
//! "lanes": a message never overtakes one of its own lane, nor any message
//! without a lane (GROUPS state, disconnects, joins: a barrier). Receivers
//! need nothing new: a one-packet message (index −1) between the fragments
//! of another from the same daemon is complete by itself.

use super::data::{DataHeader, DataPacket};
use super::error::{PacketError, Result};
use super::fragment::{padding_after, FragHeader, FRAG_HEADER_LEN};
use super::type_bits::services_pack_together;
use super::MAX_BODY_LEN;
use bytes::Bytes;
use std::collections::{HashSet, VecDeque};

/// A 5.0.1 message is a list of at most 100 fragment buffers.
pub const MAX_MESSAGE_FRAGMENTS: usize = 100;
/// 100 × 1432 bytes, client header and group names included; anything
/// larger made 5.0.1 abort, so it is refused here.
pub const MAX_MESSAGE_LEN: usize = MAX_MESSAGE_FRAGMENTS * MAX_BODY_LEN;

/// The most fragments a ring of ours with the largest `MaxMessageSize`
/// cuts a message into; the fragment header's signed 16-bit index must
/// number them (a 5.0.1 ring never has more than 100).
pub const MAX_LARGE_MESSAGE_LEN: usize = spread_core::consts::MAX_LARGE_MESSAGE
    + spread_core::consts::HEADER_LEN
    + spread_core::consts::MAX_GROUPS_PER_MESSAGE * spread_core::consts::MAX_GROUP_NAME;

/// The most bytes (client header and group names included) a ring carries
/// in one message: 5.0.1's 100 fragments, or with a `MaxMessageSize` of
/// `n` body bytes, `n` with the header and 100 group names.
pub fn ring_message_limit(max_message_size: Option<usize>) -> usize {
    match max_message_size {
        None => MAX_MESSAGE_LEN,
        Some(n) => (n.min(spread_core::consts::MAX_LARGE_MESSAGE)
            + spread_core::consts::HEADER_LEN
            + spread_core::consts::MAX_GROUPS_PER_MESSAGE * spread_core::consts::MAX_GROUP_NAME)
            .max(MAX_MESSAGE_LEN),
    }
}

/// The fragments of a message: consecutive pieces of `body` bytes (1432
/// on 5.0.1's rings), the last one shorter (a 0-byte message is one empty
/// fragment).
pub fn fragment_message(message: &Bytes, body: usize) -> Vec<Bytes> {
    if message.is_empty() {
        return vec![Bytes::new()];
    }
    (0..message.len())
        .step_by(body)
        .map(|at| message.slice(at..(at + body).min(message.len())))
        .collect()
}

/// The smallest packet body a ring of ours uses (a sealed ring's), which
/// still numbers the fragments of the largest message in 16 bits.
pub const MIN_PACKET_BODY: usize = MAX_BODY_LEN - crate::seal::OVERHEAD;
const _: () = assert!(MAX_LARGE_MESSAGE_LEN.div_ceil(MIN_PACKET_BODY) <= i16::MAX as usize);

/// The packet body of a ring: 5.0.1's, or on a sealed ring (`RingKeyFile`)
/// one that leaves room for the seal within 5.0.1's datagram size.
pub fn packet_body(sealed: bool) -> usize {
    if sealed {
        MIN_PACKET_BODY
    } else {
        MAX_BODY_LEN
    }
}

/// A message waiting to be sent: its packet service (a `*_TYPE` service
/// bit, which becomes the packet's type) and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutMessage {
    pub service: u32,
    pub bytes: Bytes,
}

#[derive(Debug)]
struct Queued {
    service: u32,
    fragments: Vec<Bytes>,
    /// Its sender, for overtaking (None: never overtakes nor is overtaken).
    lane: Option<u64>,
}

/// Most queued messages looked at for one overtaking packet.
const OVERTAKE_SCAN: usize = 1000;

/// The protocol down-queue seen as a packet source: messages go in with
/// [`Packer::push`], packets come out with [`Packer::next_packet`].
#[derive(Debug)]
pub struct Packer {
    queue: VecDeque<Queued>,
    /// Fragments of the head message already sent (`cur_element`).
    sent: usize,
    /// The largest message accepted, in bytes ([`ring_message_limit`]).
    max_len: usize,
    /// The most bytes a packet carries: 5.0.1's [`MAX_BODY_LEN`], less on
    /// a sealed ring so that a sealed packet is no longer than a plain one.
    body: usize,
    /// The last packet was one of overtaking messages: the next one is the
    /// head's.
    overtook: bool,
}

impl Default for Packer {
    fn default() -> Packer {
        Packer::new()
    }
}

impl Packer {
    /// A packer of 5.0.1's messages (at most 100 fragments).
    pub fn new() -> Packer {
        Packer::with_limit(MAX_MESSAGE_LEN)
    }

    /// A packer of messages of up to `max_len` bytes (at most
    /// [`MAX_LARGE_MESSAGE_LEN`]).
    pub fn with_limit(max_len: usize) -> Packer {
        Packer::with_limits(max_len, MAX_BODY_LEN)
    }

    /// The same, with packets of at most `body` bytes (between
    /// [`MIN_PACKET_BODY`] and [`MAX_BODY_LEN`]).
    pub fn with_limits(max_len: usize, body: usize) -> Packer {
        Packer {
            queue: VecDeque::new(),
            sent: 0,
            max_len: max_len.min(MAX_LARGE_MESSAGE_LEN),
            body: body.clamp(MIN_PACKET_BODY, MAX_BODY_LEN),
            overtook: false,
        }
    }

    /// The largest message [`Packer::push`] accepts.
    pub fn limit(&self) -> usize {
        self.max_len
    }

    /// A new limit for messages pushed from now on (a reloaded
    /// configuration).
    pub fn set_limits(&mut self, max_len: usize, body: usize) {
        self.max_len = max_len.min(MAX_LARGE_MESSAGE_LEN);
        self.body = body.clamp(MIN_PACKET_BODY, MAX_BODY_LEN);
    }

    /// Queues a message; refuses one longer than the limit.
    pub fn push(&mut self, message: OutMessage) -> Result<()> {
        self.push_in_lane(message, None)
    }

    /// Queues a message of sender `lane` (see the module's doc).
    pub fn push_in_lane(&mut self, message: OutMessage, lane: Option<u64>) -> Result<()> {
        if message.bytes.len() > self.max_len {
            return Err(PacketError::MessageTooLong {
                len: message.bytes.len(),
                max: self.max_len,
            });
        }
        self.queue.push_back(Queued {
            service: message.service,
            fragments: fragment_message(&message.bytes, self.body),
            lane,
        });
        Ok(())
    }

    /// Messages not yet completely sent.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Fragments of the head message already sent (5.0.1 rewinds this to 0
    /// when a new ring is installed; see [`Packer::restart_head`]).
    pub fn head_progress(&self) -> usize {
        self.sent
    }

    /// Resend the head message from its first fragment (what 5.0.1 does to
    /// a partly sent message when the ring changes under it).
    pub fn restart_head(&mut self) {
        self.sent = 0;
    }

    /// Fills the next packet. `template` supplies the fields the protocol
    /// owns (proc_id, memb_id, seq, token_round, order, ...); the packer
    /// sets the type (the head message's service), `data_len` and the first
    /// fragment header. `None` when the queue is empty.
    pub fn next_packet(&mut self, template: &DataHeader) -> Option<DataPacket> {
        if self.sent > 0 && !self.overtook && self.max_len > MAX_MESSAGE_LEN {
            if let Some(p) = self.overtaking_packet(template) {
                self.overtook = true;
                return Some(p);
            }
        }
        self.overtook = false;
        let head = self.queue.front()?;
        let service = head.service;
        let order = template.order;
        let first = head.fragments[self.sent].clone();
        let mut body = first.to_vec();
        let first_index = self.advance();

        while let Some(next) = self.queue.front() {
            let frag = &next.fragments[self.sent];
            let padding = padding_after(body.len());
            let fits = body.len() + padding + FRAG_HEADER_LEN + frag.len() <= self.body;
            if !fits || !services_pack_together(service, next.service) {
                break;
            }
            let frag = frag.clone();
            body.resize(body.len() + padding, 0);
            let header = FragHeader {
                index: self.advance(),
                len: frag.len() as i16,
            };
            body.extend_from_slice(&header.encode(order));
            body.extend_from_slice(&frag);
        }

        let mut header = *template;
        header.ty = service;
        header.data_len = body.len() as u16;
        header.first_frag = FragHeader {
            index: first_index,
            len: first.len() as i16,
        };
        Some(DataPacket { header, body })
    }

    /// One packet of one-packet messages queued behind the head (which is
    /// partly sent) that may overtake it, packed as usual; None if there is
    /// none.
    fn overtaking_packet(&mut self, template: &DataHeader) -> Option<DataPacket> {
        let mut blocked = HashSet::from([self.queue.front()?.lane?]);
        let mut picked: Vec<usize> = Vec::new();
        let mut service = None;
        let mut len = 0;
        for (i, m) in self.queue.iter().enumerate().skip(1).take(OVERTAKE_SCAN) {
            let Some(lane) = m.lane else { break };
            if blocked.contains(&lane) {
                continue;
            }
            let frag = &m.fragments[0];
            let room = match service {
                None => frag.len(),
                Some(_) => len + padding_after(len) + FRAG_HEADER_LEN + frag.len(),
            };
            let packs = service.is_none_or(|s| services_pack_together(s, m.service));
            if m.fragments.len() == 1 && packs && room <= self.body {
                service.get_or_insert(m.service);
                len = room;
                picked.push(i);
            } else {
                blocked.insert(lane);
            }
        }
        let service = service?;
        let order = template.order;
        let taken: Vec<Bytes> = (picked.iter().rev())
            .filter_map(|&i| self.queue.remove(i))
            .map(|m| m.fragments[0].clone())
            .collect();
        let mut taken = taken.into_iter().rev();
        let first = taken.next()?;
        let mut body = first.to_vec();
        for frag in taken {
            body.resize(body.len() + padding_after(body.len()), 0);
            let header = FragHeader {
                index: -1,
                len: frag.len() as i16,
            };
            body.extend_from_slice(&header.encode(order));
            body.extend_from_slice(&frag);
        }
        let mut header = *template;
        header.ty = service;
        header.data_len = body.len() as u16;
        header.first_frag = FragHeader {
            index: -1,
            len: first.len() as i16,
        };
        Some(DataPacket { header, body })
    }

    /// Marks the head message's current fragment as placed and returns its
    /// index: its 1-based position, or −(count) for the last fragment, in
    /// which case the message leaves the queue.
    fn advance(&mut self) -> i16 {
        let count = self.queue.front().map_or(0, |m| m.fragments.len());
        self.sent += 1;
        if self.sent < count {
            self.sent as i16
        } else {
            self.queue.pop_front();
            self.sent = 0;
            -(count as i16)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fragment_count;
    use crate::type_bits::{AGREED_TYPE, FIFO_TYPE, RELIABLE_TYPE, SAFE_TYPE};

    fn msg(service: u32, len: usize, fill: u8) -> OutMessage {
        OutMessage {
            service,
            bytes: Bytes::from(vec![fill; len]),
        }
    }

    fn indices(p: &DataPacket) -> Vec<(i16, usize)> {
        p.fragments()
            .map(|f| f.unwrap())
            .map(|f| (f.header.index, f.bytes.len()))
            .collect()
    }

    #[test]
    fn large_message_then_small_ones() {
        let mut p = Packer::new();
        p.push(msg(AGREED_TYPE, 3080, 1)).unwrap();
        p.push(msg(AGREED_TYPE, 141, 2)).unwrap();
        p.push(msg(AGREED_TYPE, 141, 3)).unwrap();
        let t = DataHeader::new(0, 9);
        let a = p.next_packet(&t).unwrap();
        assert_eq!(indices(&a), vec![(1, 1432)]);
        let b = p.next_packet(&t).unwrap();
        assert_eq!(indices(&b), vec![(2, 1432)]);
        let c = p.next_packet(&t).unwrap();
        assert_eq!(indices(&c), vec![(-3, 216), (-1, 141), (-1, 141)]);
        assert_eq!(c.body.len(), 509);
        assert!(p.next_packet(&t).is_none());
    }

    #[test]
    fn packing_stops_on_service_and_size() {
        let mut p = Packer::new();
        p.push(msg(FIFO_TYPE, 100, 1)).unwrap();
        p.push(msg(AGREED_TYPE, 100, 2)).unwrap();
        p.push(msg(SAFE_TYPE, 100, 3)).unwrap();
        p.push(msg(SAFE_TYPE, 1330, 4)).unwrap();
        p.push(msg(RELIABLE_TYPE, 1432, 5)).unwrap();
        let t = DataHeader::new(0, 9);
        let a = p.next_packet(&t).unwrap();
        assert_eq!(a.header.ty, FIFO_TYPE);
        assert_eq!(indices(&a), vec![(-1, 100), (-1, 100)]);
        let b = p.next_packet(&t).unwrap();
        assert_eq!(
            indices(&b),
            vec![(-1, 100)],
            "1330 bytes do not fit after 100 + 4"
        );
        let c = p.next_packet(&t).unwrap();
        assert_eq!(indices(&c), vec![(-1, 1330)]);
        let d = p.next_packet(&t).unwrap();
        assert_eq!(d.body.len(), 1432);
        assert!(p.is_empty());
    }

    #[test]
    fn exact_fit_is_packed() {
        // 100 + 0 padding + 4 + 1328 = 1432
        let mut p = Packer::new();
        p.push(msg(AGREED_TYPE, 100, 1)).unwrap();
        p.push(msg(AGREED_TYPE, 1328, 2)).unwrap();
        let a = p.next_packet(&DataHeader::new(0, 1)).unwrap();
        assert_eq!(a.body.len(), 1432);
        assert_eq!(indices(&a).len(), 2);
    }

    #[test]
    fn fragment_sizes() {
        for len in [0, 1, 1431, 1432, 1433, 3080, MAX_MESSAGE_LEN] {
            let frags = fragment_message(&Bytes::from(vec![0; len]), MAX_BODY_LEN);
            assert_eq!(frags.len(), fragment_count(len));
            assert_eq!(frags.iter().map(Bytes::len).sum::<usize>(), len);
            assert!(frags.iter().all(|f| f.len() <= MAX_BODY_LEN));
        }
    }

    /// A sealed ring's packer cuts and packs to its smaller body: with the
    /// seal, its packets are no longer than 5.0.1's, and the largest
    /// message still fits its fragment numbers.
    #[test]
    fn a_sealed_rings_packets_leave_room_for_the_seal() {
        let body = packet_body(true);
        assert_eq!(
            crate::HEADER_LEN + body + crate::seal::OVERHEAD,
            crate::MAX_PACKET_SIZE
        );
        let mut p = Packer::with_limits(MAX_LARGE_MESSAGE_LEN, body);
        p.push(msg(AGREED_TYPE, 3 * body + 1, 1)).unwrap();
        for len in [100, body - 104, 600, 600] {
            p.push(msg(AGREED_TYPE, len, 2)).unwrap();
        }
        let t = DataHeader::new(0, 1);
        let mut sizes = Vec::new();
        while let Some(pk) = p.next_packet(&t) {
            assert!(pk.body.len() <= body, "{}", pk.body.len());
            sizes.push(pk.body.len());
        }
        // Three full fragments; the last byte with the 100-byte message
        // (the next one no longer fits: 108 + 4 + body - 104 > body); that
        // one alone; the two of 600 together.
        assert_eq!(sizes[..3], [body; 3]);
        assert_eq!(sizes[3..], [108, body - 104, 1204], "{sizes:?}");
        let mut big = Packer::with_limits(MAX_LARGE_MESSAGE_LEN, body);
        big.push(msg(AGREED_TYPE, MAX_LARGE_MESSAGE_LEN, 0))
            .unwrap();
        let mut last = 0;
        while let Some(pk) = big.next_packet(&t) {
            last = pk.header.first_frag.index;
        }
        assert_eq!(
            -i64::from(last),
            MAX_LARGE_MESSAGE_LEN.div_ceil(body) as i64
        );
    }

    #[test]
    fn limits() {
        let mut p = Packer::new();
        assert!(p.push(msg(AGREED_TYPE, MAX_MESSAGE_LEN, 0)).is_ok());
        assert!(matches!(
            p.push(msg(AGREED_TYPE, MAX_MESSAGE_LEN + 1, 0)),
            Err(PacketError::MessageTooLong { .. })
        ));
        let t = DataHeader::new(0, 1);
        let mut last = 0;
        while let Some(pk) = p.next_packet(&t) {
            last = pk.header.first_frag.index;
        }
        assert_eq!(last, -100);
    }

    /// With a MaxMessageSize, one-packet messages of other lanes go out
    /// between the fragments of a large one; those of its own lane, and
    /// anything behind a message without a lane, wait.
    #[test]
    fn small_messages_of_other_senders_overtake_a_large_one() {
        let mut p = Packer::with_limit(1 << 20);
        p.push_in_lane(msg(AGREED_TYPE, 4 * MAX_BODY_LEN, 1), Some(1))
            .unwrap();
        p.push_in_lane(msg(AGREED_TYPE, 100, 2), Some(2)).unwrap();
        p.push_in_lane(msg(AGREED_TYPE, 100, 3), Some(1)).unwrap();
        p.push_in_lane(msg(AGREED_TYPE, 100, 4), Some(3)).unwrap();
        p.push_in_lane(msg(AGREED_TYPE, 100, 5), None).unwrap();
        p.push_in_lane(msg(AGREED_TYPE, 100, 6), Some(4)).unwrap();
        let t = DataHeader::new(0, 1);
        let mut packets = Vec::new();
        while let Some(pk) = p.next_packet(&t) {
            let fills: Vec<(i16, u8)> = pk
                .fragments()
                .map(|f| f.unwrap())
                .map(|f| (f.header.index, f.bytes[0]))
                .collect();
            packets.push(fills);
        }
        assert_eq!(
            packets,
            vec![
                vec![(1, 1)],
                vec![(-1, 2), (-1, 4)],
                vec![(2, 1)],
                vec![(3, 1)],
                vec![(-4, 1)],
                vec![(-1, 3), (-1, 5), (-1, 6)],
            ]
        );
        // 5.0.1's limit: no overtaking, whatever the lanes.
        let mut p = Packer::new();
        p.push_in_lane(msg(AGREED_TYPE, 2 * MAX_BODY_LEN, 1), Some(1))
            .unwrap();
        p.push_in_lane(msg(AGREED_TYPE, 100, 2), Some(2)).unwrap();
        let first: Vec<i16> = (0..3)
            .filter_map(|_| p.next_packet(&t))
            .map(|pk| pk.header.first_frag.index)
            .collect();
        assert_eq!(first, [1, -2, -1]);
    }
}
