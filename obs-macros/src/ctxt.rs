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

/// The errors, if any, before `expansion`: what every macro returns, so
/// the user sees our errors and the schema's in one build, and not a
/// cascade of "cannot find function" ones.
pub(crate) fn with_errors(errors: Result<(), syn::Error>, expansion: TokenStream) -> TokenStream {
    match errors {
        Ok(()) => expansion,
        Err(error) => {
            let mut out = error.to_compile_error();
            out.extend(expansion);
            out
        }
    }
}

/// The original item next to the errors.
pub(crate) fn with_item(error: &syn::Error, item: impl ToTokens) -> TokenStream {
    let mut out = error.to_compile_error();
    item.to_tokens(&mut out);
    out
}
