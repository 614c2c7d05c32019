//! `#[derive(MetricSet)]` on a struct of counters, gauges and histograms.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, ExprLit, Fields, Lit, LitStr, Type};

use super::{doc_text, lit_str_value, runtime_path, schema_check};
use crate::buckets::as_f64;
use crate::ctxt::{Ctxt, set_once, with_item};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

enum Buckets {
    Preset(LitStr),
    List(Vec<Expr>, Span),
}

struct Member {
    ident: syn::Ident,
    kind: Kind,
    name: String,
    name_span: Span,
    help: String,
    unit: Option<LitStr>,
    buckets: Option<Buckets>,
    max_series: Option<syn::LitInt>,
}

fn kind_of(ty: &Type) -> Option<Kind> {
    let Type::Path(p) = ty else { return None };
    match p.path.segments.last()?.ident.to_string().as_str() {
        "Counter" => Some(Kind::Counter),
        "Gauge" => Some(Kind::Gauge),
        "Histogram" => Some(Kind::Histogram),
        _ => None,
    }
}

const ONLY_HISTOGRAMS_HAVE_BUCKETS: &str = "only a `Histogram` has buckets: remove `buckets` from this field, or make it a `Histogram` if it records a distribution";

const FIELD_KEYS: &str = "valid keys are `name`, `buckets`, `unit` and `max_series`";

