//! The partition and flow-control tables a monitor sends: one slot per
//! configured daemon in configuration order (the FC table's slot after the
//! last daemon holds the ring Window), written from the command line or the
//! menu and shown back the way Spread's monitor lists them.

use super::Daemon;
use spread_codec::{FlowControlTable, PartitionTable};
use std::fmt::Write;

/// Every daemon in component 0: no partition.
pub const NO_PARTITION: PartitionTable = [0; 128];

/// A flow-control table that changes nothing (−1 everywhere).
pub const UNCHANGED_FC: FlowControlTable = [[-1; 2]; 128];

/// `d1,d2|d3`: the daemons of each `|`-separated group share a component,
/// numbered 1, 2, ... in order; daemons not named stay in component 0.
pub fn parse_partition(spec: &str, daemons: &[Daemon]) -> Result<PartitionTable, String> {
    let mut table = NO_PARTITION;
    let mut named = vec![false; daemons.len()];
    for (component, group) in spec.split('|').enumerate() {
        let names: Vec<&str> = group
            .split([',', ' '])
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return Err(format!(
                "partition {spec:?}: component {} is empty",
                component + 1
            ));
        }
        for name in names {
            let i = daemons.iter().position(|d| d.name == name).ok_or_else(|| {
                format!("partition {spec:?}: no configured daemon is named {name:?}")
            })?;
            if std::mem::replace(&mut named[i], true) {
                return Err(format!("partition {spec:?}: {name} is named twice"));
            }
            table[i] = component as i16 + 1;
        }
    }
    Ok(table)
}

