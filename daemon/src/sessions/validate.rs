//! What the daemon accepts in a client's message header.

use spread_core::consts::*;
use spread_core::name::GroupName;
use spread_core::wire::Header;

/// The daemon's ruling on a header, made before the rest of the frame is
/// read so nothing is buffered for a frame that will not be accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Read `rest` more bytes (names and body) and process the frame.
    Accept { rest: usize },
    /// Too large to carry: read the `names` bytes, refuse the message to
    /// its sender, and discard the `discard` body bytes that follow.
    Refuse {
        names: usize,
        discard: usize,
        why: String,
    },
    /// A protocol violation: the session ends.
    Drop(String),
}

const SERVICE_BITS: u32 = REGULAR_MESS | JOIN_MESS | LEAVE_MESS | KILL_MESS;

/// The largest body and names a session admits: what a ring carries (and
/// what a 5.0.1 daemon delivers), the client library's limit too. Above it
/// the sender gets a REJECT; sp.h's nominal 144,000 would be admitted here
/// and then dropped by the packer on a ring of several daemons.
pub const MAX_RING_PAYLOAD: usize = MAX_INTEROPERABLE_PAYLOAD;
const _: () = assert!(HEADER_LEN + MAX_RING_PAYLOAD <= crate::packet::MAX_MESSAGE_LEN);

/// How large a session's messages may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeLimit {
    /// 5.0.1's: body and names together at most [`MAX_RING_PAYLOAD`] (a
    /// 5.0.1 client, or any client of a daemon without MaxMessageSize).
    Interoperable,
    /// A client of ours that took the daemon's `MaxMessageSize`: a body of
    /// at most this many bytes, to up to 100 groups.
    Body(usize),
}

/// The checks of 5.0.1 (client-protocol §5.3), except that a well-formed
/// but oversized message is refused instead of ending the session.
pub fn check_header(h: &Header, me: &GroupName) -> Verdict {
    check_header_within(h, me, SizeLimit::Interoperable)
}

