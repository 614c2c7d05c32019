//! `#[instrumented]`: parse the options, check what only the macro can
//! check (arguments exist, option syntax), then expand.

mod attr;
mod expand;

use proc_macro2::TokenStream;

use crate::ctxt::{Ctxt, with_item};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let Ok(func) = syn::parse2::<syn::ItemFn>(item.clone()) else {
        let error = not_a_function(&item);
        return with_item(&error, item);
    };
    let mut cx = Ctxt::default();
    let options = attr::Options::parse(&mut cx, args);
    let model = expand::Model::new(&mut cx, options, &func);
    match (cx.check(), model) {
        (Ok(()), Some(model)) => model.expand(&func),
        // The expansion of what did parse goes along, so the schema's rules
        // are checked in the same build as the option errors.
        (Err(error), Some(model)) => {
            let mut out = error.to_compile_error();
            out.extend(model.expand(&func));
            out
        }
        (Err(error), None) => with_item(&error, item),
        (Ok(()), None) => item,
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
