//! `#[health_check("name", ..)]`: parse the options, check the function's
//! signature, then expand into the function plus its registration.

mod attr;
mod expand;

use proc_macro2::TokenStream;

use crate::ctxt::{Ctxt, with_item};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let Ok(func) = syn::parse2::<syn::ItemFn>(item.clone()) else {
        let error = syn::Error::new_spanned(
            &item,
            "`#[health_check]` goes on an `async fn` with no arguments: `#[health_check(\"database\")] async fn database() -> Result<(), Error>`",
        );
        return with_item(&error, item);
    };
    let mut cx = Ctxt::default();
    let options = attr::Options::parse(&mut cx, args);
    let signature_ok = expand::check_signature(&mut cx, &func);
    let model = expand::Model::new(options);
    match (cx.check(), model) {
        (Ok(()), Some(model)) => model.expand(&func),
        // The options that did parse still go through the schema's checks,
        // so one build shows every problem; a broken signature would only
        // add errors of our own making.
        (Err(error), Some(model)) if signature_ok => {
            let mut out = error.to_compile_error();
            out.extend(model.expand(&func));
            out
        }
        (Err(error), _) => with_item(&error, item),
        (Ok(()), None) => item,
    }
}