/// [`check_header`] with the session's size limit.
pub fn check_header_within(h: &Header, me: &GroupName, limit: SizeLimit) -> Verdict {
    let service = h.service_type & SERVICE_BITS;
    if service.count_ones() != 1 {
        return Verdict::Drop(format!(
            "service type {:#x} has not exactly one service bit",
            h.service_type
        ));
    }
    // Only what a client may send reaches other clients: a REJECT_MESS or
    // membership bit would make their libraries misread the frame or take
    // it for a membership notice. Refused to the sender, as an oversized
    // message is (the session goes on).
    // SUBGROUP_CAST marks Flush Spread's unicasts and subgroupcasts; 5.0.1
    // passes it through to the receivers' libraries.
    let may_carry = if service & REGULAR_MESS != 0 {
        service | SELF_DISCARD | SUBGROUP_CAST
    } else {
        service
    };
    let foreign = h.service_type & !may_carry;
    if foreign != 0 {
        let names = h.num_groups.max(0) as usize * MAX_GROUP_NAME;
        if h.num_groups >= 0 && names <= MAX_GROUPS_PER_MESSAGE * MAX_GROUP_NAME && h.data_len >= 0
        {
            return Verdict::Refuse {
                names,
                discard: h.data_len as usize,
                why: format!(
                    "service type {:#x} carries bits a client may not send ({foreign:#x})",
                    h.service_type
                ),
            };
        }
        return Verdict::Drop(format!(
            "service type {:#x} carries bits a client may not send",
            h.service_type
        ));
    }
    if h.sender.canonical() != *me {
        return Verdict::Drop(format!(
            "sender field {:?} is not its own private group {me}",
            h.sender
        ));
    }
    if h.num_groups < 0 || h.num_groups as usize > MAX_GROUPS_PER_MESSAGE {
        return Verdict::Drop(format!(
            "{} destination groups (0 to {MAX_GROUPS_PER_MESSAGE})",
            h.num_groups
        ));
    }
    if !h.hint.is_well_formed() {
        return Verdict::Drop(format!("hint {:02x?} has bits outside mess_type", h.hint.0));
    }
    if h.data_len < 0 {
        return Verdict::Drop(format!("negative data_len {}", h.data_len));
    }
    let names = h.num_groups as usize * MAX_GROUP_NAME;
    let body = h.data_len as usize;
    let why = match limit {
        SizeLimit::Interoperable if names + body > MAX_RING_PAYLOAD => format!(
            "message of {body} bytes to {} groups exceeds {MAX_RING_PAYLOAD} bytes of body and names",
            h.num_groups
        ),
        SizeLimit::Body(max) if body > max => {
            format!("message of {body} bytes exceeds MaxMessageSize ({max})")
        }
        _ => return Verdict::Accept { rest: names + body },
    };
    Verdict::Refuse {
        names,
        discard: body,
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spread_core::wire::{ByteOrder, Hint};

    fn header(service_type: u32, num_groups: i32, data_len: i32) -> Header {
        Header {
            service_type,
            sender: "#me#d".into(),
            num_groups,
            hint: Hint::new(0, ByteOrder::Little),
            data_len,
            order: ByteOrder::Little,
        }
    }

    #[test]
    fn each_rule() {
        let me = GroupName::from("#me#d");
        let ok = |h: &Header| check_header(h, &me);
        assert_eq!(
            ok(&header(AGREED_MESS, 1, 10)),
            Verdict::Accept { rest: 42 }
        );
        assert_eq!(
            ok(&header(AGREED_MESS | SELF_DISCARD, 0, 0)),
            Verdict::Accept { rest: 0 }
        );
        assert!(matches!(
            ok(&header(AGREED_MESS | SAFE_MESS, 1, 0)),
            Verdict::Drop(_)
        ));
        assert!(matches!(
            ok(&header(JOIN_MESS | AGREED_MESS, 1, 0)),
            Verdict::Drop(_)
        ));
        assert!(matches!(ok(&header(SELF_DISCARD, 1, 0)), Verdict::Drop(_)));
        let mut spoof = header(AGREED_MESS, 1, 0);
        spoof.sender = "#other#d".into();
        assert!(matches!(ok(&spoof), Verdict::Drop(_)));
        assert!(matches!(ok(&header(AGREED_MESS, 101, 0)), Verdict::Drop(_)));
        assert!(matches!(ok(&header(AGREED_MESS, -1, 0)), Verdict::Drop(_)));
        assert!(matches!(ok(&header(AGREED_MESS, 1, -5)), Verdict::Drop(_)));
        let mut hint = header(AGREED_MESS, 1, 0);
        hint.hint = Hint([0x81, 0, 0, 0x80]);
        assert!(matches!(ok(&hint), Verdict::Drop(_)));
        assert_eq!(
            ok(&header(AGREED_MESS, 100, 143_151 - 3200)),
            Verdict::Accept { rest: 143_151 }
        );
        assert!(matches!(
            ok(&header(AGREED_MESS, 100, 143_152 - 3200)),
            Verdict::Refuse { .. }
        ));
        assert!(matches!(
            ok(&header(AGREED_MESS, 2, 143_952)),
            Verdict::Refuse {
                names: 64,
                discard: 143_952,
                ..
            }
        ));
        assert!(matches!(
            ok(&header(AGREED_MESS, 0, i32::MAX)),
            Verdict::Refuse { .. }
        ));
        for foreign in [
            REJECT_MESS,
            REG_MEMB_MESS | CAUSED_BY_JOIN,
            TRANSITION_MESS,
            CAUSED_BY_LEAVE,
            DROP_RECV,
            RETRANSMIT_TYPE,
        ] {
            assert!(
                matches!(
                    ok(&header(AGREED_MESS | foreign, 1, 3)),
                    Verdict::Refuse {
                        names: 32,
                        discard: 3,
                        ..
                    }
                ),
                "{foreign:#x}"
            );
        }
        assert!(matches!(
            ok(&header(JOIN_MESS | SELF_DISCARD, 1, 0)),
            Verdict::Refuse { .. }
        ));
        assert!(matches!(
            ok(&header(AGREED_MESS | REJECT_MESS, -1, 0)),
            Verdict::Drop(_)
        ));
    }

    #[test]
    fn a_session_with_max_message_size() {
        let me = GroupName::from("#me#d");
        let big = SizeLimit::Body(16 << 20);
        let at = |n: i32, len: i32| check_header_within(&header(AGREED_MESS, n, len), &me, big);
        assert_eq!(
            at(1, 16 << 20),
            Verdict::Accept {
                rest: 32 + (16 << 20)
            }
        );
        assert_eq!(
            at(100, 16 << 20),
            Verdict::Accept {
                rest: 3200 + (16 << 20)
            }
        );
        assert!(matches!(
            at(1, (16 << 20) + 1),
            Verdict::Refuse {
                names: 32,
                discard: 16_777_217,
                ..
            }
        ));
        // The same header from a session without it is refused, as today.
        assert!(matches!(
            check_header(&header(AGREED_MESS, 1, 1 << 20), &me),
            Verdict::Refuse { .. }
        ));
    }
}
