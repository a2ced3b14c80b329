//! The daemon side of the connection handshake.
//!
//! Unlike 5.0.1, every handshake runs in its own task with its own deadline,
//! and each part is reassembled from however many segments it arrives in,
//! so a slow or silent client never holds up anyone else. Well-formed
//! clients see exactly 5.0.1's bytes and reject codes.

use super::registry::Registry;
use super::session::write_out;
use crate::auth::{AuthError, AuthPolicy, Method, Who};
use spread_core::consts::*;
use spread_core::name::{is_legal_private_name, private_group_name, GroupName};
use spread_core::wire::handshake::*;
use spread_core::wire::secret::{answer_len, parse_answer, MAX_IDENTITY, SECRET_METHOD};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

/// How long a connect waits for its name while the session holding it is
/// ending.
const RECONNECT_PATIENCE: std::time::Duration = std::time::Duration::from_millis(500);

/// A client that passed the handshake.
#[derive(Debug)]
pub struct Accepted {
    pub private_name: Vec<u8>,
    pub private_group: GroupName,
    pub membership: bool,
    pub version: (u8, u8, u8),
    /// The client took the daemon's MaxMessageSize (its auth choice listed
    /// the word the daemon offered).
    pub large_messages: bool,
    /// Who it is, for the group access rules.
    pub who: Who,
}

/// Why a handshake ended without a session (for the log).
#[derive(Debug)]
pub struct Refused {
    pub why: String,
    /// An authentication method refused the client: the index of its
    /// reason in [`crate::auth::AUTH_REASONS`].
    pub auth: Option<usize>,
}

impl From<String> for Refused {
    fn from(why: String) -> Refused {
        Refused { why, auth: None }
    }
}

pub struct HandshakeContext<'a> {
    pub daemon_name: &'a str,
    pub auth: &'a AuthPolicy,
    pub registry: &'a Registry,
    /// Limit for each step the client must take.
    pub step_timeout: Duration,
    /// A number that makes daemon-chosen names differ (5.0.1 uses the fd).
    pub session_number: u64,
    /// MaxMessageSize: offered to clients in the auth list.
    pub max_message_size: Option<usize>,
}

async fn reject<S: AsyncWrite + Unpin>(s: &mut S, code: i32, why: String) -> Refused {
    let _ = s.write_all(&[code_byte(code)]).await;
    let _ = s.shutdown().await;
    Refused::from(why)
}

/// Reads into `buf` until `done` says the bytes are enough, or the deadline.
async fn read_until<S, T>(
    s: &mut S,
    buf: &mut Vec<u8>,
    deadline: Instant,
    what: &str,
    mut done: impl FnMut(&[u8]) -> Option<T>,
) -> Result<T, Refused>
where
    S: AsyncRead + Unpin,
{
    let mut chunk = [0u8; 256];
    loop {
        if let Some(t) = done(buf) {
            return Ok(t);
        }
        match timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => {
                return Err(Refused::from(format!(
                    "no complete {what} in time (closed without reply)"
                )))
            }
            Ok(Ok(0)) => return Err(Refused::from(format!("closed during the {what}"))),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => return Err(Refused::from(format!("error reading the {what}: {e}"))),
        }
    }
}

/// Names only need to differ, not to be unpredictable.
fn random_name(ctx: &HandshakeContext<'_>, rng: &mut crate::rng::Rng) -> Vec<u8> {
    let mut name = format!("r{}-{}", rng.below(9999), ctx.session_number).into_bytes();
    name.truncate(9);
    name
}

/// Runs the handshake; on success the private name is claimed and a
/// session slot taken in the registry (the caller releases both when the
/// session ends).
pub async fn handshake<S>(
    s: &mut S,
    mut who: Who,
    ctx: &HandshakeContext<'_>,
) -> Result<Accepted, Refused>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = Vec::with_capacity(16);
    let deadline = Instant::now() + ctx.step_timeout;
    let parsed = read_until(
        s,
        &mut buf,
        deadline,
        "connect message",
        |b| match parse_connect(b) {
            ConnectParse::Incomplete => None,
            other => Some(other),
        },
    )
    .await?;
    let hello = match parsed {
        ConnectParse::Complete(hello, used) if used == buf.len() => hello,
        ConnectParse::Complete(..) => {
            return Err(reject(
                s,
                REJECT_ILLEGAL_NAME,
                "bytes sent before the auth list (pipelined)".into(),
            )
            .await)
        }
        _ => {
            return Err(reject(
                s,
                REJECT_ILLEGAL_NAME,
                "private name longer than 10 bytes".into(),
            )
            .await)
        }
    };
    if hello.version() < OLDEST_CLIENT_VERSION {
        let why = format!(
            "client version {}.{}.{} is older than 3.1.0",
            hello.major, hello.minor, hello.patch
        );
        return Err(reject(s, REJECT_VERSION, why).await);
    }
    if !is_legal_private_name(&hello.name) {
        let why = format!(
            "illegal private name {:?}",
            String::from_utf8_lossy(&hello.name)
        );
        return Err(reject(s, REJECT_ILLEGAL_NAME, why).await);
    }
    let name = if hello.name.is_empty() {
        let mut rng = crate::rng::Rng::new(ctx.session_number ^ u64::from(std::process::id()));
        ctx.registry.claim_any(|| random_name(ctx, &mut rng))
    } else if ctx
        .registry
        .claim_patiently(&hello.name, RECONNECT_PATIENCE)
        .await
    {
        hello.name.clone()
    } else {
        let why = format!(
            "private name {:?} is taken at this daemon",
            String::from_utf8_lossy(&hello.name)
        );
        return Err(reject(s, REJECT_NOT_UNIQUE, why).await);
    };
    let large_messages = match authenticate(s, &mut who, &hello, ctx).await {
        Ok(large) => large,
        Err(fail) => {
            // Free the name before answering, so a client that retries at
            // once does not find its own name still taken.
            ctx.registry.release_name(&name);
            return Err(match fail {
                Fail::Reject(code, why) => reject(s, code, why).await,
                Fail::Auth(e) => Refused {
                    auth: Some(e.reason()),
                    ..reject(s, REJECT_AUTH, e.to_string()).await
                },
                Fail::Closed(r) => r,
            });
        }
    };
    // Only a client that passed every check takes a session slot, so
    // connections that never finish cannot fill the daemon.
    if !ctx.registry.take_slot() {
        ctx.registry.release_name(&name);
        return Err(reject(s, REJECT_QUOTA, "session limit reached".into()).await);
    }
    let private_group = private_group_name(&name, ctx.daemon_name.as_bytes());
    let accept = encode_accept(has_patch_byte(hello.major, hello.minor), &private_group);
    if let Err(e) = write_out(s, &accept).await {
        ctx.registry.release_name(&name);
        ctx.registry.release_slot();
        return Err(Refused::from(format!("error writing the accept: {e}")));
    }
    Ok(Accepted {
        private_name: name,
        private_group,
        membership: hello.membership,
        version: (hello.major, hello.minor, hello.patch),
        large_messages,
        who,
    })
}

