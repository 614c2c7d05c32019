//! The struct, its `#[metrics(..)]` container attribute and each field's
//! doc comment and `#[metric(..)]` attribute, read into a model.

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, LitInt, LitStr};

use super::super::{container_crate, doc_text};
use crate::buckets::Buckets;
use crate::ctxt::Ctxt;
use crate::options::{
    CRATE, Keys, each_nested, key_name, lit_int, runtime_path, set_once, skip_value, str_option,
    value_expr,
};

const PREFIX: &str = "prefix";
const NAME: &str = "name";
const BUCKETS: &str = "buckets";
const UNIT: &str = "unit";
const MAX_SERIES: &str = "max_series";

const CONTAINER_KEYS: Keys = Keys {
    attr: Some("#[metrics(..)]"),
    valid: &[PREFIX, CRATE],
};
const FIELD_KEYS: Keys = Keys {
    attr: Some("#[metric(..)]"),
    valid: &[NAME, BUCKETS, UNIT, MAX_SERIES],
};

pub(super) struct Member<'a> {
    pub(super) ident: &'a syn::Ident,
    pub(super) ty: &'a syn::Type,
    /// The full name: the prefix, `_`, and the field's name or `name`.
    pub(super) name: String,
    pub(super) name_span: Span,
    pub(super) help: String,
    pub(super) unit: Option<LitStr>,
    pub(super) buckets: Option<Buckets>,
    pub(super) max_series: Option<LitInt>,
}

pub(super) struct Model<'a> {
    pub(super) input: &'a DeriveInput,
    pub(super) krate: syn::Path,
    pub(super) prefix: Option<LitStr>,
    /// `None` when the input is no struct with named fields.
    pub(super) members: Option<Vec<Member<'a>>>,
}

impl<'a> Model<'a> {
    pub(super) fn parse(cx: &mut Ctxt, input: &'a DeriveInput) -> Self {
        let mut prefix: Option<LitStr> = None;
        let krate = container_crate(
            cx,
            &input.attrs,
            "metrics",
            &CONTAINER_KEYS,
            |cx, key, meta| {
                if key != PREFIX {
                    return Ok(false);
                }
                if let Some(s) = str_option(cx, meta, PREFIX, "#[metrics(prefix = \"cache\")]")? {
                    set_once(cx, &mut prefix, &meta.path, s);
                }
                Ok(true)
            },
        );
        let fields: Option<Vec<&syn::Field>> = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => Some(named.named.iter().collect()),
                other => {
                    cx.error(other, "a `MetricSet` struct has named fields: each field is one metric, named after it");
                    None
                }
            },
            Data::Enum(e) => {
                cx.error(
                    e.enum_token,
                    "`MetricSet` is derived for structs whose fields are metrics, not enums",
                );
                None
            }
            Data::Union(u) => {
                cx.error(
                    u.union_token,
                    "`MetricSet` is derived for structs whose fields are metrics, not unions",
                );
                None
            }
        };
        let generic = !input.generics.params.is_empty();
        if generic {
            cx.error(
                &input.generics,
                "a `MetricSet` struct can't be generic: it has one global instance",
            );
        }
        let prefix_value = prefix.as_ref().map(LitStr::value);
        let members = fields.filter(|_| !generic).map(|fields| {
            fields
                .into_iter()
                .filter_map(|f| member(cx, prefix_value.as_deref(), f))
                .collect()
        });
        Self {
            input,
            krate: runtime_path(krate),
            prefix,
            members,
        }
    }

    pub(super) fn is_expandable(&self) -> bool {
        self.members.is_some()
    }
}

fn member<'a>(cx: &mut Ctxt, prefix: Option<&str>, field: &'a syn::Field) -> Option<Member<'a>> {
    let ident = field.ident.as_ref()?;
    let help = doc_text(&field.attrs);
    if help.is_none() {
        cx.error(ident, format_args!("metric `{ident}` has no doc comment: it becomes the metric's `# HELP` text, which is not optional; add `/// What it counts.` above the field"));
    }
    let mut name: Option<LitStr> = None;
    let mut unit: Option<LitStr> = None;
    let mut buckets: Option<Buckets> = None;
    let mut max_series: Option<LitInt> = None;
    each_nested(cx, &field.attrs, "metric", |cx, meta| {
        let key = &meta.path;
        match key_name(meta).as_deref() {
            Some(NAME) => {
                if let Some(s) = str_option(cx, meta, NAME, "#[metric(name = \"hits_total\")]")? {
                    set_once(cx, &mut name, key, s);
                }
            }
            Some(UNIT) => {
                if let Some(s) = str_option(cx, meta, UNIT, "#[metric(unit = \"bytes\")]")? {
                    set_once(cx, &mut unit, key, s);
                }
            }
            Some(BUCKETS) => {
                let expr = value_expr(cx, meta, "#[metric(buckets = \"latency\")]")?;
                if let Some(b) = expr.and_then(|e| Buckets::parse(cx, e)) {
                    set_once(cx, &mut buckets, key, b);
                }
            }
            Some(MAX_SERIES) => {
                const EXAMPLE: &str = "max_series = 500";
                let expr = value_expr(cx, meta, EXAMPLE)?;
                if let Some(i) = expr.and_then(|e| lit_int(cx, &e, MAX_SERIES, EXAMPLE)) {
                    set_once(cx, &mut max_series, key, i);
                }
            }
            _ => {
                FIELD_KEYS.unknown(cx, key);
                skip_value(meta)?;
            }
        }
        Ok(())
    });
    let (local, name_span) = match &name {
        Some(n) => (n.value(), n.span()),
        None => (ident.to_string(), ident.span()),
    };
    let full = match prefix {
        Some(p) => format!("{p}_{local}"),
        None => local,
    };
    Some(Member {
        ident,
        ty: &field.ty,
        name: full,
        name_span,
        help: help.unwrap_or_default(),
        unit,
        buckets,
        max_series,
    })
}
