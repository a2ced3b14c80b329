use std::net::IpAddr;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn err(text: &str) -> String {
    match Config::parse(text, "spread.conf") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const FULL_V4: &str = r#"# every option, IPv4 address forms
DebugFlags = { PRINT EXIT ! DEBUG !MEMBERSHIP CONFIGURATION }
EventPriority = WARNING
EventLogFile = /var/log/spread-%h.log
EventTimeStamp
EventTimeStamp = "[%a %d %b %Y %H:%M:%S]"
EventPreciseTimeStamp
DangerousMonitor = True
SocketPortReuse = OFF
RuntimeDir = /run/spread
DaemonUser = spread
DaemonGroup = 'spread group'
AllowedAuthMethods = "NULL IP"
RequiredAuthMethods = IP
AccessControlPolicy = PERMIT
MaxSessionMessages = 500
MaxSessions = 10
MaxSessionBytes = 2000000
MaxQueuedBytes = 300000000
MaxGroupsPerSession = 20
ActiveIPVersion = IPv4
Window = 200
PersonalWindow = 30
AcceleratedWindow = 25
AcceleratedRing = yes
TokenTimeout = 1000
HurryTimeout = 400
AliveTimeout = 200
JoinTimeout = 200
RepTimeout = 500
SegTimeout = 400
GatherTimeout = 1000
FormTimeout = 1000
LookupTimeout = 20000
WideAreaNetwork = NO
ExcludeSegAddrsFromHash = false
IgnoreMulticastJoinErrors = Yes

Spread_Segment 225.0.0.7:6803 225.0.0.8 {
    a 127.0.0.5 VirtualID = 11 { D 127.0.0.5 C 0.0.0.0 M ::1 fe80::2%lo }
    b 127.0.0.2 ;
    127.0.0.3 { 127.0.0.3 } ;
    "a-rather-long-daemon-name" 127.0.0.4 { M C 127.0.0.4 D 0.0.0.0 }
    localhost
}
Spread_Segment 127.0.0.255 {
    "C" 127.0.0.1   # same address, other port
}
"#;

/// Segments and daemons one a line: `line port addrs` then `line name addr
/// id [interfaces]`, with `!` marking an explicit id.
fn render(c: &Config) -> String {
    let mut out = String::new();
    for s in &c.segments {
        out += &format!("{} {} {:?}\n", s.line, s.port, s.addrs);
        for d in &s.daemons {
            let ifs: Vec<String> = (d.interfaces.iter())
                .map(|i| {
                    let kinds = [(i.monitor, "M"), (i.client, "C"), (i.daemon, "D")];
                    let letters: String = kinds.iter().filter(|k| k.0).map(|k| k.1).collect();
                    format!("{letters} {}", i.addr)
                })
                .collect();
            let mark = if d.explicit_id { "!" } else { "" };
            out += &format!(" {} {} {} {}{mark} {ifs:?}\n", d.line, d.name, d.addr, d.id);
        }
    }
    out
}

#[test]
fn full_grammar_ipv4() {
    let c = Config::parse(FULL_V4, "full.conf").unwrap();
    use DebugFlag::*;
    let flags = [
        (true, Print),
        (true, Exit),
        (false, Debug),
        (false, Membership),
    ];
    assert_eq!(
        c.debug_flags,
        [&flags[..], &[(true, Configuration)]].concat()
    );
    assert_eq!(c.event_priority, Some(EventPriority::Warning));
    assert_eq!(c.event_log_file.as_deref(), Some("/var/log/spread-%h.log"));
    assert_eq!(
        c.event_timestamp,
        Some(Some("[%a %d %b %Y %H:%M:%S]".into()))
    );
    assert!(c.event_precise_timestamp && c.dangerous_monitor && c.ignore_multicast_join_errors);
    assert_eq!(c.socket_port_reuse, TriState::Off);
    assert_eq!(c.runtime_dir, Some("/run/spread".into()));
    assert_eq!(c.daemon_user.as_deref(), Some("spread"));
    assert_eq!(c.daemon_group.as_deref(), Some("spread group"));
    assert_eq!(
        c.allowed_auth_methods,
        Some(vec!["NULL".into(), "IP".into()])
    );
    assert_eq!(c.required_auth_methods, Some(vec!["IP".into()]));
    assert_eq!(c.access_control_policy.as_deref(), Some("PERMIT"));
    assert_eq!((c.max_session_messages, c.max_sessions), (500, 10));
    let limits = (
        c.max_session_bytes,
        c.max_queued_bytes,
        c.max_groups_per_session,
    );
    assert_eq!(limits, (2_000_000, 300_000_000, 20));
    assert_eq!(c.active_ip_version, Some(IpVersion::V4));
    let windows = (c.window, c.personal_window, c.accelerated_window);
    assert_eq!(windows, (Some(200), Some(30), Some(25)));
    assert_eq!(
        (c.accelerated_ring, c.wide_area_network),
        (Some(true), Some(false))
    );
    assert!(!c.exclude_seg_addrs_from_hash);
    let t = c.timeouts.unwrap();
    let all = [
        t.token, t.hurry, t.alive, t.join, t.rep, t.seg, t.gather, t.form, t.lookup,
    ];
    assert_eq!(all, [1000, 400, 200, 200, 500, 400, 1000, 1000, 20000]);
    let b = automatic_id("b");
    let want = format!(
        r#"39 6803 [225.0.0.7, 225.0.0.8]
 40 a 127.0.0.5 11! ["D 127.0.0.5", "C 0.0.0.0", "M ::1", "MCD fe80::2"]
 41 b 127.0.0.2 {b} []
 42 127.0.0.3 127.0.0.3 {} ["MCD 127.0.0.3"]
 43 a-rather-long-daemo 127.0.0.4 {} ["MC 127.0.0.4", "D 0.0.0.0"]
 44 localhost 127.0.0.1 482711334 []
46 4803 [127.0.0.255]
 47 C 127.0.0.1 {} []
"#,
        automatic_id("127.0.0.3"),
        automatic_id("a-rather-long-daemo"),
        automatic_id("C"),
    );
    assert_eq!(render(&c), want);
    // A loopback segment of daemons on this host works here (data goes
    // to each daemon): nothing to warn about.
    assert_eq!(c.warnings, []);
}

#[test]
fn a_loopback_segment_warns_only_of_a_daemon_it_cannot_reach() {
    let spread_sample = "Spread_Segment 127.0.0.255:4803 {\n\tlocalhost 127.0.0.1\n}\n";
    assert_eq!(Config::parse(spread_sample, "s.conf").unwrap().warnings, []);
    let text = "Spread_Segment 127.0.0.255:4803 {\n\ta 127.0.0.1\n\tb 10.0.0.2\n}\n";
    assert_eq!(
        Config::parse(text, "s.conf").unwrap().warnings,
        [(
            1,
            "segment address 127.0.0.255 is loopback: daemon b at 10.0.0.2 cannot be reached through it; use the segment's broadcast or a multicast address".to_string()
        )]
    );
}

#[test]
fn full_grammar_ipv6() {
    let text = "ActiveIPVersion = IPv6\n\
        Spread_Segment [ff02::1:5]:7000 ff02::1:6 {\n\
        \tx fe80::1%eth0 { D fe80::1 C :: }\n\
        \tfe80::2%eth0\n\
        \t2001:db8:0:0:0:0:0:3 VirtualID = 999999999\n\
        }\n";
    let c = Config::parse(text, "v6.conf").unwrap();
    // Names taken from addresses lose %ifname, then are cut to 19 bytes.
    let want = format!(
        "2 7000 [ff02::1:5, ff02::1:6]\n 3 x fe80::1 {} [\"D fe80::1\", \"C ::\"]\n \
         4 fe80::2 fe80::2 {} []\n 5 2001:db8:0:0:0:0:0: 2001:db8::3 999999999! []\n",
        automatic_id("x"),
        automatic_id("fe80::2"),
    );
    assert_eq!(render(&c), want);
    assert_eq!(c.ip_version(), IpVersion::V6);
    assert!(c.warnings.is_empty());
}

#[test]
fn embedded_default_and_identity() {
    let c = Config::embedded_default();
    assert_eq!(c.source, "<embedded default>");
    let d = c.daemons().next().unwrap();
    assert_eq!(
        (d.name.as_str(), d.addr, d.id, c.segments[0].port),
        ("localhost", ip("127.0.0.1"), 482_711_334, 4803)
    );
    assert_eq!(c.segments[0].addrs, [ip("127.0.0.255")]);
    assert_eq!(c.find_me(Some("localhost")).unwrap(), (0, 0));
    assert_eq!(
        c.find_me(Some("nobody")).unwrap_err().to_string(),
        "<embedded default>: no daemon named 'nobody' is configured"
    );
    // Loopback is present on any host that can run these tests.
    assert_eq!(c.find_me(None).unwrap(), (0, 0));
}

#[test]
fn identity_by_address_and_truncated_name() {
    let c = Config::parse("Spread_Segment 10.0.0.255 { a 10.0.0.1 b 10.0.0.2 }\nSpread_Segment 10.1.0.255 { abcdefghijklmnopqrstu 10.1.0.1 }", "s.conf").unwrap();
    assert_eq!(
        c.find_me_among(None, &[ip("::1"), ip("10.1.0.1"), ip("10.0.0.2")])
            .unwrap(),
        (0, 1)
    );
    assert_eq!(c.find_me_among(None, &[ip("10.1.0.1")]).unwrap(), (1, 0));
    assert_eq!(
        c.find_me(Some("abcdefghijklmnopqrstuvwxyz")).unwrap(),
        (1, 0)
    );
    assert_eq!(
        c.find_me_among(None, &[ip("10.0.0.3")])
            .unwrap_err()
            .to_string(),
        "s.conf: none of this host's addresses is a configured daemon's address (use -n name)"
    );
}

#[test]
fn access_control_policy_is_one_that_exists() {
    let c = Config::parse(
        "AccessControlPolicy = PERMIT\nSpread_Segment 10.0.0.255 { a 10.0.0.1 }",
        "t",
    )
    .unwrap();
    assert_eq!(c.access_control_policy.as_deref(), Some("PERMIT"));
    for bad in ["DENY", "permit"] {
        let e = Config::parse(
            &format!("MaxSessions = 3\nAccessControlPolicy = {bad}\nSpread_Segment 10.0.0.255 {{ a 10.0.0.1 }}"),
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("t:2:") && e.contains("unknown AccessControlPolicy"),
            "{e}"
        );
    }
}

#[test]
fn defaults_and_edge_forms() {
    let c = Config::parse(
        "DebugFlags = { }\nSpread_Segment 10.0.0.255 { 'x;' 10.0.0.1 }\n",
        "t",
    )
    .unwrap();
    assert_eq!(c.debug_flags, [(true, DebugFlag::None)]);
    assert_eq!(
        (
            c.max_session_messages,
            c.max_sessions,
            c.timeouts,
            c.socket_port_reuse
        ),
        (1000, 997, None, TriState::Auto)
    );
    let limits = (
        c.max_session_bytes,
        c.max_queued_bytes,
        c.max_groups_per_session,
    );
    assert_eq!(limits, (64 << 20, 512 << 20, 10_000));
    assert_eq!(c.daemons().next().unwrap().name, "x;");
    assert_eq!(
        c.warnings,
        [(
            2,
            "daemon name 'x;' ends with ';' (white space must precede ';')".to_string()
        )]
    );
    // "a 10.0.0.1" is one daemon; a ';' makes "b" and "10.0.0.3" two.
    let c = Config::parse(
        "ActiveIPVersion = IPv4\nSpread_Segment 10.0.0.255 { a 10.0.0.1 localhost ; 10.0.0.3 }",
        "t",
    )
    .unwrap();
    let names: Vec<&str> = c.daemons().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["a", "localhost", "10.0.0.3"]);
}

