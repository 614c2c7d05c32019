//! The `LabelValue` impl, and the schema's check of every rendered value.

use proc_macro2::TokenStream;
use quote::quote;

use super::attr::Model;
use crate::schema::rule;

pub(super) fn expand(model: &Model<'_>) -> TokenStream {
    let krate = &model.krate;
    let name = &model.input.ident;
    // The type's own visibility: a `pub` item on a private type would trip
    // `unreachable_pub` in the user's crate.
    let vis = &model.input.vis;
    let checks = model
        .values
        .iter()
        .map(|(_, value)| rule(value.span(), krate, &quote!(check_label_value(#value))));
    let count = model.values.len();
    let idents: Vec<_> = model.values.iter().map(|(i, _)| i).collect();
    let lits: Vec<_> = model.values.iter().map(|(_, l)| l).collect();
    let ordinals: Vec<usize> = (0..count).collect();
    quote! {
        const _: () = { #(#checks)* };

        impl #name {
            /// How many values this label has: its variants.
            #vis const COUNT: usize = #count;
        }

        #[automatically_derived]
        impl #krate::LabelValue for #name {
            const CARDINALITY: usize = #count;

            fn label_value(&self) -> &'static str {
                match self {
                    #(Self::#idents => #lits,)*
                }
            }

            fn ordinal(&self) -> usize {
                match self {
                    #(Self::#idents => #ordinals,)*
                }
            }

            fn value_at(ordinal: usize) -> ::core::option::Option<&'static str> {
                match ordinal {
                    #(#ordinals => ::core::option::Option::Some(#lits),)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
}

/// What a broken `LabelValue` derive still emits beside its errors.
pub(super) fn fallback(model: &Model<'_>) -> TokenStream {
    let krate = &model.krate;
    let input = model.input;
    let name = &input.ident;
    let vis = &input.vis;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        impl #impl_generics #name #ty_generics #where_clause {
            /// How many values this label has: its variants.
            #vis const COUNT: usize = 0;
        }

        #[automatically_derived]
        impl #impl_generics #krate::LabelValue for #name #ty_generics #where_clause {
            const CARDINALITY: usize = 0;

            fn label_value(&self) -> &'static str {
                ::core::unreachable!()
            }

            fn ordinal(&self) -> usize {
                ::core::unreachable!()
            }

            fn value_at(_: usize) -> ::core::option::Option<&'static str> {
                ::core::option::Option::None
            }
        }
    }
}
