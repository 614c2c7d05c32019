//! `#[health_check("name", ..)]`: parse the options (`attr`), check the
//! function's signature (`validate`), then generate the function plus its
//! registration (`expand`).

mod attr;
mod expand;
mod validate;

use proc_macro2::TokenStream;

use crate::ctxt::{Ctxt, with_errors, with_item};

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
    let signature_ok = validate::check_signature(&mut cx, &func);
    match expand::Model::new(options) {
        // The options that did parse still go through the schema's checks,
        // so one build shows every problem; a broken signature would only
        // add errors of our own making.
        Some(model) if signature_ok => with_errors(cx.check(), model.expand(&func)),
        _ => match cx.check() {
            Err(error) => with_item(&error, item),
            Ok(()) => item,
        },
    }
}
