//! URL credentials: the user info of `scheme://user:password@host`.

use super::{CREDENTIALS, Hit, find, is_placeholder};

pub(super) fn url_credentials(b: &[u8], hits: &mut Vec<Hit>) {
    let mut from = 0;
    while let Some(colon) = find(b, from, b"://") {
        let start = colon + 3;
        let mut end = start;
        let mut at = None;
        while let Some(&c) = b.get(end) {
            if matches!(
                c,
                b'/' | b'?' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\'
            ) || c.is_ascii_whitespace()
            {
                break;
            }
            if c == b'@' {
                at = Some(end);
            }
            end += 1;
        }
        // The scan may have stopped at the `//` of a next URL whose `:` it
        // read (`a://u:p@h;b://…`): look for the next one from that colon.
        from = end.saturating_sub(1).max(start);
        let has_scheme = colon
            .checked_sub(1)
            .and_then(|p| b.get(p))
            .is_some_and(u8::is_ascii_alphanumeric);
        if let Some(at) = at
            .filter(|&at| has_scheme && at > start && !b.get(start..at).is_some_and(is_placeholder))
        {
            hits.push(Hit::new(start, at, CREDENTIALS));
        }
    }
}
