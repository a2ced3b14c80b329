//! Which configured daemon this process is.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::ConfigError;
use super::model::Config;
use super::parser::{truncate, MAX_NAME_LEN};

impl Config {
    /// Which daemon this process is: by name if given (error if no daemon
    /// has that name), else the first daemon whose address is one of this
    /// host's interface addresses (error if none). Returns (segment index,
    /// daemon index within segment).
    pub fn find_me(&self, name: Option<&str>) -> Result<(usize, usize), ConfigError> {
        match name {
            Some(name) => self.find_me_among(Some(name), &[]),
            None => {
                let local = local_addresses().map_err(|e| {
                    self.identity(format!("cannot list this host's addresses: {e}"))
                })?;
                self.find_me_among(None, &local)
            }
        }
    }

    /// [`Config::find_me`] with the host's addresses supplied by the caller.
    pub fn find_me_among(
        &self,
        name: Option<&str>,
        local: &[IpAddr],
    ) -> Result<(usize, usize), ConfigError> {
        let found = self.segments.iter().enumerate().find_map(|(si, seg)| {
            let di = seg.daemons.iter().position(|d| match name {
                // -n names longer than a configured name can hold match its truncation, as in 5.0.1.
                Some(n) => d.name == truncate(n, MAX_NAME_LEN),
                None => local.contains(&d.addr),
            })?;
            Some((si, di))
        });
        found.ok_or_else(|| match name {
            Some(n) => self.identity(format!("no daemon named '{n}' is configured")),
            None => self.identity(
                "none of this host's addresses is a configured daemon's address (use -n name)"
                    .to_string(),
            ),
        })
    }

    fn identity(&self, message: String) -> ConfigError {
        ConfigError::Identity {
            file: self.source.clone(),
            message,
        }
    }
}

/// The IPv4 and IPv6 addresses of this host's interfaces.
pub fn local_addresses() -> io::Result<Vec<IpAddr>> {
    Ok(local_interfaces()?.into_iter().map(|(ip, _)| ip).collect())
}

/// This host's addresses, each with the index of its interface (the scope
/// an IPv6 link-local address and multicast group need).
pub fn local_interfaces() -> io::Result<Vec<(IpAddr, u32)>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs only writes the list head; it is freed below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: every node of the list stays valid until freeifaddrs,
        // ifa_addr, when set, points to a sockaddr of the family it names,
        // and ifa_name is a NUL-terminated interface name.
        unsafe {
            let addr = (*cur).ifa_addr;
            let ip = if addr.is_null() {
                None
            } else {
                match i32::from((*addr).sa_family) {
                    libc::AF_INET => {
                        let sin = &*addr.cast::<libc::sockaddr_in>();
                        Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                            sin.sin_addr.s_addr,
                        ))))
                    }
                    libc::AF_INET6 => {
                        let sin6 = &*addr.cast::<libc::sockaddr_in6>();
                        Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
                    }
                    _ => None,
                }
            };
            if let Some(ip) = ip {
                out.push((ip, libc::if_nametoindex((*cur).ifa_name)));
            }
            cur = (*cur).ifa_next;
        }
    }
    // SAFETY: head came from a successful getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

/// The index of the interface named `name` on this host, if there is one.
pub fn interface_index(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: c is a NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (index != 0).then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_an_interface_index() {
        let lo = interface_index("lo").expect("every Linux host has lo");
        let local = local_interfaces().unwrap();
        assert!(
            local.contains(&(IpAddr::V4(Ipv4Addr::LOCALHOST), lo)),
            "{local:?}"
        );
        assert_eq!(interface_index("no-such-interface"), None);
        assert_eq!(interface_index("lo\0x"), None);
    }
}
