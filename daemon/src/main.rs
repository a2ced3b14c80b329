//! `spread`: the daemon binary.

use spread_daemon::auth::IpRules;
use spread_daemon::cli;
use spread_daemon::config::Config;
use spread_daemon::logfile::LogFile;
use spread_daemon::logging;
use spread_daemon::notify::Notifier;
use spread_daemon::privileges::{self, Plan};
use spread_daemon::reload::{ConfigFile, Reloader};
use spread_daemon::ring_keys::KeyFiles;
use spread_daemon::runtime::Bound;
use spread_daemon::setup::settings_from;
use std::process::ExitCode;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tracing::{info, warn};

fn main() -> ExitCode {
    // Before the first large block is freed (see the module).
    spread_daemon::memory::hold_mmap_threshold();
    let args = match cli::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("spread: {e}\n{}", cli::USAGE);
            return ExitCode::from(1);
        }
    };
    if args.help {
        println!("{}", cli::USAGE);
        return ExitCode::SUCCESS;
    }
    if args.version {
        println!(
            "spread {} (Spread 5.0.1 protocol)",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    let config = match Config::locate(args.config.as_deref()).map_err(|e| e.to_string()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let me = match config.find_me(args.name.as_deref()) {
        Ok(me) => me,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    // Before anything is bound: a wrong user, group or directory stops the
    // daemon at once.
    let plan = match Plan::for_config(&config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("spread: {e}");
            return ExitCode::from(1);
        }
    };
    let log_file = match LogFile::open(&config) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("spread: {e}");
            return ExitCode::from(1);
        }
    };
    logging::init(&config, args.log);
    for (line, text) in &config.warnings {
        warn!(target: "spread::config", "{}:{line}: {text}", config.source);
    }
    if plan == Plan::NotRoot {
        // Information, not a warning: most who run it so mean to.
        info!(target: "spread::auth", "not running as root: the daemon does not chroot and keeps its user");
    }
    // Before any chroot: a reload reads the file through its directory.
    let config_file = match ConfigFile::open(Reloader::path_of(args.config.as_deref()).as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("spread: {}: {e}", config.source);
            return ExitCode::from(1);
        }
    };
    // Before any chroot: the socket's path may be outside the new root.
    let notifier = match Notifier::from_env() {
        Some(Ok(n)) => Some(n),
        Some(Err(e)) => {
            warn!(target: "spread", "{e}: systemd will not hear that the daemon is ready");
            None
        }
        None => None,
    };
    let (rules, rules_file, rule_warnings) = IpRules::load_default();
    for w in rule_warnings {
        warn!(target: "spread::auth", "{}:{w}", rules_file.as_deref().unwrap_or("access rules"));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut group_file = None;
    let group_rules = match spread_daemon::auth::kept::load_group_rules(&config, &mut group_file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("spread: {e}");
            return ExitCode::from(1);
        }
    };
    let mut secret_file = None;
    let secrets = match spread_daemon::auth::secret::load_secrets(&config, &mut secret_file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("spread: {e}");
            return ExitCode::from(1);
        }
    };
    // Read once, before any chroot: changing TLS needs a restart.
    let tls = match spread_daemon::sessions::tls::load(&config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("spread: {e}");
            return ExitCode::from(1);
        }
    };
    // Before any chroot, as the configuration file.
    let key_files = KeyFiles::open(&config);
    let keys = match key_files.load(&config) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("spread: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(k) = &keys {
        let accepted: Vec<String> = k.open[1..]
            .iter()
            .map(|k| format!("{:08x}", k.id()))
            .collect();
        info!(target: "spread::network", "datagrams between daemons are sealed with ring key {:08x} ({}){}", k.seal.id(), config.where_set("RingKeyFile"), if accepted.is_empty() { String::new() } else { format!("; also accepted: {}", accepted.join(", ")) });
    }
    let reloader = Reloader {
        file: config_file,
        config: config.clone(),
        me,
        name: args.name.clone(),
        rules: rules.clone(),
        key_files,
        group_file,
        secret_file,
    };
    let mut settings = match settings_from(&config, me, rules, secrets, now as i32) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    settings.net.keys = keys;
    settings.group_rules = group_rules;
    settings.tls = tls;
    // SAFETY: geteuid cannot fail.
    settings.trusted_uids = vec![unsafe { libc::geteuid() }, plan.final_uid()];
    if let Plan::Drop(t) = &plan {
        settings.socket_owner = Some((t.uid, t.gid));
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("spread: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let mut socket_file = None;
    let code = runtime.block_on(async {
        let describe = format!(
            "daemon {:?} (id {}) of {}: clients on TCP {:?}",
            settings.daemon_name, settings.node.identity.proc_id, config.source, settings.tcp,
        );
        let unix = settings.unix.clone();
        // Before the sockets exist: a signal right after start must find
        // its handler in place (SIGHUP would otherwise end the process).
        let term = signal(SignalKind::terminate()).ok();
        let hangup = signal(SignalKind::hangup()).ok();
        let bound = match Bound::bind(settings).await {
            Ok(b) => b,
            Err(e) => {
                // stderr is the log (or EventLogFile): one line says it.
                eprintln!("spread: cannot listen: {e}");
                return ExitCode::from(1);
            }
        };
        socket_file = bound.socket_file();
        // The Unix socket only if this daemon holds it (not left to another).
        let describe = match (&socket_file, unix) {
            (Some(_), Some(path)) => format!("{describe} and {}", path.display()),
            _ => describe,
        };
        let bound = bound.with_reloader(reloader);
        let reload = bound.reload_trigger();
        if let Plan::Drop(target) = &plan {
            if let Err(e) = privileges::drop_to(target) {
                eprintln!("spread: cannot give up root: {e}");
                return ExitCode::from(1);
            }
            info!(target: "spread::auth", "running as user {} ({}), group {} ({}), chrooted to {}", target.user, target.uid, target.group, target.gid, target.root_dir.display());
        }
        info!(target: "spread", "{describe}");
        // Every listener is bound (clients that connect now wait in its
        // queue until the core takes them).
        notify(notifier.as_ref(), "READY=1");
        tokio::select! {
            _ = bound.serve() => {}
            _ = shutdown_signal(term) => info!(target: "spread", "exiting on signal"),
            _ = on_hangup(hangup, log_file.as_ref(), reload) => {}
        }
        notify(notifier.as_ref(), "STOPPING=1");
        ExitCode::SUCCESS
    });
    if let Some(file) = socket_file {
        file.remove();
    }
    code
}

/// Tells systemd (`NOTIFY_SOCKET`) the daemon's state, if it listens.
fn notify(notifier: Option<&Notifier>, state: &str) {
    if let Some(n) = notifier {
        if let Err(e) = n.send(state) {
            warn!(target: "spread", "cannot tell systemd {state}: {e}");
        }
    }
}

/// SIGHUP reopens the log file (after logrotate moved it) and reloads the
/// configuration (as spmonitor's reload does).
async fn on_hangup(
    hangup: Option<Signal>,
    log_file: Option<&LogFile>,
    reload: std::sync::Arc<tokio::sync::Notify>,
) {
    let Some(mut hangup) = hangup else {
        return std::future::pending().await;
    };
    while hangup.recv().await.is_some() {
        if let Some(log) = log_file {
            match log.reopen() {
                Ok(()) => {
                    info!(target: "spread", "SIGHUP: reopened the log file {}", log.path().display())
                }
                Err(e) => {
                    warn!(target: "spread", "SIGHUP: cannot reopen the log file {}: {e}; still writing to the old one", log.path().display())
                }
            }
        }
        reload.notify_one();
    }
    std::future::pending().await
}

async fn shutdown_signal(mut term: Option<Signal>) {
    let term = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
