//! Generates the instrumented function from the validated model: the
//! schema's `const` checks at the user's tokens, the call site's `static`,
//! and the body wrapped in a guard that times and classifies the call.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{Ident, ItemFn, ReturnType, Type};

use super::validate::{Model, names_non_concrete};
use crate::buckets;
use crate::schema::rule;

/// The type a label's `LabelValue` impl is looked up on, and whether the
/// argument is passed as it is (it is a reference already). Lifetimes can't
/// be named in the call site's items: `&'a Model` is read as `Model` through
/// the reference, and `&str` stays `&'static str`, the only string type
/// that is a label value.
fn label_type(ty: &Type) -> (Type, bool) {
    match ty {
        Type::Paren(p) => label_type(&p.elem),
        Type::Reference(r) if r.mutability.is_none() => {
            let is_str = matches!(&*r.elem, Type::Path(p) if p.path.is_ident("str"));
            if is_str {
                (syn::parse_quote!(&'static str), false)
            } else {
                (label_type(&r.elem).0, true)
            }
        }
        other => (other.clone(), false),
    }
}

impl Model {
    /// `const` items that run the runtime's schema checks at the user's tokens.
    fn checks(&self) -> TokenStream {
        let krate = &self.krate;
        let base = &self.base;
        let mut out = rule(base.span(), krate, &quote!(check_base_name(#base)));
        let keys = self
            .literal_labels
            .iter()
            .map(|(k, _)| k)
            .chain(self.arg_labels.iter().map(|l| &l.key));
        for key in keys {
            let name = key.to_string();
            out.extend(rule(key.span(), krate, &quote!(check_label_name(#name))));
        }
        for field in self.fields.iter().filter(|f| !f.redact) {
            let name = field.arg.to_string();
            out.extend(rule(
                field.arg.span(),
                krate,
                &quote!(check_recorded_field(#name)),
            ));
        }
        out.extend(buckets::emit(
            krate,
            &format_ident!("__OBS_BUCKETS"),
            self.buckets.as_ref(),
            &quote!(#krate::__private::schema::DEFAULT_BUCKETS),
        ));
        out.extend(self.objective());
        out
    }

    /// The checks of `slo(..)`, each at its literal, and `__OBS_OBJECTIVE`,
    /// the parsed objective (or `None`), its latency checked against the
    /// function's buckets.
    fn objective(&self) -> TokenStream {
        let krate = &self.krate;
        let schema = quote!(#krate::__private::schema);
        let Some(slo) = &self.slo else {
            return quote! {
                const __OBS_OBJECTIVE: ::core::option::Option<#schema::Objective> =
                    ::core::option::Option::None;
            };
        };
        let parsed = slo.expand(
            krate,
            &quote!(check_latency_bound(__OBS_SLO_LATENCY_MS, __OBS_BUCKETS)),
        );
        quote! {
            #parsed
            const __OBS_OBJECTIVE: ::core::option::Option<#schema::Objective> =
                ::core::option::Option::Some(__OBS_SLO);
        }
    }

    fn span_expr(&self, func: &ItemFn) -> TokenStream {
        let krate = &self.krate;
        let Some(name) = &self.span_name else {
            return quote!(#krate::__private::tracing::Span::none());
        };
        let level = &self.level;
        let function = func.sig.ident.to_string();
        let fields = self.fields.iter().map(|f| {
            let arg = &f.arg;
            if f.redact {
                quote!(#arg = "[REDACTED]")
            } else {
                quote!(#arg = #krate::__private::tracing::field::debug(&#arg))
            }
        });
        quote! {
            #krate::__private::tracing::span!(
                target: ::core::module_path!(),
                #krate::__private::tracing::Level::#level,
                #name,
                code.function = #function,
                code.namespace = ::core::module_path!(),
                result = #krate::__private::tracing::field::Empty,
                otel.status_code = #krate::__private::tracing::field::Empty,
                otel.status_description = #krate::__private::tracing::field::Empty,
                #(#fields),*
            )
        }
    }

    pub(super) fn expand(&self, func: &ItemFn) -> TokenStream {
        let krate = &self.krate;
        let ItemFn {
            attrs,
            vis,
            sig,
            block,
            ..
        } = func;
        // Inner attributes (`#![allow(..)]` in the body) stay at the top of
        // the body; the rest go before the function.
        let (inner, attrs): (Vec<_>, Vec<_>) = attrs
            .iter()
            .partition(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
        let checks = self.checks();
        let base = &self.base;
        let function = sig.ident.to_string();
        let literal = self.literal_labels.iter().map(|(k, v)| {
            let k = k.to_string();
            quote!((#k, #v))
        });
        let label_consts: Vec<Ident> = (0..self.arg_labels.len())
            .map(|i| format_ident!("__OBS_LABEL_{i}"))
            .collect();
        let label_vars: Vec<Ident> = (0..self.arg_labels.len())
            .map(|i| format_ident!("__obs_label_{i}"))
            .collect();
        let typed_labels = self.arg_labels.iter().zip(&label_consts).map(|(l, konst)| {
            let name = l.key.to_string();
            let (ty, _) = label_type(&l.ty);
            let span = syn::spanned::Spanned::span(&l.ty);
            let krate = respan(quote!(#krate), span);
            quote_spanned! {span=>
                const #konst: #krate::__private::TypedLabel<#ty> = #krate::__private::TypedLabel::new(#name);
            }
        });
        let label_reads = self
            .arg_labels
            .iter()
            .zip(&label_consts)
            .zip(&label_vars)
            .map(|((l, konst), var)| {
                let arg = &l.arg;
                if label_type(&l.ty).1 {
                    quote!(let #var = #konst.read(#arg);)
                } else {
                    quote!(let #var = #konst.read(&#arg);)
                }
            });
        let in_flight = self.in_flight;
        let is_async = sig.asyncness.is_some();
        let span = self.span_expr(func);
        // The user's statements inside braces of our own: their braces, with
        // the user's span, would draw `unused_braces` on `fn f() -> u8 { 1 }`.
        let stmts = &block.stmts;
        let block = quote!({ #(#stmts)* });
        let settle = quote! {
            #[allow(unused_imports)]
            use #krate::__private::{SettleDebug as _, SettleDisplay as _, SettleOther as _, SettleResult as _};
        };
        // The declared return type, when it can be named in the body: it
        // fixes the type of a body that diverges, which the outcome probe
        // would otherwise have to guess.
        let ret_ty: Option<TokenStream> = match &sig.output {
            ReturnType::Default => Some(quote!(())),
            ReturnType::Type(_, ty) if !mentions_impl(&quote!(#ty)) => Some(quote!(#ty)),
            ReturnType::Type(..) => None,
        };
        let body = if is_async {
            let hint = ret_ty.as_ref().map(|ty| {
                quote! {
                    #[allow(unreachable_code, clippy::diverging_sub_expression)]
                    if false {
                        let __obs_hint: #ty = loop {};
                        return __obs_hint;
                    }
                }
            });
            quote! {
                #krate::__private::Timed::new(__obs_guard, async move { #hint #(#stmts)* }, |__obs_ret, __obs_guard| {
                    #settle
                    #[allow(clippy::needless_borrow)]
                    (&&&&#krate::__private::Probe(__obs_ret)).settle(__obs_guard);
                })
                .await
            }
        } else {
            // Every return goes through the same probe: a `Result` is told
            // apart by its type's trait impls, not by the name written.
            let ret_annotation = ret_ty.as_ref().map(|ty| quote!(: #ty));
            quote! {
                let __obs_entered = __obs_guard.span().enter();
                let __obs_ret #ret_annotation = #krate::__private::call_once(move || #block);
                {
                    #settle
                    #[allow(clippy::needless_borrow)]
                    (&&&&#krate::__private::Probe(&__obs_ret)).settle(&__obs_guard);
                }
                ::core::mem::drop(__obs_entered);
                __obs_ret
            }
        };
        let returns_result = classifier(krate, &sig.output, &sig.generics);
        quote! {
            #(#attrs)*
            #vis #sig {
                #(#inner)*
                #checks
                #(#typed_labels)*
                #[#krate::__private::linkme::distributed_slice(#krate::__private::CALL_SITES)]
                #[linkme(crate = #krate::__private::linkme)]
                static __OBS_SITE: #krate::__private::CallSite =
                    #krate::__private::CallSite::new(#krate::__private::CallSiteMeta {
                        base: #base,
                        function: #function,
                        module: ::core::module_path!(),
                        labels: &[#(#literal),*],
                        arg_labels: &[#(#label_consts.meta()),*],
                        buckets: __OBS_BUCKETS,
                        in_flight: #in_flight,
                        returns_result: #returns_result,
                        objective: __OBS_OBJECTIVE,
                        location: #krate::__private::schema::SourceLocation::new(::core::file!(), ::core::line!()),
                    });
                #(#label_reads)*
                let __obs_guard = __OBS_SITE.enter(
                    &[#(#label_vars.0),*],
                    &[#(#label_vars.1),*],
                    #span,
                    #is_async,
                );
                #body
            }
        }
    }
}

/// The same tokens, all with `span`, so an error about them points there.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = group.into();
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

/// Whether a type mentions `impl Trait`, which can't be written in a `let`.
fn mentions_impl(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(i) => i == "impl",
        proc_macro2::TokenTree::Group(g) => mentions_impl(&g.stream()),
        _ => false,
    })
}

/// `Some(fn)` asking the return type's trait impls whether it is a
/// `Result`, for the call site's `static`; `None` when the type can't be
/// named there (generic, `Self`, `impl Trait`), and the site learns it from
/// the first call instead. Named lifetimes become `'_`: the question is
/// about the type's shape, and the item can't name the function's
/// lifetimes.
fn classifier(krate: &syn::Path, output: &ReturnType, generics: &syn::Generics) -> TokenStream {
    let ty: TokenStream = match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    if names_non_concrete(&ty, generics) {
        return quote!(::core::option::Option::None);
    }
    let ty = erase_lifetimes(ty);
    quote! {
        ::core::option::Option::Some({
            fn __obs_returns_result() -> bool {
                #[allow(unused_imports)]
                use #krate::__private::{ClassifyOther as _, ClassifyResult as _};
                #[allow(clippy::needless_borrow)]
                (&&#krate::__private::ReturnType::<#ty>::new()).is_result()
            }
            __obs_returns_result
        })
    }
}

/// `'a` → `'_`, `'static` kept.
fn erase_lifetimes(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut after_tick = false;
    for tt in tokens {
        let tt = match tt {
            proc_macro2::TokenTree::Group(g) => {
                let mut group = proc_macro2::Group::new(g.delimiter(), erase_lifetimes(g.stream()));
                group.set_span(g.span());
                group.into()
            }
            proc_macro2::TokenTree::Ident(i) if after_tick && i != "static" => {
                proc_macro2::Ident::new("_", i.span()).into()
            }
            other => other,
        };
        after_tick = matches!(&tt, proc_macro2::TokenTree::Punct(p) if p.as_char() == '\'');
        out.push(tt);
    }
    out.into_iter().collect()
}
