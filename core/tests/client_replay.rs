//! Our client against recorded 5.0.1 daemons: a stand-in daemon plays the
//! recorded daemon bytes and requires our client's bytes to be those the
//! real libspread sent (name fields compared up to their NUL).

use spread_core::client::Mailbox;
use spread_core::consts::*;
use spread_core::vectors::{load_all, Direction, Step};
use spread_core::wire::handshake::{parse_connect, ConnectParse};
use spread_core::wire::{split_frame, Limits, Message};
use spread_core::GroupName;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// Clears what follows the NUL in every 32-byte name field of a frame.
fn canonical(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    if v.len() < HEADER_LEN {
        return v;
    }
    let Ok(Some((f, _))) = split_frame(bytes, &Limits::CLIENT) else {
        return v;
    };
    let mut fields = vec![4usize];
    fields.extend((0..f.header.num_groups as usize).map(|i| HEADER_LEN + i * MAX_GROUP_NAME));
    for at in fields {
        let field = &mut v[at..at + MAX_GROUP_NAME];
        if let Some(nul) = field.iter().position(|&b| b == 0) {
            field[nul..].fill(0);
        }
    }
    v
}

/// The recorded daemon: answers with the recorded bytes, checks ours.
fn play_daemon(listener: TcpListener, steps: Vec<Step>, file: String) {
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for step in steps {
        match step.direction {
            Direction::DaemonToClient => s.write_all(&step.bytes).unwrap(),
            Direction::ClientToDaemon => {
                let mut got = vec![0u8; step.bytes.len()];
                s.read_exact(&mut got)
                    .unwrap_or_else(|e| panic!("{file} step {}: {e}", step.number));
                assert_eq!(
                    canonical(&got),
                    canonical(&step.bytes),
                    "{file} step {} ({})",
                    step.number,
                    step.meaning
                );
            }
            Direction::Close if step.meaning.starts_with("client") => {
                let mut rest = Vec::new();
                s.read_to_end(&mut rest).unwrap();
                assert!(
                    rest.is_empty(),
                    "{file}: client sent {rest:02x?} after its last step"
                );
            }
            _ => {}
        }
    }
}

/// Does with our client what the recorded client did.
fn play_client(port: u16, steps: &[Step], file: &str) {
    let hello = match parse_connect(
        &steps
            .iter()
            .find(|s| s.direction == Direction::ClientToDaemon)
            .unwrap()
            .bytes,
    ) {
        ConnectParse::Complete(h, _) => h,
        other => panic!("{file}: {other:?}"),
    };
    let name = String::from_utf8(hello.name.clone()).unwrap();
    let m = Mailbox::connect(
        &format!("{port}@127.0.0.1"),
        Some(&name),
        0,
        hello.membership,
    )
    .unwrap();
    for s in steps
        .iter()
        .skip_while(|s| !s.meaning.starts_with("accept"))
        .skip(1)
    {
        match s.direction {
            Direction::ClientToDaemon => {
                let (f, _) = split_frame(&s.bytes, &Limits::CLIENT).unwrap().unwrap();
                let groups: Vec<GroupName> = f.groups().collect();
                let st = f.header.service_type;
                let group = groups[0].to_string();
                if st & JOIN_MESS != 0 {
                    m.join(&group).unwrap();
                } else if st & LEAVE_MESS != 0 {
                    m.leave(&group).unwrap();
                } else if st & KILL_MESS != 0 {
                    m.disconnect().unwrap();
                } else {
                    m.multigroup_scat_multicast(st, &groups, f.header.mess_type(), &[f.body])
                        .unwrap();
                }
            }
            Direction::DaemonToClient => {
                let (f, _) = split_frame(&s.bytes, &Limits::CLIENT).unwrap().unwrap();
                let want = Message::from_frame(&f).unwrap();
                let got = m
                    .receive_timeout(Duration::from_secs(5))
                    .unwrap()
                    .expect("a message");
                assert_eq!(got, want, "{file} step {}", s.number);
            }
            _ => {}
        }
    }
}

#[test]
fn our_client_speaks_exactly_as_libspread() {
    let all = load_all().expect("vectors");
    for prefix in ["01-", "02-", "03-", "07-"] {
        let (file, steps) = all.iter().find(|(n, _)| n.starts_with(prefix)).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let daemon = {
            let (steps, file) = (steps.clone(), file.clone());
            std::thread::spawn(move || play_daemon(listener, steps, file))
        };
        play_client(port, steps, file);
        daemon
            .join()
            .unwrap_or_else(|_| panic!("{file}: the recorded daemon saw different bytes"));
    }
}
