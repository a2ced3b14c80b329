//! Structured logs on stderr, quiet by default. DebugFlags name log targets
//! (`spread::session`, `spread::groups`, ...), EventPriority sets the level.

use crate::config::{Config, DebugFlag, EventPriority};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// The log target a DebugFlag turns on.
pub fn target_of(flag: DebugFlag) -> Option<&'static str> {
    Some(match flag {
        DebugFlag::All => "spread",
        DebugFlag::Session => "spread::session",
        DebugFlag::Groups => "spread::groups",
        DebugFlag::Configuration => "spread::config",
        DebugFlag::Protocol => "spread::protocol",
        DebugFlag::Membership => "spread::membership",
        DebugFlag::Network | DebugFlag::DataLink => "spread::network",
        DebugFlag::FlowControl => "spread::flow_control",
        DebugFlag::Status => "spread::status",
        DebugFlag::Events => "spread::events",
        DebugFlag::Security | DebugFlag::Acm => "spread::auth",
        DebugFlag::Memory | DebugFlag::Skiplist | DebugFlag::Debug => "spread::debug",
        DebugFlag::None | DebugFlag::Exit | DebugFlag::Print => return None,
    })
}

/// The filter a configuration asks for: start-up lines and warnings by
/// default; each enabled DebugFlag adds its target at debug level.
pub fn filter_for(config: &Config) -> Targets {
    let base = match config.event_priority {
        Some(EventPriority::Debug) => LevelFilter::DEBUG,
        Some(EventPriority::Info) | None => LevelFilter::INFO,
        Some(EventPriority::Warning) => LevelFilter::WARN,
        Some(EventPriority::Error) | Some(EventPriority::Critical) | Some(EventPriority::Fatal) => {
            LevelFilter::ERROR
        }
    };
    let mut t = Targets::new()
        .with_default(LevelFilter::WARN.min(base))
        .with_target("spread", base)
        .with_target("spread::session", LevelFilter::WARN.min(base));
    let mut flags: Vec<(bool, DebugFlag)> = config.debug_flags.clone();
    if flags.iter().any(|&(on, f)| on && f == DebugFlag::None) {
        flags.retain(|&(_, f)| f != DebugFlag::None);
    }
    for (on, flag) in flags {
        if let Some(target) = target_of(flag) {
            let level = if on {
                LevelFilter::DEBUG
            } else {
                LevelFilter::WARN.min(base)
            };
            t = t.with_target(target, level);
        }
    }
    t
}

/// Installs the subscriber (once per process).
pub fn init(config: &Config, enabled: bool) {
    let filter = if !enabled {
        Targets::new().with_default(LevelFilter::OFF)
    } else {
        match std::env::var("SPREAD_LOG")
            .ok()
            .and_then(|s| s.parse::<Targets>().ok())
        {
            Some(t) => t,
            None => filter_for(config),
        }
    };
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(true);
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .try_init();
}

/// A count that the log reports at most once a period: under a flood of
/// bad input one line a minute says how much, instead of a line each.
#[derive(Debug, Default)]
pub struct ReportedCount {
    reported: u64,
    at: Option<std::time::Instant>,
}

impl ReportedCount {
    /// What `total` grew by since the last report, if that is more than
    /// nothing and `every` has passed since then (or nothing was reported
    /// yet); it then counts as reported.
    pub fn due(&mut self, total: u64, every: std::time::Duration) -> Option<u64> {
        if total <= self.reported || self.at.is_some_and(|at| at.elapsed() < every) {
            return None;
        }
        let new = total - self.reported;
        self.reported = total;
        self.at = Some(std::time::Instant::now());
        Some(new)
    }
}

/// Lines of one kind: at most `burst` a period, the rest counted, and the
/// count told once the period is over, so that under a flood the log says
/// how much happened instead of growing with it.
#[derive(Debug)]
pub struct LineBudget {
    burst: u32,
    period: std::time::Duration,
    since: Option<std::time::Instant>,
    written: u32,
    held: u64,
}

impl LineBudget {
    pub const fn new(burst: u32, period: std::time::Duration) -> LineBudget {
        LineBudget {
            burst,
            period,
            since: None,
            written: 0,
            held: 0,
        }
    }

    /// Whether a line may be written at `now`; if not, it is counted. Call
    /// [`LineBudget::held_back`] first, so that a period's count is told
    /// before the next period's lines.
    pub fn take(&mut self, now: std::time::Instant) -> bool {
        if self.held_back(now).is_some() {
            // Told by nobody: the caller skipped held_back. Begin anew
            // rather than hold every line from now on.
            self.held = 0;
        }
        self.since.get_or_insert(now);
        if self.written < self.burst {
            self.written += 1;
            return true;
        }
        self.held += 1;
        false
    }

    /// How many lines were held back in a period that is over at `now`:
    /// told once, then the next period begins with the next line.
    pub fn held_back(&mut self, now: std::time::Instant) -> Option<u64> {
        let since = self.since?;
        if now.saturating_duration_since(since) < self.period {
            return None;
        }
        let held = std::mem::take(&mut self.held);
        self.since = None;
        self.written = 0;
        (held > 0).then_some(held)
    }

    pub fn period(&self) -> std::time::Duration {
        self.period
    }
}

#[cfg(test)]
mod line_budget_tests {
    use super::LineBudget;
    use std::time::{Duration, Instant};

    #[test]
    fn a_few_lines_a_period_then_the_count() {
        let mut b = LineBudget::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(b.take(t0) && b.take(t0));
        assert!(!b.take(t0) && !b.take(t0 + Duration::from_secs(9)));
        assert_eq!(b.held_back(t0 + Duration::from_secs(9)), None);
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(b.held_back(t1), Some(2));
        assert_eq!(b.held_back(t1), None, "told once");
        assert!(b.take(t1) && b.take(t1) && !b.take(t1));
        // A quiet period tells nothing.
        let mut quiet = LineBudget::new(2, Duration::from_secs(10));
        assert!(quiet.take(t0));
        assert_eq!(quiet.held_back(t1), None);
    }
}

#[cfg(test)]
mod reported_count_tests {
    use super::ReportedCount;
    use std::time::Duration;

    #[test]
    fn once_per_period_and_only_what_is_new() {
        let mut c = ReportedCount::default();
        assert_eq!(c.due(0, Duration::from_secs(60)), None);
        assert_eq!(c.due(3, Duration::from_secs(60)), Some(3));
        assert_eq!(c.due(5, Duration::from_secs(60)), None);
        assert_eq!(c.due(5, Duration::ZERO), Some(2));
        assert_eq!(c.due(5, Duration::ZERO), None);
    }
}
