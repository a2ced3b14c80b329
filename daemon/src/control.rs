//! What a monitor may impose on a daemon (daemon-protocol.md §6, §3.6): a
//! partition of the configured daemons into components, whose traffic
//! across components is then dropped at receive; this daemon's termination
//! (its component is −1); new flow-control windows.
//!
//! Both need `DangerousMonitor = true`. Like a STATUS request, a request
//! counts only when it comes from the configured address of the configured
//! daemon it names as its transmitter; it must also carry this
//! configuration's hash, since a partition names daemons by their position
//! in the configuration. A partition lapses a minute after the last
//! PARTITION packet (a monitor resends every 25 s while it wants it); an
//! all-zero table lifts it at once.
//!
//! Sans-IO: the runtime hands in decoded packets, who sent them and the
//! time, and does what [`Imposed`] says.

use crate::packet::{MonitorBody, MonitorPacket, PartitionTable};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tracing::{debug, error, info, warn};

/// A partition lapses this long after the last PARTITION packet.
pub const PARTITION_LIFETIME: Duration = Duration::from_secs(60);

/// What a monitor's requests are checked against.
#[derive(Clone, Debug)]
pub struct ControlSettings {
    /// `DangerousMonitor = true`: partitions and window changes are obeyed.
    pub dangerous_monitor: bool,
    pub conf_hash: u32,
    /// Every configured daemon's name, in configuration order.
    pub daemons: Vec<String>,
    /// This daemon's position in `daemons`.
    pub my_index: usize,
}

/// New flow-control windows; `None` leaves a value unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Windows {
    pub window: Option<i32>,
    pub personal: Option<i32>,
    pub accelerated: Option<i32>,
}

/// What the daemon must do after a monitor's request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imposed {
    Nothing,
    Windows(Windows),
    /// The monitor put this daemon in component −1: it exits.
    Exit,
}

struct Partition {
    table: PartitionTable,
    expires: Instant,
}

pub struct Control {
    settings: ControlSettings,
    partition: Option<Partition>,
    /// Datagrams dropped since the current partition was imposed.
    dropped: u64,
    /// A refusal for want of DangerousMonitor is logged once.
    refusal_logged: bool,
}

impl Control {
    pub fn new(settings: ControlSettings) -> Control {
        Control {
            settings,
            partition: None,
            dropped: 0,
            refusal_logged: false,
        }
    }

    /// The hash of the configuration in force.
    pub fn conf_hash(&self) -> u32 {
        self.settings.conf_hash
    }

    /// A PARTITION or FC request from `from`; `sender` is the configuration
    /// position of the daemon whose address it came from and whose id it
    /// carries as transmitter (None: nobody's, the request is ignored).
    pub fn request(
        &mut self,
        packet: &MonitorPacket,
        from: SocketAddr,
        sender: Option<usize>,
        now: Instant,
    ) -> Imposed {
        let what = match &packet.body {
            MonitorBody::Partition(_) => "partition",
            MonitorBody::FlowControl(_) => "flow control",
            _ => return Imposed::Nothing,
        };
        if sender.is_none() {
            debug!(target: "spread::status", "ignored a {what} request from {from}: not the address of the configured daemon {} it names", packet.header.transmiter_id);
            return Imposed::Nothing;
        }
        if packet.header.conf_hash != self.settings.conf_hash {
            debug!(target: "spread::status", "ignored a {what} request from {from}: configuration hash {} is not ours ({})", packet.header.conf_hash, self.settings.conf_hash);
            return Imposed::Nothing;
        }
        if !self.settings.dangerous_monitor {
            if !self.refusal_logged {
                self.refusal_logged = true;
                warn!(target: "spread::status", "refused a {what} request from {from}: DangerousMonitor is not set (further refusals are not logged)");
            } else {
                debug!(target: "spread::status", "refused a {what} request from {from}: DangerousMonitor is not set");
            }
            return Imposed::Nothing;
        }
        match &packet.body {
            MonitorBody::Partition(table) => self.partition(table, from, now),
            MonitorBody::FlowControl(table) => self.flow_control(table, from),
            _ => Imposed::Nothing,
        }
    }

