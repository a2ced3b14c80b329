//! From a configuration to the runtime's settings: which daemon this is,
//! where it listens, how clients authenticate.

use crate::auth::{AllowList, AuthPolicy, Checks, IpRules, Secrets};
use crate::config::{Config, DaemonEntry};
use crate::control::ControlSettings;
use crate::engine::membership::{Daemon, MembershipConfig, Timeouts};
use crate::engine::node::NodeConfig;
use crate::engine::{DaemonInfo, Identity};
use crate::net_io::NetSettings;
use crate::runtime::Settings;
use crate::segment::Segment;
use crate::status::StatusInfo;
use crate::transport::Peer;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::sync::Arc;
use std::time::Duration;

/// How long a client may take for each step of its handshake.
pub const HANDSHAKE_STEP_TIMEOUT: Duration = Duration::from_secs(2);

/// The settings for daemon `me` (segment, index) of `config`.
pub fn settings_from(
    config: &Config,
    me: (usize, usize),
    rules: IpRules,
    secrets: Option<Arc<Secrets>>,
    membership_time: i32,
) -> Result<Settings, String> {
    let seg = &config.segments[me.0];
    let entry = &seg.daemons[me.1];
    let daemon_index = config.segments[..me.0]
        .iter()
        .map(|s| s.daemons.len())
        .sum::<usize>()
        + me.1;
    let local = crate::config::local_interfaces().unwrap_or_default();
    let tcp = if entry.interfaces.is_empty() {
        // As 5.0.1: the unspecified address of the daemon's family, which
        // for IPv6 also takes IPv4 clients unless the host says otherwise.
        let any = match entry.addr {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        vec![SocketAddr::new(any, seg.port)]
    } else {
        let mine = my_interface(entry, &local);
        (entry.interfaces.iter().filter(|i| i.client))
            .map(|i| {
                let index = zone_index(i.zone.as_deref())
                    .or_else(|| interface_holding(i.addr, &local))
                    .unwrap_or(mine);
                scoped(i.addr, seg.port, index)
            })
            .collect()
    };
    let auth = auth_policy(config, rules, secrets)?;
    let (net, membership) = ring_settings(config, me, &local);
    Ok(Settings {
        daemon_name: entry.name.clone(),
        tcp,
        // Where clients look, whatever RuntimeDir says (as 5.0.1).
        unix: Some(spread_core::client::unix_socket_dir().join(seg.port.to_string())),
        trusted_uids: Vec::new(),
        socket_owner: None,
        port_reuse: config.socket_port_reuse,
        max_sessions: config.max_sessions,
        queue: crate::sessions::backlog::QueueLimits {
            messages: config.max_session_messages,
            bytes: config.max_session_bytes,
            total_bytes: config.max_queued_bytes,
        },
        auth,
        step_timeout: HANDSHAKE_STEP_TIMEOUT,
        max_message_size: config.max_message_size,
        node: NodeConfig {
            identity: Identity {
                proc_id: entry.id,
                daemon_index,
                membership_time,
            },
            daemons: config
                .daemons()
                .map(|d| DaemonInfo {
                    id: d.id,
                    name: d.name.clone(),
                })
                .collect(),
            membership,
            max_groups_per_session: config.max_groups_per_session,
        },
        net,
        status: status_info(config, entry.id),
        control: ControlSettings {
            dangerous_monitor: config.dangerous_monitor,
            conf_hash: config.hash(),
            daemons: config.daemons().map(|d| d.name.clone()).collect(),
            my_index: daemon_index,
        },
        metrics: config
            .metrics_address
            .map(|a| (a, config.where_set("MetricsAddress"))),
        // Read by the caller, through the file's kept directory.
        group_rules: Default::default(),
        // Read by the caller at start only.
        tls: None,
    })
}

/// The methods and what they check: `spread.access_ip` (read at start),
/// PEERCRED's allow-lists resolved now, SECRET's secrets (read by the
/// caller). Errors name `file:line`.
fn auth_policy(
    config: &Config,
    rules: IpRules,
    secrets: Option<Arc<Secrets>>,
) -> Result<AuthPolicy, String> {
    let checks = Checks {
        ip: rules,
        peercred: AllowList::resolve(config)?,
        secrets,
    };
    AuthPolicy::new(
        config.allowed_auth_methods.as_deref(),
        config.required_auth_methods.as_deref(),
        checks,
    )
    .map_err(|e| {
        let at = if config.required_auth_methods.is_some() {
            config.where_set("RequiredAuthMethods")
        } else {
            config.where_set("AllowedAuthMethods")
        };
        format!("{at}: {e}")
    })
}

/// What a STATUS reply says about the configuration.
fn status_info(config: &Config, me: u32) -> StatusInfo {
    let small = |v: u32| v.min(i16::MAX as u32) as i16;
    StatusInfo {
        my_id: me,
        num_procs: small(config.daemons().count() as u32),
        num_segments: small(config.segments.len() as u32),
        window: small(config.window.unwrap_or(160)),
        personal_window: small(config.personal_window.unwrap_or(20)),
        accelerated_window: (config.accelerated_ring == Some(true))
            .then(|| small(config.accelerated_window.unwrap_or(15))),
    }
}

/// The interface of this daemon's own address: the one written after it
/// (`fe80::1%eth0`), else the one that holds it on this host, else 0 (the
/// system's choice). IPv6 link-local addresses of every daemon and the
/// segment's groups are reached through it, as in 5.0.1.
fn my_interface(entry: &DaemonEntry, local: &[(IpAddr, u32)]) -> u32 {
    zone_index(entry.zone.as_deref())
        .or_else(|| interface_holding(entry.addr, local))
        .unwrap_or(0)
}

/// The index of a written `%interface`; an unknown name counts as none
/// (5.0.1's lookup gives 0 then, and it falls back the same way).
fn zone_index(zone: Option<&str>) -> Option<u32> {
    let name = zone?;
    let index = crate::config::interface_index(name);
    if index.is_none() {
        tracing::warn!(target: "spread::network", "no interface named '{name}' on this host; using the one that holds the address");
    }
    index
}

fn interface_holding(ip: IpAddr, local: &[(IpAddr, u32)]) -> Option<u32> {
    local
        .iter()
        .find(|(a, index)| *a == ip && *index != 0)
        .map(|(_, index)| *index)
}

/// `ip:port`, with the interface for an IPv6 link-local address (which
/// means nothing without one); other addresses need none.
fn scoped(ip: IpAddr, port: u16, interface: u32) -> SocketAddr {
    match ip {
        IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80 => {
            SocketAddr::V6(SocketAddrV6::new(v6, port, 0, interface))
        }
        _ => SocketAddr::new(ip, port),
    }
}

/// How this daemon (`me`: segment, index) reaches every configured daemon,
/// and the membership protocol's configuration (a daemon configured alone
/// is a ring of one).
fn ring_settings(
    config: &Config,
    me: (usize, usize),
    local: &[(IpAddr, u32)],
) -> (NetSettings, MembershipConfig) {
    let entry = &config.segments[me.0].daemons[me.1];
    let interface = my_interface(entry, local);
    let mut peers = Vec::new();
    let mut daemons = Vec::new();
    for (segment, seg) in config.segments.iter().enumerate() {
        for d in &seg.daemons {
            let index = peers.len();
            daemons.push(Daemon {
                id: d.id,
                segment: segment as i16,
            });
            peers.push(Peer {
                id: d.id,
                index,
                segment,
                data: scoped(d.addr, seg.port, interface),
                token: scoped(d.addr, seg.port.wrapping_add(1), interface),
            });
        }
    }
    // LAN or WAN defaults unless all nine timeouts are configured.
    let wan = config
        .wide_area_network
        .unwrap_or(config.segments.len() > 1);
    let timeouts = match &config.timeouts {
        Some(t) => Timeouts::from_ms(
            [
                t.token, t.hurry, t.alive, t.join, t.rep, t.seg, t.gather, t.form, t.lookup,
            ]
            .map(u64::from),
        ),
        None if wan => Timeouts::WAN,
        None => Timeouts::LAN,
    };
    let drop_rate = test_drop_rate();
    let membership = MembershipConfig {
        me: entry.id,
        daemons,
        conf_hash: config.hash(),
        window: config.window.unwrap_or(160) as i32,
        personal_window: config.personal_window.unwrap_or(20) as i32,
        // As in 5.0.1, only an explicit `AcceleratedRing = true` turns it
        // on (the hash says which protocol a ring runs).
        accelerated_window: (config.accelerated_ring == Some(true))
            .then(|| config.accelerated_window.unwrap_or(15) as i32),
        max_message_len: crate::packet::ring_message_limit(config.max_message_size),
        packet_body: crate::packet::packet_body(config.ring_key_file.is_some()),
        timeouts,
        epoch_secs: 0,
    };
    let net = NetSettings {
        me: entry.id,
        peers,
        drop_rate,
        segment: segment_of(&config.segments[me.0], interface),
        ignore_multicast_join_errors: config.ignore_multicast_join_errors,
        // Read by the caller, from files it keeps a way to.
        keys: None,
    };
    (net, membership)
}

/// Test-only loss injection (`SPREAD_TEST_DROP`, a fraction of received
/// data packets to drop). Only debug builds, which the tests run, read it:
/// a release build never drops on an environment variable.
fn test_drop_rate() -> f64 {
    if !cfg!(debug_assertions) {
        return 0.0;
    }
    std::env::var("SPREAD_TEST_DROP")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        .clamp(0.0, 1.0)
}

/// The address data packets for the whole segment go to, when there is
/// one that works: as 5.0.1, a segment of one daemon uses none (its
/// packets go to the other segments' daemons one by one). An IPv6 group
/// is joined on the interface written after it (`ff02::1:7%eth0`), else on
/// this daemon's.
fn segment_of(seg: &crate::config::Segment, interface: u32) -> Option<Segment> {
    if seg.daemons.len() < 2 {
        return None;
    }
    let addr = *seg.addrs.first()?;
    let zone = seg.zones.first().and_then(|z| zone_index(z.as_deref()));
    Segment::from_config(addr, seg.port, zone.unwrap_or(interface))
}
