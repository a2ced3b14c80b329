//! Human-readable renderings of received messages and of errors.
//!
//! Every function returns whole lines (without their line ends) so that a
//! caller can print a message as one block.

use spread_core::consts::*;
use spread_core::wire::{DataMessage, GroupId, MembershipMessage, Message, RejectMessage};
use spread_core::{Error, GroupName};

/// The separator printed before each received message.
pub const SEPARATOR: &str = "============================";

/// The name of the (lowest) service bit of a regular service type, as Spread
/// prints it: `UNRELIABLE` .. `SAFE`; `None` if no service bit is set.
pub fn service_name(service_type: u32) -> Option<&'static str> {
    const NAMES: [(u32, &str); 6] = [
        (UNRELIABLE_MESS, "UNRELIABLE"),
        (RELIABLE_MESS, "RELIABLE"),
        (FIFO_MESS, "FIFO"),
        (CAUSAL_MESS, "CAUSAL"),
        (AGREED_MESS, "AGREED"),
        (SAFE_MESS, "SAFE"),
    ];
    NAMES
        .iter()
        .find(|(bit, _)| service_type & bit != 0)
        .map(|(_, name)| *name)
}

/// A group id the way Spread's tools print it: three signed integers.
pub fn group_id_text(id: &GroupId) -> String {
    format!("{} {} {}", id.proc_id as i32, id.time, id.index)
}

/// A message body as text: up to its first NUL (as a C string would end),
/// one trailing newline dropped, and control characters other than newline
/// and tab escaped as `\xNN`.
pub fn body_text(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let text = String::from_utf8_lossy(&data[..end]);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Pushes `text` as lines (it may hold newlines of its own).
fn push_text(lines: &mut Vec<String>, text: &str) {
    lines.extend(text.split('\n').map(str::to_string));
}

fn data_lines(m: &DataMessage) -> Vec<String> {
    let service = service_name(m.service_type).unwrap_or("UNKNOWN-SERVICE");
    let mut lines = vec![format!(
        "received {service} message from {}, of type {}, (endian {}) to {} groups",
        m.sender,
        m.mess_type,
        u8::from(m.endian_mismatch),
        m.groups.len()
    )];
    push_text(
        &mut lines,
        &format!("({} bytes): {}", m.data.len(), body_text(&m.data)),
    );
    lines
}

fn members_lines<'a>(lines: &mut Vec<String>, members: impl IntoIterator<Item = &'a GroupName>) {
    lines.extend(members.into_iter().map(|m| format!("\t{m}")));
}

/// What caused a regular membership change, in words.
pub fn cause_name(service_type: u32) -> &'static str {
    if service_type & CAUSED_BY_JOIN != 0 {
        "JOIN"
    } else if service_type & CAUSED_BY_LEAVE != 0 {
        "LEAVE"
    } else if service_type & CAUSED_BY_DISCONNECT != 0 {
        "DISCONNECT"
    } else if service_type & CAUSED_BY_NETWORK != 0 {
        "NETWORK"
    } else {
        "UNKNOWN"
    }
}

fn vs_set_lines(lines: &mut Vec<String>, m: &MembershipMessage) {
    lines.push(format!(
        "Due to NETWORK change with {} VS sets",
        m.vs_sets.len()
    ));
    for (i, set) in m.vs_sets.iter().enumerate() {
        let which = if i == m.local_vs_set {
            "LOCAL"
        } else {
            "OTHER"
        };
        lines.push(format!("{which} VS set {i} has {} members:", set.len()));
        members_lines(lines, set);
    }
}

/// A regular membership message; `me` is this session's private group,
/// whose position in the member list is reported (-1 if absent).
pub fn membership_lines(m: &MembershipMessage, me: &GroupName) -> Vec<String> {
    let my_index = m.index_of(me).map_or(-1, |i| i as i64);
    let mut lines = vec![format!(
        "Received REGULAR membership for group {} with {} members, where I am member {my_index}:",
        m.group,
        m.members.len()
    )];
    members_lines(&mut lines, &m.members);
    lines.push(format!("grp id is {}", group_id_text(&m.group_id)));
    match cause_name(m.service_type) {
        "NETWORK" => vs_set_lines(&mut lines, m),
        cause => {
            let who = m
                .changed_member()
                .map_or_else(|| "(unknown)".to_string(), |g| g.to_string());
            lines.push(format!("Due to the {cause} of {who}"));
        }
    }
    lines
}

fn reject_lines(m: &RejectMessage) -> Vec<String> {
    let mut lines = vec![format!(
        "REJECTED message from {}, of servicetype {:#x} messtype {}, (endian {}) to {} groups",
        m.sender,
        m.old_type | REJECT_MESS,
        m.mess_type,
        u8::from(m.endian_mismatch),
        m.groups.len()
    )];
    push_text(
        &mut lines,
        &format!("({} bytes): {}", m.data.len(), body_text(&m.data)),
    );
    lines
}

/// Any received message, as the lines Spread's `spuser` would print for it
/// (separator excluded); `me` is this session's private group.
pub fn message_lines(msg: &Message, me: &GroupName) -> Vec<String> {
    match msg {
        Message::Data(m) => data_lines(m),
        Message::Membership(m) => membership_lines(m, me),
        Message::Transition(t) => vec![format!(
            "received TRANSITIONAL membership for group {} (grp id was {})",
            t.group,
            group_id_text(&t.group_id)
        )],
        Message::SelfLeave { group } => vec![format!(
            "received membership message that left group {group}"
        )],
        Message::Reject(m) => reject_lines(m),
    }
}

