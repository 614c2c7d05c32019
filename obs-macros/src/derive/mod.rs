//! The derives: `LabelValue`, `LabelSet` and `MetricSet`, one module each,
//! and what they share.

pub(crate) mod label_set;
pub(crate) mod label_value;
pub(crate) mod metric_set;

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr};

use crate::ctxt::Ctxt;

/// Where `obs_runtime` is for derives: `::obs_runtime` unless overridden.
pub(crate) fn runtime_path() -> syn::Path {
    syn::parse_quote!(::obs_runtime)
}

/// A `const` item that runs one of the runtime's schema checks and fails the
/// build with its message, at `span`.
pub(crate) fn schema_check(span: Span, krate: &syn::Path, call: &TokenStream) -> TokenStream {
    quote_spanned! {span=>
        const _: () = if let ::core::option::Option::Some(rule) = #krate::__private::schema::#call {
            ::core::panic!("{}", rule)
        };
    }
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

/// A string value of an attribute key, or an error saying what it takes.
pub(crate) fn lit_str_value(
    cx: &mut Ctxt,
    meta: &syn::meta::ParseNestedMeta<'_>,
    example: &str,
) -> syn::Result<Option<LitStr>> {
    let expr: Expr = meta.value()?.parse()?;
    if let Expr::Lit(ExprLit {
        lit: Lit::Str(s), ..
    }) = expr
    {
        Ok(Some(s))
    } else {
        cx.error(&expr, format_args!("this key takes a string: `{example}`"));
        Ok(None)
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
