//! Who may connect and who may run commands: `requirepass`/AUTH checks, the NOAUTH gate's
//! command list, protected mode and `maxclients` admission (Redis 7.0 `acl.c`, `networking.c`).
//!
//! Only the `default` user exists. Its password is [`crate::tunables::requirepass`]; without one
//! it is Redis's `nopass` user, so every connection starts authenticated and the gate costs one
//! per-connection bool on the hot path.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const AUTH_WITHOUT_PASSWORD: &str = "ERR AUTH <password> called without any password \
     configured for the default user. Are you sure your configuration is correct?";
pub const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already \
     authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate \
     the client and select the RESP protocol version at the same time";

/// Written to a client over `maxclients` before it is closed.
pub const MAXCLIENTS_REACHED: &[u8] = b"-ERR max number of clients reached\r\n";

/// Written to a non-loopback client in protected mode before it is closed (Redis 7.0's text).
pub const DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected \
mode is enabled and no password is set for the default user. \
In this mode connections are only accepted from the loopback interface. \
If you want to connect from external computers to Redis you \
may adopt one of the following solutions: \
1) Just disable protected mode sending the command \
'CONFIG SET protected-mode no' from the loopback interface \
by connecting to Redis from the same host the server is \
running, however MAKE SURE Redis is not publicly accessible \
from internet if you do so. Use CONFIG REWRITE to make this \
change permanent. \
2) Alternatively you can just disable the protected mode by \
editing the Redis configuration file, and setting the protected \
mode option to 'no', and then restarting the server. \
3) If you started the server manually just for testing, restart \
it with the '--protected-mode no' option. \
4) Setup a an authentication password for the default user. \
NOTE: You only need to do one of the above things in order for \
the server to start accepting connections from the outside.\r\n";

/// Whether a password is configured now.
pub fn password_set() -> bool {
    crate::tunables::requirepass().is_some()
}

/// Redis's `authRequired`: a client that has not authenticated while a password is set. Callers
/// test their `authenticated` bool first, so this lock is only read on the rare path.
#[inline]
pub fn auth_required(authenticated: bool) -> bool {
    !authenticated && password_set()
}

/// What a new connection's `authenticated` starts as (Redis's `clientSetDefaultAuth`): true
/// when the default user has no password.
pub fn initially_authenticated() -> bool {
    !password_set()
}

/// Redis's `ACLCheckUserCredentials` for the only user, `default`.
pub fn check_credentials(user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    match crate::tunables::requirepass() {
        None => true,
        Some(want) => ct_eq(&want, pass),
    }
}

/// Compares in time that depends only on `given`'s length (which the client knows), never on
/// where the bytes differ nor on the password's length.
pub fn ct_eq(secret: &[u8], given: &[u8]) -> bool {
    let mut diff = (secret.len() ^ given.len()) as u64;
    if secret.is_empty() {
        return given.is_empty();
    }
    for (i, &b) in given.iter().enumerate() {
        diff |= u64::from(b ^ secret[i % secret.len()]);
    }
    std::hint::black_box(diff) == 0
}

/// Commands allowed before authentication (Redis's `no_auth` flag: AUTH, HELLO, QUIT, RESET),
/// by command-table index; derived from the docs so COMMAND INFO and the gate agree.
pub fn no_auth(idx: usize) -> bool {
    static TABLE: OnceLock<Vec<bool>> = OnceLock::new();
    TABLE.get_or_init(|| {
        crate::cmd::table()
            .iter()
            .map(|spec| {
                crate::cmd::docs::DOCS
                    .iter()
                    .find(|d| d.name == spec.name)
                    .is_some_and(|d| d.flags.contains(&"no_auth"))
            })
            .collect()
    })[idx]
}

/// Redis's `islocalClient` for TCP: the peer is exactly 127.0.0.1 or ::1 (other 127/8
/// addresses count as remote, as in Redis).
pub fn is_local_peer(peer: Option<IpAddr>) -> bool {
    matches!(peer, Some(ip) if ip == IpAddr::V4(Ipv4Addr::LOCALHOST) || ip == IpAddr::V6(Ipv6Addr::LOCALHOST))
}

