//! Our options for client authentication and access, beside 5.0.1's
//! `AllowedAuthMethods` / `RequiredAuthMethods` (which name the methods):
//!
//! * `AllowUsers = "alice 1001"`, `AllowGroups = "spread wheel"`: who the
//!   PEERCRED method lets in (names or numeric ids; repeated statements
//!   add to the list);
//! * `GroupAccessFile = /etc/spread/groups.acl`: who may join and send to
//!   which groups;
//! * `AuthSecretFile = /etc/spread/secrets`: the SECRET method's shared
//!   secrets;
//! * `TlsAddress = 0.0.0.0:4813` with `TlsCertificateFile` and `TlsKeyFile`
//!   (PEM): a second TCP listener whose clients speak TLS; with
//!   `TlsClientCAFile` they must show a certificate that CA signed.
//!
//! The daemon resolves names and reads the files (at start and on reload);
//! this crate keeps what was written and on which line, for `file:line`
//! messages. None of them enters the configuration hash: each concerns
//! one daemon's clients only.

use std::path::PathBuf;

use super::lexer::{Opt, Tok};
use super::parser::{Parser, Res};

/// A value with the line it was written on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written<T> {
    pub line: usize,
    pub value: T,
}

/// What the client-access options say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientAccess {
    /// `AllowUsers` entries (user names or uids), in file order.
    pub allow_users: Vec<Written<String>>,
    /// `AllowGroups` entries (group names or gids), in file order.
    pub allow_groups: Vec<Written<String>>,
    /// `GroupAccessFile`: the last statement counts.
    pub group_access_file: Option<Written<PathBuf>>,
    /// `AuthSecretFile`: the last statement counts.
    pub auth_secret_file: Option<Written<PathBuf>>,
    /// `TlsAddress`: where TLS clients connect (the last statement counts).
    pub tls_address: Option<Written<std::net::SocketAddr>>,
    /// `TlsCertificateFile`: the daemon's certificate chain (PEM).
    pub tls_certificate_file: Option<Written<PathBuf>>,
    /// `TlsKeyFile`: the certificate's private key (PEM).
    pub tls_key_file: Option<Written<PathBuf>>,
    /// `TlsClientCAFile`: the CAs whose certificates TLS clients must show
    /// (PEM); none: clients show no certificate.
    pub tls_client_ca_file: Option<Written<PathBuf>>,
}

impl ClientAccess {
    /// Whether any of these options was written.
    pub fn is_configured(&self) -> bool {
        *self != ClientAccess::default()
    }
}

impl Parser<'_> {
    pub(super) fn client_access(&mut self, o: Opt, line: usize) -> Res<()> {
        if o == Opt::TlsAddress {
            let addr = self.address_with_port(o, line, 4813)?;
            self.cfg.client_access.tls_address = Some(Written { line, value: addr });
            return Ok(());
        }
        // A lone uid or gid is a number token.
        let value = match o {
            Opt::AllowUsers | Opt::AllowGroups => {
                let t = self.next()?;
                match t.tok {
                    Tok::Str(s) => s,
                    Tok::Number(_) => t.text,
                    _ => {
                        let e = format!("{} expects names or numbers", o.keyword());
                        return Err(self.unexpected(&t, &e));
                    }
                }
            }
            _ => self.string(o)?,
        };
        let access = &mut self.cfg.client_access;
        match o {
            Opt::AllowUsers | Opt::AllowGroups => {
                let list = match o {
                    Opt::AllowUsers => &mut access.allow_users,
                    _ => &mut access.allow_groups,
                };
                let before = list.len();
                list.extend(value.split_whitespace().map(|v| Written {
                    line,
                    value: v.to_string(),
                }));
                if list.len() == before {
                    let m = format!("{} names no one", o.keyword());
                    return Err(self.semantic(line, m));
                }
            }
            _ => {
                if value.is_empty() {
                    let m = format!("{} needs a file name", o.keyword());
                    return Err(self.semantic(line, m));
                }
                let path = Some(Written {
                    line,
                    value: PathBuf::from(value),
                });
                match o {
                    Opt::GroupAccessFile => access.group_access_file = path,
                    Opt::TlsCertificateFile => access.tls_certificate_file = path,
                    Opt::TlsKeyFile => access.tls_key_file = path,
                    Opt::TlsClientCaFile => access.tls_client_ca_file = path,
                    _ => access.auth_secret_file = path,
                }
            }
        }
        Ok(())
    }
}
