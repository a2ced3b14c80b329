//! The command line, as Spread's: `spread [-n name] [-c file] [-l y|n]`.

use std::path::PathBuf;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub name: Option<String>,
    pub config: Option<PathBuf>,
    /// `-l n` turns logging off; `-l y` (the default) keeps it.
    pub log: bool,
    pub help: bool,
    pub version: bool,
}

pub const USAGE: &str = "\
Usage: spread [-n <proc name>] [-c <config file>] [-l y|n]
  -n <name>   run as the daemon of this name in the configuration
              (default: the daemon whose address is one of this host's)
  -c <file>   configuration file (default: ./spread.conf, then
              /etc/spread.conf, then the embedded default: one daemon
              \"localhost\" on 127.0.0.1, port 4803)
  -l y|n      log to stderr (y, the default) or not at all (n)
  --help      this text
  --version   the version

Logging: DebugFlags and EventPriority in the configuration choose what is
logged; the environment variable SPREAD_LOG overrides them with a filter
such as \"spread=debug\" or \"spread::session=debug,warn\".";

pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut out = Args {
        log: true,
        ..Args::default()
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().ok_or_else(|| format!("{flag} needs a value"));
        match a.as_str() {
            "-n" => out.name = Some(value("-n")?),
            "-c" => out.config = Some(PathBuf::from(value("-c")?)),
            "-l" => {
                out.log = match value("-l")?.as_str() {
                    "y" | "Y" => true,
                    "n" | "N" => false,
                    other => return Err(format!("-l takes y or n, not {other:?}")),
                }
            }
            "-h" | "--help" => out.help = true,
            "-V" | "--version" => out.version = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Args, String> {
        parse(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags() {
        let a = p(&["-n", "d1", "-c", "x.conf", "-l", "n"]).unwrap();
        assert_eq!(a.name.as_deref(), Some("d1"));
        assert_eq!(a.config, Some(PathBuf::from("x.conf")));
        assert!(!a.log);
        assert!(p(&[]).unwrap().log);
        assert!(p(&["--help"]).unwrap().help);
        assert!(p(&["-n"]).unwrap_err().contains("-n needs a value"));
        assert!(p(&["-x"]).is_err());
        assert!(p(&["-l", "maybe"]).is_err());
    }
}
