//! The arguments of `#[health_check("name", ..)]`, parsed into a model.
//! Syntax is checked here; the name, timeout and kind are checked by the
//! runtime's schema through the `const` items that `expand` emits.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprLit, Lit, LitBool, LitStr};

use crate::ctxt::Ctxt;
use crate::options::{CRATE, Keys, crate_option, set_once, skip_value, value_expr};

const TIMEOUT: &str = "timeout";
const KIND: &str = "kind";
const CRITICAL: &str = "critical";

const KEYS: Keys = Keys {
    attr: None,
    valid: &[TIMEOUT, KIND, CRITICAL, CRATE],
};
const NAME_FIRST: &str = "a health check needs its name first, as a string: `#[health_check(\"database\", timeout = \"2s\")]`";

#[derive(Default)]
pub(super) struct Options {
    pub(super) name: Option<LitStr>,
    pub(super) timeout: Option<LitStr>,
    pub(super) kind: Option<LitStr>,
    pub(super) critical: Option<LitBool>,
    pub(super) krate: Option<syn::Path>,
}

/// The value after `key =`, which must be a literal of the expected kind.
fn value(cx: &mut Ctxt, meta: &ParseNestedMeta<'_>, example: &str) -> syn::Result<Option<Lit>> {
    match value_expr(cx, meta, example)? {
        None => Ok(None),
        Some(Expr::Lit(ExprLit { lit, .. })) => Ok(Some(lit)),
        Some(other) => {
            let key = quote::ToTokens::to_token_stream(&meta.path).to_string();
            cx.error(other, format_args!("`{key}` takes a literal: `{example}`"));
            Ok(None)
        }
    }
}

impl Options {
    pub(super) fn parse(cx: &mut Ctxt, args: TokenStream) -> Self {
        let mut options = Self::default();
        let mut tokens = args.into_iter().peekable();
        // The name comes first and alone, so it is taken off before the
        // `key = value` options go to syn's parser.
        match tokens.peek() {
            Some(TokenTree::Literal(_)) => {
                let first: TokenStream = tokens.next().into_iter().collect();
                match syn::parse2::<LitStr>(first.clone()) {
                    Ok(name) => options.name = Some(name),
                    Err(_) => cx.error(first, NAME_FIRST),
                }
                match tokens.next() {
                    None => return options,
                    Some(TokenTree::Punct(p)) if p.as_char() == ',' => {}
                    Some(other) => {
                        cx.error(other, "expected `,` after the check's name: `#[health_check(\"database\", timeout = \"2s\")]`");
                        return options;
                    }
                }
            }
            Some(TokenTree::Ident(_)) => {
                // `#[health_check(database)]`: an identifier not followed by
                // `=` was meant as the name.
                let mut ahead = tokens.clone();
                let ident = ahead.next();
                let is_option =
                    matches!(ahead.next(), Some(TokenTree::Punct(p)) if p.as_char() == '=');
                if !is_option {
                    if let Some(ident) = ident {
                        let text = ident.to_string();
                        cx.error(
                            ident,
                            format_args!(
                                "a health check's name is a string: `#[health_check(\"{text}\")]`"
                            ),
                        );
                    }
                    return options;
                }
                cx.push(syn::Error::new(Span::call_site(), NAME_FIRST));
            }
            None => {
                cx.push(syn::Error::new(Span::call_site(), NAME_FIRST));
                return options;
            }
            Some(_) => {}
        }
        let rest: TokenStream = tokens.collect();
        let parser = syn::meta::parser(|meta| options.option(cx, &meta));
        if let Err(e) = parser.parse2(rest) {
            cx.push(e);
        }
        options
    }

    fn option(&mut self, cx: &mut Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let key = &meta.path;
        let name = key.get_ident().map(ToString::to_string).unwrap_or_default();
        match name.as_str() {
            TIMEOUT => {
                const EXAMPLE: &str = "timeout = \"2s\"";
                match value(cx, meta, EXAMPLE)? {
                    Some(Lit::Str(s)) => set_once(cx, &mut self.timeout, key, s),
                    Some(other) => cx.error(other, format_args!("`timeout` takes a string with a unit: `{EXAMPLE}`, `timeout = \"250ms\"`")),
                    None => {}
                }
            }
            KIND => {
                const EXAMPLE: &str = "kind = \"liveness\"";
                match value(cx, meta, EXAMPLE)? {
                    Some(Lit::Str(s)) => set_once(cx, &mut self.kind, key, s),
                    Some(other) => {
                        cx.error(other, format_args!("`kind` takes a string: `{EXAMPLE}`"));
                    }
                    None => {}
                }
            }
            CRITICAL => {
                const EXAMPLE: &str = "critical = false";
                match value(cx, meta, EXAMPLE)? {
                    Some(Lit::Bool(b)) => set_once(cx, &mut self.critical, key, b),
                    Some(other) => cx.error(
                        other,
                        format_args!("`critical` takes `true` or `false`: `{EXAMPLE}`"),
                    ),
                    None => {}
                }
            }
            CRATE => crate_option(cx, meta, &mut self.krate)?,
            _ => {
                KEYS.unknown(cx, key);
                skip_value(meta)?;
            }
        }
        Ok(())
    }
}