/// One case a line: `input => line: message`; `\n` in the input is a newline
/// and `SEG(body)` stands for `Spread_Segment 225.1.1.1 {\n` body `\n}\n`.
const ERRORS: &str = r"
Windw = 5 => 1: unknown option 'Windw'
\n\nWindow=160 => 3: unknown option 'Window=160' (put white space around '=')
Window 160 => 1: expected '=' after Window, found number '160'
Window = big => 1: Window expects a number (1 to 9 digits), found string 'big'
Window = 1234567890 => 1: Window expects a number (1 to 9 digits), found string '1234567890'
DangerousMonitor = maybe => 1: DangerousMonitor expects true, yes, false or no, found string 'maybe'
SocketPortReuse = yes => 1: SocketPortReuse expects on, off or auto, found reserved word 'yes'
EventPriority = DEBUG => 1: EventPriority expects pDEBUG, INFO, WARNING, ERROR, CRITICAL or FATAL, found reserved word 'DEBUG'
ActiveIPVersion = ipv4 => 1: ActiveIPVersion must be IPv4 or IPv6, found string 'ipv4'
DebugFlags = { PRINT\n FOO } => 2: expected a debug flag, '!' or '}', found string 'FOO'
DebugFlags = { ! } => 1: expected a debug flag after '!', found '}'
EventLogFile = 42 => 1: EventLogFile expects a string, found number '42'
5 => 1: expected an option or Spread_Segment, found number '5'
VirtualID = 3 => 1: VirtualID is only allowed after a daemon
Spread_Segment { => 1: Spread_Segment expects an address, found '{'
Spread_Segment 1.2.3.4:70000 { => 1: port out of range in '1.2.3.4:70000'
Spread_Segment 225.1.1.1 225.1.1.2:5 { => 1: only the first segment address may have a port: '225.1.1.2:5'
Spread_Segment 225.1.1.1 foo { => 1: expected another segment address or '{', found string 'foo'
Spread_Segment 225.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 { => 1: more than 5 segment addresses
Spread_Segment 225.1.1.1 {\n a 10.0.0.1\n => 2: Spread_Segment of line 1 is not closed
SEG(C 10.0.0.1) => 2: expected a daemon or '}' (quote reserved words used as names), found reserved word 'C'
SEG(a 10.0.0.1\nWindow = 5) => 3: expected a daemon or '}' (missing '}' before it?), found reserved word 'Window'
SEG(a 10.0.0.1:4803) => 2: a daemon address takes no port: '10.0.0.1:4803'
SEG(a 10.0.0.1 VirtualID 5) => 2: expected '=' after VirtualID, found number '5'
SEG(a 10.0.0.1 { D }) => 2: expected an address after D, found '}'
SEG(a 10.0.0.1 { DC 10.0.0.1 }) => 2: expected M, C, D, an address or '}', found string 'DC'
SEG(a 10.0.0.1 { D 10.0.0.1:5 }) => 2: an interface address takes no port: '10.0.0.1:5'
# nothing => 1: no Spread_Segment configured
Spread_Segment 225.1.1.1 { }\n => 1: segment address 225.1.1.1: no ActiveIPVersion and no daemon yet to tell the address family
ActiveIPVersion = IPv4\nSpread_Segment 225.1.1.1 { }\n => 2: no daemon configured
SEG(a 10.0.0.1\na 10.0.0.2) => 3: daemon name 'a' also used on line 2
SEG(abcdefghijklmnopqrsXX 10.0.0.1\nabcdefghijklmnopqrsYY 10.0.0.2) => 3: daemon name 'abcdefghijklmnopqrs' also used on line 2
SEG('' 10.0.0.1) => 2: empty daemon name
SEG(a 10.0.0.1\nb 10.0.0.1) => 3: daemon 'b': address 10.0.0.1 port 4803 is daemon 'a''s (line 2)
SEG(a 10.0.0.1 VirtualID = 7\nb 10.0.0.2 VirtualID = 7) => 3: daemon 'b': id 7 is daemon 'a''s (line 2)
SEG(a 10.0.0.1 VirtualID = 0) => 2: VirtualID must be greater than 0
SEG(a 0.0.0.0) => 2: daemon 'a': 0.0.0.0 is the unspecified address
SEG(a 224.0.0.9) => 2: daemon 'a': 224.0.0.9 is a multicast address
SEG(a 10.0.0.1\nb ::2) => 3: daemon 'b': ::2 is IPv6, not IPv4 (set by daemon 'a' on line 2)
ActiveIPVersion = IPv6\nSEG(a ::1) => 2: segment address 225.1.1.1 is IPv4, not IPv6 (set by ActiveIPVersion on line 1)
SEG(a 10.0.0.1)ActiveIPVersion = IPv6 => 4: ActiveIPVersion IPv6 conflicts with IPv4, set by daemon 'a' on line 2
ActiveIPVersion = IPv6\nSEG(a 10.0.0.1) => 3: daemon 'a': 10.0.0.1 is IPv4, not IPv6 (set by ActiveIPVersion on line 1)
ActiveIPVersion = IPv4\nActiveIPVersion = IPv6 => 2: ActiveIPVersion IPv6 conflicts with IPv4, set by ActiveIPVersion on line 1
ActiveIPVersion = v6 => 1: ActiveIPVersion must be IPv4 or IPv6, found string 'v6'
ActiveIPVersion = 6 => 1: ActiveIPVersion must be IPv4 or IPv6, found number '6'
ActiveIPVersion = IPV6 => 1: ActiveIPVersion must be IPv4 or IPv6, found string 'IPV6'
Spread_Segment ff02::1 { }\nSpread_Segment ff02::2 { a fd00::1 } => 1: segment address ff02::1: no ActiveIPVersion and no daemon yet to tell the address family
Spread_Segment [ff02::1 { => 1: '[' without a matching ']' in '[ff02::1'
Spread_Segment [ff02::1%eth0 { => 1: '[' without a matching ']' in '[ff02::1%eth0'
Spread_Segment [ff02::zz]:4803 { => 1: '[ff02::zz]' is not an address
Spread_Segment [ff02::1]: { => 1: expected a port after '[ff02::1]:'
Spread_Segment [ff02::1]:65536 { => 1: port out of range in '[ff02::1]:65536'
Spread_Segment [225.1.1.1]:4803 { => 1: '[225.1.1.1]:4803': an IPv4 address with a port is written without brackets
Spread_Segment ff02::1] { => 1: unexpected character ']'
Spread_Segment [ff02::1]:4803 [ff02::2]:4803 { => 1: only the first segment address may have a port: '[ff02::2]:4803'
ActiveIPVersion = IPv6\nSEG(a [fd00::1]:4803) => 3: a daemon address takes no port: '[fd00::1]:4803'
ActiveIPVersion = IPv6\nSEG(a fd00::1 { D [fd00::1]:4803 }) => 3: an interface address takes no port: '[fd00::1]:4803'
ActiveIPVersion = IPv6\nSEG(a ff02::9) => 3: daemon 'a': ff02::9 is a multicast address
ActiveIPVersion = IPv6\nSEG(a ::) => 3: daemon 'a': :: is the unspecified address
ActiveIPVersion = IPv6\nSEG(a fd00::1 { C fd00::1 }) => 3: daemon 'a': no D interface for fd00::1
Spread_Segment 0.0.0.0 { a 10.0.0.1 } => 1: segment address 0.0.0.0 is the unspecified address
SEG(a 10.0.0.1 { C 10.0.0.1 D 10.0.0.2 }) => 2: daemon 'a': no D interface for 10.0.0.1
SEG(a 10.0.0.1 { }) => 2: daemon 'a': empty interface list
Window = 10\nSEG(a 10.0.0.1) => 4: PersonalWindow (20) exceeds Window (10)
AcceleratedRing = true\nAcceleratedWindow = 21\nSEG(a 10.0.0.1) => 5: AcceleratedWindow (21) exceeds PersonalWindow (20)
TokenTimeout = 100\nFormTimeout = 9\nSEG(a 10.0.0.1) => 5: set all nine timeouts or none; missing: HurryTimeout, AliveTimeout, JoinTimeout, RepTimeout, SegTimeout, GatherTimeout, LookupTimeout
MaxSessionMessages = 0 => 1: MaxSessionMessages must be at least 1, found 0
MaxSessions = 0 => 1: MaxSessions must be at least 1, found 0
MaxSessionBytes = 16 => 1: MaxSessionBytes must be at least 1048576, found 16
MaxQueuedBytes = 1048575 => 1: MaxQueuedBytes must be at least 1048576, found 1048575
MaxGroupsPerSession = 0 => 1: MaxGroupsPerSession must be at least 1, found 0
DaemonUser = abcdefghijklmnopqrstuvwxyzabcdefg => 1: DaemonUser is longer than 32 characters
\nMetricsAddress = 127.0.0.1 => 2: MetricsAddress needs a port: '127.0.0.1:9464', say
MetricsAddress = localhost:9464 => 1: MetricsAddress expects an address with a port (127.0.0.1:9464, [::1]:9464), found string 'localhost:9464'
MetricsAddress = 127.0.0.1:0 => 1: MetricsAddress needs a port other than 0
MetricsAddress = 127.0.0.1:99999 => 1: port out of range in '127.0.0.1:99999'
MetricsAddress = [::1] => 1: MetricsAddress needs a port: '[::1]:9464', say
MetricsAddress 127.0.0.1:9464 => 1: expected '=' after MetricsAddress, found address with port '127.0.0.1:9464'
EventLogFormat = yaml => 1: EventLogFormat must be text or json, found string 'yaml'
";

/// MetricsAddress and EventLogFormat are this daemon's own: read as
/// written, and outside the configuration hash, so that daemons with and
/// without them form one ring with 5.0.1's.
#[test]
fn metrics_and_log_format_options() {
    let base = "Spread_Segment 225.1.1.1:4803 {\n a 10.0.0.1\n}\n";
    let plain = Config::parse(base, "t").unwrap();
    assert_eq!(plain.metrics_address, None);
    assert_eq!(plain.event_log_format, LogFormat::Text);
    for (text, addr, format) in [
        (
            "MetricsAddress = 127.0.0.1:9464\n",
            "127.0.0.1:9464",
            LogFormat::Text,
        ),
        (
            "MetricsAddress = [::1]:9464\nEventLogFormat = json\n",
            "[::1]:9464",
            LogFormat::Json,
        ),
        (
            "MetricsAddress = 0.0.0.0:9100\nEventLogFormat = TEXT\n",
            "0.0.0.0:9100",
            LogFormat::Text,
        ),
    ] {
        let c = Config::parse(&format!("{text}{base}"), "t").unwrap();
        assert_eq!(c.metrics_address, Some(addr.parse().unwrap()), "{text}");
        assert_eq!(c.event_log_format, format, "{text}");
        assert_eq!(c.hash(), plain.hash(), "{text}");
        assert_eq!(c.hash_text(), plain.hash_text(), "{text}");
    }
    let c = Config::parse(&format!("{base}MetricsAddress = 127.0.0.1:1\n"), "t").unwrap();
    assert_eq!(c.where_set("MetricsAddress"), "t:4");
}

#[test]
fn error_messages() {
    for case in ERRORS.lines().filter(|l| !l.is_empty()) {
        let (input, want) = case.split_once(" => ").unwrap();
        let mut text = input.replace("\\n", "\n");
        if let Some((pre, rest)) = text.split_once("SEG(") {
            let (body, post) = rest.rsplit_once(')').unwrap();
            text = format!("{pre}Spread_Segment 225.1.1.1 {{\n{body}\n}}\n{post}");
        }
        assert_eq!(err(&text), format!("spread.conf:{want}"), "input: {text:?}");
    }
}

#[test]
fn limits() {
    let many = |n: usize, f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<String>();
    let segs = many(21, &|i| {
        format!("Spread_Segment 225.1.1.{i} {{ d{i} 10.0.0.{i} }}\n")
    });
    assert_eq!(err(&segs), "spread.conf:21: too many segments (at most 20)");
    let daemons = many(129, &|i| format!("d{i} 10.0.0.{} ", i + 1));
    let text = format!("Spread_Segment 225.1.1.1 {{\n{daemons} }}");
    assert_eq!(err(&text), "spread.conf:2: too many daemons (at most 128)");
    let ifs = many(11, &|i| format!("D 10.0.1.{i} "));
    let text = format!("Spread_Segment 225.1.1.1 {{ a 10.0.0.1 {{ {ifs} }} }}");
    assert_eq!(
        err(&text),
        "spread.conf:1: daemon 'a': more than 10 interfaces"
    );
}

#[test]
fn same_address_on_other_port_and_io_errors() {
    let c = Config::parse("Spread_Segment 127.0.0.1:6810 { a 127.0.0.1 }\nSpread_Segment 127.0.0.1:6812 { b 127.0.0.1 }", "t").unwrap();
    assert_eq!(c.daemons().count(), 2);
    let e = Config::load(std::path::Path::new("/nonexistent/spread.conf")).unwrap_err();
    assert!(matches!(e, ConfigError::Io { .. }));
    assert!(
        e.to_string().starts_with("/nonexistent/spread.conf: "),
        "{e}"
    );
    assert_eq!(e.line(), None);
}

#[test]
fn auth_methods() {
    let seg = "Spread_Segment 10.0.0.255 { a 10.0.0.1 }\n";
    let c = Config::parse(&format!("RequiredAuthMethods = IP\n{seg}"), "t").unwrap();
    assert_eq!(c.allowed_auth_methods, Some(vec![]));
    let c = Config::parse(
        &format!("AllowedAuthMethods = A\nAllowedAuthMethods = 'B C'\n{seg}"),
        "t",
    )
    .unwrap();
    assert_eq!(
        c.allowed_auth_methods,
        Some(vec!["A".into(), "B".into(), "C".into()])
    );
    assert_eq!(c.required_auth_methods, None);
}

#[test]
fn locate_takes_the_file_given_then_the_first_place_that_exists_then_the_default() {
    let dir = std::env::temp_dir().join(format!("spread-locate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (first, second) = (dir.join("first.conf"), dir.join("second.conf"));
    std::fs::write(&second, "Spread_Segment 127.0.0.255:4900 { b 127.0.0.2 }\n").unwrap();
    let given = dir.join("given.conf");
    std::fs::write(&given, "Spread_Segment 127.0.0.255:4901 { c 127.0.0.3 }\n").unwrap();
    let name = |c: Config| c.daemons().next().unwrap().name.clone();
    let places = [first.as_path(), second.as_path()];
    assert_eq!(name(Config::locate_in(Some(&given), &places).unwrap()), "c");
    assert_eq!(name(Config::locate_in(None, &places).unwrap()), "b");
    assert_eq!(
        name(Config::locate_in(None, &places[..1]).unwrap()),
        "localhost"
    );
    // A file given that is missing is an error, not the default.
    assert!(Config::locate_in(Some(&first), &places).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ipv6_brackets_and_interfaces() {
    // 5.0.1 reads `[addr]:port` as one token and skips brackets around an
    // address without a port, so both forms below mean the same as bare ones.
    let text = "ActiveIPVersion = IPv6\n\
        Spread_Segment [ff02::1:2:3%eth30]:5000 [ff05::7] {\n\
        \td1 [fd00::1]\n\
        \t[fd00::2%eth0]\n\
        \td3 fe80::3%eth1 { D fe80::3%eth1 C [::] }\n\
        }\n";
    let c = Config::parse(text, "v6.conf").unwrap();
    let seg = &c.segments[0];
    assert_eq!(
        (seg.port, &seg.addrs),
        (5000, &vec![ip("ff02::1:2:3"), ip("ff05::7")])
    );
    assert_eq!(seg.zones, [Some("eth30".to_string()), None]);
    let daemons: Vec<(&str, IpAddr, Option<&str>, u32)> = c
        .daemons()
        .map(|d| (d.name.as_str(), d.addr, d.zone.as_deref(), d.id))
        .collect();
    assert_eq!(
        daemons,
        [
            ("d1", ip("fd00::1"), None, automatic_id("d1")),
            // Named after the address as written, without brackets or interface.
            (
                "fd00::2",
                ip("fd00::2"),
                Some("eth0"),
                automatic_id("fd00::2")
            ),
            ("d3", ip("fe80::3"), Some("eth1"), automatic_id("d3")),
        ]
    );
    let ifs = &c.segments[0].daemons[2].interfaces;
    assert_eq!(
        (ifs[0].daemon, ifs[0].addr, ifs[0].zone.as_deref()),
        (true, ip("fe80::3"), Some("eth1"))
    );
    assert_eq!(
        (ifs[1].client, ifs[1].addr, ifs[1].zone.as_deref()),
        (true, ip("::"), None)
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    // Interfaces are local to each host: they never enter the hash.
    let hash_text = format!(
        "Segment: port = 5000; [ff02:0000:0000:0000:0000:0001:0002:0003] \
         [ff05:0000:0000:0000:0000:0000:0000:0007]\n\
         \t'd1' [fd00:0000:0000:0000:0000:0000:0000:0001] [{}]\n\
         \t'fd00::2' [fd00:0000:0000:0000:0000:0000:0000:0002] [{}]\n\
         \t'd3' [fe80:0000:0000:0000:0000:0000:0000:0003] [{}]\n\n\
         Version: 5\nProtocol: Original Ring\n",
        automatic_id("d1"),
        automatic_id("fd00::2"),
        automatic_id("d3")
    );
    assert_eq!(c.hash_text(), hash_text);
    let other_host = text.replace("eth", "enp");
    assert_eq!(Config::parse(&other_host, "t").unwrap().hash(), c.hash());
    // The family may come from the first daemon instead of ActiveIPVersion.
    let implicit = Config::parse(&text.replace("ActiveIPVersion = IPv6\n", ""), "t").unwrap();
    assert_eq!(
        (implicit.ip_version(), implicit.hash()),
        (IpVersion::V6, c.hash())
    );
}

#[test]
fn active_ip_version_filters_name_lookups() {
    // "localhost" has an IPv4 address on any host that runs these tests;
    // whether it has an IPv6 one depends on /etc/hosts.
    let c = Config::parse(
        "ActiveIPVersion = IPv4\nSpread_Segment 225.1.1.1 { localhost }",
        "t",
    )
    .unwrap();
    assert_eq!(c.daemons().next().unwrap().addr, ip("127.0.0.1"));
    match Config::parse(
        "ActiveIPVersion = IPv6\nSpread_Segment ff02::1 { localhost }",
        "t",
    ) {
        Ok(c) => assert_eq!(c.daemons().next().unwrap().addr, ip("::1")),
        Err(e) => assert_eq!(
            e.to_string(),
            "t:2: daemon name 'localhost' has no IPv6 address"
        ),
    }
    let e = err("ActiveIPVersion = IPv6\nSpread_Segment ff02::1 { fd00::1::2 }");
    let want = "spread.conf:2: cannot resolve daemon name 'fd00::1::2' \
        (nor is it an IPv4 or IPv6 address): ";
    assert!(e.starts_with(want), "{e}");
}

#[test]
fn max_message_size_range_budgets_and_hash() {
    let seg = "Spread_Segment 225.0.0.7:6803 {\n a 127.0.0.1\n b 127.0.0.2\n c 127.0.0.3\n}\n";
    let plain = Config::parse(seg, "t").unwrap();
    assert_eq!(plain.max_message_size, None);
    assert_eq!(plain.hash(), 643_029_526, "5.0.1's hash without the option");
    // 5.0.1's limit written out is the default: same hash.
    let same = Config::parse(&format!("MaxMessageSize = 143119\n{seg}"), "t").unwrap();
    assert_eq!((same.max_message_size, same.hash()), (None, plain.hash()));
    let big = Config::parse(&format!("MaxMessageSize = 16777216\n{seg}"), "t").unwrap();
    assert_eq!(big.max_message_size, Some(16 << 20));
    assert!(big
        .hash_text()
        .ends_with("Protocol: Original Ring\nMaxMessageSize: 16777216\n"));
    assert_ne!(big.hash(), plain.hash());
    let other = Config::parse(&format!("MaxMessageSize = 1048576\n{seg}"), "t").unwrap();
    assert_ne!(other.hash(), big.hash());
    // The budgets not written grow to hold two of the largest messages.
    assert_eq!(big.max_session_bytes, 64 << 20);
    assert_eq!(big.max_queued_bytes, 512 << 20);
    let max = Config::parse(&format!("MaxMessageSize = 33554432\n{seg}"), "t").unwrap();
    assert_eq!(max.max_message_size, Some(32 << 20));
    assert_eq!(max.max_session_bytes, 2 * ((32 << 20) + 48 + 3200));
    for (text, want) in [
        ("MaxMessageSize = 143118", "spread.conf:1: MaxMessageSize must be at least 143119, found 143118"),
        ("MaxMessageSize = 33554433", "spread.conf:1: MaxMessageSize must be at most 33554432, found 33554433"),
        ("MaxMessageSize = big", "spread.conf:1: MaxMessageSize expects a number (1 to 9 digits), found string 'big'"),
        (
            "MaxSessionBytes = 2000000\nMaxMessageSize = 16777216",
            "spread.conf:1: MaxSessionBytes (2000000) cannot hold one message of MaxMessageSize (16777216, line 2): at least 16780464",
        ),
        (
            "MaxMessageSize = 16777216\nMaxQueuedBytes = 16780463",
            "spread.conf:2: MaxQueuedBytes (16780463) cannot hold one message of MaxMessageSize (16777216, line 1): at least 16780464",
        ),
    ] {
        assert_eq!(err(&format!("{text}\n{seg}")), want, "{text}");
    }
}

/// RingKeyFile and AcceptRingKeyFile name files (read by the daemon, not
/// here); they stay out of the hash, which a 5.0.1 daemon must still match
/// when no key is set and which must not hint at the key when one is.
#[test]
fn ring_key_options() {
    let base = "Spread_Segment 225.1.1.1:4803 {\n a 10.0.0.1\n}\n";
    let plain = Config::parse(base, "t").unwrap();
    assert_eq!(plain.ring_key_file, None);
    assert!(plain.accept_ring_key_files.is_empty());
    let text = "RingKeyFile = /etc/spread/ring.key\nAcceptRingKeyFile = \"/etc/spread/old key\"\nAcceptRingKeyFile = /etc/spread/older.key\n";
    let c = Config::parse(&format!("{text}{base}"), "t").unwrap();
    assert_eq!(c.ring_key_file.as_deref(), Some("/etc/spread/ring.key"));
    assert_eq!(
        c.accept_ring_key_files,
        ["/etc/spread/old key", "/etc/spread/older.key"]
    );
    assert_eq!(c.hash(), plain.hash());
    assert_eq!(c.where_set("RingKeyFile"), "t:1");
    let err = Config::parse("RingKeyFile = \n", "t")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("t:"), "{err}");
}

/// AllowUsers, AllowGroups, GroupAccessFile and AuthSecretFile are this
/// daemon's own: kept with their lines, outside the configuration hash.
#[test]
fn client_access_options() {
    use crate::Written;
    let base = "Spread_Segment 225.1.1.1:4803 {\n a 10.0.0.1\n}\n";
    let plain = Config::parse(base, "t").unwrap();
    assert!(!plain.client_access.is_configured());
    let text = format!(
        "{base}AllowUsers = \"alice 1001\"\nAllowUsers = bob\nAllowGroups = 10\n\
         GroupAccessFile = /etc/spread/groups.acl\nAuthSecretFile = \"/etc/spread/secrets\"\n\
         RequiredAuthMethods = \"PEERCRED\"\n"
    );
    let c = Config::parse(&text, "t").unwrap();
    let a = &c.client_access;
    let w = |line, v: &str| Written {
        line,
        value: v.to_string(),
    };
    assert_eq!(a.allow_users, [w(4, "alice"), w(4, "1001"), w(5, "bob")]);
    assert_eq!(a.allow_groups, [w(6, "10")]);
    assert_eq!(
        a.group_access_file,
        Some(Written {
            line: 7,
            value: "/etc/spread/groups.acl".into()
        })
    );
    assert_eq!(a.auth_secret_file.as_ref().unwrap().line, 8);
    assert_eq!(c.hash(), plain.hash());
    assert_eq!(c.hash_text(), plain.hash_text());
    for (bad, want) in [
        ("AllowUsers = \"\"\n", "t:4: AllowUsers names no one"),
        (
            "GroupAccessFile = \"\"\n",
            "t:4: GroupAccessFile needs a file name",
        ),
        ("AllowGroups wheel\n", "t:4: expected '=' after AllowGroups"),
    ] {
        let e = Config::parse(&format!("{base}{bad}"), "t")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(want), "{bad:?}: {e}");
    }
}

/// The TLS options are this daemon's own: kept with their lines, outside
/// the configuration hash.
#[test]
fn tls_options() {
    let base = "Spread_Segment 225.1.1.1:4803 {\n a 10.0.0.1\n}\n";
    let plain = Config::parse(base, "t").unwrap();
    let text = format!(
        "{base}TlsAddress = 0.0.0.0:4813\nTlsCertificateFile = /etc/spread/tls.crt\n\
         TlsKeyFile = \"/etc/spread/tls.key\"\nTlsClientCAFile = /etc/spread/clients.pem\n"
    );
    let c = Config::parse(&text, "t").unwrap();
    let a = &c.client_access;
    assert!(a.is_configured());
    let addr = a.tls_address.as_ref().unwrap();
    assert_eq!(
        (addr.line, addr.value),
        (4, "0.0.0.0:4813".parse().unwrap())
    );
    let cert = a.tls_certificate_file.as_ref().unwrap();
    assert_eq!(
        (cert.line, cert.value.to_str()),
        (5, Some("/etc/spread/tls.crt"))
    );
    assert_eq!(
        a.tls_key_file.as_ref().unwrap().value.to_str(),
        Some("/etc/spread/tls.key")
    );
    assert_eq!(a.tls_client_ca_file.as_ref().unwrap().line, 7);
    assert_eq!(c.hash(), plain.hash());
    assert_eq!(c.hash_text(), plain.hash_text());
    for (bad, want) in [
        (
            "TlsAddress = 127.0.0.1\n",
            "t:4: TlsAddress needs a port: '127.0.0.1:4813', say",
        ),
        (
            "TlsAddress = 127.0.0.1:0\n",
            "t:4: TlsAddress needs a port other than 0",
        ),
        ("TlsKeyFile = \"\"\n", "t:4: TlsKeyFile needs a file name"),
    ] {
        let e = Config::parse(&format!("{base}{bad}"), "t")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(want), "{bad:?}: {e}");
    }
}
