//! The enum and its `#[label(..)]` attributes, read into a model.

use syn::{Data, DeriveInput, Fields, Ident, LitStr};

use super::super::{container_crate, snake_case};
use crate::ctxt::Ctxt;
use crate::options::{
    CRATE, Keys, each_nested, key_name, runtime_path, set_once, skip_value, str_option,
};

const RENAME: &str = "rename";
const CONTAINER_KEYS: Keys = Keys {
    attr: Some("#[label(..)]"),
    valid: &[CRATE],
};
const VARIANT_KEYS: Keys = Keys {
    attr: Some("#[label(..)]"),
    valid: &[RENAME],
};

pub(super) struct Model<'a> {
    pub(super) input: &'a DeriveInput,
    pub(super) krate: syn::Path,
    /// Each variant with its rendered value.
    pub(super) values: Vec<(Ident, LitStr)>,
}

impl<'a> Model<'a> {
    pub(super) fn parse(cx: &mut Ctxt, input: &'a DeriveInput) -> Self {
        let krate = container_crate(cx, &input.attrs, "label", &CONTAINER_KEYS, |_, _, _| {
            Ok(false)
        });
        let name = &input.ident;
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
        let mut values: Vec<(Ident, LitStr)> = Vec::new();
        if let Some(variants) = variants {
            if variants.is_empty() {
                cx.error(name, "a `LabelValue` enum needs at least one variant: each variant is one value of the label");
            }
            for v in variants {
                if !matches!(v.fields, Fields::Unit) {
                    cx.error(&v.fields, format_args!("variant `{}` carries data, so its values would be unbounded: a `LabelValue` enum has field-less variants only; make each value you expect a variant of its own (`Other` for the rest), and record the data in a span field", v.ident));
                }
                let mut rename: Option<LitStr> = None;
                each_nested(cx, &v.attrs, "label", |cx, meta| {
                    if key_name(meta).as_deref() == Some(RENAME) {
                        if let Some(s) =
                            str_option(cx, meta, RENAME, "#[label(rename = \"half-open\")]")?
                        {
                            set_once(cx, &mut rename, &meta.path, s);
                        }
                    } else {
                        VARIANT_KEYS.unknown(cx, &meta.path);
                        skip_value(meta)?;
                    }
                    Ok(())
                });
                let value = rename.unwrap_or_else(|| {
                    LitStr::new(&snake_case(&v.ident.to_string()), v.ident.span())
                });
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
        Self {
            input,
            krate: runtime_path(krate),
            values,
        }
    }
}
