//! The flush protocol under simulated Spread histories, checked for view
//! synchrony. N engines share one group; the Spread layer is modelled as
//! EVS with one total order per network component (what is ordered reaches
//! every recipient's inbox at once), and the engines consume their inboxes
//! at random paces, so their sends (data, FLUSH_OK, FLUSH_RECV) land at
//! random points of the order. Joins, leaves, crashes, partitions and
//! merges come as Spread delivers them. Seeded: a failure prints the seed,
//! `FLUSH_SIM_SEED=<n> cargo test -p spread-core flush::sim` replays it.
//!
//! Checked: every data message is delivered in the view it was sent in
//! (its body names the sender's view), only from a member of that view and
//! only to a member (closed groups: a non-member's send is refused with
//! ILLEGAL_GROUP); members that move from view V to the same next view
//! delivered the same multicasts in V; and once the network heals and
//! everyone flushes, every member is in one steady view of exactly the
//! group's Spread members.

use super::*;
use crate::consts::*;
use crate::name::GroupName;
use crate::wire::{ByteOrder, DataMessage, GroupId, MembershipMessage, Message, TransitionMessage};
use std::collections::{BTreeSet, HashMap, VecDeque};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Debug)]
enum Ev {
    View(GroupId),
    Msg(u64),
    Gone,
}

struct Proc {
    name: GroupName,
    engine: FlushEngine,
    alive: bool,
    comp: usize,
    in_group: bool,
    inbox: VecDeque<Message>,
    pending_flush: bool,
    view: Option<(GroupId, Vec<GroupName>)>,
    log: Vec<Ev>,
}

const SUBGROUP_ID: u64 = 1 << 63;

struct World {
    rng: Rng,
    procs: Vec<Proc>,
    group: GroupName,
    next_gid: i32,
    next_msg: u64,
    next_comp: usize,
    network_views: usize,
}

impl World {
    fn new(seed: u64, n: usize) -> World {
        World {
            rng: Rng(seed),
            procs: (0..n)
                .map(|i| {
                    let name = GroupName::from(format!("#p{i}#d{i}").as_str());
                    Proc {
                        name,
                        engine: FlushEngine::new(name),
                        alive: true,
                        comp: 0,
                        in_group: false,
                        inbox: VecDeque::new(),
                        pending_flush: false,
                        view: None,
                        log: Vec::new(),
                    }
                })
                .collect(),
            group: GroupName::from("g"),
            next_gid: 0,
            next_msg: 0,
            next_comp: 1,
            network_views: 0,
        }
    }

    fn gid(&mut self) -> GroupId {
        self.next_gid += 1;
        GroupId {
            proc_id: 1,
            time: 1,
            index: self.next_gid,
        }
    }

