//! Replays the client side of recorded 5.0.1 sessions against our daemon
//! and requires the daemon's answers byte for byte (but for the membership
//! time, which differs on every run).

use spread_core::consts::{REG_MEMB_MESS, TRANSITION_MESS};
use spread_core::vectors::{load_all, Direction, Step};
use spread_core::wire::{split_frame, Limits};
use spread_testkit::{Raw, TestDaemon};
use std::collections::HashMap;
use std::time::Duration;

/// Zeroes the variable group_id.time of membership and transitional bodies.
fn mask(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    if let Ok(Some((f, _))) = split_frame(bytes, &Limits::CLIENT) {
        if f.header.service_type & (REG_MEMB_MESS | TRANSITION_MESS) != 0 {
            let body_at = bytes.len() - f.body.len();
            v[body_at + 4..body_at + 8].fill(0);
        }
    }
    v
}

fn replay(file: &str, steps: &[Step], daemon: &TestDaemon) {
    let mut conns: HashMap<u32, Raw> = HashMap::new();
    for s in steps {
        let here = format!("{file} step {} ({})", s.number, s.meaning);
        match s.direction {
            Direction::Open => {
                conns.insert(s.conn, daemon.raw());
            }
            Direction::ClientToDaemon => conns.get_mut(&s.conn).unwrap().send(&s.bytes),
            Direction::DaemonToClient => {
                let c = conns.get_mut(&s.conn).unwrap();
                let got = if s.bytes.len() >= 48 {
                    c.read_frame()
                } else {
                    c.read_exact(s.bytes.len())
                };
                assert_eq!(mask(&got), mask(&s.bytes), "{here}");
            }
            Direction::Close if s.meaning.starts_with("client") => {
                if let Some(c) = conns.get_mut(&s.conn) {
                    c.s.shutdown_write();
                }
            }
            Direction::Close => {
                let c = conns.get_mut(&s.conn).unwrap();
                let rest = c.read_to_close();
                assert!(
                    rest.is_empty(),
                    "{here}: unexpected bytes before close: {rest:02x?}"
                );
            }
        }
    }
    // Let the daemon process the last disconnects before the next file.
    std::thread::sleep(Duration::from_millis(50));
}

fn run(files: &[&str], extra: &str, access: Option<&str>) {
    let all = load_all().expect("vectors");
    let daemon = TestDaemon::start_with(extra, access);
    for prefix in files {
        let (name, steps) = all
            .iter()
            .find(|(n, _)| n.starts_with(prefix))
            .unwrap_or_else(|| panic!("no vector {prefix}"));
        replay(name, steps, &daemon);
    }
}

#[test]
fn libspread_sessions_replay_byte_for_byte() {
    run(&["01-", "02-", "03-", "04-", "05-", "06-"], "", None);
}

#[test]
fn java_big_endian_and_old_clients_replay() {
    run(&["09-", "10-", "11-"], "", None);
}

#[test]
fn rejections_and_dropped_sessions_replay() {
    run(&["12-", "13-", "14-"], "", None);
}

#[test]
fn ip_auth_vector_replays() {
    run(
        &["08-"],
        "AllowedAuthMethods = \"NULL IP\"",
        Some("127.0.0.1\n"),
    );
}
