//! `#[derive(LabelValue)]` on a field-less enum.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr};

use super::{lit_str_value, runtime_path, schema_check, snake_case};
use crate::ctxt::{Ctxt, set_once, with_item};

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let krate = runtime_path();
    let name = &input.ident;
    // The type's own visibility: a `pub` item on a private type would trip
    // `unreachable_pub` in the user's crate.
    let vis = &input.vis;
    let variants = match &input.data {
        Data::Enum(e) => Some(&e.variants),
        Data::Struct(s) => {
            cx.error(s.struct_token, "`LabelValue` is derived for field-less enums, whose variants are the label's values; a struct of labels derives `LabelSet`");
            None
        }
        Data::Union(u) => {
            cx.error(
                u.union_token,
                "`LabelValue` is derived for field-less enums, not unions: write an enum with one variant per value, such as `enum Outcome { Hit, Miss }`",
            );
            None
        }
    };
    if !input.generics.params.is_empty() {
        cx.error(
            &input.generics,
            "a `LabelValue` enum can't be generic: its values are fixed names",
        );
    }
    let mut values: Vec<(syn::Ident, LitStr)> = Vec::new();
    if let Some(variants) = variants {
        if variants.is_empty() {
            cx.error(name, "a `LabelValue` enum needs at least one variant: each variant is one value of the label");
        }
        for v in variants {
            if !matches!(v.fields, Fields::Unit) {
                cx.error(&v.fields, format_args!("variant `{}` carries data, so its values would be unbounded: a `LabelValue` enum has field-less variants only; make each value you expect a variant of its own (`Other` for the rest), and record the data in a span field", v.ident));
            }
            let mut rename: Option<LitStr> = None;
            for attr in v.attrs.iter().filter(|a| a.path().is_ident("label")) {
                let parsed = attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("rename") {
                        if let Some(s) =
                            lit_str_value(&mut cx, &meta, "#[label(rename = \"half-open\")]")?
                        {
                            set_once(&mut cx, &mut rename, &meta.path, s);
                        }
                        Ok(())
                    } else {
                        Err(meta.error(
                            "unknown key: `#[label(..)]` on a variant takes `rename = \"value\"`",
                        ))
                    }
                });
                if let Err(e) = parsed {
                    cx.push(e);
                }
            }
            let value = rename
                .unwrap_or_else(|| LitStr::new(&snake_case(&v.ident.to_string()), v.ident.span()));
            if let Some((other, _)) = values.iter().find(|(_, l)| l.value() == value.value()) {
                cx.error(
                    &value,
                    format_args!(
                        "variants `{other}` and `{}` render the same label value `{}`: rename one",
                        v.ident,
                        value.value()
                    ),
                );
            }
            values.push((v.ident.clone(), value));
        }
    }
    if let Err(e) = cx.check() {
        return with_item(&e, fallback(input, &krate));
    }
    let checks = values
        .iter()
        .map(|(_, value)| schema_check(value.span(), &krate, &quote!(check_label_value(#value))));
    let count = values.len();
    let idents: Vec<_> = values.iter().map(|(i, _)| i).collect();
    let lits: Vec<_> = values.iter().map(|(_, l)| l).collect();
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

/// What a broken `LabelValue` derive still emits beside its errors: an impl,
/// so that label sets and metrics using the type report nothing more.
fn fallback(input: &DeriveInput, krate: &syn::Path) -> TokenStream {
    let name = &input.ident;
    // The type's own visibility: a `pub` item on a private type would trip
    // `unreachable_pub` in the user's crate.
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
