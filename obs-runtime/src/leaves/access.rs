//! Who may see what: IP allowlists for the operational endpoints.
//!
//! Health failure reasons name internal hosts and ports, and `/metrics`
//! exposes the inner workings of a service; both are shown only to callers
//! whose address an [`Allowlist`] admits. The default admits loopback only.
//!
//! ```
//! use obs_runtime::access::Allowlist;
//!
//! let list: Allowlist = "10.0.0.0/8, 192.168.1.7, fd00::/8".parse().unwrap();
//! assert!(list.contains("10.1.2.3".parse().unwrap()));
//! assert!(list.contains("fd12::1".parse().unwrap()));
//! assert!(!list.contains("8.8.8.8".parse().unwrap()));
//! assert!(Allowlist::loopback().contains("::1".parse().unwrap()));
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// One network: an address and a prefix length (`10.0.0.0/8`,
/// `fd00::/8`); a bare address is a network of one.
///
/// ```
/// use obs_runtime::access::IpNet;
///
/// let net: IpNet = "172.16.0.0/12".parse().unwrap();
/// assert!(net.contains("172.31.255.1".parse().unwrap()));
/// assert!(!net.contains("172.32.0.1".parse().unwrap()));
/// assert_eq!(net.to_string(), "172.16.0.0/12");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// The network of `addr` with `prefix` leading bits.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// let net = obs_runtime::access::IpNet::new(Ipv4Addr::new(10, 0, 0, 0).into(), 8).unwrap();
    /// assert!(net.contains("10.9.9.9".parse().unwrap()));
    /// ```
    ///
    /// # Errors
    /// When the prefix is longer than the address (32 bits for IPv4, 128
    /// for IPv6).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, AllowlistError> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(AllowlistError(format!(
                "prefix /{prefix} is longer than the {max} bits of {addr}"
            )));
        }
        Ok(Self { addr, prefix })
    }

    /// Whether the network holds `ip`. An IPv4 address written as IPv6
    /// (`::ffff:127.0.0.1`, as dual-stack sockets report it) is compared as
    /// IPv4.
    ///
    /// ```
    /// let net: obs_runtime::access::IpNet = "127.0.0.0/8".parse().unwrap();
    /// assert!(net.contains("::ffff:127.0.0.1".parse().unwrap()));
    /// ```
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for IpNet {
    type Err = AllowlistError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| {
            AllowlistError(format!(
                "`{s}` is not an IP address or network: write `10.0.0.0/8`, `127.0.0.1` or `::1`"
            ))
        })?;
        let prefix = match prefix {
            None => {
                if addr.is_ipv4() {
                    32
                } else {
                    128
                }
            }
            Some(p) => p.parse::<u8>().map_err(|_| {
                AllowlistError(format!(
                    "`{s}` has a bad prefix length: write a number of bits, such as `/8`"
                ))
            })?,
        };
        Self::new(addr, prefix)
    }
}

/// Why an allowlist entry could not be read.
///
/// ```
/// let err = "10.0.0.0/40".parse::<obs_runtime::access::Allowlist>().unwrap_err();
/// assert!(err.to_string().contains("/40"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowlistError(String);

impl fmt::Display for AllowlistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AllowlistError {}

/// A set of networks whose callers are admitted.
///
/// ```
/// use obs_runtime::access::Allowlist;
///
/// let list = Allowlist::loopback_and_private();
/// assert!(list.contains("192.168.0.10".parse().unwrap()));
/// assert!(!Allowlist::loopback().contains("192.168.0.10".parse().unwrap()));
/// assert!(!Allowlist::none().contains("127.0.0.1".parse().unwrap()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowlist {
    nets: Vec<IpNet>,
}

impl Default for Allowlist {
    /// Loopback only.
    fn default() -> Self {
        Self::loopback()
    }
}

impl Allowlist {
    /// Admits no one.
    ///
    /// ```
    /// assert!(obs_runtime::access::Allowlist::none().nets().is_empty());
    /// ```
    #[must_use]
    pub fn none() -> Self {
        Self { nets: Vec::new() }
    }

