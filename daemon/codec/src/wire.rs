//! Bounds-checked reading and writing of the integers of daemon packets in
//! either byte order. Every read names the field it is for, so a short
//! datagram produces an error that says which field was cut.

use super::error::{PacketError, Result};
use super::MembId;
use spread_core::wire::ByteOrder;

pub(crate) fn read_u16(order: ByteOrder, b: [u8; 2]) -> u16 {
    match order {
        ByteOrder::Little => u16::from_le_bytes(b),
        ByteOrder::Big => u16::from_be_bytes(b),
    }
}

pub(crate) fn write_u16(order: ByteOrder, v: u16) -> [u8; 2] {
    match order {
        ByteOrder::Little => v.to_le_bytes(),
        ByteOrder::Big => v.to_be_bytes(),
    }
}

/// A cursor over a byte slice whose integers are in `order`.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    order: ByteOrder,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], order: ByteOrder) -> Reader<'a> {
        Reader { buf, pos: 0, order }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn order(&self) -> ByteOrder {
        self.order
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(PacketError::Truncated {
                what,
                at: self.pos,
                need: n,
                have: self.remaining(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Fails unless `count` items of `item_len` bytes each still fit; used
    /// before allocating for a count read from the wire.
    pub fn check_room(&self, count: usize, item_len: usize, what: &'static str) -> Result<()> {
        let need = count.saturating_mul(item_len);
        if need > self.remaining() {
            return Err(PacketError::Truncated {
                what,
                at: self.pos,
                need,
                have: self.remaining(),
            });
        }
        Ok(())
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub fn raw2(&mut self, what: &'static str) -> Result<[u8; 2]> {
        let b = self.take(2, what)?;
        Ok([b[0], b[1]])
    }

    pub fn raw4(&mut self, what: &'static str) -> Result<[u8; 4]> {
        let b = self.take(4, what)?;
        Ok([b[0], b[1], b[2], b[3]])
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16> {
        Ok(read_u16(self.order, self.raw2(what)?))
    }

    pub fn i16(&mut self, what: &'static str) -> Result<i16> {
        Ok(self.u16(what)? as i16)
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(self.order.read_u32(self.raw4(what)?))
    }

    pub fn i32(&mut self, what: &'static str) -> Result<i32> {
        Ok(self.u32(what)? as i32)
    }

    pub fn memb_id(&mut self, what: &'static str) -> Result<MembId> {
        Ok(MembId {
            proc_id: self.u32(what)?,
            time: self.i32(what)?,
        })
    }

    /// `n` ids (or sequence numbers) of 4 bytes, room checked first.
    pub fn u32s(&mut self, n: usize, what: &'static str) -> Result<Vec<u32>> {
        self.check_room(n, 4, what)?;
        (0..n).map(|_| self.u32(what)).collect()
    }

    pub fn i32s(&mut self, n: usize, what: &'static str) -> Result<Vec<i32>> {
        self.check_room(n, 4, what)?;
        (0..n).map(|_| self.i32(what)).collect()
    }

    /// Succeeds only if every byte was consumed.
    pub fn finish(&self, what: &'static str) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(PacketError::TrailingBytes { what, extra }),
        }
    }
}

/// An output buffer whose integers are written in `order`.
pub(crate) struct Writer {
    pub out: Vec<u8>,
    order: ByteOrder,
}

impl Writer {
    pub fn new(order: ByteOrder) -> Writer {
        Writer {
            out: Vec::new(),
            order,
        }
    }

    pub fn with_capacity(order: ByteOrder, cap: usize) -> Writer {
        Writer {
            out: Vec::with_capacity(cap),
            order,
        }
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    pub fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&write_u16(self.order, v));
    }

    pub fn i16(&mut self, v: i16) {
        self.u16(v as u16);
    }

    pub fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&self.order.write_u32(v));
    }

    pub fn i32(&mut self, v: i32) {
        self.u32(v as u32);
    }

    pub fn memb_id(&mut self, m: MembId) {
        self.u32(m.proc_id);
        self.i32(m.time);
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.out
    }
}

/// The daemon's 16-bit counts are written as C `int16`: a Rust length that
/// does not fit is a caller bug, reported in debug builds and truncated in
/// release ones rather than panicking on the wire path.
pub(crate) fn count16(n: usize) -> i16 {
    debug_assert!(n <= i16::MAX as usize, "count {n} does not fit an int16");
    n as i16
}

/// The order a packet's type word was written in. The marker reads the same
/// in both orders, so it is tested on the raw bytes; a word with only one of
/// its two bits set came from no daemon.
/// The start of a 40-byte packet or token header (`what`): its byte order,
/// its type without the marker, and a reader over the remaining 36 bytes.
pub(crate) fn open_header<'a>(
    b: &'a [u8],
    what: &'static str,
) -> Result<(ByteOrder, u32, Reader<'a>)> {
    if b.len() < super::HEADER_LEN {
        return Err(PacketError::Truncated {
            what,
            at: 0,
            need: super::HEADER_LEN,
            have: b.len(),
        });
    }
    let raw_type = [b[0], b[1], b[2], b[3]];
    let order = order_of_type(raw_type)?;
    let ty = order.read_u32(raw_type) & !super::type_bits::ENDIAN_MARKER;
    Ok((order, ty, Reader::new(&b[4..super::HEADER_LEN], order)))
}

pub(crate) fn order_of_type(raw: [u8; 4]) -> Result<ByteOrder> {
    let marker = super::type_bits::ENDIAN_MARKER;
    match u32::from_le_bytes(raw) & marker {
        m if m == marker => Ok(ByteOrder::Little),
        0 => Ok(ByteOrder::Big),
        _ => Err(PacketError::BadMarker(u32::from_le_bytes(raw))),
    }
}
