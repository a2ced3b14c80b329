//! Sealed datagrams between daemons (`RingKeyFile`), our option: every
//! datagram is encrypted and authenticated with AES-256-GCM (`ring`) under
//! a key of its sender's run drawn from the ring key (HKDF-SHA256), and
//! taken only once (`replay.rs`).
//!
//! A sealed datagram is a 32-byte header, the ciphertext and a 16-byte tag;
//! the header is authenticated with it:
//!
//! | bytes | field |
//! |---|---|
//! | 0..2 | `SK` |
//! | 2 | version, 1 |
//! | 3 | kind: 0 from a daemon, 1 a monitor's request |
//! | 4..8 | the ring key's id (big-endian), see [`RingKey`] |
//! | 8..24 | the stream: sender (the daemon id it sends as), epoch (µs since the Unix epoch at its start), salt (random per run) |
//! | 24..32 | the datagram's number in its stream, from 0 |
//!
//! The stream names the run's key (drawn from the ring key with the
//! stream as HKDF's info), and the number is the GCM nonce: no two runs
//! share a key (epoch and random salt), and a run never reuses a number.
//! A datagram that does not open under any key held is dropped, and so is
//! one whose stream and number were taken before.

mod key;
mod replay;

pub use key::{KeyError, RingKey, KEY_LEN};
pub use replay::{StreamId, Verdict};

use replay::Replay;
use ring::aead::{Aad, LessSafeKey, Nonce, Tag};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

const MAGIC: [u8; 2] = *b"SK";
const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 32;
const TAG_LEN: usize = 16;
/// What sealing adds to a datagram.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;
/// Run keys an opener keeps (a ring's daemons, a few restarts, monitors).
const RUN_KEYS: usize = 256;

/// Who seals: a daemon, or a monitor (whose requests are judged by their
/// time, since a monitor is a new run each time it is started).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Daemon = 0,
    Monitor = 1,
}

/// Whether `bytes` looks like a sealed datagram (so that a daemon without
/// a key can say why it cannot read it).
pub fn looks_sealed(bytes: &[u8]) -> bool {
    bytes.len() >= OVERHEAD && bytes[..2] == MAGIC && bytes[2] == VERSION
}

/// The daemon id a sealed datagram from a daemon names as its sender
/// (before anything is checked: only to skip this daemon's own datagrams,
/// which come back from a multicast segment address). A monitor's request
/// names the daemon whose address it uses, often the one it asks: None.
pub fn claimed_sender(bytes: &[u8]) -> Option<u32> {
    (looks_sealed(bytes) && bytes[3] == Kind::Daemon as u8)
        .then(|| u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]))
}

/// Seals what one run sends.
pub struct Sealer {
    kind: Kind,
    /// A monitor's epoch is the time of each request (see `replay.rs`).
    stream: Cell<StreamId>,
    next: Cell<u64>,
    key: RingKey,
    /// The run's key under `key` for `stream`.
    run_key: RefCell<LessSafeKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Sealer({:?}, {:?}, {:?})",
            self.kind,
            self.stream.get(),
            self.key
        )
    }
}

impl Sealer {
    /// A new run for `sender`, sealing with `key`.
    pub fn new(kind: Kind, sender: u32, key: RingKey) -> Sealer {
        let stream = StreamId {
            sender,
            epoch: wall_us(),
            salt: random_u32(),
        };
        Sealer {
            kind,
            stream: Cell::new(stream),
            next: Cell::new(0),
            run_key: RefCell::new(key.stream_key(stream)),
            key,
        }
    }

    /// Seals with another key from now on (the numbering goes on).
    pub fn rekey(&mut self, key: RingKey) {
        self.run_key = RefCell::new(key.stream_key(self.stream.get()));
        self.key = key;
    }

    pub fn key(&self) -> &RingKey {
        &self.key
    }

    /// `plain`, sealed.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let n = self.next.get();
        self.next.set(n + 1);
        if self.kind == Kind::Monitor {
            let mut s = self.stream.get();
            s.epoch = wall_us();
            self.stream.set(s);
            *self.run_key.borrow_mut() = self.key.stream_key(s);
        }
        let mut out = Vec::with_capacity(plain.len() + OVERHEAD);
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.push(self.kind as u8);
        out.extend_from_slice(&self.key.id.to_be_bytes());
        out.extend_from_slice(&stream_bytes(self.stream.get()));
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(plain);
        let (header, body) = out.split_at_mut(HEADER_LEN);
        let tag = self
            .run_key
            .borrow()
            .seal_in_place_separate_tag(nonce(n), Aad::from(&*header), body)
            // Only a body over 64 GiB fails.
            .expect("a datagram is far below the cipher's limit");
        out.extend_from_slice(tag.as_ref());
        out
    }
}

/// Why a datagram was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not sealed (a daemon without a key, or a 5.0.1 daemon).
    Plain,
    /// Sealed under a key this daemon does not hold.
    OtherKey,
    /// It does not open: forged, damaged or truncated.
    Forged,
    Replayed,
    /// From an older run of a daemon than the one heard.
    Stale,
    /// A monitor request out of time (clocks a minute apart?).
    Untimely,
}

