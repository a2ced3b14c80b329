//! Replays every recorded 5.0.1 session of `shared/spec/vectors/` through
//! the codec: each unit is decoded, re-encoded and compared byte for byte.

use spread_core::consts::*;
use spread_core::name::GroupName;
use spread_core::vectors::{load_all, Direction, Step};
use spread_core::wire::encode;
use spread_core::wire::handshake::*;
use spread_core::wire::{split_frame, ByteOrder, Limits, MembershipBody, Message};

fn replay_handshake_unit(file: &str, s: &Step) -> bool {
    let m = &s.meaning;
    let b = &s.bytes;
    if m.starts_with("connect message") {
        match parse_connect(b) {
            ConnectParse::Complete(msg, used) => {
                assert_eq!(msg.encode(), b[..used], "{file} step {}", s.number);
                if used < b.len() {
                    assert!(
                        m.contains("pipelined") || m.contains("ONE write"),
                        "{file} step {}: trailing bytes",
                        s.number
                    );
                }
            }
            ConnectParse::IllegalNameLength => assert!(
                b[b.len().min(5) - 1] > 10 || b.len() > 15,
                "{file} step {}",
                s.number
            ),
            ConnectParse::Incomplete => {
                panic!("{file} step {}: incomplete connect message", s.number)
            }
        }
        return true;
    }
    if m.starts_with("auth-method list") {
        let names = parse_auth_list(&b[1..]);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(b[0] as usize, b.len() - 1);
        assert_eq!(encode_auth_list(&names), *b, "{file} step {}", s.number);
        return true;
    }
    if m.starts_with("auth choice") {
        let choice: [u8; AUTH_CHOICE_LEN] = b[..].try_into().expect("90 bytes");
        let methods = parse_auth_choice(&choice);
        let names: Vec<String> = methods
            .iter()
            .map(|x| String::from_utf8_lossy(x).into_owned())
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(
            encode_auth_choice(&names),
            choice,
            "{file} step {}",
            s.number
        );
        return true;
    }
    if m.starts_with("accept") {
        let has_patch = !m.contains("daemon 5.0,");
        let name = &b[if has_patch { 5 } else { 4 }..];
        assert_eq!(
            encode_accept(has_patch, &GroupName::new(name)),
            *b,
            "{file} step {}",
            s.number
        );
        return true;
    }
    if m.starts_with("reject code") {
        assert_eq!(b.len(), 1);
        let code = m.split_whitespace().nth(2).unwrap().parse::<i32>().unwrap();
        assert_eq!(code_byte(code), b[0], "{file} step {}", s.number);
        return true;
    }
    false
}

/// Encodes `msg` as our daemon would and compares with what 5.0.1 sent.
fn reencode_daemon_message(file: &str, s: &Step, msg: &Message) {
    let order = ByteOrder::Little;
    let ours = match msg {
        Message::Membership(mm) => {
            let body = MembershipBody {
                group_id: mm.group_id,
                vs_sets: mm.vs_sets.clone(),
                local_vs_set: mm.local_vs_set,
            };
            encode::membership(mm.cause(), &mm.group, &mm.members, &body, order)
        }
        Message::Transition(t) => encode::transition(&t.group, &t.group_id, order),
        Message::SelfLeave { group } => encode::self_leave(group, order),
        _ => return,
    };
    assert_eq!(
        ours, s.bytes,
        "{file} step {}: our encoding differs",
        s.number
    );
}

fn replay_message(file: &str, s: &Step) {
    let (frame, used) = split_frame(&s.bytes, &Limits::CLIENT)
        .unwrap_or_else(|e| panic!("{file} step {}: {e}", s.number))
        .unwrap_or_else(|| panic!("{file} step {}: incomplete frame", s.number));
    assert_eq!(
        used,
        s.bytes.len(),
        "{file} step {}: frame length",
        s.number
    );
    let mut again = frame.header.encode().to_vec();
    if let Some(t) = frame.old_type {
        again.extend_from_slice(&frame.header.order.write_u32(t));
    }
    again.extend_from_slice(frame.names);
    again.extend_from_slice(frame.body);
    assert_eq!(
        again, s.bytes,
        "{file} step {}: re-encoded header differs",
        s.number
    );
    if s.direction == Direction::DaemonToClient {
        let msg =
            Message::from_frame(&frame).unwrap_or_else(|e| panic!("{file} step {}: {e}", s.number));
        check_meaning(file, s, &msg);
        reencode_daemon_message(file, s, &msg);
    }
}

/// The annotation's words agree with what was decoded.
fn check_meaning(file: &str, s: &Step, msg: &Message) {
    let m = &s.meaning;
    let ok = match msg {
        Message::Data(d) => {
            m.starts_with("deliver") && m.contains(&format!("mess_type {},", d.mess_type))
        }
        Message::Membership(mm) => {
            m.starts_with("membership")
                && m.contains(&format!("'{}'", mm.group))
                && (m.contains(&format!("{} member", mm.members.len()))
                    || mm.cause() == CAUSED_BY_NETWORK)
        }
        Message::Transition(t) => {
            m.starts_with("transitional") && m.contains(&format!("'{}'", t.group))
        }
        Message::SelfLeave { .. } => m.starts_with("self-leave"),
        Message::Reject(_) => m.contains("reject"),
    };
    assert!(
        ok,
        "{file} step {}: decoded {msg:?} but the recording says {m:?}",
        s.number
    );
}

#[test]
fn every_vector_unit_round_trips() {
    let files = load_all().expect("vectors");
    assert!(
        files.len() >= 15,
        "expected the 15 recordings, found {}",
        files.len()
    );
    let mut units = 0;
    for (file, steps) in &files {
        for s in steps {
            if matches!(s.direction, Direction::Open | Direction::Close) || s.bytes.is_empty() {
                continue;
            }
            if !replay_handshake_unit(file, s) {
                assert!(
                    s.bytes.len() >= HEADER_LEN,
                    "{file} step {}: unknown unit {:?}",
                    s.number,
                    s.meaning
                );
                replay_message(file, s);
            }
            units += 1;
        }
    }
    assert!(units >= 200, "only {units} units replayed");
}

#[test]
fn big_endian_client_frames_decode_to_the_same_values() {
    let files = load_all().unwrap();
    let (_, steps) = files.iter().find(|(f, _)| f.starts_with("10-")).unwrap();
    let be: Vec<_> = steps
        .iter()
        .filter(|s| {
            s.direction == Direction::ClientToDaemon
                && s.bytes.len() >= HEADER_LEN
                && s.meaning.contains("AGREED")
        })
        .collect();
    assert!(!be.is_empty());
    let (f, _) = split_frame(&be[0].bytes, &Limits::CLIENT).unwrap().unwrap();
    assert_eq!(f.header.order, ByteOrder::Big);
    assert_eq!(f.header.service_type, AGREED_MESS);
    assert_eq!(f.header.mess_type(), 258);
}
