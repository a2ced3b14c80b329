//! The seed corpus of the `daemon_packet` fuzz target (fuzz/corpus), run as
//! a plain test: seeds made from the recordings (`NN-NNN-data|token`, with
//! `-be` the big-endian rewrite) and the spmonitor seeds (`mon-*`) decode
//! on their port and re-encode byte for byte; any other file is an input
//! that once crashed the fuzzer and must now decode or fail cleanly.

use spread_daemon::packet::{Packet, Port};
use std::path::PathBuf;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/daemon_packet");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The port a seed was recorded on, or `None` for a crash reproducer.
fn seed_port(name: &str) -> Option<Port> {
    if name.starts_with("mon-") || name.contains("-data") {
        Some(Port::Data)
    } else if name.contains("-token") {
        Some(Port::Token)
    } else {
        None
    }
}

#[test]
fn seeds_decode_and_reencode_exactly() {
    let mut seeds = 0;
    for (name, bytes) in corpus() {
        match seed_port(&name) {
            Some(port) => {
                let packet = Packet::decode(port, &bytes)
                    .unwrap_or_else(|e| panic!("seed {name} does not decode: {e}"));
                check(&name, &packet, &bytes);
                seeds += 1;
            }
            None => {
                for port in [Port::Data, Port::Token] {
                    if let Ok(packet) = Packet::decode(port, &bytes) {
                        check(&name, &packet, &bytes);
                    }
                }
            }
        }
    }
    assert!(seeds >= 30, "only {seeds} seeds in the corpus");
}

fn check(name: &str, packet: &Packet, bytes: &[u8]) {
    assert_eq!(packet.encode(), bytes, "{name} re-encodes differently");
    if let Packet::Data(d) = packet {
        for frag in d.fragments() {
            let _ = frag;
        }
    }
}
