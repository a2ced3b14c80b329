//! The flush protocol of one connection as a sans-IO state machine.
//!
//! [`FlushEngine::handle`] takes every message the Spread layer delivers;
//! the engine queues what the application is to receive
//! ([`FlushEngine::poll_delivery`]) and the protocol messages to multicast
//! ([`FlushEngine::poll_transmit`]). The application's calls (join, leave,
//! flush, sends) are checked and laid out here; the caller does the I/O.
//!
//! Per group the engine keeps a join state (joining, joined, leaving) and a
//! view state:
//!
//! * `Steady`: a member of an installed view.
//! * `Authorize`: the Spread membership changed; a flush request was
//!   delivered and the application has not flushed yet (it may still send).
//! * `Agree`: flushed (FLUSH_OK sent); collecting the other members'
//!   FLUSH_OKs; sends are refused.
//! * `Verify`: the new view is installed; until every member's FLUSH_RECV
//!   is in, FIFO-or-weaker sends carry the view id so that a member still
//!   collecting FLUSH_OKs holds them back until it installs the view.
//!
//! Spread memberships that arrive while one is being resolved queue up;
//! one whose members left before sending their FLUSH_OK is dropped and the
//! next one (or the newest) is reported as caused by the network.

use super::error::{FlushError, FlushResult};
use super::wire::{self, Incoming, Outgoing};
use crate::consts::*;
use crate::name::GroupName;
use crate::wire::{
    DataMessage, GroupId, MembershipMessage, Message, RejectMessage, TransitionMessage,
};
use std::collections::{HashMap, HashSet, VecDeque};

/// A FLUSH_OK whose view's membership never comes is forgotten after this
/// many Spread memberships of its group (as 5.0.1 does).
pub const FLOK_AGE_LIMIT: u32 = 200;

/// What the application receives from a Flush connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlushMessage {
    /// An application message (for a unicast or subgroupcast, `groups` is
    /// the receivers followed by the group, as 5.0.1 reports it).
    Data(DataMessage),
    /// The group's view is out of date: flush it ([`FLUSH_REQ_MESS`]).
    FlushRequest {
        /// The group to flush.
        group: GroupName,
    },
    /// A new view of a group: every member has flushed the last one.
    View(FlushView),
    /// Members of the current view are gone; messages from here to the
    /// next view are delivered in a transitional view.
    Transition {
        /// The group.
        group: GroupName,
    },
    /// This connection's leave of a group took effect.
    SelfLeave {
        /// The group left.
        group: GroupName,
    },
    /// A message the daemon refused, returned to its sender.
    Reject(RejectMessage),
}

impl FlushMessage {
    /// The service type as `FL_receive` reports it.
    pub fn service_type(&self) -> u32 {
        match self {
            FlushMessage::Data(m) => m.service_type,
            FlushMessage::FlushRequest { .. } => FLUSH_REQ_MESS,
            FlushMessage::View(v) => v.service_type,
            FlushMessage::Transition { .. } => TRANSITION_MESS,
            FlushMessage::SelfLeave { .. } => CAUSED_BY_LEAVE,
            FlushMessage::Reject(r) => r.old_type | REJECT_MESS,
        }
    }

    /// Bytes the message accounts for in [`FlushEngine::queued_bytes`]: a
    /// header, 32 per group name, the body as `FL_receive` returns it.
    pub fn size(&self) -> usize {
        let (groups, body) = match self {
            FlushMessage::Data(m) => (m.groups.len(), m.data.len()),
            FlushMessage::View(v) => (v.members.len(), v.body_len()),
            FlushMessage::Reject(r) => (r.groups.len(), r.data.len()),
            _ => (0, 0),
        };
        HEADER_LEN + groups * MAX_GROUP_NAME + body
    }
}

/// A view of a group as Flush installs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlushView {
    /// `REG_MEMB_MESS` plus one `CAUSED_BY_*` bit.
    pub service_type: u32,
    /// The group.
    pub group: GroupName,
    /// The members, in Spread's order.
    pub members: Vec<GroupName>,
    /// This connection's position in `members` (`FL_receive`'s mess_type).
    pub my_index: usize,
    /// The view's id (the Spread membership's group id).
    pub group_id: GroupId,
    /// Join, leave, disconnect: the member that changed. Network: the
    /// members of the previous view that are still with this one, in that
    /// view's order.
    pub vs_set: Vec<GroupName>,
}

