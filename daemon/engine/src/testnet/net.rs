//! A simulated network in virtual time: seeded loss, duplication, delay
//! and reordering, and partitions, between numbered nodes.

use crate::rng::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Which of a daemon's ports a datagram is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    Data,
    Token,
}

#[derive(Clone, Debug)]
pub struct Datagram {
    pub from: usize,
    pub to: usize,
    pub port: Port,
    pub bytes: Vec<u8>,
}

/// How bad the network is.
#[derive(Clone, Debug)]
pub struct Faults {
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Probability that a datagram arrives twice.
    pub duplicate: f64,
    /// Delay bounds in microseconds; a spread between them reorders.
    pub min_delay_us: u64,
    pub max_delay_us: u64,
}

impl Faults {
    pub const NONE: Faults = Faults {
        loss: 0.0,
        duplicate: 0.0,
        min_delay_us: 20,
        max_delay_us: 20,
    };
}

pub struct Net {
    faults: Faults,
    rng: Rng,
    /// (arrival time, sequence) → datagram, earliest first.
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    slots: Vec<Option<Datagram>>,
    free: Vec<usize>,
    sequence: u64,
    /// Component of each node; nodes in different components cannot talk.
    component: Vec<u32>,
    pub sent: u64,
    pub lost: u64,
}

impl Net {
    pub fn new(nodes: usize, faults: Faults, seed: u64) -> Net {
        Net {
            faults,
            rng: Rng::new(seed),
            queue: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            sequence: 0,
            component: vec![0; nodes],
            sent: 0,
            lost: 0,
        }
    }

    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// Puts nodes into components (same number = can talk).
    pub fn partition(&mut self, component: Vec<u32>) {
        self.component = component;
    }

    pub fn heal(&mut self) {
        self.component.iter_mut().for_each(|c| *c = 0);
    }

    fn enqueue(&mut self, at: u64, d: Datagram) {
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(d);
                i
            }
            None => {
                self.slots.push(Some(d));
                self.slots.len() - 1
            }
        };
        self.sequence += 1;
        self.queue.push(Reverse((at, self.sequence, slot)));
    }

    pub fn send(&mut self, now: u64, d: Datagram) {
        self.sent += 1;
        if self.component[d.from] != self.component[d.to] || self.rng.chance(self.faults.loss) {
            self.lost += 1;
            return;
        }
        let copies = if self.rng.chance(self.faults.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self
                .rng
                .between(self.faults.min_delay_us, self.faults.max_delay_us);
            self.enqueue(now + delay, d.clone());
        }
    }

    /// When the next datagram arrives.
    pub fn next_arrival(&self) -> Option<u64> {
        self.queue.peek().map(|Reverse((t, _, _))| *t)
    }

    /// The next datagram due at or before `now`. A partition made after
    /// sending still stops it (the link is cut while it is in flight).
    pub fn pop_due(&mut self, now: u64) -> Option<Datagram> {
        loop {
            let &Reverse((t, _, slot)) = self.queue.peek()?;
            if t > now {
                return None;
            }
            self.queue.pop();
            let d = self.slots[slot].take().expect("queued slot");
            self.free.push(slot);
            if self.component[d.from] == self.component[d.to] {
                return Some(d);
            }
            self.lost += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dg(from: usize, to: usize) -> Datagram {
        Datagram {
            from,
            to,
            port: Port::Data,
            bytes: vec![from as u8],
        }
    }

    #[test]
    fn delivers_in_time_order_and_respects_partitions() {
        let mut n = Net::new(
            3,
            Faults {
                loss: 0.0,
                duplicate: 0.0,
                min_delay_us: 10,
                max_delay_us: 50,
            },
            1,
        );
        for i in 0..20 {
            n.send(i, dg(0, 1));
        }
        let mut last = 0;
        let mut got = 0;
        while let Some(t) = n.next_arrival() {
            assert!(t >= last);
            last = t;
            got += usize::from(n.pop_due(t).is_some());
        }
        assert_eq!(got, 20);
        n.partition(vec![0, 0, 1]);
        n.send(100, dg(0, 2));
        n.send(100, dg(0, 1));
        assert_eq!(n.pop_due(1000).map(|d| d.to), Some(1));
        assert!(n.pop_due(1000).is_none());
    }

    #[test]
    fn loss_and_duplication_happen_at_their_rates() {
        let mut n = Net::new(
            2,
            Faults {
                loss: 0.1,
                duplicate: 0.1,
                min_delay_us: 1,
                max_delay_us: 1,
            },
            9,
        );
        for _ in 0..10_000 {
            n.send(0, dg(0, 1));
        }
        let mut got = 0;
        while n.pop_due(10).is_some() {
            got += 1;
        }
        assert!((9_500..10_500).contains(&got), "{got}");
        assert!((800..1_200).contains(&n.lost), "{}", n.lost);
    }
}
