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
        return with_item(&e, TokenStream::new());
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
    let indexes: Vec<usize> = (0..idents.len()).collect();
    quote! {
        const _: () = { #(#checks)* #(#bounds)* };

        #[automatically_derived]
        impl #krate::LabelSet for #name {
            const NAMES: &'static [&'static str] = &[#(#names),*];
            const CARDINALITY: usize =
                #krate::__private::set_cardinality(&[#(<#types as #krate::LabelValue>::CARDINALITY),*]);

            fn ordinal(&self) -> usize {
                let mut ordinal = 0usize;
                #(
                    ordinal = ordinal
                        .wrapping_mul(<#types as #krate::LabelValue>::CARDINALITY)
                        .wrapping_add(#krate::LabelValue::ordinal(&self.#idents));
                )*
                ordinal
            }

            fn value_at(ordinal: usize, index: usize) -> &'static str {
                const CARDINALITIES: &[usize] = &[#(<#types as #krate::LabelValue>::CARDINALITY),*];
                let position = #krate::__private::digit(ordinal, index, CARDINALITIES);
                match index {
                    #(#indexes => <#types as #krate::LabelValue>::value_at(position).unwrap_or(""),)*
                    _ => "",
                }
            }

            fn value_of(&self, index: usize) -> &'static str {
                match index {
                    #(#indexes => #krate::LabelValue::label_value(&self.#idents),)*
                    _ => "",
                }
            }
        }
    }
}
