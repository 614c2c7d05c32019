//! `#[derive(MetricSet)]` on a struct of counters, gauges and histograms:
//! `attr` reads the struct and its `#[metrics(..)]`/`#[metric(..)]`
//! attributes, `expand` generates `global()` and the registration. The
//! kind of each field is the runtime's `Metric::KIND` of its type, read
//! by the generated checks; the macro never looks at a type's name.

mod attr;
mod expand;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ctxt::{Ctxt, with_errors};

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let model = attr::Model::parse(&mut cx, input);
    let errors = cx.check();
    if model.is_expandable() {
        // What did parse goes through the schema's checks in the same
        // build as the errors of the attributes.
        with_errors(errors, expand::expand(&model))
    } else {
        with_errors(errors, expand::fallback(&model))
    }
}
