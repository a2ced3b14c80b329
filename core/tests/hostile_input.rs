//! Decoders on random and hostile bytes: they never panic, never claim more
//! bytes than they were given, and refuse absurd lengths.

use spread_core::wire::handshake::{parse_auth_choice, parse_connect, ConnectParse};
use spread_core::wire::{split_frame, ByteOrder, Limits, MembershipBody, Message};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = (self.next() % max as u64) as usize;
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn random_bytes_never_panic_any_decoder() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for _ in 0..50_000 {
        let buf = rng.bytes(400);
        if let Ok(Some((frame, used))) = split_frame(&buf, &Limits::CLIENT) {
            assert!(used <= buf.len());
            let _ = Message::from_frame(&frame);
        }
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let _ = MembershipBody::decode(&buf, order);
        }
        if let ConnectParse::Complete(_, used) = parse_connect(&buf) {
            assert!(used <= buf.len());
        }
        if buf.len() >= 90 {
            let _ = parse_auth_choice(buf[..90].try_into().unwrap());
        }
    }
}

#[test]
fn frames_with_plausible_headers_and_random_bodies() {
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let mut buf = rng.bytes(600);
        buf.resize(buf.len().max(48), 0);
        // A header whose lengths fit what follows, so the body is decoded.
        let rest = buf.len() - 48;
        let groups = (rng.next() % 4) as usize;
        let groups = groups.min(rest / 32);
        let data = rest - groups * 32;
        let le = rng.next() & 1 == 0;
        let marker = if le { 0x8000_0080u32 } else { 0 };
        let kinds = [0x10u32, 0x1100, 0x1800, 0x2000, 0x200, 0x40_0010, 0x1_0000];
        let kind = kinds[(rng.next() % kinds.len() as u64) as usize] | marker;
        let w = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        buf[0..4].copy_from_slice(&w(kind));
        let data = if kind & 0x40_0000 != 0 {
            data.saturating_sub(4)
        } else {
            data
        };
        buf[36..40].copy_from_slice(&w(groups as u32));
        buf[44..48].copy_from_slice(&w(data as u32));
        if let Ok(Some((frame, used))) = split_frame(&buf, &Limits::CLIENT) {
            assert!(used <= buf.len());
            let _ = Message::from_frame(&frame);
        }
    }
}
