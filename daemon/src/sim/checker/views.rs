//! Checks on views: agreement, group ids, vs-sets, transitional signals,
//! virtual synchrony and SAFE delivery across view changes.

use super::{fail, ClientLog, Event, View, ViewKey, Violation};
use spread_core::consts::{CAUSED_BY_NETWORK, SAFE_MESS};
use std::collections::{BTreeSet, HashMap, HashSet};

fn is_network(v: &View) -> bool {
    v.cause & CAUSED_BY_NETWORK != 0
}

/// The client's views of each group with the event positions between them.
fn views_of(l: &ClientLog) -> impl Iterator<Item = (usize, &View)> {
    l.events.iter().enumerate().filter_map(|(i, e)| match e {
        Event::View(v) => Some((i, v)),
        _ => None,
    })
}

fn as_set(sets: &[Vec<String>]) -> BTreeSet<BTreeSet<&str>> {
    sets.iter()
        .map(|s| s.iter().map(String::as_str).collect())
        .collect()
}

/// Clients that install the same view (group, id and members) see the
/// same vs-sets (only their own set's index differs).
pub(super) fn views_agree(logs: &[ClientLog]) -> Result<(), Violation> {
    let mut seen: HashMap<ViewKey, (&str, &View)> = HashMap::new();
    for l in logs {
        for (_, v) in views_of(l) {
            match seen.get(&v.key()) {
                Some((who, w)) if as_set(&w.vs_sets) != as_set(&v.vs_sets) => {
                    return fail(format!(
                        "{} and {who} see view {:?} of {} differently: {v:?} and {w:?}",
                        l.name, v.id, v.group
                    ));
                }
                Some(_) => {}
                None => {
                    seen.insert(v.key(), (&l.name, v));
                }
            }
        }
    }
    Ok(())
}

/// Walks a client's log keeping, for each group, the view it has (none
/// after its own leave): `f` sees each event with the view of the event's
/// group before it.
fn walk<'a>(
    l: &'a ClientLog,
    mut f: impl FnMut(usize, &'a Event, Option<&'a View>) -> Result<(), Violation>,
) -> Result<(), Violation> {
    let mut current: HashMap<&str, &View> = HashMap::new();
    for (i, e) in l.events.iter().enumerate() {
        let group = match e {
            Event::View(v) => &v.group,
            Event::Transition { group, .. } | Event::Left { group } => group,
            Event::Message { group, .. } => group,
        };
        f(i, e, current.get(group.as_str()).copied())?;
        match e {
            Event::View(v) => {
                current.insert(&v.group, v);
            }
            Event::Left { group } => {
                current.remove(group.as_str());
            }
            _ => {}
        }
    }
    Ok(())
}

