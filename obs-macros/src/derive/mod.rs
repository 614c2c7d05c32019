//! The derives: `LabelValue`, `LabelSet` and `MetricSet`, one folder each
//! (`attr` parses the input into a model, `expand` generates), and what
//! they share.

pub(crate) mod label_set;
pub(crate) mod label_value;
pub(crate) mod metric_set;

use syn::{Attribute, Expr, ExprLit, Lit};

use crate::ctxt::Ctxt;
use crate::options::{CRATE, Keys, crate_option, key_name, skip_value};

/// Container attributes every derive takes in its own helper attribute:
/// `crate = "path"`, the same override as `#[instrumented(crate = ..)]`.
/// Returns the path, when given.
pub(crate) fn container_crate(
    cx: &mut Ctxt,
    attrs: &[Attribute],
    attr: &'static str,
    keys: &Keys,
    mut other: impl FnMut(&mut Ctxt, &str, &syn::meta::ParseNestedMeta<'_>) -> syn::Result<bool>,
) -> Option<syn::Path> {
    let mut krate = None;
    crate::options::each_nested(cx, attrs, attr, |cx, meta| {
        let key = key_name(meta).unwrap_or_default();
        if key == CRATE {
            return crate_option(cx, meta, &mut krate);
        }
        if !other(cx, &key, meta)? {
            keys.unknown(cx, &meta.path);
            skip_value(meta)?;
        }
        Ok(())
    });
    krate
}

/// The text of the doc comments, lines trimmed and joined by spaces.
pub(crate) fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        None
    } else {
        Some(lines.join(" "))
    }
}

/// `HalfOpen` → `half_open`, `HTTPError` → `http_error`, `V2` → `v2`.
pub(crate) fn snake_case(ident: &str) -> String {
    let chars: Vec<char> = ident.chars().collect();
    let mut out = String::with_capacity(ident.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn variant_names_become_snake_case() {
        assert_eq!(snake_case("HalfOpen"), "half_open");
        assert_eq!(snake_case("HTTPError"), "http_error");
        assert_eq!(snake_case("Gpt4o"), "gpt4o");
        assert_eq!(snake_case("Open"), "open");
        assert_eq!(snake_case("Already_Snake"), "already_snake");
    }
}
