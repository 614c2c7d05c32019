//! `#[derive(LabelValue)]` on a field-less enum: `attr` reads the variants
//! and their renames, `expand` generates the impl and the schema's checks
//! of every rendered value.

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
        // A stub impl beside the errors, so label sets and metrics using
        // the type report nothing more.
        errors => with_errors(errors, expand::fallback(&model)),
    }
}
