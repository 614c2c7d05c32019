//! `#[instrumented]`: parse the options (`attr`), check them against the
//! function (`validate`), then generate (`expand`).

mod attr;
mod expand;
mod validate;

use proc_macro2::TokenStream;

use crate::ctxt::{Ctxt, with_errors, with_item};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let Ok(func) = syn::parse2::<syn::ItemFn>(item.clone()) else {
        let error = not_a_function(&item);
        return with_item(&error, item);
    };
    let mut cx = Ctxt::default();
    let options = attr::Options::parse(&mut cx, args);
    let model = validate::Model::new(&mut cx, options, &func);
    match model {
        // The expansion of what did parse goes along, so the schema's rules
        // are checked in the same build as the option errors.
        Some(model) => with_errors(cx.check(), model.expand(&func)),
        None => match cx.check() {
            Err(error) => with_item(&error, item),
            Ok(()) => item,
        },
    }
}

fn not_a_function(item: &TokenStream) -> syn::Error {
    let message = "`#[instrumented]` goes on a function or method with a body: put it on a `fn` (sync or `async`)";
    match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Struct(s)) => syn::Error::new_spanned(s.struct_token, message),
        Ok(syn::Item::Enum(e)) => syn::Error::new_spanned(e.enum_token, message),
        Ok(syn::Item::Impl(i)) => syn::Error::new_spanned(
            i.impl_token,
            "`#[instrumented]` goes on each method, not on an `impl` block: annotate the methods to measure",
        ),
        Ok(other) => syn::Error::new_spanned(other, message),
        Err(_) => syn::Error::new(proc_macro2::Span::call_site(), message),
    }
}
