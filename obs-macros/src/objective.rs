//! `slo!(success = "99.9%", latency = "250ms", percentile = "99%")`: an
//! objective as a value, for HTTP routes (`ObsLayer::slo`). The options are
//! those of `#[instrumented(slo(..))]`, parsed by the same code; the
//! latency is checked against the HTTP server's duration buckets.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::Parser;

use crate::ctxt::Ctxt;
use crate::options::{CRATE, Keys, crate_option, runtime_path};
use crate::slo::{self, Slo};

const KEYS: Keys = Keys {
    attr: Some("slo!"),
    valid: &[
        slo::SUCCESS,
        slo::LATENCY,
        slo::PERCENTILE,
        slo::PERIOD,
        CRATE,
    ],
};

/// A block that evaluates to the `Objective`, a constant: every check runs
/// at compile time, at the user's literal.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let mut objective = Slo::new(Span::call_site());
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident(CRATE) {
            crate_option(&mut cx, &meta, &mut krate)
        } else {
            objective.part(&mut cx, &meta, &KEYS)
        }
    });
    if let Err(e) = parser.parse2(input) {
        cx.push(e);
    }
    let krate = runtime_path(krate);
    let items = objective.expand(
        &krate,
        &quote!(check_http_latency_bound(__OBS_SLO_LATENCY_MS)),
    );
    // The errors go inside the block: the expansion is one expression.
    let errors = cx.check().err().map(|e| {
        let error = e.to_compile_error();
        quote!(#error;)
    });
    quote! {
        {
            #errors
            #items
            __OBS_SLO
        }
    }
}