impl FlushView {
    /// Where [`FlushView::body`] holds the group id
    /// (`FL_get_gid_offset_memb_mess`).
    pub const GID_OFFSET: usize = 0;
    /// Where it holds the vs-set's size, a native int
    /// (`FL_get_num_vs_offset_memb_mess`): after the three ints of the id.
    pub const NUM_VS_OFFSET: usize = Self::GID_OFFSET + 12;
    /// Where the vs-set's names begin, 32 bytes each
    /// (`FL_get_vs_set_offset_memb_mess`).
    pub const VS_SET_OFFSET: usize = Self::NUM_VS_OFFSET + 4;

    /// The `CAUSED_BY_*` bit of the view's service type: why it changed.
    pub fn cause(&self) -> u32 {
        self.service_type
            & (CAUSED_BY_JOIN | CAUSED_BY_LEAVE | CAUSED_BY_DISCONNECT | CAUSED_BY_NETWORK)
    }

    /// Bytes of [`FlushView::body`].
    pub fn body_len(&self) -> usize {
        GroupId::default()
            .encode(crate::wire::ByteOrder::NATIVE)
            .len()
            + 4
            + self.vs_set.len() * MAX_GROUP_NAME
    }

    /// The body `FL_receive` returns, in this host's order: the group id at
    /// offset 0 (`FL_get_gid_offset_memb_mess`), the vs-set's size at 12
    /// (`FL_get_num_vs_offset_memb_mess`), its names from 16
    /// (`FL_get_vs_set_offset_memb_mess`).
    pub fn body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.body_len());
        b.extend_from_slice(&self.group_id.encode(crate::wire::ByteOrder::NATIVE));
        b.extend_from_slice(&(self.vs_set.len() as i32).to_ne_bytes());
        for m in &self.vs_set {
            b.extend_from_slice(&m.0);
        }
        b
    }
}

/// A protocol message to multicast (FIFO) to a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Service type ([`FIFO_MESS`]).
    pub service_type: u32,
    /// The group.
    pub group: GroupName,
    /// [`FL_FLUSH_OK_MESS`] or [`FL_FLUSH_RECV_MESS`].
    pub mess_type: i16,
    /// The view id, in this host's order.
    pub body: Vec<u8>,
}

/// A connection's membership of a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinState {
    /// Joined at the Spread level, not yet in a Flush view.
    Joining,
    /// In an installed view: may send, flush and leave.
    Joined,
    /// Left; the leave has not taken effect yet.
    Leaving,
}

/// Where a group's view change stands (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewState {
    /// Installed, quiet.
    Steady,
    /// A flush request is pending.
    Authorize,
    /// Flushed, waiting for the others.
    Agree,
    /// Installed, waiting for every member's FLUSH_RECV.
    Verify,
}

#[derive(Clone, Debug)]
struct View {
    group_id: GroupId,
    service_type: u32,
    in_transition: bool,
    members: Vec<GroupName>,
    present: HashSet<GroupName>,
    my_index: usize,
}

impl View {
    fn new(group_id: GroupId, service_type: u32, members: Vec<GroupName>, me: usize) -> View {
        View {
            group_id,
            service_type,
            in_transition: false,
            present: members.iter().copied().collect(),
            members,
            my_index: me,
        }
    }
}

/// A Spread membership of the group not yet resolved into a Flush view.
#[derive(Clone, Debug, Default)]
struct Change {
    /// Set once the Spread membership is in (before, only FLUSH_OKs are).
    view: Option<View>,
    age: u32,
    delta: Option<GroupName>,
    floks: HashSet<GroupName>,
}

