//! The struct and its `#[label(..)]` container attribute, read into a
//! model.

use syn::{Data, DeriveInput, Fields};

use super::super::container_crate;
use crate::ctxt::Ctxt;
use crate::options::{CRATE, Keys, runtime_path};

const CONTAINER_KEYS: Keys = Keys {
    attr: Some("#[label(..)]"),
    valid: &[CRATE],
};

pub(super) struct Model<'a> {
    pub(super) input: &'a DeriveInput,
    pub(super) krate: syn::Path,
    /// The labels, one per field, in order.
    pub(super) fields: Vec<&'a syn::Field>,
}

impl<'a> Model<'a> {
    pub(super) fn parse(cx: &mut Ctxt, input: &'a DeriveInput) -> Self {
        let krate = container_crate(cx, &input.attrs, "label", &CONTAINER_KEYS, |_, _, _| {
            Ok(false)
        });
        let fields = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => named.named.iter().collect(),
                Fields::Unnamed(_) | Fields::Unit => {
                    cx.error(
                        &s.fields,
                        "a `LabelSet` struct has named fields: each field's name is a label's name",
                    );
                    Vec::new()
                }
            },
            Data::Enum(e) => {
                cx.error(e.enum_token, "`LabelSet` is derived for structs of labels; an enum of values derives `LabelValue`");
                Vec::new()
            }
            Data::Union(u) => {
                cx.error(
                    u.union_token,
                    "`LabelSet` is derived for structs, not unions",
                );
                Vec::new()
            }
        };
        if !input.generics.params.is_empty() {
            cx.error(
                &input.generics,
                "a `LabelSet` struct can't be generic: its labels are fixed once",
            );
        }
        Self {
            input,
            krate: runtime_path(krate),
            fields,
        }
    }
}
