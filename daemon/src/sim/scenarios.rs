//! Named failure scenarios on the simulated cluster, each checking what
//! clients see against what EVS and 5.0.1 promise.

#[cfg(test)]
mod tests {
    use crate::engine::membership::State;
    use crate::sim::checker::{check, Event};
    use crate::sim::cluster::Cluster;
    use crate::sim::net::Faults;

    fn formed(daemons: usize, clients: usize) -> Cluster {
        let mut c = Cluster::new(daemons, clients, Faults::NONE, 1, false);
        c.run_for(6_000_000);
        for i in 0..daemons {
            assert_eq!(c.state(i), State::Op, "daemon {i}");
            assert_eq!(c.ring_of(i), (0..daemons).collect::<Vec<_>>(), "daemon {i}");
        }
        c
    }

    #[test]
    fn daemons_started_together_form_one_ring() {
        let mut c = formed(3, 1);
        for k in 0..3 {
            c.join(k, "g");
        }
        c.run_for(1_000_000);
        for k in 0..3 {
            c.send(k, "g", spread_core::consts::AGREED_MESS);
        }
        c.run_for(1_000_000);
        let logs = c.logs();
        check(&logs).unwrap();
        for l in &logs {
            let msgs = l
                .events
                .iter()
                .filter(|e| matches!(e, Event::Message { .. }))
                .count();
            assert_eq!(msgs, 3, "{}: {:?}", l.name, l.events);
        }
    }

    /// A message of many packets is half sent when a daemon crashes: the
    /// new ring carries it whole, to the sender's daemon and the other
    /// survivor (issue 12, item 1).
    #[test]
    fn a_message_half_sent_when_the_ring_changes_arrives_whole() {
        use crate::sim::cluster::LARGEST_BODY;
        use spread_core::consts::SAFE_MESS;
        for crash_after in [20, 60, 100, 150, 200, 300, 1_000] {
            let mut c = formed(3, 1);
            for k in 0..3 {
                c.join(k, "g");
            }
            c.run_for(1_000_000);
            c.send_sized(0, "g", SAFE_MESS, LARGEST_BODY);
            c.run_for(crash_after);
            c.crash(2);
            c.run_for(20_000_000);
            let logs = c.logs();
            check(&logs).unwrap();
            for l in &logs[..2] {
                let got = l.events.iter().any(|e| matches!(e, Event::Message { .. }));
                assert!(
                    got,
                    "crash after {crash_after} µs: {} lost it: {:?}",
                    l.name, l.events
                );
            }
        }
    }

    /// A daemon configured alone is a ring of one from its start: its
    /// clients' requests take the ring's way and are ordered at once.
    #[test]
    fn a_daemon_alone_is_a_ring_of_one_at_once() {
        let mut c = Cluster::new(1, 2, Faults::NONE, 1, false);
        c.run_for(1_000);
        assert_eq!(c.state(0), State::Op);
        assert_eq!(c.ring_of(0), vec![0]);
        c.join(0, "g");
        c.join(1, "g");
        c.send(0, "g", spread_core::consts::SAFE_MESS);
        let logs = c.logs();
        check(&logs).unwrap();
        for l in &logs {
            let msgs = l
                .events
                .iter()
                .filter(|e| matches!(e, Event::Message { .. }))
                .count();
            assert_eq!(msgs, 1, "{}: {:?}", l.name, l.events);
        }
    }
}
