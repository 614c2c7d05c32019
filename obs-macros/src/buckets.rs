//! `buckets = "preset"` or `buckets = [..]`, shared by `#[instrumented]`
//! and `#[derive(MetricSet)]`: parsed here, checked by the schema.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Expr, ExprLit, Ident, Lit, LitStr};

use crate::ctxt::Ctxt;
use crate::schema;

/// Where the histogram bounds come from.
pub(crate) enum Buckets {
    Preset(LitStr),
    List { bounds: Vec<Expr>, span: Span },
}

impl Buckets {
    /// Where the user wrote them.
    pub(crate) fn span(&self) -> Span {
        match self {
            Self::Preset(name) => name.span(),
            Self::List { span, .. } => *span,
        }
    }

    pub(crate) fn parse(cx: &mut Ctxt, expr: Expr) -> Option<Self> {
        match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(Self::Preset(s)),
            Expr::Array(array) => {
                let span = syn::spanned::Spanned::span(&array);
                Some(Self::List {
                    bounds: array.elems.into_iter().collect(),
                    span,
                })
            }
            other => {
                cx.error(
                    other,
                    "`buckets` takes a preset name or a list of bounds: `buckets = \"latency\"` or `buckets = [0.1, 0.5, 1.0]`",
                );
                None
            }
        }
    }
}

/// `const #konst: &[f64]` holding the bounds, with the schema's checks of
/// them; `default` (an expression) when none were given. A bad preset is
/// one error: the list falls back to the default beside the check.
pub(crate) fn emit(
    krate: &syn::Path,
    konst: &Ident,
    buckets: Option<&Buckets>,
    default: &TokenStream,
) -> TokenStream {
    match buckets {
        None => quote!(const #konst: &[f64] = #default;),
        Some(Buckets::Preset(name)) => {
            let rule = schema::lookup_rule(
                name.span(),
                krate,
                &quote!(bucket_preset(#name)),
                "UNKNOWN_PRESET",
            );
            quote! {
                #rule
                const #konst: &[f64] = match #krate::__private::schema::bucket_preset(#name) {
                    ::core::option::Option::Some(bounds) => bounds,
                    ::core::option::Option::None => #default,
                };
            }
        }
        Some(Buckets::List { bounds, span }) => {
            let bounds = bounds.iter().map(as_f64);
            let list = quote::quote_spanned!(*span=> const #konst: &[f64] = &[#(#bounds),*];);
            let rule = schema::rule(*span, krate, &quote!(check_buckets(#konst)));
            quote!(#list #rule)
        }
    }
}

/// A bound as an `f64` expression: integer literals (`buckets = [1, 2.5]`)
/// become float literals, a negated one stays negated (for the schema to
/// refuse with its own message), everything else is left to type-check as
/// `f64`.
fn as_f64(expr: &Expr) -> TokenStream {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => {
            let f = syn::LitFloat::new(&format!("{}f64", i.base10_digits()), i.span());
            quote!(#f)
        }
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            let inner = as_f64(&u.expr);
            let op = &u.op;
            quote!(#op #inner)
        }
        _ => quote!(#expr),
    }
}
