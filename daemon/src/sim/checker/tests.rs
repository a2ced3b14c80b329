use super::*;
use spread_core::consts::*;

fn msg(sender: &str, counter: u64) -> Event {
    Event::Message {
        id: MsgId {
            sender: sender.into(),
            counter,
        },
        service: AGREED_MESS,
        group: "g".into(),
    }
}

fn safe(sender: &str, counter: u64) -> Event {
    Event::Message {
        id: MsgId {
            sender: sender.into(),
            counter,
        },
        service: SAFE_MESS,
        group: "g".into(),
    }
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn view(index: i32, members: &[&str]) -> Event {
    Event::View(View {
        group: "g".into(),
        id: (1, 1, index),
        cause: CAUSED_BY_JOIN,
        members: names(members),
        vs_sets: vec![names(&members[members.len() - 1..])],
        my_set: 0,
    })
}

/// A network view with ring id (2, 2): `sets` are its vs-sets, `mine` the
/// receiver's.
fn net_view(sets: &[&[&str]], mine: usize) -> Event {
    let vs_sets: Vec<Vec<String>> = sets.iter().map(|s| names(s)).collect();
    let mut members: Vec<String> = vs_sets.iter().flatten().cloned().collect();
    members.sort();
    Event::View(View {
        group: "g".into(),
        id: (2, 2, 1),
        cause: CAUSED_BY_NETWORK,
        members,
        vs_sets,
        my_set: mine,
    })
}

fn trans() -> Event {
    Event::Transition {
        group: "g".into(),
        id: (1, 1, 2),
    }
}

fn log(name: &str, events: Vec<Event>, sent: &[u64]) -> ClientLog {
    ClientLog {
        name: name.into(),
        events,
        sent: sent
            .iter()
            .map(|&c| {
                (
                    MsgId {
                        sender: name.into(),
                        counter: c,
                    },
                    "g".into(),
                )
            })
            .collect(),
        survived: true,
    }
}

fn err(logs: &[ClientLog]) -> String {
    check(logs).expect_err("a violation").0
}

#[test]
fn a_good_history_passes() {
    let a = log(
        "a",
        vec![
            view(1, &["a"]),
            view(2, &["a", "b"]),
            msg("a", 1),
            msg("b", 1),
        ],
        &[1],
    );
    let b = log(
        "b",
        vec![view(2, &["a", "b"]), msg("a", 1), msg("b", 1)],
        &[1],
    );
    assert_eq!(check(&[a, b]), Ok(()));
}

#[test]
fn a_good_partition_history_passes() {
    // a and b together; c is cut off: a and b see a transitional signal,
    // then a network view with one vs-set.
    let a = log(
        "a",
        vec![
            view(3, &["a", "b", "c"]),
            safe("a", 1),
            trans(),
            msg("b", 1),
            net_view(&[&["a", "b"]], 0),
        ],
        &[1],
    );
    let b = log(
        "b",
        vec![
            view(3, &["a", "b", "c"]),
            safe("a", 1),
            trans(),
            msg("b", 1),
            net_view(&[&["a", "b"]], 0),
        ],
        &[1],
    );
    let mut c = log("c", vec![view(3, &["a", "b", "c"]), safe("a", 1)], &[]);
    c.survived = false;
    assert_eq!(check(&[a, b, c]), Ok(()));
}

#[test]
fn message_violations_are_found() {
    let a = log(
        "a",
        vec![view(1, &["a", "b"]), msg("a", 1), msg("b", 1)],
        &[1],
    );
    let b = log(
        "b",
        vec![view(1, &["a", "b"]), msg("b", 1), msg("a", 1)],
        &[1],
    );
    assert!(err(&[a.clone(), b]).contains("disagree"));
    let dup = log(
        "b",
        vec![view(1, &["a", "b"]), msg("a", 1), msg("a", 1), msg("b", 1)],
        &[1],
    );
    assert!(err(&[a.clone(), dup]).contains("twice"));
    let ghost = log(
        "b",
        vec![view(1, &["a", "b"]), msg("a", 1), msg("b", 1), msg("z", 1)],
        &[1],
    );
    assert!(err(&[a.clone(), ghost]).contains("nobody sent"));
    let lost = log("b", vec![view(1, &["a", "b"]), msg("b", 1)], &[1]);
    assert!(err(&[a.clone(), lost]).contains("never delivered"));
    let fifo = log(
        "a",
        vec![view(1, &["a"]), msg("a", 2), msg("a", 1)],
        &[1, 2],
    );
    assert!(err(&[fifo]).contains("after"));
}

#[test]
fn view_violations_are_found() {
    let a = log(
        "a",
        vec![view(1, &["a", "b"]), msg("a", 1), msg("b", 1)],
        &[1],
    );
    let other_sets = Event::View(View {
        vs_sets: vec![names(&["a"])],
        ..match view(1, &["a", "b"]) {
            Event::View(v) => v,
            _ => unreachable!(),
        }
    });
    let other_view = log("b", vec![other_sets, msg("a", 1), msg("b", 1)], &[1]);
    assert!(err(&[a, other_view]).contains("differently"));
    let backwards = log("a", vec![view(2, &["a"]), view(1, &["a", "b"])], &[]);
    assert!(err(&[backwards]).contains("follows"));
    let bad_index = log(
        "a",
        vec![
            view(1, &["a", "b"]),
            trans(),
            Event::View(View {
                id: (2, 2, 3),
                ..match net_view(&[&["a"]], 0) {
                    Event::View(v) => v,
                    _ => unreachable!(),
                }
            }),
        ],
        &[],
    );
    assert!(err(&[bad_index]).contains("index 1"));
}

#[test]
fn vs_set_and_transitional_violations_are_found() {
    let not_a_partition = log(
        "a",
        vec![view(1, &["a", "b"]), trans(), {
            let Event::View(mut v) = net_view(&[&["a"]], 0) else {
                unreachable!()
            };
            v.members.push("z".into());
            Event::View(v)
        }],
        &[],
    );
    assert!(err(&[not_a_partition]).contains("partition"));
    let stranger = log("a", vec![view(1, &["a"]), net_view(&[&["a", "q"]], 0)], &[]);
    assert!(err(&[stranger]).contains("was not in its previous view"));
    let outside = log(
        "a",
        vec![
            view(1, &["a", "b"]),
            trans(),
            net_view(&[&["a"], &["b"]], 1),
        ],
        &[],
    );
    assert!(err(&[outside]).contains("leaves it out"));
    let silent_loss = log("a", vec![view(1, &["a", "b"]), net_view(&[&["a"]], 0)], &[]);
    assert!(err(&[silent_loss]).contains("without a transitional signal"));
    let trans_then_join = log(
        "a",
        vec![view(1, &["a"]), trans(), view(2, &["a", "b"])],
        &[],
    );
    assert!(err(&[trans_then_join]).contains("not a network view"));
}

#[test]
fn virtual_synchrony_and_safe_violations_are_found() {
    // Both go from view 3 to the same network view but delivered different
    // messages in view 3.
    let a = log(
        "a",
        vec![
            view(3, &["a", "b"]),
            msg("a", 1),
            trans(),
            net_view(&[&["a", "b"]], 0),
        ],
        &[1],
    );
    let b = log(
        "b",
        vec![view(3, &["a", "b"]), trans(), net_view(&[&["a", "b"]], 0)],
        &[],
    );
    assert!(err(&[a, b]).contains("different messages"));
    // In different vs-sets of that view they did not move together: allowed.
    let a = log(
        "a",
        vec![
            view(3, &["a", "b"]),
            msg("a", 1),
            trans(),
            net_view(&[&["a"], &["b"]], 0),
        ],
        &[1],
    );
    let b = log(
        "b",
        vec![
            view(3, &["a", "b"]),
            trans(),
            net_view(&[&["a"], &["b"]], 1),
        ],
        &[],
    );
    assert_eq!(check(&[a, b]), Ok(()));
    // A SAFE message delivered before the transitional signal must reach
    // every surviving member of the view.
    let a = log(
        "a",
        vec![
            view(3, &["a", "b"]),
            safe("a", 1),
            trans(),
            net_view(&[&["a"]], 0),
        ],
        &[1],
    );
    // b ends up in another partition (another ring id) without it.
    let Event::View(mut other_side) = net_view(&[&["b"]], 0) else {
        unreachable!()
    };
    other_side.id = (3, 3, 1);
    let b = log(
        "b",
        vec![view(3, &["a", "b"]), trans(), Event::View(other_side)],
        &[],
    );
    let e = err(&[a, b]);
    assert!(e.contains("never reached"), "{e}");
}

/// 5.0.1 gives a group created again within one daemon membership the ids
/// it had before: the same id with other members is another view.
#[test]
fn a_group_created_again_reuses_its_ids() {
    let mut left = log("a", vec![view(1, &["a"]), msg("a", 1)], &[1]);
    left.events.push(Event::Left { group: "g".into() });
    let again = log(
        "b",
        vec![view(1, &["b"]), msg("b", 1), view(2, &["b", "c"])],
        &[1],
    );
    let joiner = log("c", vec![view(2, &["b", "c"])], &[]);
    assert_eq!(check(&[left, again, joiner]), Ok(()));
}