#[derive(Debug)]
struct Group {
    name: GroupName,
    join: JoinState,
    state: ViewState,
    /// The change being resolved: the head of `queue`.
    current: Option<GroupId>,
    view: View,
    /// Members of the newest Spread membership.
    spread_members: Vec<GroupName>,
    flush_recvs: usize,
    /// Vulnerable messages for the view being installed, held back.
    held: Vec<DataMessage>,
    /// Changes whose Spread membership is in, oldest first.
    queue: VecDeque<GroupId>,
    pending: HashMap<GroupId, Change>,
}

impl Group {
    fn new(name: GroupName, me: GroupName) -> Group {
        let mut view = View::new(GroupId::default(), 0, vec![me], 0);
        // No transitional signal before this connection is a member.
        view.in_transition = true;
        Group {
            name,
            join: JoinState::Joining,
            // The first membership is consented to at once (see next_change).
            state: ViewState::Agree,
            current: None,
            view,
            spread_members: vec![me],
            flush_recvs: 0,
            held: Vec::new(),
            queue: VecDeque::new(),
            pending: HashMap::new(),
        }
    }

    fn change_view(&self, id: &GroupId) -> &View {
        self.pending[id]
            .view
            .as_ref()
            .expect("queued changes have their membership")
    }
}

/// The flush layer of one connection (see the module doc).
#[derive(Debug)]
pub struct FlushEngine {
    me: GroupName,
    groups: HashMap<GroupName, Group>,
    deliveries: VecDeque<FlushMessage>,
    queued_bytes: usize,
    transmits: VecDeque<Transmit>,
}

impl FlushEngine {
    /// The engine of the connection whose private group is `me`.
    pub fn new(me: GroupName) -> FlushEngine {
        FlushEngine {
            me,
            groups: HashMap::new(),
            deliveries: VecDeque::new(),
            queued_bytes: 0,
            transmits: VecDeque::new(),
        }
    }

    /// This connection's private group.
    pub fn private_group(&self) -> &GroupName {
        &self.me
    }

    /// The next message for the application.
    pub fn poll_delivery(&mut self) -> Option<FlushMessage> {
        let m = self.deliveries.pop_front()?;
        self.queued_bytes -= m.size();
        Some(m)
    }

    /// Messages waiting for the application (`FL_more_msgs`).
    pub fn queued(&self) -> usize {
        self.deliveries.len()
    }

    /// Bytes waiting for the application ([`FlushMessage::size`] summed;
    /// the Flush part of `FL_poll`).
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// The next protocol message to multicast.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The group's join and view state; `None` if the connection has
    /// nothing to do with it (never joined, or its leave took effect).
    pub fn group_state(&self, group: &GroupName) -> Option<(JoinState, ViewState)> {
        self.groups.get(group).map(|g| (g.join, g.state))
    }

    /// The members and id of the group's installed view.
    pub fn view_of(&self, group: &GroupName) -> Option<(GroupId, Vec<GroupName>)> {
        self.groups
            .get(group)
            .map(|g| (g.view.group_id, g.view.members.clone()))
    }

    fn deliver(&mut self, m: FlushMessage) {
        self.queued_bytes += m.size();
        self.deliveries.push_back(m);
    }

    /// May the connection join `group`? Only if it has nothing to do with
    /// it yet (5.0.1: a second join before the first membership arrives is
    /// not caught).
    ///
    /// # Errors
    ///
    /// `ILLEGAL_GROUP` when the group is joined, joining or leaving.
    pub fn check_join(&self, group: &GroupName) -> FlushResult<()> {
        if self.groups.contains_key(group) {
            return Err(crate::Error::IllegalGroup(format!("{group}: already a member")).into());
        }
        Ok(())
    }

    /// Marks `group` as being left; the caller sends the Spread leave.
    ///
    /// # Errors
    ///
    /// `ILLEGAL_GROUP` unless the connection is a joined member.
    pub fn leave(&mut self, group: &GroupName) -> FlushResult<()> {
        match self.groups.get_mut(group) {
            Some(g) if g.join == JoinState::Joined => {
                g.join = JoinState::Leaving;
                Ok(())
            }
            _ => Err(crate::Error::IllegalGroup(format!("{group}: not a joined member")).into()),
        }
    }