/// A datagram opened.
#[derive(Debug)]
pub struct Opened {
    pub plain: Vec<u8>,
    pub kind: Kind,
    /// The daemon id it was sealed as.
    pub sender: u32,
}

/// Opens what the others send: holds the keys and what was taken.
pub struct Opener {
    keys: Vec<RingKey>,
    replay: Replay,
    /// Run keys drawn so far, by ring key id and stream.
    run_keys: HashMap<(u32, StreamId), LessSafeKey>,
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Opener({:?}, {} run keys)",
            self.keys,
            self.run_keys.len()
        )
    }
}

impl Opener {
    pub fn new(keys: Vec<RingKey>) -> Opener {
        Opener {
            keys,
            replay: Replay::default(),
            run_keys: HashMap::new(),
        }
    }

    /// Other keys from now on (what was taken is still remembered).
    pub fn rekey(&mut self, keys: Vec<RingKey>) {
        self.keys = keys;
        self.run_keys.clear();
    }

    /// Opens `bytes`; `mono_us` is a monotonic clock, `wall_us` the time
    /// since the Unix epoch (monitor requests are judged by it).
    pub fn open(&mut self, bytes: &[u8], mono_us: u64, wall_us: u64) -> Result<Opened, Refusal> {
        let mut plain = bytes.to_vec();
        let (kind, sender) = self.open_in_place(&mut plain, mono_us, wall_us)?;
        Ok(Opened {
            plain,
            kind,
            sender,
        })
    }

    /// The same in place: on success `bytes` holds what was sealed (and
    /// the kind and sender are returned); on failure its contents are
    /// undefined.
    pub fn open_in_place(
        &mut self,
        bytes: &mut Vec<u8>,
        mono_us: u64,
        wall_us: u64,
    ) -> Result<(Kind, u32), Refusal> {
        if !looks_sealed(bytes) {
            return Err(Refusal::Plain);
        }
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(&bytes[..HEADER_LEN]);
        let kind = match header[3] {
            0 => Kind::Daemon,
            1 => Kind::Monitor,
            _ => return Err(Refusal::Forged),
        };
        let word =
            |r: std::ops::Range<usize>| header[r].iter().fold(0u64, |a, &x| a << 8 | u64::from(x));
        let id = word(4..8) as u32;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or(Refusal::OtherKey)?;
        let stream = StreamId {
            sender: word(8..12) as u32,
            epoch: word(12..20),
            salt: word(20..24) as u32,
        };
        let n = word(24..32);
        let verdict = match kind {
            Kind::Daemon => self.replay.check_daemon(stream, n, mono_us),
            Kind::Monitor => self.replay.check_monitor(stream, n, wall_us),
        };
        match verdict {
            Verdict::Fresh => {}
            Verdict::Replayed => return Err(Refusal::Replayed),
            Verdict::Stale => return Err(Refusal::Stale),
            Verdict::Untimely => return Err(Refusal::Untimely),
        }
        if !self.run_keys.contains_key(&(id, stream)) && self.run_keys.len() >= RUN_KEYS {
            // Drawing a key again costs a few microseconds; forgetting all
            // keeps this bounded whatever key holders send.
            self.run_keys.clear();
        }
        let run_key = self
            .run_keys
            .entry((id, stream))
            .or_insert_with(|| key.stream_key(stream));
        let sealed_len = bytes.len() - TAG_LEN;
        let tag: [u8; TAG_LEN] = bytes[sealed_len..]
            .try_into()
            .map_err(|_| Refusal::Forged)?;
        // The plain text is written from the buffer's start, over the
        // header (kept above for the authentication).
        run_key
            .open_in_place_separate_tag(
                nonce(n),
                Aad::from(header),
                Tag::from(tag),
                &mut bytes[..sealed_len],
                HEADER_LEN..,
            )
            .map_err(|_| Refusal::Forged)?;
        bytes.truncate(sealed_len - HEADER_LEN);
        match kind {
            Kind::Daemon => self.replay.take_daemon(stream, n, mono_us),
            Kind::Monitor => self.replay.take_monitor(stream, n),
        }
        Ok((kind, stream.sender))
    }
}

fn stream_bytes(s: StreamId) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&s.sender.to_be_bytes());
    out[4..12].copy_from_slice(&s.epoch.to_be_bytes());
    out[12..].copy_from_slice(&s.salt.to_be_bytes());
    out
}

/// GCM's 96-bit nonce: the datagram's number.
fn nonce(n: u64) -> Nonce {
    let mut out = [0u8; 12];
    out[4..].copy_from_slice(&n.to_be_bytes());
    Nonce::assume_unique_for_key(out)
}

/// Microseconds since the Unix epoch.
pub fn wall_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    // SAFETY: the buffer is valid for its length; the result is checked.
    let got = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if got != b.len() as isize {
        // No entropy source: the process id and the clock still make runs
        // differ, which is what the salt is for.
        return std::process::id() ^ (wall_us() as u32).rotate_left(16);
    }
    u32::from_ne_bytes(b)
}

#[cfg(test)]
mod tests;
