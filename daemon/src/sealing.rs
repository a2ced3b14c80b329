//! What a sealed ring (`RingKeyFile`) refuses, counted by reason for the
//! metrics and told in the log with the source of the last of each.

use crate::packet::seal::Refusal;
use std::net::SocketAddr;

/// The reason of a sealed datagram at a daemon without a key.
pub const SEALED_WITHOUT_KEY: usize = 6;

/// Datagrams refused for their sealing: how many of each kind, and where
/// the last came from (for the log).
#[derive(Debug, Default, Clone)]
pub struct SealRefusals {
    counts: [u64; SealRefusals::REASONS.len()],
    last_from: [Option<SocketAddr>; SealRefusals::REASONS.len()],
    reported: [u64; SealRefusals::REASONS.len()],
}

const _: () = assert!(SEALED_WITHOUT_KEY == SealRefusals::REASONS.len() - 1);

impl SealRefusals {
    /// Each reason's `reason` label in the metrics, and what the log says.
    pub const REASONS: [(&'static str, &'static str); 7] = [
        (
            "unsealed",
            "not sealed (a daemon without RingKeyFile, or Spread 5.0.1)",
        ),
        ("other_key", "sealed under a key this daemon does not hold"),
        (
            "forged_seal",
            "that do not open under the ring key (forged, damaged or truncated)",
        ),
        ("replayed", "replayed (taken before)"),
        (
            "stale_run",
            "from an earlier run of a daemon than the one heard (replayed)",
        ),
        (
            "untimely_monitor",
            "monitor requests out of time (is the monitor's clock a minute off?)",
        ),
        (
            "sealed_without_key",
            "sealed under a ring key, while this daemon has no RingKeyFile",
        ),
    ];

    pub fn count(&mut self, reason: usize, from: SocketAddr) {
        self.counts[reason] += 1;
        self.last_from[reason] = Some(from);
    }

    pub fn counts(&self) -> [u64; SealRefusals::REASONS.len()] {
        self.counts
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// One line for what came since the last, each reason with the source
    /// of its last datagram.
    pub fn since_reported(&mut self) -> String {
        let mut parts = Vec::new();
        for (i, (_, says)) in SealRefusals::REASONS.iter().enumerate() {
            let new = self.counts[i] - self.reported[i];
            if new > 0 {
                let from =
                    self.last_from[i].map_or(String::new(), |a| format!(", the last from {a}"));
                parts.push(format!("{new} {says}{from}"));
            }
        }
        self.reported = self.counts;
        parts.join("; ")
    }
}

pub fn refusal_index(r: Refusal) -> usize {
    match r {
        Refusal::Plain => 0,
        Refusal::OtherKey => 1,
        Refusal::Forged => 2,
        Refusal::Replayed => 3,
        Refusal::Stale => 4,
        Refusal::Untimely => 5,
    }
}
