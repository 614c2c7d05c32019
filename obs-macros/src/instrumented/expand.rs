//! Checks the options against the function and generates the instrumented
//! function.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{FnArg, Ident, ItemFn, LitStr, Pat, ReturnType, Type};

use super::attr::{Buckets, Field, LabelSource, Options, SpanOption};
use crate::buckets::as_f64;
use crate::ctxt::Ctxt;

/// A label taken from an argument, with the argument's type.
struct ArgLabel {
    key: Ident,
    arg: Ident,
    ty: Type,
}

/// Everything needed to generate the function.
pub(super) struct Model {
    krate: syn::Path,
    base: LitStr,
    buckets: Option<Buckets>,
    literal_labels: Vec<(Ident, LitStr)>,
    arg_labels: Vec<ArgLabel>,
    fields: Vec<Field>,
    span_name: Option<LitStr>,
    level: Ident,
    in_flight: bool,
}

fn arg_type(func: &ItemFn, name: &Ident) -> Option<Type> {
    func.sig.inputs.iter().find_map(|input| match input {
        FnArg::Typed(pt) => match &*pt.pat {
            Pat::Ident(pi) if pi.ident == *name => Some((*pt.ty).clone()),
            _ => None,
        },
        FnArg::Receiver(_) => None,
    })
}

fn arg_names(func: &ItemFn) -> String {
    let names: Vec<String> = func
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(pt) => match &*pt.pat {
                Pat::Ident(pi) => Some(format!("`{}`", pi.ident)),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect();
    if names.is_empty() {
        "it takes none".to_owned()
    } else {
        format!("it takes {}", names.join(", "))
    }
}

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

/// Whether the declared return type is a `Result` (`Result<T, E>`,
/// `io::Result<T>`, `anyhow::Result<T>`): then `error` series exist from
/// the start. The outcome itself is classified by type at run time.
fn returns_result(output: &ReturnType) -> bool {
    match output {
        ReturnType::Type(_, ty) => match &**ty {
            Type::Path(p) => p
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident.to_string().ends_with("Result")),
            _ => false,
        },
        ReturnType::Default => false,
    }
}