    fn partition(&mut self, table: &PartitionTable, from: SocketAddr, now: Instant) -> Imposed {
        let n = self.settings.daemons.len().min(table.len());
        let mut table = *table;
        // Slots past the configured daemons mean nothing.
        table[n..].fill(0);
        let mine = table[self.settings.my_index];
        if mine == -1 {
            error!(target: "spread::status", "terminated by the monitor at {from}");
            return Imposed::Exit;
        }
        if table.iter().all(|&c| c == 0) {
            if self.partition.take().is_some() {
                info!(target: "spread::status", "partition lifted by the monitor at {from}; {} datagrams from other components were dropped", self.dropped);
            }
            return Imposed::Nothing;
        }
        let expires = now + PARTITION_LIFETIME;
        if let Some(p) = self.partition.as_mut().filter(|p| p.table == table) {
            // The monitor's periodic resend.
            p.expires = expires;
            return Imposed::Nothing;
        }
        if self.partition.is_none() {
            self.dropped = 0;
        }
        info!(target: "spread::status", "partition imposed by the monitor at {from}: {}; I am in component {mine}", self.describe(&table));
        self.partition = Some(Partition { table, expires });
        Imposed::Nothing
    }

    fn flow_control(
        &mut self,
        table: &crate::packet::FlowControlTable,
        from: SocketAddr,
    ) -> Imposed {
        let n = self.settings.daemons.len();
        let me = self.settings.my_index;
        let value = |name: &str, v: Option<i16>| -> Option<i32> {
            match v? {
                -1 => None,
                v if v < 0 => {
                    warn!(target: "spread::status", "ignored {name} {v} from the monitor at {from}");
                    None
                }
                v => Some(i32::from(v)),
            }
        };
        let w = Windows {
            window: value("Window", table.get(n).map(|e| e[0])),
            personal: value("PersonalWindow", Some(table[me][0])),
            accelerated: value("AcceleratedWindow", Some(table[me][1])),
        };
        if w == Windows::default() {
            debug!(target: "spread::status", "flow control request from {from} changes nothing here");
            return Imposed::Nothing;
        }
        let show = |v: Option<i32>| v.map_or("unchanged".to_string(), |v| v.to_string());
        info!(
            target: "spread::status",
            "flow control set by the monitor at {from}: Window {}, PersonalWindow {}, AcceleratedWindow {}",
            show(w.window),
            show(w.personal),
            show(w.accelerated)
        );
        Imposed::Windows(w)
    }

    /// Whether a partition is in force at `now` (one whose time is up is
    /// lifted here).
    pub fn partitioned(&mut self, now: Instant) -> bool {
        if self.partition.as_ref().is_some_and(|p| now >= p.expires) {
            self.partition = None;
            info!(target: "spread::status", "partition lifted: no word from the monitor for {} s; {} datagrams from other components were dropped", PARTITION_LIFETIME.as_secs(), self.dropped);
        }
        self.partition.is_some()
    }

    /// Whether a datagram from the daemon at configuration position
    /// `sender` may be received: it is in my component, or there is no
    /// partition. Those refused are counted.
    pub fn admits(&mut self, sender: usize) -> bool {
        let Some(p) = &self.partition else {
            return true;
        };
        let Some(&theirs) = p.table.get(sender) else {
            return true;
        };
        if theirs == p.table[self.settings.my_index] {
            return true;
        }
        self.dropped += 1;
        false
    }