    /// The application's consent to install the next view of `group`
    /// (queues the FLUSH_OK).
    ///
    /// # Errors
    ///
    /// `ILLEGAL_GROUP` for a group not joined or being left,
    /// `ILLEGAL_STATE` without a pending flush request.
    pub fn flush(&mut self, group: &GroupName) -> FlushResult<()> {
        let Some(g) = self.groups.get_mut(group) else {
            return Err(crate::Error::IllegalGroup(format!("{group}: not a member")).into());
        };
        Self::send_flush_ok(g, &mut self.transmits)
    }

    fn send_flush_ok(g: &mut Group, tx: &mut VecDeque<Transmit>) -> FlushResult<()> {
        if g.join == JoinState::Leaving {
            return Err(crate::Error::IllegalGroup(format!("{}: leaving", g.name)).into());
        }
        if g.state != ViewState::Authorize {
            return Err(FlushError::IllegalState(format!(
                "{}: no flush request pending ({:?})",
                g.name, g.state
            )));
        }
        g.state = ViewState::Agree;
        let id = g.current.expect("Authorize has a change");
        tx.push_back(Transmit {
            service_type: FIFO_MESS,
            group: g.name,
            mess_type: FL_FLUSH_OK_MESS,
            body: wire::control_body(&id).to_vec(),
        });
        Ok(())
    }

    /// Checks and lays out an application send (`FL_scat_multicast`, or
    /// with `receivers` `FL_scat_subgroupcast`); `parts` is the number of
    /// scatter elements. Private groups may be sent to freely (a subgroup
    /// send to one must name only it).
    ///
    /// # Errors
    ///
    /// In 5.0.1's order: `ILLEGAL_SERVICE`, `ILLEGAL_MESSAGE_TYPE`,
    /// `ILLEGAL_MESSAGE` (too many parts), `ILLEGAL_GROUP` (not a joined
    /// member), `ILLEGAL_STATE` (flushed), `ILLEGAL_RECEIVERS` (a receiver
    /// not in the view).
    pub fn prepare_send(
        &self,
        service_type: u32,
        group: &GroupName,
        receivers: Option<&[GroupName]>,
        mess_type: i16,
        parts: usize,
    ) -> FlushResult<Outgoing> {
        wire::check_send(service_type, mess_type, parts)?;
        if group.is_private() {
            if let Some(rs) = receivers {
                if let Some(r) = rs.iter().find(|r| *r != group) {
                    return Err(FlushError::IllegalReceivers(format!(
                        "{r} is not the private group {group}"
                    )));
                }
            }
            return Ok(Outgoing::new(
                service_type,
                group,
                receivers,
                mess_type,
                None,
            ));
        }
        let g = match self.groups.get(group) {
            Some(g) if g.join == JoinState::Joined => g,
            _ => {
                return Err(
                    crate::Error::IllegalGroup(format!("{group}: not a joined member")).into(),
                )
            }
        };
        if g.state == ViewState::Agree {
            return Err(FlushError::IllegalState(format!(
                "{group}: flushed, no sends until the next view"
            )));
        }
        if let Some(rs) = receivers {
            if let Some(r) = rs.iter().find(|r| !g.view.members.contains(r)) {
                return Err(FlushError::IllegalReceivers(format!(
                    "{r} is not in the view of {group}"
                )));
            }
        }
        let vulnerable = matches!(g.state, ViewState::Authorize | ViewState::Verify)
            && service_type & (UNRELIABLE_MESS | RELIABLE_MESS | FIFO_MESS) != 0;
        Ok(Outgoing::new(
            service_type,
            group,
            receivers,
            mess_type,
            vulnerable.then_some(g.view.group_id),
        ))
    }

    /// Takes one message the Spread layer delivered.
    pub fn handle(&mut self, msg: Message) {
        match msg {
            Message::Data(m) => self.handle_data(m),
            Message::Membership(m) => self.handle_membership(m),
            Message::Transition(TransitionMessage { group, .. }) => {
                if let Some(g) = self.groups.get_mut(&group) {
                    if !g.view.in_transition {
                        g.view.in_transition = true;
                        self.deliver(FlushMessage::Transition { group });
                    }
                }
            }
            Message::SelfLeave { group } => {
                self.groups.remove(&group);
                self.deliver(FlushMessage::SelfLeave { group });
            }
            Message::Reject(r) => self.deliver(FlushMessage::Reject(r)),
        }
    }

