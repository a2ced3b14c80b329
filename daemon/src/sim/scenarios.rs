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

    /// The groups client `k` of `formed(3, 20)` joins in
    /// `a_merge_of_10000_members_goes_as_several_groups_messages`: 169 of
    /// 1,014 groups of ten members (the clients of its number modulo 6,
    /// at all three daemons), and one group of all 60.
    fn groups_of_client(k: usize) -> Vec<String> {
        let small = (0..169).map(|j| format!("s{}", k % 6 + 6 * j));
        small.chain(["all".to_string()]).collect()
    }

    /// Two parts of the ring merge with 10,200 members in 1,015 groups:
    /// the state of the part of two daemons is about 280 KB, more than one
    /// message carries, so its representative sends it as several GROUPS
    /// messages. After the heal the exchange completes at every daemon,
    /// every daemon knows every member, every client's last view of each
    /// of its groups holds all its members, and EVS holds (issue 12,
    /// item 3).
    #[test]
    fn a_merge_of_10000_members_goes_as_several_groups_messages() {
        use spread_core::consts::AGREED_MESS;
        let mut c = formed(3, 20);
        for k in 0..c.client_count() {
            for g in groups_of_client(k) {
                c.join(k, &g);
            }
        }
        c.run_for(5_000_000);
        let members = |c: &Cluster, i: usize| -> usize {
            c.engine(i).groups().iter().map(|g| g.members.len()).sum()
        };
        for i in 0..3 {
            assert_eq!(members(&c, i), 10_200, "daemon {i} before the partition");
        }
        c.net.partition(vec![0, 0, 1]);
        c.run_for(20_000_000);
        c.net.heal();
        c.run_for(30_000_000);
        assert!(c.converged(), "one ring again");
        for i in 0..3 {
            assert!(!c.engine(i).exchanging(), "daemon {i} still exchanging");
            assert_eq!(members(&c, i), 10_200, "daemon {i} after the merge");
            assert_eq!(c.engine(i).group_count(), 1_015, "daemon {i}");
        }
        // The merged groups go on: one message from every client to all.
        for k in 0..c.client_count() {
            c.send(k, "all", AGREED_MESS);
        }
        c.run_for(5_000_000);
        let logs = c.logs();
        check(&logs).unwrap();
        for (k, l) in logs.iter().enumerate() {
            for g in groups_of_client(k) {
                let last = l.events.iter().rev().find_map(|e| match e {
                    Event::View(v) if v.group == g => Some(v),
                    _ => None,
                });
                let size = if g == "all" { 60 } else { 10 };
                assert_eq!(
                    last.map(|v| v.members.len()),
                    Some(size),
                    "{}'s last view of {g}",
                    l.name
                );
            }
            let got = l
                .events
                .iter()
                .filter(|e| matches!(e, Event::Message { .. }))
                .count();
            assert_eq!(got, 60, "{}: the messages to all", l.name);
        }
    }

    /// The last view of `group` client `k` saw, as member names.
    fn last_view(c: &Cluster, k: usize, group: &str) -> Vec<String> {
        c.logs()[k]
            .events
            .iter()
            .rev()
            .find_map(|e| match e {
                Event::View(v) if v.group == group => Some(v.members.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// Runs `us` of virtual time with every connected client sending to
    /// "g" every 20 ms, AGREED and SAFE by turns.
    fn traffic(c: &mut Cluster, us: u64) {
        use spread_core::consts::{AGREED_MESS, SAFE_MESS};
        let end = c.now + us;
        let mut turn = 0;
        while c.now < end {
            for k in 0..c.client_count() {
                if c.is_connected(k) {
                    let service = if turn % 2 == 0 {
                        AGREED_MESS
                    } else {
                        SAFE_MESS
                    };
                    c.send(k, "g", service);
                }
            }
            turn += 1;
            c.run_for(20_000);
        }
    }

    /// Traffic until every running daemon is in one ring (at most a
    /// minute), then two seconds more.
    fn settle(c: &mut Cluster) {
        let end = c.now + 60_000_000;
        while !c.converged() && c.now < end {
            traffic(c, 500_000);
        }
        traffic(c, 2_000_000);
    }

    /// Dynamic configuration under traffic: a fourth daemon, started with
    /// the new configuration, joins the running three once they reload
    /// (at different moments); then one of the four is removed (it exits,
    /// as 5.0.1 does when it is no longer configured). The other daemons'
    /// clients keep their sessions and every log is EVS. Packets are lost
    /// and reordered, so that the old ring's packets are retransmitted
    /// after some daemons reloaded.
    #[test]
    fn daemons_added_and_removed_by_reloads_under_traffic() {
        let faults = Faults {
            loss: 0.03,
            duplicate: 0.01,
            min_delay_us: 20,
            max_delay_us: 300,
        };
        for seed in 1..=4u64 {
            let mut c = Cluster::new(4, 2, faults.clone(), seed, false);
            for i in 0..3 {
                c.start_as(i, &[0, 1, 2], 99);
            }
            c.start_as(3, &[0, 1, 2, 3], 100);
            for k in 0..c.client_count() {
                c.join(k, "g");
            }
            let formed =
                |c: &Cluster| (0..3).all(|i| c.state(i) == State::Op && c.ring_of(i) == [0, 1, 2]);
            while !formed(&c) && c.now < 60_000_000 {
                c.run_for(500_000);
            }
            assert!(formed(&c), "seed {seed}: the first three in one ring");
            assert_eq!(c.ring_of(3), vec![3], "seed {seed}");
            traffic(&mut c, 200_000);
            let skew = 30_000 * seed;
            for i in 0..3 {
                c.reload(i, &[0, 1, 2, 3], 100, false);
                traffic(&mut c, skew);
            }
            settle(&mut c);
            assert!(c.converged(), "seed {seed}: four daemons in one ring");
            assert_eq!(
                last_view(&c, 0, "g").len(),
                8,
                "seed {seed}: every client in g"
            );
            // d2 leaves the configuration: it exits on its reload.
            for i in [0, 1, 3] {
                c.reload(i, &[0, 1, 3], 101, false);
                traffic(&mut c, skew);
            }
            c.crash(2);
            settle(&mut c);
            assert!(c.converged(), "seed {seed}: three daemons in one ring");
            c.run_for(2_000_000);
            let logs = c.logs();
            if let Err(v) = check(&logs) {
                panic!("seed {seed}: EVS violation: {v}");
            }
            for k in 0..c.client_count() {
                let node_removed = k / 2 == 2;
                assert_eq!(c.is_connected(k), !node_removed, "seed {seed}: client {k}");
            }
            assert_eq!(last_view(&c, 0, "g").len(), 6, "seed {seed}");
        }
    }

    /// A reload that changed some daemon's identity: each daemon first
    /// forms a ring alone, keeping only its own clients in its groups, then
    /// all merge again; the logs stay EVS.
    #[test]
    fn a_reload_that_partitions_to_singletons_merges_again() {
        let mut c = formed(3, 1);
        for k in 0..3 {
            c.join(k, "g");
        }
        traffic(&mut c, 500_000);
        for i in 0..3 {
            c.reload(i, &[0, 1, 2], 100, true);
            traffic(&mut c, 10_000);
        }
        traffic(&mut c, 15_000_000);
        assert!(c.converged());
        assert_eq!(last_view(&c, 0, "g").len(), 3);
        check(&c.logs()).unwrap();
    }
}
