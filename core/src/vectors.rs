//! Reader for the recorded-session format of `shared/spec/vectors/`
//! (see its README): steps with a direction, a connection and hex bytes.

use std::path::{Path, PathBuf};

/// What a step records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `OPEN`: the client opened the connection.
    Open,
    /// `CLOSE`: the connection closed.
    Close,
    /// `C->D`: bytes the client wrote.
    ClientToDaemon,
    /// `D->C`: bytes the daemon wrote.
    DaemonToClient,
}

/// One step of a recording: a `=== ` line and the hex dump lines under it.
#[derive(Clone, Debug)]
pub struct Step {
    /// The step's number as written in the recording.
    pub number: u32,
    /// What happened.
    pub direction: Direction,
    /// Which connection of the recording (`conn=N`).
    pub conn: u32,
    /// The annotation after ` : `, empty if there is none.
    pub meaning: String,
    /// The bytes written (empty for `OPEN` and `CLOSE`).
    pub bytes: Vec<u8>,
}

/// Parses one recording.
///
/// # Errors
///
/// A malformed step line, a bad hex byte, or bytes before the first step;
/// the message names the line.
pub fn parse(text: &str) -> Result<Vec<Step>, String> {
    let mut steps: Vec<Step> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("=== ") {
            let mut words = rest.split_whitespace();
            let bad = || format!("line {}: bad step line", i + 1);
            let number = words.next().and_then(|w| w.parse().ok()).ok_or_else(bad)?;
            let direction = match words.next() {
                Some("OPEN") => Direction::Open,
                Some("CLOSE") => Direction::Close,
                Some("C->D") => Direction::ClientToDaemon,
                Some("D->C") => Direction::DaemonToClient,
                _ => return Err(bad()),
            };
            let conn = words
                .next()
                .and_then(|w| w.strip_prefix("conn="))
                .and_then(|w| w.parse().ok())
                .ok_or_else(bad)?;
            let meaning = rest
                .split_once(" : ")
                .map(|(_, m)| m.to_string())
                .unwrap_or_default();
            steps.push(Step {
                number,
                direction,
                conn,
                meaning,
                bytes: Vec::new(),
            });
        } else if line.len() > 6
            && line.as_bytes()[4] == b':'
            && line[..4].chars().all(|c| c.is_ascii_hexdigit())
        {
            let hex = line[6..].split("  |").next().unwrap_or("");
            let step = steps
                .last_mut()
                .ok_or_else(|| format!("line {}: bytes before any step", i + 1))?;
            for h in hex.split_whitespace() {
                let b = u8::from_str_radix(h, 16).map_err(|e| format!("line {}: {e}", i + 1))?;
                step.bytes.push(b);
            }
        }
    }
    Ok(steps)
}

/// The directory of the recordings: `$SPREAD_VECTORS`, else
/// `shared/spec/vectors` beside the repository.
pub fn vectors_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("SPREAD_VECTORS") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec/vectors")
}

/// Every recording (`*.txt` of [`vectors_dir`]), sorted by file name, with
/// its steps.
///
/// # Errors
///
/// The directory or a file cannot be read, or a file does not parse; the
/// message names the path or file.
pub fn load_all() -> Result<Vec<(String, Vec<Step>)>, String> {
    let dir = vectors_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e} (set SPREAD_VECTORS)", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            parse(&text)
                .map(|s| (name.clone(), s))
                .map_err(|e| format!("{name}: {e}"))
        })
        .collect()
}