    /// `127.0.0.0/8` and `::1`: callers on the same machine (or in the same
    /// pod, such as the kubelet's port-forward or a sidecar).
    ///
    /// ```
    /// let list = obs_runtime::access::Allowlist::loopback();
    /// assert!(list.contains("127.0.0.53".parse().unwrap()));
    /// ```
    #[must_use]
    pub fn loopback() -> Self {
        Self {
            nets: vec![
                IpNet {
                    addr: Ipv4Addr::new(127, 0, 0, 0).into(),
                    prefix: 8,
                },
                IpNet {
                    addr: Ipv6Addr::LOCALHOST.into(),
                    prefix: 128,
                },
            ],
        }
    }

    /// Loopback plus the private ranges a cluster network uses: RFC 1918
    /// (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`) and IPv6 unique
    /// local addresses (`fc00::/7`).
    ///
    /// ```
    /// let list = obs_runtime::access::Allowlist::loopback_and_private();
    /// assert!(list.contains("10.244.1.5".parse().unwrap()));
    /// assert!(!list.contains("203.0.113.9".parse().unwrap()));
    /// ```
    #[must_use]
    pub fn loopback_and_private() -> Self {
        let mut list = Self::loopback();
        for (addr, prefix) in [
            (IpAddr::from(Ipv4Addr::new(10, 0, 0, 0)), 8),
            (Ipv4Addr::new(172, 16, 0, 0).into(), 12),
            (Ipv4Addr::new(192, 168, 0, 0).into(), 16),
            (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0).into(), 7),
        ] {
            list.nets.push(IpNet { addr, prefix });
        }
        list
    }

    /// Adds a network.
    ///
    /// ```
    /// use obs_runtime::access::Allowlist;
    /// let list = Allowlist::none().with("203.0.113.0/24".parse().unwrap());
    /// assert!(list.contains("203.0.113.7".parse().unwrap()));
    /// ```
    #[must_use]
    pub fn with(mut self, net: IpNet) -> Self {
        self.nets.push(net);
        self
    }

    /// The networks admitted.
    ///
    /// ```
    /// assert_eq!(obs_runtime::access::Allowlist::loopback().nets().len(), 2);
    /// ```
    #[must_use]
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }

    /// Whether a caller at `ip` is admitted.
    ///
    /// ```
    /// let list = obs_runtime::access::Allowlist::loopback();
    /// assert!(list.contains("127.0.0.1".parse().unwrap()));
    /// assert!(!list.contains("10.0.0.1".parse().unwrap()));
    /// ```
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }
}

impl FromStr for Allowlist {
    type Err = AllowlistError;

    /// Networks separated by commas or white space; an empty text admits
    /// no one.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let nets = s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<IpNet>, _>>()?;
        Ok(Self { nets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn prefixes_of_every_length() {
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("255.1.2.3")));
        assert!(!all.contains(ip("::1")), "an IPv4 network never holds IPv6");
        let one: IpNet = "10.0.0.1/32".parse().unwrap();
        assert!(one.contains(ip("10.0.0.1")));
        assert!(!one.contains(ip("10.0.0.2")));
        let v6: IpNet = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        let all6: IpNet = "::/0".parse().unwrap();
        assert!(all6.contains(ip("fe80::1")));
    }

    #[test]
    fn bad_entries_are_refused_with_a_reason() {
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "localhost",
            "10.0.0.0/x",
            "10.0.0/8",
        ] {
            let err = bad.parse::<Allowlist>().unwrap_err();
            assert!(
                err.to_string().contains(bad.split('/').next().unwrap())
                    || err.to_string().contains("prefix"),
                "{bad}: {err}"
            );
        }
        assert!("".parse::<Allowlist>().unwrap().nets().is_empty());
    }

    #[test]
    fn mapped_ipv4_counts_as_ipv4() {
        assert!(Allowlist::loopback().contains(ip("::ffff:127.0.0.1")));
        assert!(!Allowlist::loopback().contains(ip("::ffff:10.0.0.1")));
    }
}
