//! Ring keys: the 32-byte secrets of `RingKeyFile` and `AcceptRingKeyFile`.

use super::StreamId;
use ring::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
use ring::{digest, hkdf};
use std::fmt;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The length of a ring key.
pub const KEY_LEN: usize = 32;

/// Why a key file was not taken; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("ring key file {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("ring key file {path}: not a regular file")]
    NotAFile { path: String },
    #[error("ring key file {path}: mode {mode:04o} lets others than its owner read it; chmod 600 {path}")]
    Mode { path: String, mode: u32 },
    #[error("{at}: AcceptRingKeyFile without RingKeyFile: name the key that seals too")]
    AcceptWithoutSeal { at: String },
    #[error("ring key file {path}: {found}; a ring key is {KEY_LEN} random bytes (head -c {KEY_LEN} /dev/urandom > {path}) or {} hex digits", 2 * KEY_LEN)]
    Size { path: String, found: String },
}

/// One ring key: the secret each run's key is drawn from, and the id
/// that names it in sealed datagrams (so that a receiver holding two keys
/// tries the right one).
#[derive(Clone)]
pub struct RingKey {
    pub(super) id: u32,
    prk: hkdf::Prk,
}

impl fmt::Debug for RingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RingKey({:08x})", self.id)
    }
}

impl PartialEq for RingKey {
    fn eq(&self, other: &RingKey) -> bool {
        self.id == other.id
    }
}

impl RingKey {
    /// A key from its 32 bytes.
    pub fn new(secret: &[u8; KEY_LEN]) -> RingKey {
        // The id is a digest of the secret under a label of its own, so it
        // tells nothing of the secret and names the key across restarts.
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(b"spread-rs ring key id v1\0");
        ctx.update(secret);
        let d = ctx.finish();
        let d = d.as_ref();
        RingKey {
            id: u32::from_be_bytes([d[0], d[1], d[2], d[3]]),
            prk: hkdf::Salt::new(hkdf::HKDF_SHA256, b"spread-rs ring key v1").extract(secret),
        }
    }

    /// The AES-256-GCM key of one run (stream): every run seals under a
    /// key of its own, so that its numbers alone make nonces unique.
    pub(super) fn stream_key(&self, s: StreamId) -> LessSafeKey {
        let mut info = [0u8; 16];
        info[..4].copy_from_slice(&s.sender.to_be_bytes());
        info[4..12].copy_from_slice(&s.epoch.to_be_bytes());
        info[12..].copy_from_slice(&s.salt.to_be_bytes());
        let info = [&info[..]];
        let okm = self
            .prk
            .expand(&info, &AES_256_GCM)
            .expect("32 bytes are within HKDF's limit");
        LessSafeKey::new(UnboundKey::from(okm))
    }

    /// The key's id as the log shows it.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// A key file's contents: 32 raw bytes, or 64 hex digits with an
    /// optional line end.
    pub fn from_file_bytes(bytes: &[u8], path: &str) -> Result<RingKey, KeyError> {
        if let Ok(raw) = <&[u8; KEY_LEN]>::try_from(bytes) {
            return Ok(RingKey::new(raw));
        }
        let text = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.len() == 2 * KEY_LEN {
            if let Some(raw) = hex(text) {
                return Ok(RingKey::new(&raw));
            }
        }
        let found = if bytes.is_empty() {
            "empty".to_string()
        } else {
            format!("{} bytes", bytes.len())
        };
        Err(KeyError::Size {
            path: path.to_string(),
            found,
        })
    }

    /// Reads a key file, which must be a regular file that only its owner
    /// can read.
    pub fn read(path: &Path) -> Result<RingKey, KeyError> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| KeyError::Io {
            path: shown.clone(),
            source,
        })?;
        RingKey::read_open(file, &shown)
    }

    /// The same for a file already opened (through a directory held since
    /// before a chroot).
    pub fn read_open(mut file: std::fs::File, shown: &str) -> Result<RingKey, KeyError> {
        let io = |source| KeyError::Io {
            path: shown.to_string(),
            source,
        };
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(KeyError::NotAFile {
                path: shown.to_string(),
            });
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Mode {
                path: shown.to_string(),
                mode,
            });
        }
        // Anything longer than a hex key with a line end is wrong; reading
        // one byte more than that tells so without reading a huge file.
        let mut bytes = Vec::with_capacity(2 * KEY_LEN + 3);
        file.by_ref()
            .take(2 * KEY_LEN as u64 + 3)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        RingKey::from_file_bytes(&bytes, shown)
    }
}

fn hex(text: &[u8]) -> Option<[u8; KEY_LEN]> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; KEY_LEN];
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *o = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn raw_and_hex_files_give_the_same_key() {
        let raw = [0x5au8; KEY_LEN];
        let hex_text = "5a".repeat(KEY_LEN) + "\n";
        let a = RingKey::from_file_bytes(&raw, "k").unwrap();
        let b = RingKey::from_file_bytes(hex_text.as_bytes(), "k").unwrap();
        assert_eq!(a.id(), b.id());
        let other = RingKey::new(&[0x5b; KEY_LEN]);
        assert_ne!(a.id(), other.id());
    }

    #[test]
    fn wrong_sizes_say_what_a_key_is() {
        for (bytes, found) in [
            (&b""[..], "empty"),
            (&[1u8; 31][..], "31 bytes"),
            (&[1u8; 33][..], "33 bytes"),
            (&b"zz"[..], "2 bytes"),
        ] {
            let e = RingKey::from_file_bytes(bytes, "/k")
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!(
                    "ring key file /k: {found}; a ring key is 32 random bytes"
                )),
                "{e}"
            );
        }
        let not_hex = "g".repeat(2 * KEY_LEN);
        assert!(RingKey::from_file_bytes(not_hex.as_bytes(), "k").is_err());
    }

    #[test]
    fn files_others_can_read_are_refused() {
        let dir = std::env::temp_dir().join(format!("spread-key-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ring.key");
        std::fs::write(&path, [7u8; KEY_LEN]).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = RingKey::read(&path).unwrap_err().to_string();
        assert!(e.contains("mode 0640") && e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(RingKey::read(&path).is_ok());
        let e = RingKey::read(&dir).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let e = RingKey::read(&dir.join("absent")).unwrap_err().to_string();
        assert!(e.contains("absent") && e.contains("No such file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