impl Model {
    pub(super) fn new(cx: &mut Ctxt, options: Options, func: &ItemFn) -> Option<Self> {
        if let Some(c) = &func.sig.constness {
            cx.error(c, "`#[instrumented]` can't go on a `const fn`: a call at compile time has nothing to measure");
        }
        let fn_name = func.sig.ident.to_string();
        let mut literal_labels = Vec::new();
        let mut arg_labels = Vec::new();
        for label in options.labels.unwrap_or_default() {
            match label.source {
                LabelSource::Literal(value) => literal_labels.push((label.key, value)),
                LabelSource::Arg(arg) => match arg_type(func, &arg) {
                    Some(ty) if names_non_concrete(&quote!(#ty), &func.sig.generics) => cx.error(
                        &ty,
                        format_args!(
                            "label `{}` takes its value from `{arg}`, whose type is generic, `Self` or `impl Trait`: a label's type must be concrete, because its values are fixed once per call site; use a concrete enum type",
                            label.key
                        ),
                    ),
                    Some(ty) if is_borrowed_str(&ty) => cx.error(
                        &ty,
                        format_args!(
                            "label `{}` takes its value from `{arg}`, a borrowed `&str`: its values are unbounded; only `&'static str` (literals compiled into the program) and field-less enums can be label values, so take a `&'static str` or an enum",
                            label.key
                        ),
                    ),
                    Some(ty) => arg_labels.push(ArgLabel { key: label.key, arg, ty }),
                    None => cx.error(
                        &arg,
                        format_args!(
                            "label `{}` takes its value from `{arg}`, but `{fn_name}` has no argument of that name ({}); use a string literal for a fixed value: `{} = \"...\"`",
                            label.key,
                            arg_names(func),
                            label.key
                        ),
                    ),
                },
            }
        }
        let fields = options.fields.unwrap_or_default();
        for field in &fields {
            if arg_type(func, &field.arg).is_none() {
                cx.error(
                    &field.arg,
                    format_args!(
                        "`fields` names `{}`, but `{fn_name}` has no argument of that name ({})",
                        field.arg,
                        arg_names(func)
                    ),
                );
            }
        }
        let level = match options.level {
            None => Some(format_ident!("INFO")),
            Some(lit) => {
                match lit.value().as_str() {
                    "trace" => Some(format_ident!("TRACE")),
                    "debug" => Some(format_ident!("DEBUG")),
                    "info" => Some(format_ident!("INFO")),
                    "warn" => Some(format_ident!("WARN")),
                    "error" => Some(format_ident!("ERROR")),
                    _ => {
                        cx.error(&lit, "unknown level: use \"trace\", \"debug\", \"info\", \"warn\" or \"error\"");
                        None
                    }
                }
            }
        }?;
        let span_name = match options.span {
            Some(SpanOption::Off) => None,
            Some(SpanOption::Named(name)) => Some(name),
            Some(SpanOption::On) | None => Some(LitStr::new(&fn_name, func.sig.ident.span())),
        };
        Some(Self {
            krate: options
                .krate
                .unwrap_or_else(|| syn::parse_quote!(::obs_runtime)),
            base: options
                .metric
                .unwrap_or_else(|| LitStr::new("function", Span::call_site())),
            buckets: options.buckets,
            literal_labels,
            arg_labels,
            fields,
            span_name,
            level,
            in_flight: options.in_flight.is_some_and(|b| b.value),
        })
    }

    /// `const` items that run the runtime's schema checks at the user's tokens.
    fn checks(&self) -> TokenStream {
        let krate = &self.krate;
        let check = |span: Span, call: TokenStream| {
            quote_spanned! {span=>
                const _: () = if let ::core::option::Option::Some(rule) = #call {
                    ::core::panic!("{}", rule)
                };
            }
        };
        let mut out = TokenStream::new();
        let base = &self.base;
        out.extend(check(
            base.span(),
            quote!(#krate::__private::schema::check_base_name(#base)),
        ));
        let keys = self
            .literal_labels
            .iter()
            .map(|(k, _)| k)
            .chain(self.arg_labels.iter().map(|l| &l.key));
        for key in keys {
            let name = key.to_string();
            out.extend(check(
                key.span(),
                quote!(#krate::__private::schema::check_label_name(#name)),
            ));
        }
        for field in self.fields.iter().filter(|f| !f.redact) {
            let name = field.arg.to_string();
            out.extend(check(
                field.arg.span(),
                quote!(#krate::__private::schema::check_recorded_field(#name)),
            ));
        }
        out.extend(match &self.buckets {
            None => quote!(const __OBS_BUCKETS: &[f64] = #krate::__private::schema::DEFAULT_BUCKETS;),
            Some(Buckets::Preset(name)) => {
                // The check is its own item, so a bad name is one error and
                // not also an "erroneous constant" wherever the list is used.
                let rule = quote_spanned! {name.span()=>
                    const _: () = if #krate::__private::schema::bucket_preset(#name).is_none() {
                        ::core::panic!("{}", #krate::__private::schema::UNKNOWN_PRESET)
                    };
                };
                quote! {
                    #rule
                    const __OBS_BUCKETS: &[f64] = match #krate::__private::schema::bucket_preset(#name) {
                        ::core::option::Option::Some(bounds) => bounds,
                        ::core::option::Option::None => #krate::__private::schema::DEFAULT_BUCKETS,
                    };
                }
            }
            Some(Buckets::List { bounds, span }) => {
                let bounds = bounds.iter().map(as_f64);
                let list = quote_spanned!(*span=> const __OBS_BUCKETS: &[f64] = &[#(#bounds),*];);
                let rule = check(*span, quote!(#krate::__private::schema::check_buckets(__OBS_BUCKETS)));
                quote!(#list #rule)
            }
        });
        out
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
        let is_result = returns_result(&sig.output);
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
        } else if is_result {
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
        } else {
            // A normal return, by any path, is `ok`; unwinding is `panic`.
            quote! {
                let __obs_entered = __obs_guard.span().enter();
                #block
            }
        };
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
                        returns_result: #is_result,
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

/// `&str` or `&'a str`: a borrowed string, not a `&'static str` literal.
fn is_borrowed_str(ty: &Type) -> bool {
    match ty {
        Type::Paren(p) => is_borrowed_str(&p.elem),
        Type::Reference(r) => {
            matches!(&*r.elem, Type::Path(p) if p.path.is_ident("str"))
                && r.lifetime.as_ref().is_none_or(|l| l.ident != "static")
        }
        _ => false,
    }
}

/// Whether a type names a generic parameter of the function, `Self` or
/// `impl Trait`: none of these can appear in the call site's `static`.
fn names_non_concrete(tokens: &TokenStream, generics: &syn::Generics) -> bool {
    tokens.clone().into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(i) => {
            i == "impl" || i == "Self" || generics.type_params().any(|p| p.ident == i)
        }
        proc_macro2::TokenTree::Group(g) => names_non_concrete(&g.stream(), generics),
        _ => false,
    })
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
