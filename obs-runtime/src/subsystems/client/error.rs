//! What went wrong with a call that got no response, as an `error_type`
//! label value: `timeout`, `connect`, an I/O error's kind, or `_OTHER`.

use std::error::Error;
use std::io;

/// The `error_type` of a call that failed without a response, from the
/// error and its chain of sources: `timeout` when any of them is a timeout
/// (tokio's or tower's `Elapsed`, an I/O `TimedOut`, a timed-out reqwest
/// or hyper error), else `connect` when the connection could not be made
/// (hyper-util's or reqwest's connect errors, refused, unreachable or
/// unresolvable addresses), else the kind of the first I/O error in the
/// chain (`connection_reset`, `broken_pipe`, `unexpected_eof`, …), else
/// `_OTHER`. Always one of a fixed set of values.
///
/// ```
/// use obs_runtime::client::error_type;
///
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// assert_eq!(error_type(&refused), "connect");
/// let timed_out = std::io::Error::new(std::io::ErrorKind::TimedOut, "slow");
/// assert_eq!(error_type(&timed_out), "timeout");
/// assert_eq!(error_type(&std::fmt::Error), "_OTHER");
/// ```
#[must_use]
pub fn error_type(error: &(dyn Error + 'static)) -> &'static str {
    let mut connect = false;
    let mut io_kind = None;
    for e in chain(error) {
        match classify(e) {
            Some(Found::Timeout) => return "timeout",
            Some(Found::Connect) => connect = true,
            Some(Found::Io(kind)) => {
                io_kind.get_or_insert(kind);
            }
            None => {}
        }
    }
    if connect {
        return "connect";
    }
    io_kind.map_or("_OTHER", io_kind_label)
}

enum Found {
    Timeout,
    Connect,
    Io(io::ErrorKind),
}

/// The error and its sources. `io::Error::source` skips the error it
/// wraps (it returns that error's source), so the wrapped one is visited
/// through `get_ref`. Bounded: a cyclic or absurdly long chain stops.
fn chain<'a>(error: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    let mut pending: Vec<&'a (dyn Error + 'static)> = vec![error];
    let mut seen = 0usize;
    std::iter::from_fn(move || {
        let e = pending.pop()?;
        seen += 1;
        if seen > 64 {
            return None;
        }
        if let Some(next) = e.source() {
            pending.push(next);
        }
        if let Some(inner) = e.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            pending.push(inner);
        }
        Some(e)
    })
}

fn classify(e: &(dyn Error + 'static)) -> Option<Found> {
    if e.is::<tokio::time::error::Elapsed>() || e.is::<tower::timeout::error::Elapsed>() {
        return Some(Found::Timeout);
    }
    if let Some(e) = e.downcast_ref::<io::Error>() {
        return Some(match e.kind() {
            io::ErrorKind::TimedOut => Found::Timeout,
            io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::AddrNotAvailable => Found::Connect,
            kind => Found::Io(kind),
        });
    }
    if let Some(e) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
        return e.is_connect().then_some(Found::Connect);
    }
    #[cfg(feature = "reqwest")]
    if let Some(e) = e.downcast_ref::<reqwest::Error>() {
        if e.is_timeout() {
            return Some(Found::Timeout);
        }
        return e.is_connect().then_some(Found::Connect);
    }
    None
}

/// An I/O error kind as a label value; kinds with no stable name of ours
/// are `_OTHER`.
fn io_kind_label(kind: io::ErrorKind) -> &'static str {
    use io::ErrorKind as K;
    match kind {
        K::ConnectionReset => "connection_reset",
        K::ConnectionAborted => "connection_aborted",
        K::NotConnected => "not_connected",
        K::BrokenPipe => "broken_pipe",
        K::UnexpectedEof => "unexpected_eof",
        K::InvalidData => "invalid_data",
        K::InvalidInput => "invalid_input",
        K::PermissionDenied => "permission_denied",
        K::Interrupted => "interrupted",
        _ => "_OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapper(Box<dyn Error + Send + Sync>);
    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapped")
        }
    }
    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&*self.0)
        }
    }

    #[test]
    fn timeouts_win_over_connect_and_io_kinds_are_named() {
        let elapsed: Box<dyn Error + Send + Sync> = Box::new(tower::timeout::error::Elapsed::new());
        assert_eq!(error_type(&Wrapper(elapsed)), "timeout");
        // An io::Error wrapping a timeout: found through `get_ref`.
        let io = io::Error::other(tower::timeout::error::Elapsed::new());
        assert_eq!(error_type(&io), "timeout");
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(error_type(&Wrapper(Box::new(reset))), "connection_reset");
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(error_type(&Wrapper(Box::new(refused))), "connect");
        assert_eq!(error_type(&io::Error::other("odd")), "_OTHER");
    }
}
