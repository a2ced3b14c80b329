//! The daemon at run time: binds the listeners, runs the core task that
//! owns the engine, and routes the engine's outputs to sessions.

use crate::auth::AuthPolicy;
use crate::engine::{Engine, Identity, Output, SessionId};
use crate::sessions::listen::{accept_tcp, accept_unix, bind_tcp, bind_unix};
use crate::sessions::registry::Registry;
use crate::sessions::{Cmd, Outbound, Shared};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// Everything the runtime needs, resolved from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub daemon_name: String,
    pub identity: Identity,
    pub tcp: Vec<SocketAddr>,
    pub unix: Option<PathBuf>,
    pub max_sessions: usize,
    pub max_session_messages: usize,
    pub auth: AuthPolicy,
    pub step_timeout: Duration,
}

/// A bound daemon, not yet serving.
pub struct Bound {
    settings: Settings,
    tcp: Vec<tokio::net::TcpListener>,
    unix: Option<tokio::net::UnixListener>,
}

impl Bound {
    /// Binds every listener; fails before serving anyone if one cannot be.
    pub async fn bind(settings: Settings) -> std::io::Result<Bound> {
        let mut tcp = Vec::new();
        for a in &settings.tcp {
            tcp.push(bind_tcp(*a).await?);
        }
        let unix = settings.unix.as_deref().map(bind_unix).transpose()?;
        Ok(Bound {
            settings,
            tcp,
            unix,
        })
    }

    /// Serves until the process ends.
    pub async fn serve(self) {
        let Bound {
            settings,
            tcp,
            unix,
        } = self;
        let (core_tx, core_rx) = mpsc::channel(4096);
        let shared = Arc::new(Shared {
            daemon_name: settings.daemon_name.clone(),
            auth: settings.auth.clone(),
            registry: Registry::new(settings.max_sessions),
            core: core_tx,
            next_id: AtomicU64::new(1),
            step_timeout: settings.step_timeout,
        });
        for l in tcp {
            tokio::spawn(accept_tcp(l, shared.clone()));
        }
        if let (Some(l), Some(path)) = (unix, settings.unix.clone()) {
            tokio::spawn(accept_unix(l, path, shared.clone()));
        }
        let core = Core {
            engine: Engine::new(settings.identity.clone()),
            sessions: HashMap::new(),
            shared,
            max_session_messages: settings.max_session_messages,
        };
        core.run(core_rx).await;
    }
}

struct Handle {
    name: Vec<u8>,
    peer: String,
    out: Outbound,
}

struct Core {
    engine: Engine,
    sessions: HashMap<SessionId, Handle>,
    shared: Arc<Shared>,
    max_session_messages: usize,
}

impl Core {
    async fn run(mut self, mut rx: mpsc::Receiver<Cmd>) {
        let mut out = Vec::new();
        while let Some(cmd) = rx.recv().await {
            self.handle(cmd, &mut out);
            // Take what else is waiting before yielding, so bursts are
            // handled with few wake-ups.
            for _ in 0..256 {
                match rx.try_recv() {
                    Ok(cmd) => self.handle(cmd, &mut out),
                    Err(_) => break,
                }
            }
        }
    }

    fn handle(&mut self, cmd: Cmd, out: &mut Vec<Output>) {
        match cmd {
            Cmd::Open {
                id,
                info,
                name,
                peer,
                out: outbound,
            } => {
                debug!(target: "spread::session", "{} connected ({peer})", info.private_group);
                self.engine.open(id, info);
                self.sessions.insert(
                    id,
                    Handle {
                        name,
                        peer,
                        out: outbound,
                    },
                );
            }
            Cmd::Request { id, header, frame } => self.engine.request(id, &header, frame, out),
            Cmd::Refuse {
                id,
                header,
                names,
                why,
            } => {
                if let Some(h) = self.sessions.get(&id) {
                    warn!(target: "spread::session", "refused a message from {} ({}): {why}", header.sender, h.peer);
                }
                self.engine.refuse(id, &header, &names, out);
            }
            Cmd::Gone { id, reason } => {
                if let Some(h) = self.sessions.get(&id) {
                    let name = String::from_utf8_lossy(&h.name);
                    if reason.starts_with("connection closed") {
                        debug!(target: "spread::session", "{name} ({}): {reason}", h.peer);
                    } else {
                        warn!(target: "spread::session", "disconnecting {name} ({}): {reason}", h.peer);
                    }
                }
                self.engine.kill(id, out);
            }
        }
        self.dispatch(out);
    }

    fn dispatch(&mut self, out: &mut Vec<Output>) {
        let mut slow = Vec::new();
        for o in out.drain(..) {
            match o {
                Output::Deliver { session, frame } => {
                    let Some(h) = self.sessions.get(&session) else {
                        continue;
                    };
                    if slow.contains(&session) {
                        continue;
                    }
                    if h.out.queued.load(Ordering::Acquire) >= self.max_session_messages {
                        warn!(
                            target: "spread::session",
                            "disconnecting {} ({}): {} messages queued and not read (MaxSessionMessages)",
                            String::from_utf8_lossy(&h.name),
                            h.peer,
                            self.max_session_messages
                        );
                        slow.push(session);
                        continue;
                    }
                    h.out.queued.fetch_add(1, Ordering::AcqRel);
                    let _ = h.out.tx.send(frame);
                }
                Output::Close { session } => self.close(session),
            }
        }
        for id in slow {
            let mut more = Vec::new();
            self.engine.kill(id, &mut more);
            self.dispatch(&mut more);
        }
    }

    fn close(&mut self, id: SessionId) {
        if let Some(h) = self.sessions.remove(&id) {
            debug!(target: "spread::session", "{id} closed");
            let _ = h.out.abort.send(true);
            self.shared.registry.release_name(&h.name);
            self.shared.registry.release_slot();
        }
    }
}
