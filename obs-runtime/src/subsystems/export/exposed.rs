//! The generated files under the names the scrape exposes: with a
//! [configured](crate::registry::configure) prefix, every registered
//! family's name (and its `_bucket`, `_count`, `_sum` samples) in rules,
//! rule tests, dashboards and docs becomes
//! [`exposed_name`](crate::registry::exposed_name)'s. The writers keep
//! the names the catalog knows; this one pass renames them, so no query
//! of any writer can miss the prefix.

use std::collections::BTreeSet;

use crate::metric_core::registry::{self, exposed_name, exposition};

/// The sample suffixes a family's name may carry in a query.
const SAMPLE_SUFFIXES: &[&str] = &["_bucket", "_count", "_sum"];

/// The registered family names, when a prefix is configured (else `None`:
/// nothing to rename).
pub(super) fn families() -> Option<BTreeSet<String>> {
    exposition()
        .is_some_and(|e| !e.prefix.is_empty())
        .then(|| registry::global().family_names())
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// `text` with every whole word that names a family in `families` (or one
/// of its samples) replaced by its exposed name. A word is a maximal run
/// of `[A-Za-z0-9_:]`, so recording rules (`slo:sli_error:ratio_rate5m`),
/// label names and `$labels.x` are left alone unless they are a family's
/// name.
pub(super) fn rename(text: String, families: Option<&BTreeSet<String>>) -> String {
    let Some(families) = families else {
        return text;
    };
    let is_family = |word: &str| {
        families.contains(word)
            || SAMPLE_SUFFIXES.iter().any(|s| {
                word.strip_suffix(s)
                    .is_some_and(|base| families.contains(base))
            })
    };
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let word_len = rest.bytes().take_while(|b| is_name_byte(*b)).count();
        let (word, tail) = rest.split_at(word_len);
        if word.is_empty() {
            // Copy up to the next word, whole characters.
            let gap = rest
                .char_indices()
                .find(|(_, c)| c.is_ascii() && is_name_byte(*c as u8))
                .map_or(rest.len(), |(i, _)| i);
            let (gap, tail) = rest.split_at(gap);
            out.push_str(gap);
            rest = tail;
            continue;
        }
        if is_family(word) {
            out.push_str(&exposed_name(word));
        } else {
            out.push_str(word);
        }
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_family_words_are_renamed() {
        // `exposed_name` is the identity without an exposition, so check
        // the word split with a family set and no prefix configured: the
        // text comes back byte for byte.
        let families: BTreeSet<String> = ["http_requests_total", "req_seconds"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let text =
            "sum(rate(req_seconds_bucket{le=\"0.5\"}[5m])) é slo:req_seconds:x $labels.http_route"
                .to_owned();
        assert_eq!(rename(text.clone(), Some(&families)), text);
        assert_eq!(rename(text.clone(), None), text);
    }
}