    fn handle_data(&mut self, m: DataMessage) {
        let Some(d) = wire::decode(m) else { return };
        let Some(g) = self.groups.get_mut(&d.dest) else {
            if d.dest == self.me {
                self.deliver(FlushMessage::Data(d.msg));
            }
            return;
        };
        match d.kind {
            Incoming::FlushOk(id) => self.handle_flush_ok(d.dest, id, d.msg.sender),
            Incoming::FlushRecv(id) => {
                let counts = match g.state {
                    ViewState::Verify => id == g.view.group_id,
                    ViewState::Agree => Some(id) == g.current,
                    _ => false,
                };
                if counts {
                    g.flush_recvs += 1;
                    if g.state == ViewState::Verify && g.flush_recvs >= g.view.members.len() {
                        g.state = ViewState::Steady;
                    }
                }
            }
            Incoming::Data { view } => {
                if let Some(v) =
                    view.filter(|v| g.state == ViewState::Agree && Some(*v) == g.current)
                {
                    // Sent in the view this connection is about to install.
                    if g.change_view(&v).present.contains(&d.msg.sender) {
                        g.held.push(d.msg);
                    }
                    return;
                }
                if g.view.present.contains(&d.msg.sender) {
                    self.deliver(FlushMessage::Data(d.msg));
                }
            }
        }
    }

    fn handle_flush_ok(&mut self, group: GroupName, id: GroupId, sender: GroupName) {
        let g = self.groups.get_mut(&group).expect("caller checked");
        let change = g.pending.entry(id).or_default();
        change.floks.insert(sender);
        let complete = g.state == ViewState::Agree
            && g.current == Some(id)
            && change
                .view
                .as_ref()
                .is_some_and(|v| v.members.iter().all(|m| change.floks.contains(m)));
        if complete {
            self.install(group);
        }
    }

    /// Every member of the change being resolved has flushed: install it.
    fn install(&mut self, group: GroupName) {
        let g = self.groups.get_mut(&group).expect("caller checked");
        let id = g.current.take().expect("Agree has a change");
        let change = g.pending.remove(&id).expect("current change is pending");
        let front = g.queue.pop_front();
        debug_assert_eq!(front, Some(id));
        let new = change.view.expect("current change has its membership");
        let vs_set = if new.service_type & CAUSED_BY_NETWORK == 0 {
            change.delta.into_iter().collect()
        } else {
            g.view
                .members
                .iter()
                .filter(|m| g.view.present.contains(m))
                .copied()
                .collect()
        };
        let installed = FlushView {
            service_type: new.service_type,
            group,
            members: new.members.clone(),
            my_index: new.my_index,
            group_id: new.group_id,
            vs_set,
        };
        g.state = ViewState::Verify;
        if g.join == JoinState::Joining {
            g.join = JoinState::Joined;
        }
        g.view = new;
        let shrunk = g.view.present.len() < g.view.members.len();
        let held = std::mem::take(&mut g.held);
        let more = !g.queue.is_empty();
        if !more {
            self.transmits.push_back(Transmit {
                service_type: FIFO_MESS,
                group,
                mess_type: FL_FLUSH_RECV_MESS,
                body: wire::control_body(&id).to_vec(),
            });
        }
        self.deliver(FlushMessage::View(installed));
        if more {
            self.next_change(group);
        }
        let g = self.groups.get_mut(&group).expect("still there");
        if shrunk && !g.view.in_transition {
            g.view.in_transition = true;
            self.deliver(FlushMessage::Transition { group });
        }
        for m in held {
            self.deliver(FlushMessage::Data(m));
        }
    }

