//! Structured logs on stderr, quiet by default. DebugFlags name log targets
//! (`spread::session`, `spread::groups`, ...), EventPriority sets the level.

use crate::config::{Config, DebugFlag, EventPriority, LogFormat};
use std::ffi::CString;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{Layer, Registry};

/// The log target a DebugFlag turns on. EVENTS, MEMORY, SKIPLIST and DEBUG
/// name parts of 5.0.1 this daemon does not have (its event loop, memory
/// pools, skiplists, scratch output): accepted, and silent.
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
        DebugFlag::Security | DebugFlag::Acm => "spread::auth",
        DebugFlag::Events
        | DebugFlag::Memory
        | DebugFlag::Skiplist
        | DebugFlag::Debug
        | DebugFlag::None
        | DebugFlag::Exit
        | DebugFlag::Print => return None,
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
        let level = if on {
            LevelFilter::DEBUG
        } else {
            LevelFilter::WARN.min(base)
        };
        // ALL also overrides the session target's own default.
        let targets: Vec<&str> = if flag == DebugFlag::All {
            vec!["spread", "spread::session"]
        } else {
            target_of(flag).into_iter().collect()
        };
        for target in targets {
            t = t.with_target(target, level);
        }
    }
    t
}

/// Installs the subscriber (once per process). Lines carry a time only
/// when `EventTimeStamp` or `EventPreciseTimeStamp` asks for one, as with
/// 5.0.1.
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
    let layer: Box<dyn Layer<Registry> + Send + Sync> =
        match (config.event_log_format, Timestamp::for_config(config)) {
            (LogFormat::Json, time) => Box::new(
                fmt.with_ansi(false)
                    .event_format(JsonLines { time })
                    .with_filter(filter),
            ),
            (LogFormat::Text, Some(t)) => Box::new(fmt.with_timer(t).with_filter(filter)),
            (LogFormat::Text, None) => Box::new(fmt.without_time().with_filter(filter)),
        };
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// `EventLogFormat = json`: one object a line, `{"time":..,"level":..,
/// "target":..,"message":..}` and the event's other fields by name; `time`
/// (as EventTimeStamp formats it) only when a time stamp is configured.
pub struct JsonLines {
    pub time: Option<Timestamp>,
}

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for JsonLines
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let mut line = String::from("{");
        if let Some(t) = &self.time {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            line.push_str("\"time\":");
            json_string(
                &mut line,
                &t.render(now.as_secs() as i64, now.subsec_micros()),
            );
            line.push(',');
        }
        let meta = event.metadata();
        line.push_str("\"level\":");
        json_string(&mut line, meta.level().as_str());
        line.push_str(",\"target\":");
        json_string(&mut line, meta.target());
        let mut fields = JsonFields::default();
        event.record(&mut fields);
        line.push_str(",\"message\":");
        json_string(&mut line, &fields.message);
        for (name, value) in &fields.others {
            line.push(',');
            json_string(&mut line, name);
            line.push(':');
            json_string(&mut line, value);
        }
        line.push('}');
        writeln!(w, "{line}")
    }
}

#[derive(Default)]
struct JsonFields {
    message: String,
    others: Vec<(&'static str, String)>,
}

impl tracing::field::Visit for JsonFields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            name => self.others.push((name, value.to_string())),
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            name => self.others.push((name, format!("{value:?}"))),
        }
    }
}

/// `s` as a JSON string, quoted and escaped.
pub fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = std::fmt::Write::write_fmt(out, format_args!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// 5.0.1's time format when `EventTimeStamp` names none.
pub const DEFAULT_TIMESTAMP_FORMAT: &str = "%m/%d/%y %H:%M:%S";
/// 5.0.1 keeps a format in 40 bytes, its NUL included.
const MAX_FORMAT: usize = 39;

/// The time at the start of each line: an strftime format in local time,
/// and with `EventPreciseTimeStamp` the microseconds after the seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timestamp {
    format: CString,
    micros: bool,
}

impl Timestamp {
    /// What the configuration asks for; `None`: no time on the lines.
    pub fn for_config(config: &Config) -> Option<Timestamp> {
        if config.event_timestamp.is_none() && !config.event_precise_timestamp {
            return None;
        }
        let mut format = config
            .event_timestamp
            .clone()
            .flatten()
            .unwrap_or_else(|| DEFAULT_TIMESTAMP_FORMAT.to_string());
        let mut micros = config.event_precise_timestamp;
        // The microseconds follow seconds: when the format does not end
        // with them, the seconds since the epoch are added (if they fit).
        if micros && !(format.ends_with("%s") || format.ends_with("%S")) {
            if format.len() + 3 <= MAX_FORMAT {
                format.push_str(" %s");
            } else {
                micros = false;
            }
        }
        // The parser refuses NUL in strings; an empty format is kept.
        let format = CString::new(format).unwrap_or_default();
        // Read the time zone now: after a chroot /etc/localtime is gone.
        // SAFETY: tzset only reads the environment and the zone files.
        unsafe { tzset() };
        Some(Timestamp { format, micros })
    }

    /// The text for `secs.micros` since the epoch.
    pub fn render(&self, secs: i64, micros: u32) -> String {
        // SAFETY: an all-zero tm is a valid value to be overwritten.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        let t = secs as libc::time_t;
        // SAFETY: both pointers are valid for the call.
        let local = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
        let mut text = if local {
            let mut buf = [0u8; 256];
            // SAFETY: `buf` is valid for its length, the format is
            // NUL-terminated and `tm` was filled by localtime_r.
            let n = unsafe {
                libc::strftime(
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    self.format.as_ptr(),
                    &tm,
                )
            };
            String::from_utf8_lossy(&buf[..n]).into_owned()
        } else {
            secs.to_string()
        };
        if self.micros && !text.is_empty() {
            text.push_str(&format!(".{micros:06}"));
        }
        text
    }
}

extern "C" {
    fn tzset();
}

impl FormatTime for Timestamp {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        w.write_str(&self.render(now.as_secs() as i64, now.subsec_micros()))
    }
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
mod timestamp_tests {
    use super::Timestamp;
    use crate::config::Config;

    fn stamp(text: &str) -> Option<Timestamp> {
        let c = Config::parse(
            &format!("Spread_Segment 127.0.0.255:4803 {{ a 127.0.0.1 }}\n{text}"),
            "t",
        )
        .unwrap();
        Timestamp::for_config(&c)
    }

    #[test]
    fn formats_as_5_0_1_does() {
        std::env::set_var("TZ", "UTC");
        // 2026-12-02 15:42:11 UTC
        let t = 1_796_226_131;
        assert_eq!(stamp(""), None, "no time unless asked");
        assert_eq!(
            stamp("EventTimeStamp").unwrap().render(t, 5),
            "12/02/26 15:42:11"
        );
        assert_eq!(
            stamp("EventTimeStamp = \"[%a %d %b %Y %H:%M:%S]\"")
                .unwrap()
                .render(t, 5),
            "[Wed 02 Dec 2026 15:42:11]"
        );
        assert_eq!(
            stamp("EventPreciseTimeStamp").unwrap().render(t, 5),
            "12/02/26 15:42:11.000005"
        );
        // The microseconds follow seconds: the epoch's are added.
        assert_eq!(
            stamp("EventTimeStamp = \"%H:%M\"\nEventPreciseTimeStamp")
                .unwrap()
                .render(t, 42),
            "15:42 1796226131.000042"
        );
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
