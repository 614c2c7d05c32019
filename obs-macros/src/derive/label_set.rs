//! `#[derive(LabelSet)]` on a struct whose fields are label values.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use super::{runtime_path, schema_check};
use crate::ctxt::{Ctxt, with_item};

/// Most labels one set may have; the runtime refuses more at run time too
/// (`schema::MAX_LABELS`), this keeps the derive from generating them.
const MAX_FIELDS: usize = 16;

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let krate = runtime_path();
    let name = &input.ident;
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => Some(named.named.iter().collect::<Vec<_>>()),
            Fields::Unnamed(_) | Fields::Unit => {
                cx.error(
                    &s.fields,
                    "a `LabelSet` struct has named fields: each field's name is a label's name",
                );
                None
            }
        },
        Data::Enum(e) => {
            cx.error(e.enum_token, "`LabelSet` is derived for structs of labels; an enum of values derives `LabelValue`");
            None
        }
        Data::Union(u) => {
            cx.error(
                u.union_token,
                "`LabelSet` is derived for structs, not unions",
            );
            None
        }
    };
    if !input.generics.params.is_empty() {
        cx.error(
            &input.generics,
            "a `LabelSet` struct can't be generic: its labels are fixed once",
        );
    }
    let fields = fields.unwrap_or_default();
    if fields.len() > MAX_FIELDS {
        cx.error(
            name,
            "a label set may have at most 16 labels: every label multiplies the series",
        );
    }
    if let Err(e) = cx.check() {
        return with_item(&e, fallback(input, &krate));
    }
    let idents: Vec<_> = fields.iter().filter_map(|f| f.ident.as_ref()).collect();
    let names: Vec<String> = idents.iter().map(ToString::to_string).collect();
    let types: Vec<_> = fields.iter().map(|f| &f.ty).collect();
    let checks = idents
        .iter()
        .zip(&names)
        .map(|(i, n)| schema_check(i.span(), &krate, &quote!(check_label_name(#n))));
    // Spanned at each field's type: a `String` field is reported there, with
    // the trait's own message.
    let bounds = types.iter().map(
        |ty| quote_spanned!(ty.span()=> const _: usize = <#ty as #krate::LabelValue>::CARDINALITY;),
    );
    // Every use of a field's type as a label value is spanned at the type, so
    // a `String` field is reported once, there, rather than again at the
    // derive.
    let values: Vec<TokenStream> = types
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> <#ty as #krate::LabelValue>))
        .collect();
    let indexes: Vec<usize> = (0..idents.len()).collect();
    quote! {
        const _: () = { #(#checks)* #(#bounds)* };

        #[automatically_derived]
        impl #krate::LabelSet for #name {
            const NAMES: &'static [&'static str] = &[#(#names),*];
            const CARDINALITY: usize =
                #krate::__private::set_cardinality(&[#(#values::CARDINALITY),*]);

            fn ordinal(&self) -> usize {
                let mut ordinal = 0usize;
                #(
                    ordinal = ordinal
                        .wrapping_mul(#values::CARDINALITY)
                        .wrapping_add(#values::ordinal(&self.#idents));
                )*
                ordinal
            }

            fn value_at(ordinal: usize, index: usize) -> &'static str {
                const CARDINALITIES: &[usize] = &[#(#values::CARDINALITY),*];
                let position = #krate::__private::digit(ordinal, index, CARDINALITIES);
                match index {
                    #(#indexes => #values::value_at(position).unwrap_or(""),)*
                    _ => "",
                }
            }

            fn value_of(&self, index: usize) -> &'static str {
                match index {
                    #(#indexes => #values::label_value(&self.#idents),)*
                    _ => "",
                }
            }
        }
    }
}

/// What a broken `LabelSet` derive still emits beside its errors: an impl,
/// so that metrics keyed by the set report nothing more.
fn fallback(input: &DeriveInput, krate: &syn::Path) -> TokenStream {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::LabelSet for #name #ty_generics #where_clause {
            const NAMES: &'static [&'static str] = &[];
            const CARDINALITY: usize = 0;

            fn ordinal(&self) -> usize {
                ::core::unreachable!()
            }

            fn value_at(_: usize, _: usize) -> &'static str {
                ::core::unreachable!()
            }

            fn value_of(&self, _: usize) -> &'static str {
                ::core::unreachable!()
            }
        }
    }
}
