//! Vendor API keys, told by their documented prefix and shape, and PEM
//! private key blocks.

use super::{API_KEY, Hit, PRIVATE_KEY, find};

/// The characters a key's body may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Body {
    /// Letters and digits.
    Alnum,
    /// Letters, digits and `_`.
    Word,
    /// Letters, digits, `_` and `-`: it runs to the end of the word.
    Dashed,
}

/// A key: its prefix, then a body of `min` characters or more (exactly
/// `min` when `exact`), holding a digit when `digit`.
struct Rule {
    prefix: &'static [u8],
    body: Body,
    min: usize,
    exact: bool,
    digit: bool,
}

const fn rule(prefix: &'static [u8], body: Body, min: usize) -> Rule {
    Rule {
        prefix,
        body,
        min,
        exact: false,
        digit: false,
    }
}

/// The documented shapes. GitHub: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and
/// 36 characters, `github_pat_` and 82. Slack: `xoxb-`, `xoxa-`, `xoxp-`,
/// `xoxr-`, `xoxs-`. Stripe secret and restricted keys, live and test.
/// Google: `AIza` and 35. OpenAI (`sk-`, `sk-proj-`) and Anthropic
/// (`sk-ant-`): `sk-` and a long dashed body with a digit, so prose such as
/// "sk-learn" stays. GitLab: `glpat-` and 20. npm: `npm_` and 36. SendGrid
/// (`SG.` and two dotted parts) is matched in [`sendgrid`].
const RULES: &[Rule] = &[
    rule(b"ghp_", Body::Alnum, 36),
    rule(b"gho_", Body::Alnum, 36),
    rule(b"ghu_", Body::Alnum, 36),
    rule(b"ghs_", Body::Alnum, 36),
    rule(b"ghr_", Body::Alnum, 36),
    rule(b"github_pat_", Body::Word, 22),
    rule(b"xoxa-", Body::Dashed, 10),
    rule(b"xoxb-", Body::Dashed, 10),
    rule(b"xoxp-", Body::Dashed, 10),
    rule(b"xoxr-", Body::Dashed, 10),
    rule(b"xoxs-", Body::Dashed, 10),
    rule(b"sk_live_", Body::Alnum, 16),
    rule(b"sk_test_", Body::Alnum, 16),
    rule(b"rk_live_", Body::Alnum, 16),
    rule(b"rk_test_", Body::Alnum, 16),
    Rule {
        prefix: b"AIza",
        body: Body::Dashed,
        min: 35,
        exact: true,
        digit: false,
    },
    Rule {
        prefix: b"sk-",
        body: Body::Dashed,
        min: 20,
        exact: false,
        digit: true,
    },
    rule(b"glpat-", Body::Dashed, 20),
    rule(b"npm_", Body::Alnum, 36),
];

/// The parts of a SendGrid key `SG.<22>.<43>`, at least.
const SENDGRID_ID: usize = 20;
const SENDGRID_SECRET: usize = 40;

const PEM_BEGIN: &[u8] = b"-----BEGIN ";
const PEM_END: &[u8] = b"-----END ";
const PEM_DASHES: &[u8] = b"-----";
/// `-----BEGIN ENCRYPTED PRIVATE KEY-----` and the like: a label longer
/// than this is no PEM header.
const MAX_PEM_LABEL: usize = 40;

fn in_body(c: u8, body: Body) -> bool {
    c.is_ascii_alphanumeric()
        || match body {
            Body::Alnum => false,
            Body::Word => c == b'_',
            Body::Dashed => c == b'_' || c == b'-',
        }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// For the pre-scan: whether a key's prefix ends with the separator at `i`
/// (`_`, `-` or `.`), or a PEM header or a Google key starts at `i`.
pub(super) fn may_start(b: &[u8], i: usize) -> bool {
    let upto = b.get(..=i).unwrap_or_default();
    let from = b.get(i..).unwrap_or_default();
    match from.first() {
        Some(b'-') if from.starts_with(PEM_BEGIN) => true,
        Some(b'.') => upto.ends_with(b"SG."),
        Some(b'A') => from.starts_with(b"AIza"),
        _ => RULES.iter().any(|r| upto.ends_with(r.prefix)),
    }
}

/// Vendor API keys: one pass over the words of `b`.
///
/// A key starts a word (after anything but a letter, digit or `_`); a word
/// of `[A-Za-z0-9_-]` is read once, and what a dashed body needs (its
/// length, whether it holds a digit) is known from that one read, so a key
/// that fails inside a long word (`sk-sk-sk-…`) costs no second read.
pub(super) fn api_keys(b: &[u8], hits: &mut Vec<Hit>) {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if !in_body(c, Body::Dashed) {
            i += 1;
            continue;
        }
        let run_start = i;
        let mut run_end = i;
        let mut last_digit = None;
        while let Some(&c) = b.get(run_end).filter(|&&c| in_body(c, Body::Dashed)) {
            if c.is_ascii_digit() {
                last_digit = Some(run_end);
            }
            run_end += 1;
        }
        if let Some(end) = sendgrid(b, run_start, run_end) {
            hits.push(Hit::new(run_start, end, API_KEY));
            i = end;
            continue;
        }
        // Word starts inside the run: its first byte, and each byte after a
        // `-`.
        let mut p = run_start;
        while p < run_end {
            let at_word_start =
                p == run_start || p.checked_sub(1).and_then(|q| b.get(q)) == Some(&b'-');
            let found = at_word_start
                .then(|| key_at(b, p, run_end, last_digit))
                .flatten();
            if let Some(end) = found {
                hits.push(Hit::new(p, end, API_KEY));
                p = end;
            } else {
                p += 1;
            }
        }
        i = run_end;
    }
}