    /// Starts resolving the change at the head of the queue.
    fn next_change(&mut self, group: GroupName) {
        let g = self.groups.get_mut(&group).expect("caller checked");
        g.current = g.queue.front().copied();
        debug_assert!(g.current.is_some());
        g.flush_recvs = 0;
        match g.state {
            ViewState::Steady | ViewState::Verify => {
                g.state = ViewState::Authorize;
                self.deliver(FlushMessage::FlushRequest { group });
            }
            ViewState::Authorize => {}
            ViewState::Agree => {
                // Already consented to an earlier change: consent to this one.
                g.state = ViewState::Authorize;
                // A leaving member does not consent (5.0.1 returns
                // ILLEGAL_GROUP from the receive here); its leave resolves
                // the change for the others.
                let _ = Self::send_flush_ok(g, &mut self.transmits);
            }
        }
    }

    fn handle_membership(&mut self, m: MembershipMessage) {
        if m.service_type & REG_MEMB_MESS == 0 {
            return;
        }
        let me = self.me;
        let Some(my_index) = m.index_of(&me) else {
            return;
        };
        let group = m.group;
        let g = self
            .groups
            .entry(group)
            .or_insert_with(|| Group::new(group, me));
        let network = m.service_type & CAUSED_BY_NETWORK != 0;
        // Who left since the last Spread membership.
        let (delta, leavers): (Option<GroupName>, Vec<GroupName>) = if network {
            let mine: HashSet<GroupName> = m
                .vs_sets
                .get(m.local_vs_set)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default();
            (
                None,
                g.spread_members
                    .iter()
                    .filter(|x| !mine.contains(x))
                    .copied()
                    .collect(),
            )
        } else {
            let delta = m.changed_member().copied();
            let leavers = match delta {
                Some(d) if m.service_type & CAUSED_BY_JOIN == 0 => vec![d],
                _ => vec![],
            };
            (delta, leavers)
        };
        let mut shrunk = false;
        for l in &leavers {
            shrunk |= g.view.present.remove(l);
        }
        // Forget FLUSH_OKs whose membership never came.
        g.pending.retain(|_, c| {
            if c.view.is_none() {
                c.age += 1;
                c.age <= FLOK_AGE_LIMIT
            } else {
                true
            }
        });
        let (head, dropped_last) = collapse(g, &leavers);
        let change = g.pending.entry(m.group_id).or_default();
        change.delta = delta;
        change.view = Some(View::new(
            m.group_id,
            m.service_type,
            m.members.clone(),
            my_index,
        ));
        if dropped_last {
            change.view.as_mut().expect("just set").service_type =
                REG_MEMB_MESS | CAUSED_BY_NETWORK;
        }
        g.queue.push_back(m.group_id);
        g.spread_members = m.members;
        let new_current = head.or(Some(m.group_id));
        if g.current != new_current {
            // Held messages came from members now partitioned away.
            g.held.clear();
            self.next_change(group);
        }
        let g = self.groups.get_mut(&group).expect("still there");
        if shrunk && !g.view.in_transition {
            g.view.in_transition = true;
            self.deliver(FlushMessage::Transition { group });
        }
    }
}

/// Drops queued changes that a leaver had not flushed (they can never
/// complete); a change kept after dropped ones is reported as caused by the
/// network. Leavers that had flushed are just no longer present in it.
/// Returns the change now at the head of the queue, and whether the last
/// queued changes were dropped (the one about to be queued then stands for
/// them and is reported as a network change).
fn collapse(g: &mut Group, leavers: &[GroupName]) -> (Option<GroupId>, bool) {
    let mut dropped_before = false;
    if !leavers.is_empty() {
        let mut keep = VecDeque::new();
        for id in std::mem::take(&mut g.queue) {
            let c = g.pending.get_mut(&id).expect("queued changes are pending");
            let v = c
                .view
                .as_mut()
                .expect("queued changes have their membership");
            let invalid = leavers
                .iter()
                .any(|l| v.present.contains(l) && !c.floks.contains(l));
            if invalid {
                g.pending.remove(&id);
                dropped_before = true;
                continue;
            }
            for l in leavers {
                v.present.remove(l);
            }
            if dropped_before {
                v.service_type = REG_MEMB_MESS | CAUSED_BY_NETWORK;
                dropped_before = false;
            }
            keep.push_back(id);
        }
        g.queue = keep;
    }
    (g.queue.front().copied(), dropped_before)
}
