//! Option parsing shared by every macro: one duplicate-key check, one
//! unknown-key message that lists every valid key, one way to read each
//! kind of value and the `crate = "path"` override.

use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, ExprLit, Lit, LitBool, LitInt, LitStr};

use crate::ctxt::Ctxt;

/// The key of the runtime path override, the same in every macro.
pub(crate) const CRATE: &str = "crate";
const CRATE_EXAMPLE: &str = "crate = \"::my_obs\"";

/// The keys one attribute takes, for the unknown-key message.
pub(crate) struct Keys {
    /// `None` for an attribute macro's own options (`#[instrumented(..)]`),
    /// else the helper attribute, as shown: `#[metric(..)]`.
    pub(crate) attr: Option<&'static str>,
    pub(crate) valid: &'static [&'static str],
}

impl Keys {
    fn noun(&self) -> &'static str {
        if self.attr.is_some() { "key" } else { "option" }
    }

    /// "valid options are `a`, `b` and `c`".
    fn valid(&self) -> String {
        let noun = self.noun();
        let quoted: Vec<String> = self.valid.iter().map(|k| format!("`{k}`")).collect();
        match quoted.as_slice() {
            [] => format!("this attribute takes no {noun}s"),
            [one] => format!("the valid {noun} is {one}"),
            [init @ .., last] => format!("valid {noun}s are {} and {last}", init.join(", ")),
        }
    }

    /// Reports `key` as unknown, listing every valid key.
    pub(crate) fn unknown(&self, cx: &mut Ctxt, key: &syn::Path) {
        let shown = key.to_token_stream().to_string().replace(' ', "");
        let place = self.attr.map(|a| format!(" in `{a}`")).unwrap_or_default();
        cx.error(
            key,
            format_args!("unknown {} `{shown}`{place}: {}", self.noun(), self.valid()),
        );
    }
}

/// Stores an option's value, reporting a repeated key at its second use.
pub(crate) fn set_once<T>(cx: &mut Ctxt, slot: &mut Option<T>, key: &syn::Path, value: T) {
    if slot.is_some() {
        let name = key.to_token_stream().to_string();
        cx.error(
            key,
            format_args!("duplicate option `{name}`: give each option once"),
        );
    } else {
        *slot = Some(value);
    }
}

/// The key as a plain name; `None` for a path such as `a::b`.
pub(crate) fn key_name(meta: &ParseNestedMeta<'_>) -> Option<String> {
    meta.path.get_ident().map(ToString::to_string)
}

/// Skips what follows a key we report, so parsing goes on and every
/// problem is reported in one build.
pub(crate) fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::Group>()?;
    }
    Ok(())
}

/// The value after `key =`; a key given without one is reported with an
/// example of its use, and parsing goes on.
pub(crate) fn value_expr(
    cx: &mut Ctxt,
    meta: &ParseNestedMeta<'_>,
    example: &str,
) -> syn::Result<Option<Expr>> {
    if meta.input.peek(syn::Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let key = meta.path.to_token_stream().to_string();
    cx.error(
        &meta.path,
        format_args!("`{key}` takes a value: `{example}`"),
    );
    skip_value(meta)?;
    Ok(None)
}

pub(crate) fn lit_str(cx: &mut Ctxt, expr: &Expr, key: &str, example: &str) -> Option<LitStr> {
    if let Expr::Lit(ExprLit {
        lit: Lit::Str(s), ..
    }) = expr
    {
        Some(s.clone())
    } else {
        cx.error(expr, format_args!("`{key}` takes a string: `{example}`"));
        None
    }
}

pub(crate) fn lit_bool(cx: &mut Ctxt, expr: &Expr, key: &str) -> Option<LitBool> {
    if let Expr::Lit(ExprLit {
        lit: Lit::Bool(b), ..
    }) = expr
    {
        Some(b.clone())
    } else {
        cx.error(expr, format_args!("`{key}` takes `true` or `false`"));
        None
    }
}

pub(crate) fn lit_int(cx: &mut Ctxt, expr: &Expr, key: &str, example: &str) -> Option<LitInt> {
    if let Expr::Lit(ExprLit {
        lit: Lit::Int(i), ..
    }) = expr
    {
        Some(i.clone())
    } else {
        cx.error(expr, format_args!("`{key}` takes an integer: `{example}`"));
        None
    }
}

/// `key = "value"` in one step: the value, or the problem reported.
pub(crate) fn str_option(
    cx: &mut Ctxt,
    meta: &ParseNestedMeta<'_>,
    key: &str,
    example: &str,
) -> syn::Result<Option<LitStr>> {
    Ok(value_expr(cx, meta, example)?.and_then(|e| lit_str(cx, &e, key, example)))
}

/// `crate = "path"`: where `obs_runtime` is, for a renamed dependency or
/// for the runtime's own uses of its macros (`crate = "crate"`).
pub(crate) fn crate_option(
    cx: &mut Ctxt,
    meta: &ParseNestedMeta<'_>,
    slot: &mut Option<syn::Path>,
) -> syn::Result<()> {
    if let Some(s) = str_option(cx, meta, CRATE, CRATE_EXAMPLE)? {
        match s.parse::<syn::Path>() {
            Ok(path) => set_once(cx, slot, &meta.path, path),
            Err(_) => cx.error(&s, format_args!("`crate` takes a path: `{CRATE_EXAMPLE}`")),
        }
    }
    Ok(())
}

/// Runs `each` on every `key ..` of every `#[name(..)]` attribute in
/// `attrs`, collecting syntax errors instead of stopping at the first.
pub(crate) fn each_nested(
    cx: &mut Ctxt,
    attrs: &[Attribute],
    name: &str,
    mut each: impl FnMut(&mut Ctxt, &ParseNestedMeta<'_>) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|a| a.path().is_ident(name)) {
        if let Err(e) = attr.parse_nested_meta(|meta| each(cx, &meta)) {
            cx.push(e);
        }
    }
}

/// Where `obs_runtime` is: the override, or `::obs_runtime`.
pub(crate) fn runtime_path(krate: Option<syn::Path>) -> syn::Path {
    krate.unwrap_or_else(|| syn::parse_quote!(::obs_runtime))
}
