//! The bits of the 32-bit `type` word that starts every daemon packet and
//! token (daemon-protocol.md §2.1.3), and the helpers for the token's ARQ
//! and RETRANS counters.

/// Packet services. Their numeric order is the delivery threshold order.
pub const UNRELIABLE_TYPE: u32 = 0x0000_0001;
pub const RELIABLE_TYPE: u32 = 0x0000_0002;
pub const FIFO_TYPE: u32 = 0x0000_0004;
pub const AGREED_TYPE: u32 = 0x0000_0008;
pub const SAFE_TYPE: u32 = 0x0000_0010;
/// Any service bit: a regular data packet.
pub const REGULAR_TYPE: u32 = 0x0000_001f;

/// Set on the copy a daemon unicasts to another segment's first daemon.
pub const ROUTED_TYPE: u32 = 0x0000_0020;
/// "Please release the token", sent to the ring leader.
pub const HURRY_TYPE: u32 = 0x0000_0040;

pub const ALIVE_TYPE: u32 = 0x0000_0100;
pub const JOIN_TYPE: u32 = 0x0000_0200;
pub const REFER_TYPE: u32 = 0x0000_0400;
pub const MEMBERSHIP_TYPE: u32 = 0x0000_0700;

pub const FORM1_TYPE: u32 = 0x0000_1000;
pub const FORM2_TYPE: u32 = 0x0000_2000;
pub const FORM_TYPE: u32 = 0x0000_3000;

/// 4-bit counter the leader bumps once per round (regular token).
pub const ARQ_MASK: u32 = 0x000f_0000;
/// 4-bit counter of hurry resends (regular token).
pub const RETRANS_MASK: u32 = 0x00f0_0000;
const ARQ_SHIFT: u32 = 16;
const RETRANS_SHIFT: u32 = 20;

/// spmonitor control packets.
pub const STATUS_TYPE: u32 = 0x0100_0000;
pub const PARTITION_TYPE: u32 = 0x0200_0000;
pub const FC_TYPE: u32 = 0x0400_0000;
pub const RELOAD_TYPE: u32 = 0x0800_0000;
pub const CONTROL_TYPE: u32 = 0x0f00_0000;

/// Both bits set: written by a little-endian daemon; both clear: big-endian.
pub const ENDIAN_MARKER: u32 = 0x8000_0080;

/// The ARQ counter of a token type word (0..=15).
pub fn arq(ty: u32) -> u8 {
    ((ty & ARQ_MASK) >> ARQ_SHIFT) as u8
}

/// `ty` with its ARQ counter replaced by `value` modulo 16 (the leader's
/// increment wraps at 16).
pub fn with_arq(ty: u32, value: u8) -> u32 {
    (ty & !ARQ_MASK) | ((u32::from(value) << ARQ_SHIFT) & ARQ_MASK)
}

/// The RETRANS counter of a token type word (0..=15).
pub fn retrans(ty: u32) -> u8 {
    ((ty & RETRANS_MASK) >> RETRANS_SHIFT) as u8
}

/// `ty` with its RETRANS counter replaced by `value` modulo 16.
pub fn with_retrans(ty: u32, value: u8) -> u32 {
    (ty & !RETRANS_MASK) | ((u32::from(value) << RETRANS_SHIFT) & RETRANS_MASK)
}

/// Whether a message of service `next` may ride in a packet whose type is
/// `packet` (the first message's service): identical types, or both FIFO
/// or AGREED (§2.7). This is why a client's FIFO message and its next
/// AGREED message can share a FIFO packet.
pub fn services_pack_together(packet: u32, next: u32) -> bool {
    let fifo_or_agreed = |t: u32| t & (FIFO_TYPE | AGREED_TYPE) != 0;
    packet == next || (fifo_or_agreed(packet) && fifo_or_agreed(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arq_and_retrans_are_independent_nibbles() {
        let t = with_retrans(with_arq(0, 14), 1);
        assert_eq!(t, 0x001e_0000);
        assert_eq!((arq(t), retrans(t)), (14, 1));
        let t = with_arq(t, 16 + 3);
        assert_eq!((arq(t), retrans(t)), (3, 1));
        assert_eq!(with_retrans(FORM1_TYPE, 2) & !RETRANS_MASK, FORM1_TYPE);
    }

    #[test]
    fn packing_compatibility() {
        assert!(services_pack_together(AGREED_TYPE, AGREED_TYPE));
        assert!(services_pack_together(FIFO_TYPE, AGREED_TYPE));
        assert!(services_pack_together(AGREED_TYPE, FIFO_TYPE));
        assert!(!services_pack_together(AGREED_TYPE, SAFE_TYPE));
        assert!(!services_pack_together(RELIABLE_TYPE, AGREED_TYPE));
        assert!(services_pack_together(SAFE_TYPE, SAFE_TYPE));
    }
}