    /// Group members (Spread level) of a component, in name order.
    fn members(&self, comp: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.procs.len())
            .filter(|&i| {
                self.procs[i].alive && self.procs[i].comp == comp && self.procs[i].in_group
            })
            .collect();
        v.sort_by_key(|&i| self.procs[i].name);
        v
    }

    fn names(&self, ids: &[usize]) -> Vec<GroupName> {
        ids.iter().map(|&i| self.procs[i].name).collect()
    }

    fn membership(
        &self,
        cause: u32,
        members: &[usize],
        vs: Vec<Vec<GroupName>>,
        local: usize,
        gid: GroupId,
    ) -> Message {
        Message::Membership(MembershipMessage {
            service_type: REG_MEMB_MESS | cause,
            group: self.group,
            members: self.names(members),
            group_id: gid,
            vs_sets: vs,
            local_vs_set: local,
            raw_body: Vec::new(),
            body_order: ByteOrder::NATIVE,
        })
    }

    /// Orders a data message sent by `from` in its component.
    fn order_data(
        &mut self,
        from: usize,
        service_type: u32,
        groups: Vec<GroupName>,
        mess_type: i16,
        data: Vec<u8>,
    ) {
        let comp = self.procs[from].comp;
        let msg = DataMessage {
            service_type,
            sender: self.procs[from].name,
            groups: groups.clone(),
            mess_type,
            endian_mismatch: false,
            data,
        };
        let to: Vec<usize> = if groups.first() == Some(&self.group) {
            self.members(comp)
        } else {
            (0..self.procs.len())
                .filter(|&i| {
                    self.procs[i].alive
                        && self.procs[i].comp == comp
                        && groups.contains(&self.procs[i].name)
                })
                .collect()
        };
        for i in to {
            self.procs[i].inbox.push_back(Message::Data(msg.clone()));
        }
    }

    fn transmit(&mut self, p: usize) {
        while let Some(t) = self.procs[p].engine.poll_transmit() {
            self.order_data(p, t.service_type, vec![t.group], t.mess_type, t.body);
        }
    }

    fn step(&mut self, p: usize, seed: u64) {
        let Some(m) = self.procs[p].inbox.pop_front() else {
            return;
        };
        self.procs[p].engine.handle(m);
        self.transmit(p);
        while let Some(d) = self.procs[p].engine.poll_delivery() {
            let mut network = 0;
            let pr = &mut self.procs[p];
            match d {
                FlushMessage::View(v) => {
                    if v.service_type & CAUSED_BY_NETWORK != 0 {
                        network = 1;
                    }
                    assert_eq!(v.members[v.my_index], pr.name, "seed {seed}");
                    pr.log.push(Ev::View(v.group_id));
                    pr.view = Some((v.group_id, v.members));
                }
                FlushMessage::FlushRequest { .. } => pr.pending_flush = true,
                FlushMessage::Data(m) => {
                    let id = u64::from_ne_bytes(m.data[..8].try_into().unwrap());
                    let sent_in = GroupId::decode(&m.data[8..20], ByteOrder::NATIVE).unwrap();
                    let (now, members) = pr.view.as_ref().unwrap_or_else(|| {
                        panic!("seed {seed}: {} got {id} outside any view", pr.name)
                    });
                    assert_eq!(
                        sent_in, *now,
                        "seed {seed}: {} got message {id:#x} sent in another view",
                        pr.name
                    );
                    assert!(
                        members.contains(&m.sender),
                        "seed {seed}: sender not in the view"
                    );
                    pr.log.push(Ev::Msg(id));
                }
                FlushMessage::SelfLeave { .. } => {
                    pr.log.push(Ev::Gone);
                    pr.view = None;
                    pr.pending_flush = false;
                }
                FlushMessage::Transition { .. } | FlushMessage::Reject(_) => {}
            }
            self.network_views += network;
        }
    }

    fn flush(&mut self, p: usize) {
        self.procs[p].pending_flush = false;
        let g = self.group;
        if self.procs[p].engine.flush(&g).is_ok() {
            self.transmit(p);
        }
    }

    fn send(&mut self, p: usize, seed: u64) {
        let g = self.group;
        let service = [AGREED_MESS, FIFO_MESS, RELIABLE_MESS, SAFE_MESS][self.rng.below(4)];
        let state = self.procs[p].engine.group_state(&g);
        let subgroup: Option<Vec<GroupName>> = match (&self.procs[p].view, self.rng.chance(25)) {
            (Some((_, members)), true) => Some(
                members
                    .iter()
                    .filter(|_| self.rng.chance(50))
                    .copied()
                    .collect(),
            ),
            _ => None,
        };
        let out = self.procs[p]
            .engine
            .prepare_send(service, &g, subgroup.as_deref(), 7, 1);
        let out = match (state, out) {
            (Some((JoinState::Joined, s)), Ok(o)) if s != ViewState::Agree => o,
            (Some((JoinState::Joined, ViewState::Agree)), Err(e)) => {
                assert_eq!(e.code(), ILLEGAL_STATE, "seed {seed}");
                return;
            }
            (Some((JoinState::Joined, _)), r) => panic!("seed {seed}: a member's send: {r:?}"),
            (_, Err(e)) => {
                assert_eq!(e.code(), ILLEGAL_GROUP, "seed {seed}: closed group");
                return;
            }
            (s, Ok(_)) => panic!("seed {seed}: a non-member ({s:?}) could send"),
        };
        self.next_msg += 1;
        let id = self.next_msg | if subgroup.is_some() { SUBGROUP_ID } else { 0 };
        let mut data = id.to_ne_bytes().to_vec();
        let view = self.procs[p].engine.view_of(&g).unwrap().0;
        data.extend_from_slice(&view.encode(ByteOrder::NATIVE));
        data.extend_from_slice(&out.trailer);
        self.order_data(p, out.service_type, out.groups, out.mess_type, data);
    }

    fn join(&mut self, p: usize) {
        let g = self.group;
        if self.procs[p].in_group || self.procs[p].engine.check_join(&g).is_err() {
            return;
        }
        self.procs[p].in_group = true;
        let comp = self.procs[p].comp;
        let members = self.members(comp);
        let gid = self.gid();
        let m = self.membership(
            CAUSED_BY_JOIN,
            &members,
            vec![vec![self.procs[p].name]],
            0,
            gid,
        );
        for i in members {
            self.procs[i].inbox.push_back(m.clone());
        }
    }

    fn leave(&mut self, p: usize) {
        let g = self.group;
        if !self.procs[p].in_group || self.procs[p].engine.leave(&g).is_err() {
            return;
        }
        self.procs[p].in_group = false;
        self.procs[p]
            .inbox
            .push_back(Message::SelfLeave { group: g });
        self.remove(p, CAUSED_BY_LEAVE);
    }

    fn remove(&mut self, p: usize, cause: u32) {
        let members = self.members(self.procs[p].comp);
        if members.is_empty() {
            return;
        }
        let gid = self.gid();
        let m = self.membership(cause, &members, vec![vec![self.procs[p].name]], 0, gid);
        for i in members {
            self.procs[i].inbox.push_back(m.clone());
        }
    }

    fn crash(&mut self, p: usize) {
        self.procs[p].alive = false;
        self.procs[p].log.push(Ev::Gone);
        if self.procs[p].in_group {
            self.procs[p].in_group = false;
            self.remove(p, CAUSED_BY_DISCONNECT);
        }
    }

    fn partition(&mut self) {
        let comp = self.procs[self.rng.below(self.procs.len())].comp;
        let all: Vec<usize> = (0..self.procs.len())
            .filter(|&i| self.procs[i].alive && self.procs[i].comp == comp)
            .collect();
        if all.len() < 2 {
            return;
        }
        let new = self.next_comp;
        self.next_comp += 1;
        let mut moved = 0;
        for &i in &all {
            if self.rng.chance(50) && moved + 1 < all.len() {
                self.procs[i].comp = new;
                moved += 1;
            }
        }
        if moved == 0 {
            self.procs[all[0]].comp = new;
        }
        let (a, b) = (self.members(comp), self.members(new));
        if a.is_empty() || b.is_empty() {
            return;
        }
        for side in [a, b] {
            let gid = self.gid();
            let m = self.membership(CAUSED_BY_NETWORK, &side, vec![self.names(&side)], 0, gid);
            for &i in &side {
                self.procs[i]
                    .inbox
                    .push_back(Message::Transition(TransitionMessage {
                        group: self.group,
                        group_id: GroupId::default(),
                    }));
                self.procs[i].inbox.push_back(m.clone());
            }
        }
    }

    fn merge(&mut self) {
        let comps: BTreeSet<usize> = self
            .procs
            .iter()
            .filter(|p| p.alive)
            .map(|p| p.comp)
            .collect();
        if comps.len() < 2 {
            return;
        }
        let comps: Vec<usize> = comps.into_iter().collect();
        let (x, y) = (comps[0], comps[1 + self.rng.below(comps.len() - 1)]);
        let (a, b) = (self.members(x), self.members(y));
        for p in self.procs.iter_mut().filter(|p| p.comp == y) {
            p.comp = x;
        }
        if a.is_empty() || b.is_empty() {
            return;
        }
        let all = self.members(x);
        let gid = self.gid();
        let vs = vec![self.names(&a), self.names(&b)];
        for &i in &all {
            let local = usize::from(b.contains(&i));
            let m = self.membership(CAUSED_BY_NETWORK, &all, vs.clone(), local, gid);
            self.procs[i].inbox.push_back(m);
        }
    }

    fn run(&mut self, seed: u64, steps: usize) {
        let n = self.procs.len();
        for _ in 0..steps {
            let p = self.rng.below(n);
            if !self.procs[p].alive {
                continue;
            }
            match self.rng.below(100) {
                0..=49 => self.step(p, seed),
                50..=59 => {
                    if self.procs[p].pending_flush {
                        self.flush(p)
                    }
                }
                60..=79 => self.send(p, seed),
                80..=86 => self.join(p),
                87..=91 => self.leave(p),
                92 => {
                    if self.procs.iter().filter(|p| p.alive).count() > 2 {
                        self.crash(p)
                    }
                }
                93..=95 => self.partition(),
                _ => self.merge(),
            }
        }
        // Heal, then let everyone catch up and flush.
        while self
            .procs
            .iter()
            .filter(|p| p.alive)
            .map(|p| p.comp)
            .collect::<BTreeSet<_>>()
            .len()
            > 1
        {
            self.merge();
        }
        loop {
            let mut busy = false;
            for p in 0..n {
                if !self.procs[p].alive {
                    continue;
                }
                while !self.procs[p].inbox.is_empty() {
                    self.step(p, seed);
                    busy = true;
                }
                if self.procs[p].pending_flush {
                    self.flush(p);
                    busy = true;
                }
            }
            if !busy {
                break;
            }
        }
        self.check(seed);
    }

    fn check(&self, seed: u64) {
        // Same messages between the same two views.
        let mut between: HashMap<(GroupId, GroupId), (usize, BTreeSet<u64>)> = HashMap::new();
        for (i, p) in self.procs.iter().enumerate() {
            let mut cur: Option<(GroupId, BTreeSet<u64>)> = None;
            for e in &p.log {
                match e {
                    Ev::View(v) => {
                        if let Some((old, msgs)) = cur.take() {
                            if let Some((j, other)) = between.get(&(old, *v)) {
                                assert_eq!(
                                    &msgs, other,
                                    "seed {seed}: {} and {} moved from view {old} to {v} with different messages",
                                    p.name, self.procs[*j].name
                                );
                            } else {
                                between.insert((old, *v), (i, msgs));
                            }
                        }
                        cur = Some((*v, BTreeSet::new()));
                    }
                    Ev::Msg(id) => {
                        if id & SUBGROUP_ID == 0 {
                            cur.as_mut().expect("checked at delivery").1.insert(*id);
                        }
                    }
                    Ev::Gone => cur = None,
                }
            }
        }
        // Liveness: one steady view of the group's members.
        let members = self.names(&self.members(self.procs.iter().find(|p| p.alive).unwrap().comp));
        for p in self.procs.iter().filter(|p| p.alive && p.in_group) {
            let (_, view) = p
                .view
                .as_ref()
                .unwrap_or_else(|| panic!("seed {seed}: {} has no view", p.name));
            assert_eq!(
                view, &members,
                "seed {seed}: {} ends in another view",
                p.name
            );
            assert_eq!(
                p.engine.group_state(&self.group),
                Some((JoinState::Joined, ViewState::Steady)),
                "seed {seed}: {} not steady",
                p.name
            );
        }
    }
}

fn seeds() -> Vec<u64> {
    match std::env::var("FLUSH_SIM_SEED") {
        Ok(s) => vec![s.parse().expect("FLUSH_SIM_SEED is a number")],
        Err(_) => (0..1500).collect(),
    }
}

#[test]
fn random_histories_keep_view_synchrony() {
    let (mut views, mut msgs, mut network) = (0, 0, 0);
    for seed in seeds() {
        let n = 3 + (seed % 3) as usize;
        let mut w = World::new(seed, n);
        w.run(seed, 600);
        for p in &w.procs {
            views += p.log.iter().filter(|e| matches!(e, Ev::View(_))).count();
            msgs += p.log.iter().filter(|e| matches!(e, Ev::Msg(_))).count();
        }
        network += w.network_views;
    }
    eprintln!(
        "{views} views installed ({network} caused by the network), {msgs} messages delivered"
    );
    assert!(views > 1000 && msgs > 1000 && network > 100);
}
