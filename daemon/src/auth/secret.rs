//! The SECRET method's shared secrets (`AuthSecretFile`): one line per
//! client identity, `IDENTITY SECRET` (the secret is the rest of the line,
//! at least 16 bytes; `#` starts a comment line). The file must not be
//! open to group or others (mode 0600 or 0400): it is refused otherwise.
//! The exchange itself is [`spread_core::wire::secret`].

use spread_core::wire::secret::{is_valid_identity, verify, NONCE_LEN};
use std::collections::HashMap;

/// The shortest secret taken.
pub const MIN_SECRET: usize = 16;

#[derive(Clone, PartialEq, Eq)]
pub struct Secrets {
    by_identity: HashMap<Vec<u8>, Vec<u8>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets themselves.
        write!(f, "Secrets({} identities)", self.by_identity.len())
    }
}

impl Secrets {
    /// Parses the file's contents; `mode` is its permission bits. Errors
    /// are `file:line: what` (or `file: what`).
    pub fn parse(bytes: &[u8], mode: u32, file: &str) -> Result<Secrets, String> {
        if mode & 0o077 != 0 {
            return Err(format!(
                "{file}: mode {mode:04o}: the secrets must not be open to group or others (chmod 600)"
            ));
        }
        let mut by_identity = HashMap::new();
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let at = |e: &str| format!("{file}:{}: {e}", i + 1);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let start = line.iter().position(|b| !b.is_ascii_whitespace());
            let Some(start) = start else { continue };
            let line = &line[start..];
            if line[0] == b'#' {
                continue;
            }
            let split = line.iter().position(|b| b.is_ascii_whitespace());
            let Some(split) = split else {
                return Err(at("a line is IDENTITY SECRET"));
            };
            let (identity, rest) = line.split_at(split);
            let secret = rest.trim_ascii();
            if !is_valid_identity(identity) {
                return Err(at(
                    "an identity is 1 to 64 letters, digits, '.', '_', '-' or '@'",
                ));
            }
            if secret.len() < MIN_SECRET {
                return Err(at(&format!(
                    "the secret of {} is shorter than {MIN_SECRET} bytes",
                    String::from_utf8_lossy(identity)
                )));
            }
            if by_identity
                .insert(identity.to_vec(), secret.to_vec())
                .is_some()
            {
                return Err(at(&format!(
                    "{} has a secret on an earlier line",
                    String::from_utf8_lossy(identity)
                )));
            }
        }
        Ok(Secrets { by_identity })
    }

    pub fn len(&self) -> usize {
        self.by_identity.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_identity.is_empty()
    }

    /// Checks an answer to `nonce`; an unknown identity costs the same
    /// as a known one.
    pub fn check(&self, nonce: &[u8; NONCE_LEN], identity: &[u8], mac: &[u8]) -> bool {
        match self.by_identity.get(identity) {
            Some(secret) => verify(secret, nonce, identity, mac),
            None => {
                let _ = verify(&[0u8; 32], nonce, identity, mac);
                false
            }
        }
    }
}

/// A challenge: random bytes from the kernel.
pub fn nonce() -> std::io::Result<[u8; NONCE_LEN]> {
    let mut n = [0u8; NONCE_LEN];
    let mut got = 0;
    while got < NONCE_LEN {
        // SAFETY: writes at most NONCE_LEN - got bytes into `n` from `got`.
        let r = unsafe { libc::getrandom(n[got..].as_mut_ptr().cast(), NONCE_LEN - got, 0) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
            continue;
        }
        got += r as usize;
    }
    Ok(n)
}

/// Reads `AuthSecretFile` if the configuration names one (keeping its
/// way in `kept`).
pub fn load_secrets(
    config: &crate::config::Config,
    kept: &mut Option<super::kept::KeptFile>,
) -> Result<Option<std::sync::Arc<Secrets>>, String> {
    let Some(w) = &config.client_access.auth_secret_file else {
        *kept = None;
        return Ok(None);
    };
    let shown = w.value.display().to_string();
    let at = format!("{}:{}: AuthSecretFile {shown}", config.source, w.line);
    super::kept::keep(kept, &w.value).map_err(|e| format!("{at}: {e}"))?;
    let c = kept.as_ref().expect("kept").read();
    let c = c.map_err(|e| format!("{at}: {e}"))?;
    let s = Secrets::parse(&c.bytes, c.mode, &shown)?;
    if s.is_empty() {
        return Err(format!("{at}: holds no secret"));
    }
    Ok(Some(std::sync::Arc::new(s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spread_core::wire::secret::{answer, parse_answer};

    #[test]
    fn parse_and_check() {
        let text = b"# who\nbackup  a secret of twenty bytes\n\n  web\tanother long secret!\n";
        let s = Secrets::parse(text, 0o600, "s").unwrap();
        assert_eq!(s.len(), 2);
        let n = nonce().unwrap();
        let a = answer(b"a secret of twenty bytes", &n, b"backup");
        let (id, mac) = parse_answer(&a).unwrap();
        assert!(s.check(&n, id, mac));
        assert!(!s.check(&n, b"web", mac));
        assert!(!s.check(&n, b"nobody", mac));
        assert!(format!("{s:?}").contains("2 identities") && !format!("{s:?}").contains("twenty"));
        for (text, mode, want) in [
            (&b"x abcdefghijklmnopq\n"[..], 0o640, "s: mode 0640"),
            (b"\nbackup\n", 0o600, "s:2: a line is IDENTITY SECRET"),
            (
                b"backup short\n",
                0o600,
                "s:1: the secret of backup is shorter",
            ),
            (b"b/d abcdefghijklmnopq\n", 0o600, "s:1: an identity is"),
            (
                b"x abcdefghijklmnopq\nx abcdefghijklmnopq\n",
                0o400,
                "s:2: x has a secret on an earlier line",
            ),
        ] {
            let e = Secrets::parse(text, mode, "s").unwrap_err();
            assert!(e.starts_with(want), "{e}");
        }
    }
}