/// `1: {d1, d2} | 2: {d3}`, components in numeric order.
pub fn describe_partition(table: &PartitionTable, daemons: &[Daemon]) -> String {
    let mut components: Vec<i16> = table[..daemons.len()].to_vec();
    components.sort_unstable();
    components.dedup();
    components
        .iter()
        .map(|&c| {
            let names: Vec<&str> = daemons
                .iter()
                .zip(table)
                .filter(|&(_, &v)| v == c)
                .map(|(d, _)| d.name.as_str())
                .collect();
            format!("{c}: {{{}}}", names.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Each daemon's component, a blank line after each segment.
pub fn partition_map(table: &PartitionTable, daemons: &[Daemon]) -> String {
    let mut out = String::from("\nPartition map:\n\n");
    for (i, d) in daemons.iter().enumerate() {
        let _ = writeln!(out, "\t{}\t{}", d.name, table[i]);
        if daemons
            .get(i + 1)
            .is_none_or(|next| next.segment != d.segment)
        {
            out.push('\n');
        }
    }
    out
}

/// The table that terminates the daemons marked in `killed` (component
/// −1) and leaves the others in their components of `partition`.
pub fn terminate_table(partition: &PartitionTable, killed: &[bool]) -> PartitionTable {
    let mut table = *partition;
    for (slot, &k) in table.iter_mut().zip(killed) {
        if k {
            *slot = -1;
        }
    }
    table
}

/// Which flow-control slot of a daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FcSlot {
    Personal = 0,
    Accelerated = 1,
}

/// Sets `slot` from `value`: `N` for every daemon, or `name=N` for one.
pub fn set_fc(
    table: &mut FlowControlTable,
    slot: FcSlot,
    value: &str,
    daemons: &[Daemon],
) -> Result<(), String> {
    let (who, n) = match value.split_once('=') {
        Some((name, n)) => {
            let i = daemons
                .iter()
                .position(|d| d.name == name.trim())
                .ok_or_else(|| format!("no configured daemon is named {:?}", name.trim()))?;
            (Some(i), n)
        }
        None => (None, value),
    };
    let n = window_value(n)?;
    for (i, entry) in table.iter_mut().take(daemons.len()).enumerate() {
        if who.is_none_or(|w| w == i) {
            entry[slot as usize] = n;
        }
    }
    Ok(())
}

/// A window size: 0..=32767.
pub fn window_value(text: &str) -> Result<i16, String> {
    text.trim()
        .parse::<i16>()
        .ok()
        .filter(|&n| n >= 0)
        .ok_or_else(|| format!("{text:?} is not a window size (0 to 32767)"))
}

/// The ring Window slot (after the last daemon's).
pub fn set_window(table: &mut FlowControlTable, n: i16, daemons: &[Daemon]) {
    if let Some(e) = table.get_mut(daemons.len()) {
        e[0] = n;
    }
}

/// The parameters of a flow-control table (−1: unchanged).
pub fn fc_map(table: &FlowControlTable, daemons: &[Daemon], accelerated: bool) -> String {
    let window = table.get(daemons.len()).map_or(-1, |e| e[0]);
    let mut out =
        format!("\nFlow control parameters (-1: unchanged):\n\nWindow size:  {window}\n\n");
    for (i, d) in daemons.iter().enumerate() {
        let _ = writeln!(out, "\t{} personal window\t{}", d.name, table[i][0]);
        if accelerated {
            let _ = writeln!(out, "\t{} accelerated window\t{}", d.name, table[i][1]);
        }
        if daemons
            .get(i + 1)
            .is_none_or(|next| next.segment != d.segment)
        {
            out.push('\n');
        }
    }
    out
}

/// What a flow-control table changes, in one line.
pub fn describe_fc(table: &FlowControlTable, daemons: &[Daemon]) -> String {
    let mut parts = Vec::new();
    if let Some(e) = table.get(daemons.len()).filter(|e| e[0] != -1) {
        parts.push(format!("Window {}", e[0]));
    }
    for (what, slot) in [("PersonalWindow", 0), ("AcceleratedWindow", 1)] {
        let set: Vec<String> = daemons
            .iter()
            .zip(table)
            .filter(|(_, e)| e[slot] != -1)
            .map(|(d, e)| format!("{} {}", d.name, e[slot]))
            .collect();
        if !set.is_empty() {
            parts.push(format!("{what} {}", set.join(", ")));
        }
    }
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemons() -> Vec<Daemon> {
        ["d1", "d2", "d3"]
            .iter()
            .enumerate()
            .map(|(i, n)| Daemon {
                name: n.to_string(),
                id: i as u32 + 1,
                addr: "127.0.0.1:4803".parse().unwrap(),
                segment: usize::from(i == 2),
            })
            .collect()
    }

    #[test]
    fn partition_specs() {
        let d = daemons();
        let t = parse_partition("d1,d2|d3", &d).unwrap();
        assert_eq!(&t[..4], &[1, 1, 2, 0]);
        assert_eq!(describe_partition(&t, &d), "1: {d1, d2} | 2: {d3}");
        let t = parse_partition(" d3 | d1 ", &d).unwrap();
        assert_eq!(&t[..3], &[2, 0, 1]);
        assert_eq!(describe_partition(&t, &d), "0: {d2} | 1: {d3} | 2: {d1}");
        assert!(parse_partition("d1|d4", &d).unwrap_err().contains("\"d4\""));
        assert!(parse_partition("d1|d1", &d).unwrap_err().contains("twice"));
        assert!(parse_partition("d1||d2", &d).unwrap_err().contains("empty"));
        assert_eq!(
            partition_map(&t, &d),
            "\nPartition map:\n\n\td1\t2\n\td2\t0\n\n\td3\t1\n\n"
        );
    }

    #[test]
    fn termination_keeps_the_others_components() {
        let d = daemons();
        let p = parse_partition("d1,d2|d3", &d).unwrap();
        let t = terminate_table(&p, &[false, true, false]);
        assert_eq!(&t[..3], &[1, -1, 2]);
    }

    #[test]
    fn flow_control_values() {
        let d = daemons();
        let mut t = UNCHANGED_FC;
        assert_eq!(describe_fc(&t, &d), "nothing");
        set_fc(&mut t, FcSlot::Personal, "10", &d).unwrap();
        set_fc(&mut t, FcSlot::Personal, "d2=5", &d).unwrap();
        set_fc(&mut t, FcSlot::Accelerated, "d3=2", &d).unwrap();
        set_window(&mut t, 80, &d);
        assert_eq!(&t[..4], &[[10, -1], [5, -1], [10, 2], [80, -1]]);
        assert_eq!(
            describe_fc(&t, &d),
            "Window 80; PersonalWindow d1 10, d2 5, d3 10; AcceleratedWindow d3 2"
        );
        assert!(set_fc(&mut t, FcSlot::Personal, "d9=1", &d).is_err());
        assert!(set_fc(&mut t, FcSlot::Personal, "-2", &d).is_err());
        assert!(fc_map(&t, &d, true).contains("\td3 accelerated window\t2\n"));
        assert!(fc_map(&t, &d, false).contains("Window size:  80\n"));
    }
}
