//! Bucket lists as the user wrote them, turned into `f64` expressions for
//! the runtime's schema check and the generated `static`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Expr, ExprLit, Lit};

/// A bound as an `f64` expression: integer literals (`buckets = [1, 2.5]`)
/// become float literals, a negated one stays negated (for the schema to
/// refuse with its own message), everything else is left to type-check as
/// `f64`.
pub(crate) fn as_f64(expr: &Expr) -> TokenStream {
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
