//! The options of `#[instrumented(..)]`, parsed into a model. Syntax is
//! checked here; names, labels and buckets are checked by the runtime's
//! schema through the `const` items that `expand` emits.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprLit, Ident, Lit, LitBool, LitStr};

use crate::ctxt::{Ctxt, set_once};

pub(super) const METRIC: &str = "metric";
pub(super) const BUCKETS: &str = "buckets";
pub(super) const LABELS: &str = "labels";
pub(super) const FIELDS: &str = "fields";
pub(super) const SPAN: &str = "span";
pub(super) const LEVEL: &str = "level";
pub(super) const IN_FLIGHT: &str = "in_flight";
pub(super) const CRATE: &str = "crate";

const VALID: &str = "valid options are `metric`, `buckets`, `labels`, `fields`, `span`, `level`, `in_flight` and `crate`";

/// Where the histogram bounds come from.
pub(super) enum Buckets {
    Preset(LitStr),
    List { bounds: Vec<Expr>, span: Span },
}

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
    pub(super) krate: Option<syn::Path>,
}

/// The value after `key =`; a key given without one is reported with an
/// example of its use, and parsing goes on.
fn value_expr(
    cx: &mut Ctxt,
    meta: &ParseNestedMeta<'_>,
    example: &str,
) -> syn::Result<Option<Expr>> {
    if meta.input.peek(syn::Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let key = quote::ToTokens::to_token_stream(&meta.path).to_string();
    cx.error(
        &meta.path,
        format_args!("`{key}` takes a value: `{example}`"),
    );
    skip_value(meta)?;
    Ok(None)
}

fn lit_str(cx: &mut Ctxt, expr: &Expr, key: &str, example: &str) -> Option<LitStr> {
    if let Expr::Lit(ExprLit {
        lit: Lit::Str(s), ..
    }) = expr
    {
        Some(s.clone())
    } else {
        cx.error(expr, format_args!("`{key}` takes a string: `{example}`"));
        None
    }
}

fn lit_bool(cx: &mut Ctxt, expr: &Expr, key: &str) -> Option<LitBool> {
    if let Expr::Lit(ExprLit {
        lit: Lit::Bool(b), ..
    }) = expr
    {
        Some(b.clone())
    } else {
        cx.error(expr, format_args!("`{key}` takes `true` or `false`"));
        None
    }
}

/// Skips what follows an unknown key, so parsing goes on and every problem
/// is reported in one build.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::Group>()?;
    }
    Ok(())
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
        let Some(name) = key.get_ident().map(ToString::to_string) else {
            cx.error(key, format_args!("unknown option: {VALID}"));
            return skip_value(meta);
        };
        match name.as_str() {
            METRIC => {
                let Some(expr) = value_expr(cx, meta, "metric = \"db_query\"")? else {
                    return Ok(());
                };
                if let Some(s) = lit_str(cx, &expr, METRIC, "metric = \"db_query\"") {
                    set_once(cx, &mut self.metric, key, s);
                }
            }
            BUCKETS => {
                let Some(expr) = value_expr(cx, meta, "buckets = \"latency\"")? else {
                    return Ok(());
                };
                let buckets = match expr {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }) => Some(Buckets::Preset(s)),
                    Expr::Array(array) => {
                        let span = syn::spanned::Spanned::span(&array);
                        Some(Buckets::List {
                            bounds: array.elems.into_iter().collect(),
                            span,
                        })
                    }
                    other => {
                        cx.error(
                            other,
                            "`buckets` takes a preset name or a list of bounds: `buckets = \"latency\"` or `buckets = [0.1, 0.5, 1.0]`",
                        );
                        None
                    }
                };
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
                let Some(expr) = value_expr(cx, meta, "level = \"debug\"")? else {
                    return Ok(());
                };
                if let Some(s) = lit_str(cx, &expr, LEVEL, "level = \"debug\"") {
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
            CRATE => {
                let Some(expr) = value_expr(cx, meta, "crate = \"::my_obs\"")? else {
                    return Ok(());
                };
                if let Some(s) = lit_str(cx, &expr, CRATE, "crate = \"::my_obs\"") {
                    match s.parse::<syn::Path>() {
                        Ok(path) => set_once(cx, &mut self.krate, key, path),
                        Err(_) => cx.error(&s, "`crate` takes a path: `crate = \"::my_obs\"`"),
                    }
                }
            }
            _ => {
                cx.error(key, format_args!("unknown option `{name}`: {VALID}"));
                skip_value(meta)?;
            }
        }
        Ok(())
    }
}
