//! spmonitor against real daemons: status of a daemon alone and of a ring,
//! daemons that do not answer, and requests from an address that is not
//! the daemon claimed.

use spread_core::client::Mailbox;
use spread_core::consts::AGREED_MESS;
use spread_daemon::packet::{DataHeader, MonitorBody, MonitorPacket, STATUS_TYPE};
use spread_testkit::{TestDaemon, TestRing};
use std::process::Command;
use std::time::Duration;

fn spmonitor(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_spmonitor"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn status_of_a_daemon_alone() {
    let d = TestDaemon::start("");
    let m = Mailbox::connect(&d.tcp_name(), Some("mon"), 0, true).unwrap();
    m.join("g").unwrap();
    let conf = d.dir.join("spread.conf");
    let (code, out) = spmonitor(&["-c", conf.to_str().unwrap(), "-p", "0"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("localhost (id 482711334): up"), "{out}");
    assert!(
        out.contains("state OP") && out.contains("1 sessions, 1 groups"),
        "{out}"
    );
    assert!(out.contains("1 daemons in 1 segments"), "{out}");
}

#[test]
fn status_of_a_ring_and_of_a_daemon_that_is_down() {
    let mut ring = TestRing::start(3, "", &[]);
    let m = Mailbox::connect(&ring.tcp_name(2), Some("mon"), 0, true).unwrap();
    m.join("g").unwrap();
    for i in 0..10u8 {
        m.multicast(AGREED_MESS, "g", 0, &[i]).unwrap();
    }
    for _ in 0..11 {
        m.receive_timeout(Duration::from_secs(5))
            .unwrap()
            .expect("view and messages");
    }
    let conf = ring.dir.join("d1").join("spread.conf");
    let conf = conf.to_str().unwrap();
    let (code, out) = spmonitor(&["-c", conf, "-n", "d1", "-p", "0"]);
    assert_eq!(code, Some(0), "{out}");
    for d in ["d1", "d2", "d3"] {
        assert!(out.contains(&format!("{d} (id ")), "{out}");
    }
    assert_eq!(out.matches("state OP").count(), 3, "{out}");
    assert_eq!(out.matches("3 daemons in 1 segments").count(), 3, "{out}");
    assert!(
        out.contains("1 sessions, 1 groups"),
        "d2 has the client: {out}"
    );
    // A join and ten small messages (packed into few packets), everywhere.
    assert_eq!(
        out.matches("delivered 11; retransmitted").count(),
        3,
        "{out}"
    );
    ring.kill9(3);
    let (code, out) = spmonitor(&["-c", conf, "-n", "d1", "-p", "0", "-d", "d3", "-d", "d2"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("d3 (id 4014350958) at") && out.contains("no answer"),
        "{out}"
    );
    assert!(out.contains("d2 (id 348480928): up"), "{out}");
    assert!(!out.contains("d1 (id"), "only the daemons asked for: {out}");
}

#[test]
fn a_request_from_the_wrong_address_gets_no_answer() {
    let ring = TestRing::start(2, "", &[]);
    // Claims to be d2 but comes from 127.0.0.1, which is not d2's address.
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    let d2 = 348480928;
    let mut header = DataHeader::new(STATUS_TYPE, d2);
    header.transmiter_id = d2;
    header.seq = i32::from(port);
    let request = MonitorPacket {
        header,
        body: MonitorBody::StatusRequest,
    }
    .encode();
    s.send_to(&request, (ring.ip(1).as_str(), ring.port))
        .unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 256];
    assert!(
        s.recv_from(&mut buf).is_err(),
        "a forged request was answered"
    );
    // From the right address it is answered.
    let s = std::net::UdpSocket::bind((ring.ip(2).as_str(), 0)).unwrap();
    let mut header = DataHeader::new(STATUS_TYPE, d2);
    header.transmiter_id = d2;
    header.seq = i32::from(s.local_addr().unwrap().port());
    let request = MonitorPacket {
        header,
        body: MonitorBody::StatusRequest,
    }
    .encode();
    s.send_to(&request, (ring.ip(1).as_str(), ring.port))
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let (n, _) = s.recv_from(&mut buf).expect("an answer");
    assert!(matches!(
        MonitorPacket::decode(&buf[..n]).unwrap().body,
        MonitorBody::StatusReply(_)
    ));
}