/// A network view has index 1; any other view keeps its group's ring id
/// and raises the index.
pub(super) fn ids_advance(logs: &[ClientLog]) -> Result<(), Violation> {
    for l in logs {
        walk(l, |_, e, previous| {
            let Event::View(v) = e else { return Ok(()) };
            if is_network(v) {
                if v.id.2 != 1 {
                    return fail(format!(
                        "{}: network view {:?} of {} does not have index 1",
                        l.name, v.id, v.group
                    ));
                }
            } else if let Some(p) = previous {
                if (p.id.0, p.id.1) != (v.id.0, v.id.1) || v.id.2 <= p.id.2 {
                    return fail(format!(
                        "{}: view {:?} of {} follows {:?}",
                        l.name, v.id, v.group, p.id
                    ));
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// The vs-sets of a network view partition its members; the receiver is in
/// its own set, and everyone in its set was in its previous view.
pub(super) fn vs_sets_are_sane(logs: &[ClientLog]) -> Result<(), Violation> {
    for l in logs {
        walk(l, |_, e, previous| {
            let Event::View(v) = e else { return Ok(()) };
            if !is_network(v) {
                return Ok(());
            }
            let mut all: Vec<&str> = v.vs_sets.iter().flatten().map(String::as_str).collect();
            all.sort_unstable();
            let mut members: Vec<&str> = v.members.iter().map(String::as_str).collect();
            members.sort_unstable();
            if all != members {
                return fail(format!(
                    "{}: vs-sets {:?} of {} do not partition its members {:?}",
                    l.name, v.vs_sets, v.group, v.members
                ));
            }
            let Some(mine) = v.vs_sets.get(v.my_set) else {
                return fail(format!(
                    "{}: own vs-set {} of {} is not there",
                    l.name, v.my_set, v.group
                ));
            };
            if !mine.contains(&l.name) {
                return fail(format!(
                    "{}: own vs-set {mine:?} of {} leaves it out",
                    l.name, v.group
                ));
            }
            if let Some(p) = previous {
                if let Some(stranger) = mine.iter().find(|m| !p.members.contains(m)) {
                    return fail(format!(
                        "{}: {stranger} is in its vs-set of {} but was not in its previous view",
                        l.name, v.group
                    ));
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// A network view that lost members of the client's previous view comes
/// after a transitional signal; a transitional signal is followed by a
/// network view of its group (unless the client left or the log ends).
pub(super) fn transitional_signals(logs: &[ClientLog]) -> Result<(), Violation> {
    for l in logs {
        // Groups with a transitional signal since their last view (or
        // since the client left).
        let mut signalled: HashSet<&str> = HashSet::new();
        walk(l, |_, e, previous| {
            match e {
                Event::Transition { group, .. } => {
                    signalled.insert(group);
                }
                Event::Left { group } => {
                    signalled.remove(group.as_str());
                }
                Event::View(v) => {
                    let was_signalled = signalled.remove(v.group.as_str());
                    if was_signalled && !is_network(v) {
                        return fail(format!("{}: the transitional signal of {} is followed by a view that is not a network view", l.name, v.group));
                    }
                    if let (true, Some(p)) = (is_network(v), previous) {
                        let lost = p.members.iter().any(|m| !v.members.contains(m));
                        if lost && !was_signalled {
                            return fail(format!(
                                "{}: view {:?} of {} lost members without a transitional signal",
                                l.name, v.id, v.group
                            ));
                        }
                    }
                }
                Event::Message { .. } => {}
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Two clients that move together from view V to the same next view V'
/// delivered the same messages of the group in V. Moving together means
/// being in the same vs-set of V' when V' is a network view (clients cut
/// off from each other meanwhile are in different vs-sets and may have
/// delivered different messages). A client that left the group between V
/// and its next view of it (a join again) did not move.
pub(super) fn virtual_synchrony(logs: &[ClientLog]) -> Result<(), Violation> {
    // (group, V, V', vs-set in V') -> (client, messages delivered in V).
    type Key<'a> = (ViewKey<'a>, ViewKey<'a>, Vec<String>);
    type Seen<'a> = HashMap<Key<'a>, (&'a str, BTreeSet<&'a super::MsgId>)>;
    let mut seen: Seen = HashMap::new();
    for l in logs {
        // Each group's last view, what was delivered in it since, and
        // whether the client left the group since.
        let mut open: HashMap<&str, (&View, BTreeSet<&super::MsgId>, bool)> = HashMap::new();
        for e in &l.events {
            match e {
                Event::Message { id, group, .. } => {
                    if let Some((_, set, _)) = open.get_mut(group.as_str()) {
                        set.insert(id);
                    }
                }
                Event::Left { group } => {
                    if let Some((_, _, left)) = open.get_mut(group.as_str()) {
                        *left = true;
                    }
                }
                Event::Transition { .. } => {}
                Event::View(next) => {
                    let previous = open.insert(&next.group, (next, BTreeSet::new(), false));
                    let Some((v, set, false)) = previous else {
                        continue;
                    };
                    let mut together = if is_network(next) {
                        next.vs_sets.get(next.my_set).cloned().unwrap_or_default()
                    } else {
                        Vec::new()
                    };
                    together.sort();
                    let key = (v.key(), next.key(), together);
                    match seen.get(&key) {
                        Some((who, other)) if *other != set => {
                            return fail(format!(
                                "{} and {who} both went from {:?} to {:?} of {} but delivered different messages in between: {set:?} and {other:?}",
                                l.name, v.id, next.id, v.group
                            ));
                        }
                        Some(_) => {}
                        None => {
                            seen.insert(key, (&l.name, set));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// A SAFE message delivered by anyone in view V before V's transitional
/// signal is delivered by every member of V that survives.
pub(super) fn safe_delivery(logs: &[ClientLog]) -> Result<(), Violation> {
    // Where each surviving client installed each view (first time), and
    // where it delivered each message (last time).
    let mut installed: HashMap<ViewKey, Vec<(usize, usize)>> = HashMap::new();
    let mut delivered: Vec<HashMap<&super::MsgId, usize>> = vec![HashMap::new(); logs.len()];
    for (c, l) in logs.iter().enumerate().filter(|(_, l)| l.survived) {
        let mut firsts: HashSet<ViewKey> = HashSet::new();
        for (i, e) in l.events.iter().enumerate() {
            match e {
                Event::View(v) if firsts.insert(v.key()) => {
                    installed.entry(v.key()).or_default().push((c, i));
                }
                Event::Message { id, .. } => {
                    delivered[c].insert(id, i);
                }
                _ => {}
            }
        }
    }
    for l in logs {
        // Each group's view and the SAFE messages delivered in it before
        // its transitional signal.
        let mut open: HashMap<&str, (&View, Vec<&super::MsgId>, bool)> = HashMap::new();
        let check = |v: &View, safe: &[&super::MsgId]| -> Result<(), Violation> {
            if safe.is_empty() {
                return Ok(());
            }
            let holders = installed.get(&v.key());
            for &(o, o_at) in holders.into_iter().flatten() {
                let other = &logs[o];
                if other.name == l.name {
                    continue;
                }
                for id in safe {
                    if delivered[o].get(id).is_none_or(|&at| at < o_at) {
                        return fail(format!(
                            "SAFE {id:?} delivered by {} in view {:?} of {} never reached {}",
                            l.name, v.id, v.group, other.name
                        ));
                    }
                }
            }
            Ok(())
        };
        for e in &l.events {
            match e {
                Event::View(v) => {
                    if let Some((w, safe, _)) = open.insert(&v.group, (v, Vec::new(), false)) {
                        check(w, &safe)?;
                    }
                }
                Event::Transition { group, .. } => {
                    if let Some((_, _, closed)) = open.get_mut(group.as_str()) {
                        *closed = true;
                    }
                }
                Event::Message { id, service, group } if service & SAFE_MESS != 0 => {
                    if let Some((_, safe, false)) = open.get_mut(group.as_str()) {
                        safe.push(id);
                    }
                }
                Event::Message { .. } | Event::Left { .. } => {}
            }
        }
        for (v, safe, _) in open.values() {
            check(v, safe)?;
        }
    }
    Ok(())
}
