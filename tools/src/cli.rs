//! Small helpers for hand-written command-line parsing.

use std::fmt;
use std::str::FromStr;

/// What every tool prints after its name for `--version` (as the daemon).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (Spread 5.0.1 protocol)");

/// What a command line asks for: a run with some options, the help text or
/// the version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation<T> {
    Run(T),
    Help,
    Version,
}

/// A command line that cannot be understood; the text says why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A cursor over the arguments after the program name.
pub struct ArgCursor<I> {
    args: I,
}

impl<I: Iterator<Item = String>> ArgCursor<I> {
    pub fn new(args: I) -> Self {
        ArgCursor { args }
    }

    /// The next flag (or stray word), if any.
    pub fn next_arg(&mut self) -> Option<String> {
        self.args.next()
    }

    /// The value that must follow `flag`.
    pub fn value(&mut self, flag: &str) -> Result<String, UsageError> {
        self.args
            .next()
            .ok_or_else(|| UsageError(format!("{flag} needs a value")))
    }

    /// The value that must follow `flag`, parsed as a number.
    pub fn number<T: FromStr>(&mut self, flag: &str) -> Result<T, UsageError> {
        let text = self.value(flag)?;
        parse_number(flag, &text)
    }
}

/// Parses `text`, the value of `flag`, as a number.
pub fn parse_number<T: FromStr>(flag: &str, text: &str) -> Result<T, UsageError> {
    text.trim()
        .parse()
        .map_err(|_| UsageError(format!("{flag}: {text:?} is not a valid number")))
}

/// True for the usual ways of asking for help.
pub fn is_help_flag(arg: &str) -> bool {
    matches!(arg, "-h" | "--help" | "-help" | "-?")
}

/// Whether `arg` asks for the version.
pub fn is_version_flag(arg: &str) -> bool {
    matches!(arg, "-V" | "--version")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(words: &[&str]) -> ArgCursor<std::vec::IntoIter<String>> {
        let v: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        ArgCursor::new(v.into_iter())
    }

    #[test]
    fn values_and_numbers() {
        let mut c = cursor(&["-m", "42", "-u"]);
        assert_eq!(c.next_arg().as_deref(), Some("-m"));
        assert_eq!(c.number::<u64>("-m"), Ok(42));
        assert_eq!(c.next_arg().as_deref(), Some("-u"));
        assert_eq!(c.value("-u"), Err(UsageError("-u needs a value".into())));
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert!(parse_number::<u64>("-m", "12x").is_err());
        assert!(parse_number::<u64>("-m", "-3").is_err());
        assert_eq!(parse_number::<usize>("-b", " 7 "), Ok(7));
    }
}
