//! `global()`, the schema's checks of every member by its kind, and the
//! link-time registration.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::LitStr;
use syn::spanned::Spanned;

use super::attr::Model;
use crate::buckets;
use crate::schema::rule;

pub(super) fn expand(model: &Model<'_>) -> TokenStream {
    let krate = &model.krate;
    let name = &model.input.ident;
    // The type's own visibility: a `pub` item on a private type would trip
    // `unreachable_pub` in the user's crate.
    let vis = &model.input.vis;
    let members = model.members.as_deref().unwrap_or_default();
    let mut checks = Vec::new();
    if let Some(p) = &model.prefix {
        checks.push(rule(p.span(), krate, &quote!(check_name_syntax(#p))));
    }
    let mut inits = Vec::new();
    let mut registers = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let full = &m.name;
        let ident = m.ident;
        let ty = m.ty;
        let help = &m.help;
        let unit = m.unit.as_ref().map_or_else(String::new, LitStr::value);
        // The kind is the type's, through the runtime's `Metric` trait; a
        // type that is no metric is reported here, at the type, with the
        // trait's message.
        let kind = format_ident!("__OBS_KIND_{}", i);
        let metric = quote_spanned!(ty.span()=> <#ty as #krate::__private::Metric>);
        checks.push(quote_spanned! {ty.span()=>
            const #kind: #krate::__private::schema::MetricKind = #metric::KIND;
        });
        checks.push(rule(
            m.name_span,
            krate,
            &quote!(check_metric_member(#kind, #full, #unit)),
        ));
        if let Some(b) = &m.buckets {
            checks.push(rule(b.span(), krate, &quote!(check_member_buckets(#kind))));
        }
        if let Some(u) = &m.unit {
            checks.push(rule(u.span(), krate, &quote!(check_member_unit(#kind))));
        }
        let konst = format_ident!("__OBS_BUCKETS_{}", i);
        checks.push(buckets::emit(
            krate,
            &konst,
            m.buckets.as_ref(),
            &quote!(#krate::__private::schema::default_buckets(#unit)),
        ));
        let limit = m.max_series.as_ref().map(|n| quote!(.with_max_series(#n)));
        inits.push(quote!(#ident: #metric::new_member(#full, #help, #konst) #limit));
        registers.push(quote!(#metric::register_member(&set.#ident);));
    }
    let span = name.span();
    let global_doc = format!(
        "The process-wide `{name}`, created and registered on first use or on the first scrape, whichever comes first."
    );
    quote_spanned! {span=>
        impl #name {
            #[doc = #global_doc]
            ///
            /// A registration refused because a metric of the same name exists
            /// is logged; the metrics still count, but are not exposed.
            #vis fn global() -> &'static Self {
                #(#checks)*
                static SET: ::std::sync::OnceLock<#name> = ::std::sync::OnceLock::new();
                static REGISTERED: ::std::sync::OnceLock<()> = ::std::sync::OnceLock::new();
                #krate::__private::metric_set(
                    &SET,
                    &REGISTERED,
                    #krate::__private::schema::SourceLocation::new(::core::file!(), ::core::line!()),
                    || Self { #(#inits),* },
                    |set| { #(#registers)* },
                )
            }
        }

        const _: () = {
            fn force() {
                let _ = #name::global();
            }
            #[#krate::__private::linkme::distributed_slice(#krate::__private::METRIC_SETS)]
            #[linkme(crate = #krate::__private::linkme)]
            static __OBS_METRIC_SET: fn() = force;
        };
    }
}

/// What a `MetricSet` derive on something other than a struct of named
/// fields still emits beside its errors: `global()`, so its callers report
/// nothing more.
pub(super) fn fallback(model: &Model<'_>) -> TokenStream {
    let input = model.input;
    let name = &input.ident;
    let vis = &input.vis;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        impl #impl_generics #name #ty_generics #where_clause {
            /// The process-wide set (not built: the derive reported errors).
            #vis fn global() -> &'static Self {
                ::core::unreachable!()
            }
        }
    }
}
