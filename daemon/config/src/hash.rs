//! Daemon ids and the configuration hash. Every packet carries the hash and
//! daemons drop packets whose hash differs, so these must match 5.0.1 bit
//! for bit (daemon-protocol.md 2.1.5).

use std::fmt::Write as _;
use std::net::IpAddr;

use super::model::Config;

/// Bob Jenkins' one-at-a-time hash as 5.0.1 computes it: the running value
/// starts at the input length, and bytes are added as signed chars (x86), so
/// 0x80..=0xFF count as negative. Callers include any terminating NUL.
pub fn jenkins_one_at_a_time(bytes: &[u8]) -> u32 {
    let mut h = bytes.len() as u32;
    for &b in bytes {
        h = h.wrapping_add(b as i8 as u32);
        h = h.wrapping_add(h << 10);
        h ^= h >> 6;
    }
    h = h.wrapping_add(h << 3);
    h ^= h >> 11;
    h.wrapping_add(h << 15)
}

/// The id of a daemon without `VirtualID`: the hash of its name and NUL.
/// 0 and 0xFFFFFFFF are reserved, so those hashes are replaced by a value
/// derived from the length.
pub fn automatic_id(name: &str) -> u32 {
    let mut bytes = name.as_bytes().to_vec();
    bytes.push(0);
    match jenkins_one_at_a_time(&bytes) {
        0 | u32::MAX => match (bytes.len() as u32) << 16 {
            0 => 1 << 16,
            id => id,
        },
        id => id,
    }
}

/// Addresses as 5.0.1 prints them into the hashed text: no IPv6 `::`
/// shortening, so that every implementation prints the same bytes.
fn canonical(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let groups: Vec<String> = v6.segments().iter().map(|g| format!("{g:04x}")).collect();
            groups.join(":")
        }
    }
}

impl Config {
    /// The text the configuration hash covers (without its NUL).
    pub fn hash_text(&self) -> String {
        let mut s = String::new();
        for seg in &self.segments {
            let _ = write!(s, "Segment: port = {};", seg.port);
            if !self.exclude_seg_addrs_from_hash {
                for a in &seg.addrs {
                    let _ = write!(s, " [{}]", canonical(a));
                }
            }
            s.push('\n');
            for d in &seg.daemons {
                let _ = writeln!(s, "\t'{}' [{}] [{}]", d.name, canonical(&d.addr), d.id);
            }
            s.push('\n');
        }
        let protocol = match self.accelerated_ring {
            Some(true) => "Accelerated Ring",
            _ => "Original Ring",
        };
        let _ = write!(s, "Version: 5\nProtocol: {protocol}\n");
        // Ours only: a daemon without the same limit computes another hash
        // and never joins (5.0.1's text, and so its hash, is unchanged
        // when the option is absent).
        if let Some(n) = self.max_message_size {
            let _ = writeln!(s, "MaxMessageSize: {n}");
        }
        s
    }

    /// The configuration hash of daemon-protocol.md 2.1.5.
    pub fn hash(&self) -> u32 {
        let mut bytes = self.hash_text().into_bytes();
        bytes.push(0);
        jenkins_one_at_a_time(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_ids_match_spread() {
        assert_eq!(automatic_id("localhost"), 482_711_334);
        assert_eq!(automatic_id("a"), 2_489_203_003);
        assert_eq!(automatic_id("b"), 1_728_699_743);
        assert_eq!(automatic_id("c"), 2_466_198_569);
        assert_eq!(automatic_id("d1"), 1_552_775_919);
        assert_eq!(automatic_id("d2"), 348_480_928);
        assert_eq!(automatic_id("d3"), 4_014_350_958);
    }

    #[test]
    fn high_bytes_are_signed() {
        // "é" in UTF-8: 5.0.1 on x86 adds these bytes as -61 and -87.
        let signed = jenkins_one_at_a_time(&[0xC3, 0xA9, 0]);
        let mut h: u32 = 3;
        for b in [-61i32, -87, 0] {
            h = h.wrapping_add(b as u32);
            h = h.wrapping_add(h << 10);
            h ^= h >> 6;
        }
        h = h.wrapping_add(h << 3);
        h ^= h >> 11;
        assert_eq!(signed, h.wrapping_add(h << 15));
    }

    #[test]
    fn three_daemon_hashes() {
        let text = "Spread_Segment 225.0.0.7:6803 {\n a 127.0.0.1\n b 127.0.0.2\n c 127.0.0.3\n}\n";
        let cfg = Config::parse(text, "t").unwrap();
        assert_eq!(cfg.hash(), 643_029_526);
        let acc = Config::parse(&format!("AcceleratedRing = true\n{text}"), "t").unwrap();
        assert_eq!(acc.hash(), 386_485_764);
        // Written but false: same as absent.
        let off = Config::parse(&format!("{text}AcceleratedRing = no\n"), "t").unwrap();
        assert_eq!(off.hash(), 643_029_526);
    }

    #[test]
    fn recorded_configuration_hash() {
        // vectors-daemon/05-config-hash.txt
        let text = "EventTimeStamp = \"%H:%M:%S\"\nEventPreciseTimeStamp\n\
            Spread_Segment 225.0.0.7:8803 {\n\
            \td1\t127.1.0.1 { D 127.1.0.1 C 127.1.0.1 }\n\
            \td2\t127.1.0.2 { D 127.1.0.2 C 127.1.0.2 }\n\
            \td3\t127.1.0.3 { D 127.1.0.3 C 127.1.0.3 }\n}\n";
        let cfg = Config::parse(text, "t").unwrap();
        let ids: Vec<u32> = cfg.daemons().map(|d| d.id).collect();
        assert_eq!(ids, [1_552_775_919, 348_480_928, 4_014_350_958]);
        assert_eq!(
            cfg.hash_text(),
            "Segment: port = 8803; [225.0.0.7]\n\t'd1' [127.1.0.1] [1552775919]\n\
             \t'd2' [127.1.0.2] [348480928]\n\t'd3' [127.1.0.3] [4014350958]\n\n\
             Version: 5\nProtocol: Original Ring\n"
        );
        assert_eq!(cfg.hash_text().len(), 162);
        assert_eq!(cfg.hash(), 710_834_486);
        let acc = Config::parse(&format!("{text}AcceleratedRing = true\n"), "t").unwrap();
        assert_eq!(acc.hash(), 2_752_617_551);
    }

    #[test]
    fn ipv6_and_excluded_segment_addresses() {
        let text = "ExcludeSegAddrsFromHash = yes\n\
            Spread_Segment [ff02::1]:5000 ff02::2 { x fe80::1%lo VirtualID = 7 }";
        let cfg = Config::parse(text, "t").unwrap();
        assert_eq!(
            cfg.hash_text(),
            "Segment: port = 5000;\n\t'x' [fe80:0000:0000:0000:0000:0000:0000:0001] [7]\n\n\
             Version: 5\nProtocol: Original Ring\n"
        );
    }
}
