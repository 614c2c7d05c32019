//! The options of `#[instrumented(..)]`, parsed into a model. Syntax is
//! checked here; names, labels and buckets are checked by the runtime's
//! schema through the `const` items that `expand` emits.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprLit, Ident, Lit, LitBool, LitStr};

use crate::buckets::Buckets;
use crate::ctxt::Ctxt;
use crate::options::{
    CRATE, Keys, crate_option, key_name, lit_bool, set_once, skip_value, str_option, value_expr,
};
use crate::slo::{self, Slo};

pub(super) const METRIC: &str = "metric";
pub(super) const BUCKETS: &str = "buckets";
pub(super) const LABELS: &str = "labels";
pub(super) const FIELDS: &str = "fields";
pub(super) const SPAN: &str = "span";
pub(super) const LEVEL: &str = "level";
pub(super) const IN_FLIGHT: &str = "in_flight";
pub(super) const SLO: &str = "slo";

const SLO_OPTION_KEYS: Keys = Keys {
    attr: Some("slo"),
    valid: &[slo::SUCCESS, slo::LATENCY, slo::PERCENTILE, slo::PERIOD],
};

const KEYS: Keys = Keys {
    attr: None,
    valid: &[
        METRIC, BUCKETS, LABELS, FIELDS, SPAN, LEVEL, IN_FLIGHT, SLO, CRATE,
    ],
};

/// A label's value: a literal, or an argument of the function.
pub(super) enum LabelSource {
    Literal(LitStr),
    Arg(Ident),
}

pub(super) struct Label {
    pub(super) key: Ident,
    pub(super) source: LabelSource,
}

pub(super) struct Field {
    pub(super) arg: Ident,
    pub(super) redact: bool,
}

pub(super) enum SpanOption {
    On,
    Off,
    Named(LitStr),
}

#[derive(Default)]
pub(super) struct Options {
    pub(super) metric: Option<LitStr>,
    pub(super) buckets: Option<Buckets>,
    pub(super) labels: Option<Vec<Label>>,
    pub(super) fields: Option<Vec<Field>>,
    pub(super) span: Option<SpanOption>,
    pub(super) level: Option<LitStr>,
    pub(super) in_flight: Option<LitBool>,
    pub(super) slo: Option<Slo>,
    pub(super) krate: Option<syn::Path>,
}

impl Options {
    pub(super) fn parse(cx: &mut Ctxt, args: TokenStream) -> Self {
        let mut options = Self::default();
        let parser = syn::meta::parser(|meta| options.option(cx, &meta));
        if let Err(e) = parser.parse2(args) {
            cx.push(e);
        }
        options
    }

    fn option(&mut self, cx: &mut Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let key = &meta.path;
        let Some(name) = key_name(meta) else {
            KEYS.unknown(cx, key);
            return skip_value(meta);
        };
        match name.as_str() {
            METRIC => {
                if let Some(s) = str_option(cx, meta, METRIC, "metric = \"db_query\"")? {
                    set_once(cx, &mut self.metric, key, s);
                }
            }
            BUCKETS => {
                let Some(expr) = value_expr(cx, meta, "buckets = \"latency\"")? else {
                    return Ok(());
                };
                let buckets = Buckets::parse(cx, expr);
                if let Some(b) = buckets {
                    set_once(cx, &mut self.buckets, key, b);
                }
            }
            LABELS => {
                let mut labels = Vec::new();
                meta.parse_nested_meta(|label| {
                    let Some(key) = label.path.get_ident().cloned() else {
                        cx.error(&label.path, "a label name is a plain identifier: `labels(table = \"users\")`");
                        return skip_value(&label);
                    };
                    let Some(value) = value_expr(cx, &label, &format!("labels({key} = \"value\")"))? else {
                        return Ok(());
                    };
                    let source = match value {
                        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => LabelSource::Literal(s),
                        Expr::Path(p) if p.path.get_ident().is_some() => {
                            LabelSource::Arg(p.path.get_ident().cloned().unwrap_or_else(|| key.clone()))
                        }
                        other => {
                            cx.error(
                                other,
                                "a label's value is a string literal or the name of an argument: `labels(table = \"users\", model = model)`",
                            );
                            return Ok(());
                        }
                    };
                    if labels.iter().any(|l: &Label| l.key == key) {
                        cx.error(&key, format_args!("duplicate label `{key}`: give each label once"));
                    } else {
                        labels.push(Label { key, source });
                    }
                    Ok(())
                })?;
                set_once(cx, &mut self.labels, key, labels);
            }
            FIELDS => {
                let mut fields = Vec::new();
                meta.parse_nested_meta(|field| {
                    let (arg, redact) =
                        if field.path.is_ident("redact") && field.input.peek(syn::token::Paren) {
                            let content;
                            syn::parenthesized!(content in field.input);
                            (content.parse::<Ident>()?, true)
                        } else if let Some(arg) = field.path.get_ident() {
                            (arg.clone(), false)
                        } else {
                            cx.error(
                                &field.path,
                                "`fields` lists argument names, or `redact(name)`",
                            );
                            return skip_value(&field);
                        };
                    if field.input.peek(syn::Token![=]) {
                        cx.error(&arg, "`fields` lists argument names, not values: `fields(amount, redact(card_number))`");
                        skip_value(&field)?;
                        return Ok(());
                    }
                    if fields.iter().any(|f: &Field| f.arg == arg) {
                        cx.error(
                            &arg,
                            format_args!("duplicate field `{arg}`: list each argument once"),
                        );
                    } else {
                        fields.push(Field { arg, redact });
                    }
                    Ok(())
                })?;
                set_once(cx, &mut self.fields, key, fields);
            }
            SPAN => {
                let Some(expr) = value_expr(cx, meta, "span = false")? else {
                    return Ok(());
                };
                let span = match &expr {
                    Expr::Lit(ExprLit {
                        lit: Lit::Bool(b), ..
                    }) => Some(if b.value {
                        SpanOption::On
                    } else {
                        SpanOption::Off
                    }),
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }) => Some(SpanOption::Named(s.clone())),
                    other => {
                        cx.error(other, "`span` takes `true`, `false` or the span's name: `span = \"load_user\"`");
                        None
                    }
                };
                if let Some(s) = span {
                    set_once(cx, &mut self.span, key, s);
                }
            }
            LEVEL => {
                if let Some(s) = str_option(cx, meta, LEVEL, "level = \"debug\"")? {
                    set_once(cx, &mut self.level, key, s);
                }
            }
            IN_FLIGHT => {
                let Some(expr) = value_expr(cx, meta, "in_flight = true")? else {
                    return Ok(());
                };
                if let Some(b) = lit_bool(cx, &expr, IN_FLIGHT) {
                    set_once(cx, &mut self.in_flight, key, b);
                }
            }
            SLO => {
                let mut slo = Slo::new(key.get_ident().map_or_else(
                    || syn::spanned::Spanned::span(key),
                    proc_macro2::Ident::span,
                ));
                meta.parse_nested_meta(|part| slo.part(cx, &part, &SLO_OPTION_KEYS))?;
                set_once(cx, &mut self.slo, key, slo);
            }
            CRATE => crate_option(cx, meta, &mut self.krate)?,
            _ => {
                KEYS.unknown(cx, key);
                skip_value(meta)?;
            }
        }
        Ok(())
    }
}
