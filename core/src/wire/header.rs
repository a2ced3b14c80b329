//! The 48-byte message header and the ENDIAN_RESERVED byte-order marker.

use crate::consts::{ENDIAN_RESERVED, HEADER_LEN, MAX_GROUP_NAME};
use crate::name::GroupName;

/// The byte order a writer used for its int32 fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// Little-endian; marker bits set.
    Little,
    /// Big-endian; marker bits clear.
    Big,
}

impl ByteOrder {
    /// This host's order.
    #[cfg(target_endian = "little")]
    pub const NATIVE: ByteOrder = ByteOrder::Little;
    /// This host's order.
    #[cfg(target_endian = "big")]
    pub const NATIVE: ByteOrder = ByteOrder::Big;

    /// The order marked in a 4-byte field: both marker bits set means
    /// little-endian, both clear big-endian. The marker reads the same in
    /// either order, so it can be tested before the order is known.
    pub fn of_marked(field: [u8; 4]) -> ByteOrder {
        if u32::from_le_bytes(field) & ENDIAN_RESERVED == ENDIAN_RESERVED {
            ByteOrder::Little
        } else {
            ByteOrder::Big
        }
    }

    /// Reads a 4-byte field written in this order.
    pub fn read_u32(self, b: [u8; 4]) -> u32 {
        match self {
            ByteOrder::Little => u32::from_le_bytes(b),
            ByteOrder::Big => u32::from_be_bytes(b),
        }
    }

    /// Writes `v` as a 4-byte field in this order.
    pub fn write_u32(self, v: u32) -> [u8; 4] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }

    /// The marker bits this order sets in a marked field.
    pub fn marker(self) -> u32 {
        match self {
            ByteOrder::Little => ENDIAN_RESERVED,
            ByteOrder::Big => 0,
        }
    }
}

pub(crate) fn field4(b: &[u8], at: usize) -> [u8; 4] {
    [b[at], b[at + 1], b[at + 2], b[at + 3]]
}

/// The `hint` field: the application's 16-bit `mess_type` with its own
/// byte-order marker. The daemon never converts it, so it keeps the order of
/// the client that sent the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hint(
    /// The field's bytes as they travel.
    pub [u8; 4],
);

impl Hint {
    /// The hint carrying `mess_type`, written in `order` with its marker.
    pub fn new(mess_type: i16, order: ByteOrder) -> Hint {
        let v = ((mess_type as u16 as u32) << 8) | order.marker();
        Hint(order.write_u32(v))
    }

    /// Marker only (`mess_type` 0), as the daemon writes for membership kinds.
    pub fn marker_only(order: ByteOrder) -> Hint {
        Hint::new(0, order)
    }

    /// The order of the client that wrote the hint (from its marker).
    pub fn order(self) -> ByteOrder {
        ByteOrder::of_marked(self.0)
    }

    /// The application's `mess_type`, read in the hint's own order.
    pub fn mess_type(self) -> i16 {
        let v = self.order().read_u32(self.0) & !ENDIAN_RESERVED;
        ((v >> 8) & 0xffff) as u16 as i16
    }

    /// No bits outside `mess_type` and the marker (5.0.1 drops a client
    /// whose hint has others). The mask reads the same in either order.
    pub fn is_well_formed(self) -> bool {
        u32::from_le_bytes(self.0) & !0x80ff_ff80 == 0
    }
}

/// A decoded message header. `service_type` has the marker bits cleared;
/// `order` is the order its int32 fields were written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The `type` field without the [`ENDIAN_RESERVED`] marker.
    pub service_type: u32,
    /// The sender's private group (a group's name in membership kinds).
    pub sender: GroupName,
    /// Name fields after the header; negative only from a hostile peer.
    pub num_groups: i32,
    /// `mess_type` in the sending client's order.
    pub hint: Hint,
    /// Body bytes after the names; negative only from a hostile peer.
    pub data_len: i32,
    /// The order of the int32 fields, from the marker in `type`.
    pub order: ByteOrder,
}

impl Header {
    /// Reads a header. Every 48 bytes are some header, so this cannot fail;
    /// the caller judges the values.
    pub fn decode(b: &[u8; HEADER_LEN]) -> Header {
        let order = ByteOrder::of_marked(field4(b, 0));
        Header {
            service_type: order.read_u32(field4(b, 0)) & !ENDIAN_RESERVED,
            sender: GroupName::from_field(&b[4..4 + MAX_GROUP_NAME]),
            num_groups: order.read_u32(field4(b, 36)) as i32,
            hint: Hint(field4(b, 40)),
            data_len: order.read_u32(field4(b, 44)) as i32,
            order,
        }
    }

    /// Writes the header in `order` (the hint goes out as its raw bytes).
    pub fn encode_in(&self, order: ByteOrder) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&order.write_u32(self.service_type | order.marker()));
        out[4..36].copy_from_slice(&self.sender.0);
        out[36..40].copy_from_slice(&order.write_u32(self.num_groups as u32));
        out[40..44].copy_from_slice(&self.hint.0);
        out[44..48].copy_from_slice(&order.write_u32(self.data_len as u32));
        out
    }

    /// Writes the header in the order it was read in.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        self.encode_in(self.order)
    }

    /// The application's `mess_type` from the hint.
    pub fn mess_type(&self) -> i16 {
        self.hint.mess_type()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_mess_type_survives() {
        let h = Hint::new(-2, ByteOrder::Little);
        assert_eq!(u32::from_le_bytes(h.0), 0x80ff_fe80);
        assert_eq!(h.mess_type(), -2);
        let b = Hint::new(3, ByteOrder::Big);
        assert_eq!(b.0, [0, 0, 3, 0]);
        assert_eq!(b.mess_type(), 3);
        assert!(h.is_well_formed() && b.is_well_formed());
        assert!(!Hint([1, 0, 0, 0]).is_well_formed());
    }

    #[test]
    fn both_orders_round_trip() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let h = Header {
                service_type: 0x10,
                sender: GroupName::from("#a#b"),
                num_groups: 3,
                hint: Hint::new(7, order),
                data_len: 1234,
                order,
            };
            let bytes = h.encode();
            assert_eq!(Header::decode(&bytes), h);
        }
    }
}