/// An error with its Spread code, for one line of output.
pub fn error_text(e: &Error) -> String {
    format!("{e} (Spread error {})", e.code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use spread_core::wire::{ByteOrder, TransitionMessage};

    fn g(s: &str) -> GroupName {
        GroupName::from(s)
    }

    fn membership(
        cause: u32,
        members: &[&str],
        vs_sets: Vec<Vec<GroupName>>,
        local: usize,
    ) -> MembershipMessage {
        MembershipMessage {
            service_type: REG_MEMB_MESS | cause,
            group: g("grp"),
            members: members.iter().map(|m| g(m)).collect(),
            group_id: GroupId {
                proc_id: 0x7f00_0001,
                time: 1_700_000_000,
                index: 3,
            },
            vs_sets,
            local_vs_set: local,
            raw_body: Vec::new(),
            body_order: ByteOrder::Little,
        }
    }

    #[test]
    fn join_names_the_joiner_and_my_position() {
        let m = membership(CAUSED_BY_JOIN, &["#a#h", "#b#h"], vec![vec![g("#b#h")]], 0);
        let lines = membership_lines(&m, &g("#b#h"));
        assert_eq!(
            lines,
            [
                "Received REGULAR membership for group grp with 2 members, where I am member 1:",
                "\t#a#h",
                "\t#b#h",
                "grp id is 2130706433 1700000000 3",
                "Due to the JOIN of #b#h",
            ]
        );
    }

    #[test]
    fn leave_and_disconnect_causes() {
        let m = membership(CAUSED_BY_LEAVE, &["#a#h"], vec![vec![g("#b#h")]], 0);
        assert_eq!(
            membership_lines(&m, &g("#a#h")).last().unwrap(),
            "Due to the LEAVE of #b#h"
        );
        let m = membership(CAUSED_BY_DISCONNECT, &["#a#h"], vec![vec![g("#c#h")]], 0);
        assert_eq!(
            membership_lines(&m, &g("#a#h")).last().unwrap(),
            "Due to the DISCONNECT of #c#h"
        );
    }

    #[test]
    fn network_lists_vs_sets_and_marks_the_local_one() {
        let sets = vec![vec![g("#x#d1")], vec![g("#a#d2"), g("#b#d2")]];
        let m = membership(CAUSED_BY_NETWORK, &["#a#d2", "#b#d2", "#x#d1"], sets, 1);
        let lines = membership_lines(&m, &g("#q#d9"));
        assert!(lines[0].ends_with("with 3 members, where I am member -1:"));
        assert_eq!(
            &lines[5..],
            [
                "Due to NETWORK change with 2 VS sets",
                "OTHER VS set 0 has 1 members:",
                "\t#x#d1",
                "LOCAL VS set 1 has 2 members:",
                "\t#a#d2",
                "\t#b#d2",
            ]
        );
    }

    #[test]
    fn negative_proc_ids_print_signed_as_in_c() {
        let id = GroupId {
            proc_id: 0xc0a8_0001,
            time: 5,
            index: 1,
        };
        assert_eq!(group_id_text(&id), "-1062731775 5 1");
    }

    #[test]
    fn data_message_lines() {
        let m = Message::Data(DataMessage {
            service_type: SAFE_MESS,
            sender: g("#u#h"),
            groups: vec![g("a"), g("b")],
            mess_type: 1,
            endian_mismatch: false,
            data: b"two\nlines\n".to_vec(),
        });
        assert_eq!(
            message_lines(&m, &g("#u#h")),
            [
                "received SAFE message from #u#h, of type 1, (endian 0) to 2 groups",
                "(10 bytes): two",
                "lines",
            ]
        );
    }

    #[test]
    fn other_kinds() {
        let me = g("#me#h");
        let t = Message::Transition(TransitionMessage {
            group: g("grp"),
            group_id: GroupId::default(),
        });
        assert_eq!(
            message_lines(&t, &me),
            ["received TRANSITIONAL membership for group grp (grp id was 0 0 0)"]
        );
        let s = Message::SelfLeave { group: g("grp") };
        assert_eq!(
            message_lines(&s, &me),
            ["received membership message that left group grp"]
        );
        let r = Message::Reject(RejectMessage {
            old_type: CAUSED_BY_JOIN,
            sender: me,
            groups: vec![g("grp")],
            mess_type: 0,
            endian_mismatch: true,
            data: Vec::new(),
        });
        assert_eq!(
            message_lines(&r, &me),
            [
                "REJECTED message from #me#h, of servicetype 0x400100 messtype 0, (endian 1) to 1 groups",
                "(0 bytes): ",
            ]
        );
    }

    #[test]
    fn body_text_stops_at_nul_and_escapes_controls() {
        assert_eq!(body_text(b"mess num 3 \0\0junk"), "mess num 3 ");
        assert_eq!(body_text(b"a\x07b\tc\n"), "a\\x07b\tc");
        assert_eq!(body_text(&[0xff, b'x']), "\u{fffd}x");
    }

    #[test]
    fn service_names() {
        assert_eq!(service_name(AGREED_MESS | SELF_DISCARD), Some("AGREED"));
        assert_eq!(service_name(UNRELIABLE_MESS), Some("UNRELIABLE"));
        assert_eq!(service_name(REG_MEMB_MESS), None);
        assert_eq!(cause_name(REG_MEMB_MESS | CAUSED_BY_NETWORK), "NETWORK");
    }

    #[test]
    fn errors_carry_their_code() {
        assert_eq!(
            error_text(&Error::IllegalSession),
            "illegal session (mailbox unknown or closed) (Spread error -11)"
        );
    }
}