/// What happens to a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Accept,
    /// Over `maxclients`: write [`MAXCLIENTS_REACHED`], close.
    MaxClients,
    /// Protected mode: write [`DENIED`], close.
    Denied,
}

impl Admission {
    /// The bytes written before closing, if any.
    pub fn message(self) -> Option<&'static [u8]> {
        match self {
            Admission::Accept => None,
            Admission::MaxClients => Some(MAXCLIENTS_REACHED),
            Admission::Denied => Some(DENIED),
        }
    }
}

/// Redis's order: `acceptCommonHandler` refuses over `maxclients` (`clients` already connected,
/// this one excluded), then `clientAcceptHandler` applies protected mode (on, the default user
/// has no password, the peer is not loopback; the bind address plays no part in 7.0).
pub fn admit(
    clients: u64,
    maxclients: i64,
    protected_mode: bool,
    password_set: bool,
    peer: Option<IpAddr>,
) -> Admission {
    if clients as i128 >= maxclients as i128 {
        Admission::MaxClients
    } else if protected_mode && !password_set && !is_local_peer(peer) {
        Admission::Denied
    } else {
        Admission::Accept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn constant_time_compare() {
        assert!(ct_eq(b"secret", b"secret"));
        assert!(!ct_eq(b"secret", b"secreT"));
        assert!(!ct_eq(b"secret", b"secret1"));
        assert!(!ct_eq(b"secret", b"secre"));
        assert!(!ct_eq(b"secret", b""));
        // A given password that repeats the secret is still wrong.
        assert!(!ct_eq(b"ab", b"abab"));
        assert!(ct_eq(b"", b""));
        assert!(!ct_eq(b"", b"x"));
    }

    #[test]
    fn protected_mode_decision() {
        // Loopback clients always get in (below maxclients).
        assert_eq!(
            admit(0, 10, true, false, ip("127.0.0.1")),
            Admission::Accept
        );
        assert_eq!(admit(0, 10, true, false, ip("::1")), Admission::Accept);
        // Redis compares the address text: other 127/8 addresses are not "local".
        assert_eq!(
            admit(0, 10, true, false, ip("127.0.0.2")),
            Admission::Denied
        );
        assert_eq!(
            admit(0, 10, true, false, ip("192.0.2.2")),
            Admission::Denied
        );
        assert_eq!(
            admit(0, 10, true, false, ip("::ffff:127.0.0.1")),
            Admission::Denied
        );
        assert_eq!(admit(0, 10, true, false, None), Admission::Denied);
        // A password or protected-mode off lets remote clients in.
        assert_eq!(admit(0, 10, true, true, ip("192.0.2.2")), Admission::Accept);
        assert_eq!(
            admit(0, 10, false, false, ip("192.0.2.2")),
            Admission::Accept
        );
        assert!(DENIED.starts_with(b"-DENIED Redis is running in protected mode"));
        assert!(DENIED.ends_with(b"from the outside.\r\n"));
    }

    #[test]
    fn maxclients_decision() {
        assert_eq!(admit(2, 3, true, false, ip("127.0.0.1")), Admission::Accept);
        assert_eq!(
            admit(3, 3, true, false, ip("127.0.0.1")),
            Admission::MaxClients
        );
        // maxclients comes first, as in Redis.
        assert_eq!(
            admit(3, 3, true, false, ip("192.0.2.2")),
            Admission::MaxClients
        );
        assert_eq!(
            Admission::MaxClients.message(),
            Some(&b"-ERR max number of clients reached\r\n"[..])
        );
    }

    #[test]
    fn no_auth_commands() {
        let allowed: Vec<&str> = crate::cmd::table()
            .iter()
            .enumerate()
            .filter(|(i, _)| no_auth(*i))
            .map(|(_, c)| c.name)
            .collect();
        let mut allowed = allowed;
        allowed.sort();
        assert_eq!(allowed, ["auth", "hello", "quit", "reset"]);
    }
}
