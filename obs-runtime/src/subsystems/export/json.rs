//! A JSON document model for the generated dashboards, written with the
//! crate's string writer: the runtime has no serde, and a dashboard needs
//! only objects, arrays, strings and numbers.

use std::fmt::Write as _;

use crate::leaves::json::json_string;

/// A JSON value. Object keys keep their order, as Grafana writes them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Json)>),
}

impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<i64> for Json {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl From<u32> for Json {
    fn from(n: u32) -> Self {
        Self::Int(i64::from(n))
    }
}

impl From<f64> for Json {
    fn from(n: f64) -> Self {
        Self::Num(n)
    }
}

impl From<Vec<Json>> for Json {
    fn from(v: Vec<Json>) -> Self {
        Self::Arr(v)
    }
}

/// An object from `(key, value)` pairs.
pub(crate) fn obj<const N: usize>(pairs: [(&'static str, Json); N]) -> Json {
    Json::Obj(pairs.into())
}

impl Json {
    /// The document, indented by two spaces, with a final newline.
    pub(crate) fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        match self {
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Int(n) => {
                let _ = write!(out, "{n}");
            }
            // Finite by construction (bucket bounds, thresholds); JSON has
            // no NaN, so anything else is written as null.
            Self::Num(n) if n.is_finite() => {
                let _ = write!(out, "{n}");
            }
            Self::Num(_) => out.push_str("null"),
            Self::Str(s) => json_string(out, s),
            Self::Arr(items) if items.is_empty() => out.push_str("[]"),
            Self::Obj(pairs) if pairs.is_empty() => out.push_str("{}"),
            Self::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    indent(out, depth + 1);
                    item.write(out, depth + 1);
                }
                out.push('\n');
                indent(out, depth);
                out.push(']');
            }
            Self::Obj(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    indent(out, depth + 1);
                    json_string(out, k);
                    out.push_str(": ");
                    v.write(out, depth + 1);
                }
                out.push('\n');
                indent(out, depth);
                out.push('}');
            }
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_indented_and_escaped() {
        let doc = obj([
            ("a", Json::from("x\"y")),
            ("b", Json::Arr(vec![1_u32.into(), 0.5.into(), true.into()])),
            ("c", Json::Obj(Vec::new())),
            ("d", f64::NAN.into()),
        ]);
        assert_eq!(
            doc.pretty(),
            "{\n  \"a\": \"x\\\"y\",\n  \"b\": [\n    1,\n    0.5,\n    true\n  ],\n  \"c\": {},\n  \"d\": null\n}\n"
        );
    }
}
