//! Procedural macros of `obs`. Use them through `obs-runtime`, which
//! re-exports them and documents them where they are used.
//!
//! Each macro is a pipeline: parse its input into a model (`attr`), check
//! what only the macro can see (`validate`: that a named argument exists,
//! the function's signature), then generate (`expand`). The crate knows no
//! label rule, naming rule, limit or bucket preset: for every name it
//! expands it emits a `const` item (`schema`) that calls the runtime's
//! `obs_runtime::__private::schema` checks, spanned at the user's tokens,
//! so the rules live once, in the runtime. Option parsing (`options`),
//! error collection (`ctxt`) and bucket lists (`buckets`) are shared by
//! every macro.
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![warn(clippy::pedantic)]
// Expansion functions are one `quote!` each; splitting them would scatter
// the generated code across helpers that are read together.
#![allow(clippy::too_many_lines)]

mod buckets;
mod ctxt;
mod derive;
mod health_check;
mod instrumented;
mod objective;
mod options;
mod schema;
mod slo;

use proc_macro::TokenStream;

/// Counts, times and traces every call of a function. Documented on its
/// re-export, `obs_runtime::instrumented`.
#[proc_macro_attribute]
pub fn instrumented(args: TokenStream, item: TokenStream) -> TokenStream {
    instrumented::expand(args.into(), item.into()).into()
}

/// Registers an `async fn` as a health check. Documented on its re-export,
/// `obs_runtime::health_check`.
#[proc_macro_attribute]
pub fn health_check(args: TokenStream, item: TokenStream) -> TokenStream {
    health_check::expand(args.into(), item.into()).into()
}

/// An objective for an HTTP route, checked at compile time. Documented on
/// its re-export, `obs_runtime::slo`.
#[proc_macro]
pub fn slo(input: TokenStream) -> TokenStream {
    objective::expand(input.into()).into()
}

/// Derives `LabelValue` for a field-less enum. Documented on its re-export.
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive::label_value::expand(&input).into()
}

/// Derives `LabelSet` for a struct of label values. Documented on its
/// re-export.
#[proc_macro_derive(LabelSet, attributes(label))]
pub fn derive_label_set(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive::label_set::expand(&input).into()
}

/// Derives a global, registered metric set for a struct of metrics.
/// Documented on its re-export.
#[proc_macro_derive(MetricSet, attributes(metrics, metric))]
pub fn derive_metric_set(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive::metric_set::expand(&input).into()
}