enum Fail {
    Reject(i32, String),
    /// A method refused the client (REJECT_AUTH).
    Auth(AuthError),
    Closed(Refused),
}

/// Runs the auth exchange; Ok(true) when the client also took the
/// daemon's MaxMessageSize.
async fn authenticate<S>(
    s: &mut S,
    who: &mut Who,
    hello: &ConnectMessage,
    ctx: &HandshakeContext<'_>,
) -> Result<bool, Fail>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if hello.version() < AUTH_EXCHANGE_VERSION {
        return ctx
            .auth
            .check_old_client(who)
            .map(|()| false)
            .map_err(Fail::Auth);
    }
    let mut offered: Vec<&str> = ctx.auth.offered();
    if offered.is_empty() {
        return Err(Fail::Auth(AuthError::NoneEnabled));
    }
    // Offered after the methods, as one more word 5.0.1's libraries pass
    // over; only when configured, so a default daemon's bytes are 5.0.1's.
    let word = ctx.max_message_size.map(large_messages_word);
    offered.extend(word.as_deref());
    if let Err(e) = write_out(s, &encode_auth_list(&offered)).await {
        return Err(Fail::Closed(Refused::from(format!(
            "error writing the auth list: {e}"
        ))));
    }
    let mut buf = Vec::with_capacity(AUTH_CHOICE_LEN);
    let deadline = Instant::now() + ctx.step_timeout;
    read_until(s, &mut buf, deadline, "auth choice", |b| {
        (b.len() >= AUTH_CHOICE_LEN).then_some(())
    })
    .await
    .map_err(Fail::Closed)?;
    if buf.len() > AUTH_CHOICE_LEN {
        return Err(Fail::Reject(
            REJECT_AUTH,
            "bytes sent after the auth choice before the accept".into(),
        ));
    }
    let choice: [u8; AUTH_CHOICE_LEN] = buf[..].try_into().expect("length checked");
    let mut chosen = parse_auth_choice(&choice);
    let before = chosen.len();
    if let Some(word) = &word {
        chosen.retain(|m| m != word.as_bytes());
    }
    let large = chosen.len() < before;
    // The methods in order: SECRET's exchange where the client chose it,
    // the others on what is known of the connection.
    for m in ctx.auth.plan(&chosen).map_err(Fail::Auth)? {
        if m == Method::Secret && chosen.iter().any(|c| c == SECRET_METHOD.as_bytes()) {
            let identity = secret_exchange(s, ctx).await?;
            who.secret = Some(identity.into());
        } else {
            ctx.auth.run(m, who).map_err(Fail::Auth)?;
        }
    }
    Ok(large)
}

/// SECRET's exchange: a fresh challenge out, the answer in and checked.
/// Ok: the identity it proved.
async fn secret_exchange<S>(s: &mut S, ctx: &HandshakeContext<'_>) -> Result<String, Fail>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let refuse = |why: &str| Fail::Auth(AuthError::Secret(why.to_string()));
    let secrets = ctx.auth.secrets().ok_or_else(|| refuse("no secrets"))?;
    let nonce = crate::auth::secret::nonce()
        .map_err(|e| Fail::Closed(Refused::from(format!("no random bytes: {e}"))))?;
    if let Err(e) = write_out(s, &nonce).await {
        let why = format!("error writing the SECRET challenge: {e}");
        return Err(Fail::Closed(Refused::from(why)));
    }
    let mut buf = Vec::with_capacity(1 + MAX_IDENTITY + 32);
    let deadline = Instant::now() + ctx.step_timeout;
    let n = read_until(s, &mut buf, deadline, "SECRET answer", |b| {
        answer_len(b).filter(|&n| b.len() >= n)
    })
    .await
    .map_err(Fail::Closed)?;
    if buf.len() > n {
        return Err(refuse("bytes sent after the answer before the accept"));
    }
    let Some((identity, mac)) = parse_answer(&buf) else {
        return Err(refuse("a malformed answer"));
    };
    let shown = String::from_utf8_lossy(identity).into_owned();
    if !secrets.check(&nonce, identity, mac) {
        return Err(refuse(&format!(
            "identity {shown:?}: unknown, or the answer does not prove its secret"
        )));
    }
    Ok(shown)
}