fn parse_member(cx: &mut Ctxt, prefix: Option<&str>, field: &syn::Field) -> Option<Member> {
    let ident = field.ident.clone()?;
    let Some(kind) = kind_of(&field.ty) else {
        cx.error(&field.ty, "a `MetricSet` field is a `Counter`, `Gauge` or `Histogram` from `obs_runtime::metrics`, optionally with a label set: `Counter<CacheLabels>`");
        return None;
    };
    let help = doc_text(&field.attrs);
    if help.is_none() {
        cx.error(&ident, format_args!("metric `{ident}` has no doc comment: it becomes the metric's `# HELP` text, which is not optional; add `/// What it counts.` above the field"));
    }
    let mut name: Option<LitStr> = None;
    let mut unit: Option<LitStr> = None;
    let mut buckets: Option<Buckets> = None;
    let mut max_series: Option<syn::LitInt> = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("metric")) {
        let parsed = attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
            match key.as_str() {
                "name" => {
                    if let Some(s) = lit_str_value(cx, &meta, "#[metric(name = \"hits_total\")]")? {
                        set_once(cx, &mut name, &meta.path, s);
                    }
                }
                "unit" => {
                    if let Some(s) = lit_str_value(cx, &meta, "#[metric(unit = \"bytes\")]")? {
                        set_once(cx, &mut unit, &meta.path, s);
                    }
                }
                "buckets" => {
                    let expr: Expr = meta.value()?.parse()?;
                    let b = match expr {
                        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(Buckets::Preset(s)),
                        Expr::Array(a) => {
                            let span = a.span();
                            Some(Buckets::List(a.elems.into_iter().collect(), span))
                        }
                        other => {
                            cx.error(other, "`buckets` takes a preset name or a list: `buckets = \"latency\"` or `buckets = [0.1, 1.0]`");
                            None
                        }
                    };
                    if let Some(b) = b {
                        set_once(cx, &mut buckets, &meta.path, b);
                    }
                }
                "max_series" => {
                    let expr: Expr = meta.value()?.parse()?;
                    if let Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) = expr {
                        set_once(cx, &mut max_series, &meta.path, i);
                    } else {
                        cx.error(expr, "`max_series` takes an integer: `max_series = 500`");
                    }
                }
                _ => {
                    cx.error(&meta.path, format_args!("unknown key `{key}` in `#[metric(..)]`: {FIELD_KEYS}"));
                    if meta.input.peek(syn::Token![=]) {
                        meta.value()?.parse::<Expr>()?;
                    }
                }
            }
            Ok(())
        });
        if let Err(e) = parsed {
            cx.push(e);
        }
    }
    if kind != Kind::Histogram {
        if let Some(Buckets::Preset(s)) = &buckets {
            cx.error(s, ONLY_HISTOGRAMS_HAVE_BUCKETS);
        }
        if let Some(Buckets::List(_, span)) = &buckets {
            cx.push(syn::Error::new(*span, ONLY_HISTOGRAMS_HAVE_BUCKETS));
        }
        if let Some(u) = &unit {
            cx.error(u, "`unit` is for histograms: a counter ends in `_total`, and a gauge names its unit in its name");
        }
    }
    let (local, name_span) = match &name {
        Some(n) => (n.value(), n.span()),
        None => (ident.to_string(), ident.span()),
    };
    let full = match prefix {
        Some(p) => format!("{p}_{local}"),
        None => local,
    };
    Some(Member {
        ident,
        kind,
        name: full,
        name_span,
        help: help.unwrap_or_default(),
        unit,
        buckets,
        max_series,
    })
}

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let krate = runtime_path();
    let name = &input.ident;
    // The type's own visibility: a `pub` item on a private type would trip
    // `unreachable_pub` in the user's crate.
    let vis = &input.vis;
    let mut prefix: Option<LitStr> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("metrics")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("prefix") {
                if let Some(s) = lit_str_value(&mut cx, &meta, "#[metrics(prefix = \"cache\")]")? {
                    set_once(&mut cx, &mut prefix, &meta.path, s);
                }
                Ok(())
            } else {
                Err(meta.error("unknown key in `#[metrics(..)]`: the valid key is `prefix`"))
            }
        });
        if let Err(e) = parsed {
            cx.push(e);
        }
    }
    let fields: Vec<&syn::Field> = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => named.named.iter().collect(),
            other => {
                cx.error(other, "a `MetricSet` struct has named fields: each field is one metric, named after it");
                Vec::new()
            }
        },
        Data::Enum(e) => {
            cx.error(
                e.enum_token,
                "`MetricSet` is derived for structs whose fields are metrics, not enums",
            );
            Vec::new()
        }
        Data::Union(u) => {
            cx.error(
                u.union_token,
                "`MetricSet` is derived for structs whose fields are metrics, not unions",
            );
            Vec::new()
        }
    };
    if !input.generics.params.is_empty() {
        cx.error(
            &input.generics,
            "a `MetricSet` struct can't be generic: it has one global instance",
        );
    }
    let prefix_value = prefix.as_ref().map(LitStr::value);
    let members: Vec<Member> = fields
        .iter()
        .filter_map(|f| parse_member(&mut cx, prefix_value.as_deref(), f))
        .collect();
    if let Err(e) = cx.check() {
        return with_item(&e, fallback(input));
    }

    let mut checks = Vec::new();
    if let Some(p) = &prefix {
        checks.push(schema_check(
            p.span(),
            &krate,
            &quote!(check_name_syntax(#p)),
        ));
    }
    let mut inits = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let full = &m.name;
        let ident = &m.ident;
        let help = &m.help;
        let rule = match m.kind {
            Kind::Counter => quote!(check_counter_name(#full)),
            Kind::Gauge => quote!(check_gauge_name(#full)),
            Kind::Histogram => {
                let unit = m.unit.as_ref().map_or_else(String::new, LitStr::value);
                quote!(check_histogram_name(#full, #unit))
            }
        };
        checks.push(schema_check(m.name_span, &krate, &rule));
        let limit = m.max_series.as_ref().map(|n| quote!(.with_max_series(#n)));
        let init = match m.kind {
            Kind::Counter => quote!(#krate::__private::new_counter(#full, #help) #limit),
            Kind::Gauge => quote!(#krate::__private::new_gauge(#full, #help) #limit),
            Kind::Histogram => {
                let konst = quote::format_ident!("__OBS_BUCKETS_{}", i);
                let default = if m.unit.is_some() {
                    quote!(BYTES)
                } else {
                    quote!(DEFAULT_BUCKETS)
                };
                match &m.buckets {
                    None => checks
                        .push(quote!(const #konst: &[f64] = #krate::__private::schema::#default;)),
                    Some(Buckets::Preset(p)) => {
                        checks.push(quote_spanned! {p.span()=>
                            const _: () = if #krate::__private::schema::bucket_preset(#p).is_none() {
                                ::core::panic!("{}", #krate::__private::schema::UNKNOWN_PRESET)
                            };
                        });
                        checks.push(quote! {
                            const #konst: &[f64] = match #krate::__private::schema::bucket_preset(#p) {
                                ::core::option::Option::Some(b) => b,
                                ::core::option::Option::None => #krate::__private::schema::DEFAULT_BUCKETS,
                            };
                        });
                    }
                    Some(Buckets::List(bounds, span)) => {
                        let bounds = bounds.iter().map(as_f64);
                        checks
                            .push(quote_spanned!(*span=> const #konst: &[f64] = &[#(#bounds),*];));
                        checks.push(schema_check(*span, &krate, &quote!(check_buckets(#konst))));
                    }
                }
                quote!(#krate::__private::new_histogram(#full, #help, #konst) #limit)
            }
        };
        inits.push(quote!(#ident: #init));
    }
    let idents = members.iter().map(|m| &m.ident);
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
                    || Self { #(#inits),* },
                    |set| { #(#krate::__private::MetricMember::register_member(&set.#idents);)* },
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

/// What a broken `MetricSet` derive still emits beside its errors: the
/// `global()` function, so its callers report nothing more.
fn fallback(input: &DeriveInput) -> TokenStream {
    let name = &input.ident;
    // The type's own visibility: a `pub` item on a private type would trip
    // `unreachable_pub` in the user's crate.
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
