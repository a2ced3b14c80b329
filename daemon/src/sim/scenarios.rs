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
}
