//! Arbitrary datagrams fed to a whole daemon node (membership, ring, group
//! layer), as its network would hand them over, with time passing between
//! them.
//!
//! The input is a series of records: a byte choosing the port and how much
//! time passes, a byte with the record's length, then that many bytes. The
//! node's configuration hash is the input's first four bytes, so that
//! packets get past the hash check and into the protocol. Nothing may
//! panic, and what the node holds stays bounded.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spread_codec::{Packet, Port};
use spread_daemon::engine::membership::{Daemon, MembershipConfig, Timeouts};
use spread_daemon::engine::node::{Node, NodeConfig};
use spread_daemon::engine::{DaemonInfo, Identity, SessionId, SessionInfo};

const IDS: [u32; 3] = [1001, 1002, 1003];

fn node(conf_hash: u32) -> Node {
    let cfg = NodeConfig {
        identity: Identity {
            proc_id: IDS[0],
            daemon_index: 0,
            membership_time: 0,
        },
        daemons: IDS
            .iter()
            .enumerate()
            .map(|(i, &id)| DaemonInfo {
                id,
                name: format!("d{i}"),
            })
            .collect(),
        membership: MembershipConfig {
            me: IDS[0],
            daemons: IDS.iter().map(|&id| Daemon { id, segment: 0 }).collect(),
            conf_hash,
            window: 160,
            personal_window: 20,
            accelerated_window: None,
            max_message_len: spread_daemon::packet::MAX_MESSAGE_LEN,
            packet_body: spread_daemon::packet::MAX_BODY_LEN,
            timeouts: Timeouts::LAN,
            epoch_secs: 1_000_000,
        },
        max_groups_per_session: 100,
    };
    let mut n = Node::new(cfg, 0);
    n.handle_open(
        SessionId(1),
        SessionInfo {
            private_group: "#c#d0".into(),
            membership: true,
        },
    );
    n
}

fuzz_target!(|data: &[u8]| {
    let Some((hash, mut rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let mut n = node(u32::from_le_bytes(*hash));
    let mut now = 0u64;
    while let [control, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (datagram, after) = tail.split_at(len);
        rest = after;
        let port = if control & 1 == 0 {
            Port::Data
        } else {
            Port::Token
        };
        now += u64::from(control >> 1) * 10_000;
        if let Ok(p) = Packet::decode(port, datagram) {
            n.handle_packet(p, now);
        }
        if n.poll_timeout() <= now {
            n.handle_timeout(now);
        }
        while n.poll_transmit().is_some() {}
        while n.poll_output().is_some() {}
    }
    // Much later: the timers run their course.
    n.handle_timeout(now + 60_000_000);
    while n.poll_transmit().is_some() {}
    assert!(n.backlog() < 10_000);
});
