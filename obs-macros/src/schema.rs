//! The `const` items through which every macro asks the runtime's schema
//! about the user's input. Each is spanned at the user's token, so a broken
//! rule is a compile error there, with the schema's message; each is an
//! item of its own, so one broken rule is one error.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

/// A check returning `Option<&'static str>`: `None` when the input is
/// fine, else the rule it breaks. `call` is relative to the schema module:
/// `check_label_name("user_id")`.
pub(crate) fn rule(span: Span, krate: &syn::Path, call: &TokenStream) -> TokenStream {
    quote_spanned! {span=>
        const _: () = if let ::core::option::Option::Some(rule) = #krate::__private::schema::#call {
            ::core::panic!("{}", rule)
        };
    }
}

/// A parse returning `Result<_, &'static str>`.
pub(crate) fn parse_rule(span: Span, krate: &syn::Path, call: &TokenStream) -> TokenStream {
    quote_spanned! {span=>
        const _: () = if let ::core::result::Result::Err(rule) = #krate::__private::schema::#call {
            ::core::panic!("{}", rule)
        };
    }
}

/// A lookup returning `Option<_>`, `None` for an unknown name, reported
/// with the schema's `message` constant (which lists the known names).
pub(crate) fn lookup_rule(
    span: Span,
    krate: &syn::Path,
    call: &TokenStream,
    message: &str,
) -> TokenStream {
    let message = syn::Ident::new(message, span);
    quote_spanned! {span=>
        const _: () = if #krate::__private::schema::#call.is_none() {
            ::core::panic!("{}", #krate::__private::schema::#message)
        };
    }
}