/// The end of a key starting at `p`, inside the run of `[A-Za-z0-9_-]`
/// that ends at `run_end`.
fn key_at(b: &[u8], p: usize, run_end: usize, last_digit: Option<usize>) -> Option<usize> {
    let rest = b.get(p..run_end).unwrap_or_default();
    RULES.iter().find_map(|r| {
        if !rest.starts_with(r.prefix) {
            return None;
        }
        let body = p + r.prefix.len();
        let end = if r.body == Body::Dashed {
            // A dashed body runs to the end of the run: no second read.
            run_end
        } else {
            // Other bodies stop at the next `-` (or `_`), where the next
            // word start is: these reads never overlap.
            let mut end = body;
            while end < run_end && b.get(end).is_some_and(|&c| in_body(c, r.body)) {
                end += 1;
            }
            end
        };
        let len = end - body;
        let long_enough = if r.exact { len == r.min } else { len >= r.min };
        let digit = !r.digit || last_digit.is_some_and(|d| d >= body);
        (long_enough && digit).then_some(end)
    })
}

/// `SG.` + id + `.` + secret, where `SG` is the run at `start..end`.
fn sendgrid(b: &[u8], start: usize, end: usize) -> Option<usize> {
    if b.get(start..end) != Some(b"SG") || b.get(end) != Some(&b'.') {
        return None;
    }
    let part = |from: usize| {
        let mut to = from;
        while b.get(to).is_some_and(|&c| in_body(c, Body::Dashed)) {
            to += 1;
        }
        to
    };
    let id_end = part(end + 1);
    if id_end - (end + 1) < SENDGRID_ID || b.get(id_end) != Some(&b'.') {
        return None;
    }
    let secret_end = part(id_end + 1);
    (secret_end - (id_end + 1) >= SENDGRID_SECRET
        && !b.get(secret_end).copied().is_some_and(is_word))
    .then_some(secret_end)
}

/// PEM private key blocks: from `-----BEGIN … PRIVATE KEY-----` to the end
/// of the next `-----END …-----`, or to the end of the text when a log line
/// was cut inside the key.
pub(super) fn private_keys(b: &[u8], hits: &mut Vec<Hit>) {
    let mut from = 0;
    while let Some(start) = find(b, from, PEM_BEGIN) {
        let label = start + PEM_BEGIN.len();
        let Some(label_end) = dashes_within(b, label) else {
            from = label;
            continue;
        };
        if !b
            .get(label..label_end)
            .is_some_and(|l| l.ends_with(b"PRIVATE KEY"))
        {
            from = label_end;
            continue;
        }
        let body = label_end + PEM_DASHES.len();
        // The end line's own closing dashes end the block. When there is
        // no end line here, there is none after any later header either:
        // the rest of the text is the key.
        let end = find(b, body, PEM_END).map_or(b.len(), |e| {
            let label = e + PEM_END.len();
            dashes_within(b, label).map_or(label, |d| d + PEM_DASHES.len())
        });
        hits.push(Hit::new(start, end, PRIVATE_KEY));
        from = end;
    }
}

/// The `-----` that closes a PEM label starting at `label`, if the label is
/// short enough to be one.
fn dashes_within(b: &[u8], label: usize) -> Option<usize> {
    let window = b.get(label..(label + MAX_PEM_LABEL + PEM_DASHES.len()).min(b.len()))?;
    window
        .windows(PEM_DASHES.len())
        .position(|w| w == PEM_DASHES)
        .map(|k| label + k)
}
