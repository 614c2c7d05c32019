//! `slo(success = "99.9%", latency = "250ms", percentile = "99%", period = "30d")`,
//! shared by `#[instrumented(slo(..))]` and `slo!(..)`: the literals are
//! parsed here as written, and checked and converted by the schema through
//! the `const` items [`Slo::expand`] emits.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::LitStr;
use syn::meta::ParseNestedMeta;

use crate::ctxt::Ctxt;
use crate::options::{Keys, key_name, set_once, skip_value, str_option};
use crate::schema::{parse_rule, rule};

pub(crate) const SUCCESS: &str = "success";
pub(crate) const LATENCY: &str = "latency";
pub(crate) const PERCENTILE: &str = "percentile";
pub(crate) const PERIOD: &str = "period";

/// The literals as written; the schema parses and checks them.
pub(crate) struct Slo {
    /// Where an error about the whole objective points: the `slo` key, or
    /// the `slo!` call.
    pub(crate) span: Span,
    pub(crate) success: Option<LitStr>,
    pub(crate) latency: Option<LitStr>,
    pub(crate) percentile: Option<LitStr>,
    pub(crate) period: Option<LitStr>,
}

impl Slo {
    pub(crate) fn new(span: Span) -> Self {
        Self {
            span,
            success: None,
            latency: None,
            percentile: None,
            period: None,
        }
    }

    /// One `key = "value"` of the objective; an unknown key is reported
    /// with every valid one of `keys`.
    pub(crate) fn part(
        &mut self,
        cx: &mut Ctxt,
        part: &ParseNestedMeta<'_>,
        keys: &Keys,
    ) -> syn::Result<()> {
        let Some(name) = key_name(part) else {
            keys.unknown(cx, &part.path);
            return skip_value(part);
        };
        let (slot, example) = match name.as_str() {
            SUCCESS => (&mut self.success, "success = \"99.9%\""),
            LATENCY => (&mut self.latency, "latency = \"250ms\""),
            PERCENTILE => (&mut self.percentile, "percentile = \"99%\""),
            PERIOD => (&mut self.period, "period = \"30d\""),
            _ => {
                keys.unknown(cx, &part.path);
                return skip_value(part);
            }
        };
        if let Some(lit) = str_option(cx, part, &name, example)? {
            set_once(cx, slot, &part.path, lit);
        }
        Ok(())
    }

    /// The checks of the objective, each at its literal, and
    /// `const __OBS_SLO: Objective`. `latency_bound` is the schema
    /// call (relative to the schema module) that checks the latency in
    /// milliseconds, `__OBS_SLO_LATENCY_MS`, against the histogram's
    /// bounds; it returns a `Message`. A value that doesn't parse is
    /// reported once, at its literal; the objective then holds a stand-in
    /// that no further check trips on.
    pub(crate) fn expand(&self, krate: &syn::Path, latency_bound: &TokenStream) -> TokenStream {
        let schema = quote!(#krate::__private::schema);
        let (s, l, p) = (
            self.success.is_some(),
            self.latency.is_some(),
            self.percentile.is_some(),
        );
        let mut out = rule(self.span, krate, &quote!(check_objective_parts(#s, #l, #p)));
        let ppm = |lit: &Option<LitStr>| {
            let Some(lit) = lit else {
                return quote!(::core::option::Option::None);
            };
            quote!(::core::option::Option::Some(
                match #schema::parse_percentage(#lit) {
                    ::core::result::Result::Ok(v) => v,
                    ::core::result::Result::Err(_) => 1,
                }
            ))
        };
        for lit in [&self.success, &self.percentile].into_iter().flatten() {
            out.extend(parse_rule(
                lit.span(),
                krate,
                &quote!(parse_percentage(#lit)),
            ));
        }
        let latency = if let Some(lit) = &self.latency {
            out.extend(parse_rule(lit.span(), krate, &quote!(parse_latency(#lit))));
            out.extend(quote_spanned! {lit.span()=>
                const __OBS_SLO_LATENCY_MS: u64 = match #schema::parse_latency(#lit) {
                    ::core::result::Result::Ok(v) => v,
                    ::core::result::Result::Err(_) => 0,
                };
                const _: () = {
                    let message = #schema::#latency_bound;
                    if let ::core::option::Option::Some(rule) = message.as_str() {
                        ::core::panic!("{}", rule)
                    }
                };
            });
            quote!(::core::option::Option::Some(__OBS_SLO_LATENCY_MS))
        } else {
            quote!(::core::option::Option::None)
        };
        let period = if let Some(lit) = &self.period {
            out.extend(parse_rule(lit.span(), krate, &quote!(parse_period(#lit))));
            quote!(match #schema::parse_period(#lit) {
                ::core::result::Result::Ok(d) => d,
                ::core::result::Result::Err(_) => #schema::DEFAULT_OBJECTIVE_PERIOD_DAYS,
            })
        } else {
            quote!(#schema::DEFAULT_OBJECTIVE_PERIOD_DAYS)
        };
        let success = ppm(&self.success);
        let percentile = ppm(&self.percentile);
        out.extend(quote! {
            const __OBS_SLO: #schema::Objective = #schema::Objective {
                success_ppm: #success,
                latency_ms: #latency,
                percentile_ppm: #percentile,
                period_days: #period,
            };
        });
        out
    }
}