    /// Datagrams dropped since the current (or last) partition was imposed.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// `{d1, d2} | {d3}`: the components in order of their numbers.
    fn describe(&self, table: &PartitionTable) -> String {
        let mut components: Vec<i16> = table[..self.settings.daemons.len()].to_vec();
        components.sort_unstable();
        components.dedup();
        components
            .iter()
            .map(|&c| {
                let names: Vec<&str> = self
                    .settings
                    .daemons
                    .iter()
                    .zip(table.iter())
                    .filter(|&(_, &v)| v == c)
                    .map(|(name, _)| name.as_str())
                    .collect();
                format!("{c}: {{{}}}", names.join(", "))
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{DataHeader, FC_TYPE, PARTITION_TYPE, STATUS_TYPE};

    const HASH: u32 = 77;

    fn control(dangerous: bool, me: usize) -> Control {
        Control::new(ControlSettings {
            dangerous_monitor: dangerous,
            conf_hash: HASH,
            daemons: vec!["d1".into(), "d2".into(), "d3".into()],
            my_index: me,
        })
    }

    fn from() -> SocketAddr {
        "127.0.0.1:6543".parse().unwrap()
    }

    fn partition(values: &[i16]) -> MonitorPacket {
        let mut table = Box::new([0i16; 128]);
        table[..values.len()].copy_from_slice(values);
        let mut header = DataHeader::new(PARTITION_TYPE, 1);
        header.transmiter_id = 1;
        header.conf_hash = HASH;
        MonitorPacket {
            header,
            body: MonitorBody::Partition(table),
        }
    }

    fn fc(window: i16, personal: [i16; 3], accelerated: [i16; 3]) -> MonitorPacket {
        let mut table = Box::new([[-1i16; 2]; 128]);
        for i in 0..3 {
            table[i] = [personal[i], accelerated[i]];
        }
        table[3][0] = window;
        let mut header = DataHeader::new(FC_TYPE, 1);
        header.transmiter_id = 1;
        header.conf_hash = HASH;
        MonitorPacket {
            header,
            body: MonitorBody::FlowControl(table),
        }
    }

    #[test]
    fn a_partition_drops_other_components_until_lifted() {
        let t0 = Instant::now();
        let mut c = control(true, 0);
        assert!(!c.partitioned(t0));
        assert_eq!(
            c.request(&partition(&[1, 1, 2]), from(), Some(2), t0),
            Imposed::Nothing
        );
        assert!(c.partitioned(t0));
        assert!(c.admits(0) && c.admits(1));
        assert!(!c.admits(2));
        assert!(c.admits(200), "an unknown position is not mine to judge");
        assert_eq!(c.dropped(), 1);
        let mut table = [0i16; 128];
        table[..3].copy_from_slice(&[1, 1, 2]);
        assert_eq!(c.describe(&table), "1: {d1, d2} | 2: {d3}");
        c.request(&partition(&[0, 0, 0]), from(), Some(2), t0);
        assert!(!c.partitioned(t0));
        assert!(c.admits(2));
    }

    #[test]
    fn a_partition_lapses_a_minute_after_the_last_packet() {
        let t0 = Instant::now();
        let mut c = control(true, 2);
        c.request(&partition(&[1, 1, 2]), from(), Some(0), t0);
        let resent = t0 + Duration::from_secs(25);
        c.request(&partition(&[1, 1, 2]), from(), Some(0), resent);
        assert!(c.partitioned(t0 + Duration::from_secs(80)));
        assert!(!c.admits(0));
        assert!(!c.partitioned(resent + PARTITION_LIFETIME));
        assert!(c.admits(0));
    }

    #[test]
    fn minus_one_for_me_is_an_order_to_exit() {
        let mut c = control(true, 1);
        let now = Instant::now();
        assert_eq!(
            c.request(&partition(&[0, 0, -1]), from(), Some(0), now),
            Imposed::Nothing,
            "another daemon's termination"
        );
        assert_eq!(
            c.request(&partition(&[0, -1, 0]), from(), Some(0), now),
            Imposed::Exit
        );
    }

    #[test]
    fn refused_without_dangerous_monitor_forged_or_foreign() {
        let now = Instant::now();
        let mut c = control(false, 1);
        assert_eq!(
            c.request(&partition(&[0, -1, 0]), from(), Some(0), now),
            Imposed::Nothing
        );
        assert_eq!(
            c.request(&fc(10, [5, 5, 5], [1, 1, 1]), from(), Some(0), now),
            Imposed::Nothing
        );
        assert!(!c.partitioned(now));
        let mut c = control(true, 1);
        assert_eq!(
            c.request(&partition(&[0, -1, 0]), from(), None, now),
            Imposed::Nothing,
            "not from a configured daemon's address"
        );
        let mut foreign = partition(&[0, -1, 0]);
        foreign.header.conf_hash = HASH + 1;
        assert_eq!(c.request(&foreign, from(), Some(0), now), Imposed::Nothing);
        let mut status = partition(&[0, -1, 0]);
        status.body = MonitorBody::StatusRequest;
        status.header.ty = STATUS_TYPE;
        assert_eq!(c.request(&status, from(), Some(0), now), Imposed::Nothing);
    }

    #[test]
    fn flow_control_takes_my_slots_and_the_window_after_the_daemons() {
        let now = Instant::now();
        let mut c = control(true, 1);
        assert_eq!(
            c.request(&fc(80, [5, 10, 15], [1, 2, 3]), from(), Some(0), now),
            Imposed::Windows(Windows {
                window: Some(80),
                personal: Some(10),
                accelerated: Some(2),
            })
        );
        assert_eq!(
            c.request(&fc(-1, [5, -1, 15], [1, -7, 3]), from(), Some(0), now),
            Imposed::Nothing,
            "−1 is unchanged; other negative values are ignored"
        );
    }
}
