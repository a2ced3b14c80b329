//! Options this daemon parses but does not act on yet, so that start-up can
//! say so instead of silently ignoring them. Remove a name when its feature
//! lands.

use super::model::Config;

/// Reported whenever they appear in the file.
const NOT_YET_IMPLEMENTED: &[&str] = &["SocketPortReuse", "IgnoreMulticastJoinErrors"];

/// Only the policies named here are implemented.
const SUPPORTED_ACCESS_CONTROL_POLICIES: &[&str] = &["PERMIT"];

impl Config {
    /// Options that were parsed but whose feature this daemon does not
    /// implement yet, with their line: (line, option name), in file order.
    pub fn unsupported_options(&self) -> Vec<(usize, &'static str)> {
        let acp_unsupported = self
            .access_control_policy
            .as_deref()
            .is_some_and(|p| !SUPPORTED_ACCESS_CONTROL_POLICIES.contains(&p));
        self.option_lines
            .iter()
            .filter(|(_, name)| {
                NOT_YET_IMPLEMENTED.contains(name)
                    || (*name == "AccessControlPolicy" && acp_unsupported)
            })
            .copied()
            .collect()
    }
}
