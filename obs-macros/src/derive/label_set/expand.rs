//! The `LabelSet` impl and the schema's checks of the label names and
//! their number.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::attr::Model;
use crate::schema::rule;

pub(super) fn expand(model: &Model<'_>) -> TokenStream {
    let krate = &model.krate;
    let name = &model.input.ident;
    let idents: Vec<_> = model
        .fields
        .iter()
        .filter_map(|f| f.ident.as_ref())
        .collect();
    let names: Vec<String> = idents.iter().map(ToString::to_string).collect();
    let types: Vec<_> = model.fields.iter().map(|f| &f.ty).collect();
    let count = names.len();
    let mut checks = vec![rule(name.span(), krate, &quote!(check_label_count(#count)))];
    checks.extend(
        idents
            .iter()
            .zip(&names)
            .map(|(i, n)| rule(i.span(), krate, &quote!(check_label_name(#n)))),
    );
    // Spanned at each field's type: a `String` field is reported there, with
    // the trait's own message, and once: every other use of the type as a
    // label value is spanned there too.
    let bounds = types.iter().map(
        |ty| quote_spanned!(ty.span()=> const _: usize = <#ty as #krate::LabelValue>::CARDINALITY;),
    );
    let values: Vec<TokenStream> = types
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> <#ty as #krate::LabelValue>))
        .collect();
    let indexes: Vec<usize> = (0..idents.len()).collect();
    quote! {
        const _: () = {
            #(#checks)*
            #(#bounds)*

            const __OBS_CARDINALITIES: &[usize] = &[#(#values::CARDINALITY),*];

            // Row-major, the first field most significant: one multiply-add
            // per label.
            fn __obs_ordinal(labels: &#name) -> usize {
                let mut ordinal = 0usize;
                #(
                    ordinal = ordinal
                        .wrapping_mul(#values::CARDINALITY)
                        .wrapping_add(#values::ordinal(&labels.#idents));
                )*
                ordinal
            }

            fn __obs_value_at(ordinal: usize, index: usize) -> &'static str {
                let position = #krate::__private::digit(ordinal, index, __OBS_CARDINALITIES);
                match index {
                    #(#indexes => #values::value_at(position).unwrap_or(""),)*
                    _ => "",
                }
            }

            #[automatically_derived]
            impl #krate::LabelSet for #name {
                const NAMES: &'static [&'static str] = &[#(#names),*];
                const KIND: #krate::LabelSetKind<Self> = #krate::__private::derived_kind(
                    __OBS_CARDINALITIES,
                    __obs_ordinal,
                    __obs_value_at,
                );

                fn value_of(&self, index: usize) -> &'static str {
                    match index {
                        #(#indexes => #values::label_value(&self.#idents),)*
                        _ => "",
                    }
                }
            }
        };
    }
}

/// What a broken `LabelSet` derive still emits beside its errors.
pub(super) fn fallback(model: &Model<'_>) -> TokenStream {
    let krate = &model.krate;
    let input = model.input;
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::LabelSet for #name #ty_generics #where_clause {
            const NAMES: &'static [&'static str] = &[];
            const KIND: #krate::LabelSetKind<Self> = #krate::LabelSetKind::Open;

            fn value_of(&self, _: usize) -> &'static str {
                ::core::unreachable!()
            }
        }
    }
}
