//! Configuration errors, formatted the way compilers report them so editors
//! can jump to the line.

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    /// The text does not follow the grammar (or a token is malformed).
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    /// Well-formed, but a rule of 5.0.1 is violated.
    #[error("{file}:{line}: {message}")]
    Semantic {
        file: String,
        line: usize,
        message: String,
    },
    /// This process could not be matched to a configured daemon.
    #[error("{file}: {message}")]
    Identity { file: String, message: String },
}

impl ConfigError {
    /// The line a syntax or semantic error refers to.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Syntax { line, .. } | ConfigError::Semantic { line, .. } => Some(*line),
            _ => None,
        }
    }
}
