//! Error collection, so one build reports every problem of an attribute.

use std::fmt::Display;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Collects errors; [`Ctxt::check`] combines them into one.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    pub(crate) fn error(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.errors.push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// `Ok` when nothing was reported, otherwise every error, combined.
    pub(crate) fn check(self) -> Result<(), syn::Error> {
        let mut errors = self.errors.into_iter();
        let Some(mut first) = errors.next() else {
            return Ok(());
        };
        for e in errors {
            first.combine(e);
        }
        Err(first)
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

/// The original item next to the errors, so the user sees our errors and not
/// a cascade of "cannot find function" ones.
pub(crate) fn with_item(error: &syn::Error, item: TokenStream) -> TokenStream {
    let mut out = error.to_compile_error();
    out.extend(item);
    out
}
