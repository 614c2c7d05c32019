//! Checks the options against the function — what only the macro can
//! see: that named arguments exist, that a label's type can be named in the
//! call site's items — and builds the model `expand` generates from. Names,
//! labels and buckets are the schema's business, through `expand`'s
//! `const` checks.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{FnArg, Ident, ItemFn, LitStr, Pat, Type};

use super::attr::{Field, LabelSource, Options, SpanOption};
use crate::buckets::Buckets;
use crate::ctxt::Ctxt;
use crate::options::runtime_path;
use crate::slo::Slo;

/// A label taken from an argument, with the argument's type.
pub(super) struct ArgLabel {
    pub(super) key: Ident,
    pub(super) arg: Ident,
    pub(super) ty: Type,
}

/// Everything needed to generate the function.
pub(super) struct Model {
    pub(super) krate: syn::Path,
    pub(super) base: LitStr,
    pub(super) buckets: Option<Buckets>,
    pub(super) literal_labels: Vec<(Ident, LitStr)>,
    pub(super) arg_labels: Vec<ArgLabel>,
    pub(super) fields: Vec<Field>,
    pub(super) span_name: Option<LitStr>,
    pub(super) level: Ident,
    pub(super) in_flight: bool,
    pub(super) slo: Option<Slo>,
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

impl Model {
    pub(super) fn new(cx: &mut Ctxt, options: Options, func: &ItemFn) -> Option<Self> {
        if let Some(c) = &func.sig.constness {
            // Alone: the expansion of a `const fn` would only add errors
            // of our own making.
            cx.error(c, "`#[instrumented]` can't go on a `const fn`: a call at compile time has nothing to measure");
            return None;
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
            krate: runtime_path(options.krate),
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
            slo: options.slo,
        })
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
pub(super) fn names_non_concrete(tokens: &TokenStream, generics: &syn::Generics) -> bool {
    tokens.clone().into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(i) => {
            i == "impl" || i == "Self" || generics.type_params().any(|p| p.ident == i)
        }
        proc_macro2::TokenTree::Group(g) => names_non_concrete(&g.stream(), generics),
        _ => false,
    })
}
