//! Log lines that clients can make the daemon repeat at will: connections
//! turned away, accepts that fail, messages and joins refused. A few of
//! each kind are written a period, then one line tells how many more there
//! were (a flood of refused connections once wrote 13.5 MB in 12 s).

use super::Shared;
use crate::auth::{Action, ACTIONS, AUTH_REASONS};
use crate::logging::LineBudget;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// Lines of one kind written in a period before the rest are counted.
const BURST: u32 = 5;
/// The period; its count is told within a second of its end.
const PERIOD: Duration = Duration::from_secs(10);

/// What a line is about; each kind has its own budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A connection turned away: the daemon is full.
    SessionLimit,
    /// A connection turned away: no handshake permit in time, or no room
    /// to wait for one.
    NoTurn,
    /// A handshake that failed: one line a minute.
    Handshake,
    /// An accept that failed (out of descriptors, ...).
    Accept,
    /// A client's message refused.
    Message,
    /// A join past MaxGroupsPerSession.
    Join,
    /// A client an authentication method refused, by reason (an index
    /// into [`AUTH_REASONS`]): one line a minute for each.
    Auth(usize),
    /// A join or send the group access rules refused: one line a minute
    /// for each action.
    Access(Action),
}

const PLAIN_KINDS: usize = 6;
const KINDS: usize = PLAIN_KINDS + AUTH_REASONS.len() + ACTIONS.len();
/// The period of the kinds that write one line a minute.
const MINUTE: Duration = Duration::from_secs(60);

impl Refusal {
    fn index(self) -> usize {
        match self {
            Refusal::SessionLimit => 0,
            Refusal::NoTurn => 1,
            Refusal::Handshake => 2,
            Refusal::Accept => 3,
            Refusal::Message => 4,
            Refusal::Join => 5,
            Refusal::Auth(r) => PLAIN_KINDS + r.min(AUTH_REASONS.len() - 1),
            Refusal::Access(a) => PLAIN_KINDS + AUTH_REASONS.len() + a.index(),
        }
    }

    /// The kind of index `i` (the inverse of [`Refusal::index`]).
    fn of_index(i: usize) -> Refusal {
        match i {
            0 => Refusal::SessionLimit,
            1 => Refusal::NoTurn,
            2 => Refusal::Handshake,
            3 => Refusal::Accept,
            4 => Refusal::Message,
            5 => Refusal::Join,
            i if i < PLAIN_KINDS + AUTH_REASONS.len() => Refusal::Auth(i - PLAIN_KINDS),
            i if i == PLAIN_KINDS + AUTH_REASONS.len() => Refusal::Access(Action::Join),
            _ => Refusal::Access(Action::Send),
        }
    }

    fn budget(self) -> LineBudget {
        match self {
            // Failed handshakes, as the datagrams a sealed ring refuses:
            // one line a minute with the first one's reason, then the count.
            Refusal::Handshake | Refusal::Auth(_) | Refusal::Access(_) => {
                LineBudget::new(1, MINUTE)
            }
            _ => LineBudget::new(BURST, PERIOD),
        }
    }

    /// How the count of held-back lines is told.
    fn more(self, n: u64) -> String {
        match self {
            Refusal::SessionLimit | Refusal::NoTurn | Refusal::Handshake => {
                format!("refused {n} more connections")
            }
            Refusal::Auth(r) => format!(
                "refused {n} more connections ({} authentication)",
                AUTH_REASONS[r.min(AUTH_REASONS.len() - 1)]
            ),
            Refusal::Access(Action::Join) => format!("refused {n} more joins (GroupAccessFile)"),
            Refusal::Access(Action::Send) => {
                format!("refused {n} more messages (GroupAccessFile)")
            }
            Refusal::Accept => format!("{n} more failed accepts"),
            Refusal::Message => format!("refused {n} more messages"),
            Refusal::Join => format!("refused {n} more joins"),
        }
    }

    fn write(self, line: &str) {
        match self {
            Refusal::SessionLimit | Refusal::NoTurn | Refusal::Handshake => {
                info!(target: "spread::session", "{line}")
            }
            Refusal::Accept | Refusal::Message => warn!(target: "spread::session", "{line}"),
            Refusal::Join => info!(target: "spread::groups", "{line}"),
            Refusal::Auth(_) | Refusal::Access(_) => warn!(target: "spread::auth", "{line}"),
        }
    }
}

#[derive(Debug)]
struct Kind {
    budget: LineBudget,
    /// The last line held back, quoted by the count.
    last: String,
}

#[derive(Debug)]
pub struct Refusals {
    kinds: Mutex<[Kind; KINDS]>,
}

impl Default for Refusals {
    fn default() -> Refusals {
        Refusals {
            kinds: Mutex::new(std::array::from_fn(|i| Kind {
                budget: Refusal::of_index(i).budget(),
                last: String::new(),
            })),
        }
    }
}

impl Refusals {
    fn lock(&self) -> std::sync::MutexGuard<'_, [Kind; KINDS]> {
        self.kinds.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `line` (which says who and why) if its kind has lines left
    /// this period; counts it otherwise.
    pub fn note(&self, kind: Refusal, line: String) {
        let now = Instant::now();
        let mut kinds = self.lock();
        let k = &mut kinds[kind.index()];
        tell_held(kind, k, now);
        if k.budget.take(now) {
            kind.write(&line);
        } else {
            k.last = line;
        }
    }

    /// Tells the counts of periods that are over.
    pub fn tell_held(&self) {
        let now = Instant::now();
        let mut kinds = self.lock();
        for (i, k) in kinds.iter_mut().enumerate() {
            tell_held(Refusal::of_index(i), k, now);
        }
    }
}

fn tell_held(kind: Refusal, k: &mut Kind, now: Instant) {
    if let Some(n) = k.budget.held_back(now) {
        let secs = k.budget.period().as_secs();
        let line = format!(
            "{} in the last {secs} s; the last: {}",
            kind.more(n),
            std::mem::take(&mut k.last)
        );
        kind.write(&line);
    }
}

/// Tells the held-back counts as their periods end, for as long as the
/// daemon runs.
pub async fn tell_held_periodically(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        shared.refusals.tell_held();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_listed_in_their_order() {
        for i in 0..KINDS {
            assert_eq!(Refusal::of_index(i).index(), i);
        }
    }
}
