//! `#[derive(LabelSet)]` on a struct whose fields are label values: `attr`
//! reads the struct, `expand` generates the impl, whose kind (bounded or
//! open) the runtime decides from the fields' `LabelValue` impls.

mod attr;
mod expand;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ctxt::{Ctxt, with_errors};

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let model = attr::Model::parse(&mut cx, input);
    match cx.check() {
        Ok(()) => expand::expand(&model),
        // A stub impl beside the errors, so metrics keyed by the set
        // report nothing more.
        errors => with_errors(errors, expand::fallback(&model)),
    }
}
