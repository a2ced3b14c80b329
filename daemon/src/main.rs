//! `spread`: the daemon binary.

use spread_daemon::auth::IpRules;
use spread_daemon::cli;
use spread_daemon::config::Config;
use spread_daemon::logging;
use spread_daemon::runtime::Bound;
use spread_daemon::setup::settings_from;
use std::path::PathBuf;
use std::process::ExitCode;
use tracing::{error, info, warn};

fn main() -> ExitCode {
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
    logging::init(&config, args.log);
    for (line, text) in &config.warnings {
        warn!(target: "spread::config", "{}:{line}: {text}", config.source);
    }
    for (line, option) in config.unsupported_options() {
        warn!(target: "spread::config", "{}:{line}: {option} is not supported by this daemon yet; it has no effect", config.source);
    }
    let (rules, rules_file, rule_warnings) = IpRules::load_default();
    for w in rule_warnings {
        warn!(target: "spread::auth", "{}:{w}", rules_file.as_deref().unwrap_or("access rules"));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let settings = match settings_from(&config, me, rules, now as i32) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
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
    let unix: Option<PathBuf> = settings.unix.clone();
    // Only a daemon that bound the socket file may remove it at exit.
    let (code, owns_socket) = runtime.block_on(async move {
        let describe = format!(
            "daemon {:?} (id {}) of {}: clients on TCP {:?} and {}",
            settings.daemon_name,
            settings.node.identity.proc_id,
            config.source,
            settings.tcp,
            settings
                .unix
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
        // Before the socket exists: a SIGTERM right after start must find
        // the handler in place.
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let bound = match Bound::bind(settings).await {
            Ok(b) => b,
            Err(e) => {
                error!(target: "spread", "cannot listen: {e}");
                eprintln!("spread: cannot listen: {e}");
                return (ExitCode::from(1), false);
            }
        };
        info!(target: "spread", "{describe}");
        tokio::select! {
            _ = bound.serve() => {}
            _ = shutdown_signal(term) => info!(target: "spread", "exiting on signal"),
        }
        (ExitCode::SUCCESS, true)
    });
    if let (Some(path), true) = (unix, owns_socket) {
        let _ = std::fs::remove_file(path);
    }
    code
}

async fn shutdown_signal(mut term: Option<tokio::signal::unix::Signal>) {
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
