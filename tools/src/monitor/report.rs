//! A daemon's STATUS reply as text.

use super::Daemon;
use spread_codec::Status;
use std::fmt::Write;

/// The daemon membership state names of 5.0.1 (status `state`, 1 to 6).
pub fn state_name(state: i32) -> String {
    match state {
        1 => "OP".into(),
        2 => "SEG".into(),
        3 => "REPRESENTED".into(),
        4 => "GATHER".into(),
        5 => "FORM".into(),
        6 => "EVS".into(),
        n => format!("unknown ({n})"),
    }
}

/// The group layer states (status `gstate`, 1 to 4).
pub fn group_state_name(gstate: i32) -> String {
    match gstate {
        1 => "GOP".into(),
        2 => "GTRANS".into(),
        3 => "GGATHER".into(),
        4 => "GGT".into(),
        n => format!("unknown ({n})"),
    }
}

/// Three lines about daemon `name`: who and in which membership state,
/// sequence numbers and packets, configuration and windows.
pub fn render(name: &str, s: &Status, daemons: &[Daemon]) -> String {
    let leader = match daemons.iter().find(|d| d.id == s.leader_id) {
        Some(d) => format!("{} (id {})", d.name, s.leader_id),
        None => format!("id {}", s.leader_id),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{name} (id {}): up {} s, state {}, group state {}, leader {leader}, {} membership changes, {} sessions, {} groups",
        s.my_id,
        s.sec,
        state_name(s.state),
        group_state_name(s.gstate),
        s.membership_changes,
        s.num_sessions,
        s.num_groups
    );
    let _ = writeln!(
        out,
        "  seq: highest {} aru {} my_aru {}; packets sent {} received {} delivered {}; retransmitted {}; token rounds {} hurries {}",
        s.highest_seq, s.aru, s.my_aru, s.packet_sent, s.packet_recv, s.packet_delivered, s.retrans, s.token_rounds, s.token_hurry
    );
    let accel = if s.accelerated_ring != 0 {
        format!(
            "accelerated ring (AcceleratedWindow {})",
            s.accelerated_window
        )
    } else {
        "original ring".into()
    };
    let _ = writeln!(
        out,
        "  {} daemons in {} segments; Window {} PersonalWindow {}; {accel}; messages delivered {}; version {}.{}.{}",
        s.num_procs, s.num_segments, s.window, s.personal_window, s.message_delivered, s.major_version, s.minor_version, s.patch_version
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_leader_and_windows() {
        let daemons = vec![Daemon {
            name: "d1".into(),
            id: 7,
            addr: "127.0.0.1:4803".parse().unwrap(),
            segment: 0,
        }];
        let s = Status {
            state: 4,
            gstate: 2,
            my_id: 9,
            leader_id: 7,
            membership_changes: 3,
            num_procs: 2,
            num_segments: 1,
            window: 80,
            personal_window: 10,
            ..Status::default()
        };
        let text = render("d2", &s, &daemons);
        assert!(text.starts_with("d2 (id 9): up 0 s, state GATHER, group state GTRANS, leader d1 (id 7), 3 membership changes"), "{text}");
        assert!(
            text.contains("2 daemons in 1 segments; Window 80 PersonalWindow 10; original ring"),
            "{text}"
        );
        let text = render(
            "d2",
            &Status {
                leader_id: 5,
                state: 9,
                ..s
            },
            &daemons,
        );
        assert!(
            text.contains("state unknown (9)") && text.contains("leader id 5,"),
            "{text}"
        );
        assert_eq!(state_name(6), "EVS");
    }
}
