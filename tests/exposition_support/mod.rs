//! A strict reader of the Prometheus text format 0.0.4, written apart from
//! the encoder so that the encoder's output is checked against the format,
//! not against itself. Shared by `tests/properties.rs` and the
//! `encode_text` fuzz target (`tests/fuzz`), which includes this file by
//! path.
//!
//! Stricter than Prometheus where the encoder promises more: every sample
//! belongs to the family of the `# TYPE` line above it, no series appears
//! twice, and label values and help text use only the escapes the format
//! defines.

#![allow(dead_code)] // Each user reads a different part of a scrape.

use std::collections::HashSet;

/// One `# HELP` line, its text unescaped.
#[derive(Debug, Clone, PartialEq)]
pub struct Help {
    pub family: String,
    pub text: String,
}

/// One sample line, its label values unescaped.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// What a scrape holds.
#[derive(Debug, Default)]
pub struct Scrape {
    pub helps: Vec<Help>,
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// The unescaped help text of `family`.
    pub fn help_of(&self, family: &str) -> Option<&str> {
        self.helps
            .iter()
            .find(|h| h.family == family)
            .map(|h| h.text.as_str())
    }

    /// The samples named `name`.
    pub fn samples_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }
}

/// Reads a whole scrape, or says which line breaks the format and why.
pub fn parse(text: &str) -> Result<Scrape, String> {
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the scrape does not end with a newline".into());
    }
    let mut scrape = Scrape::default();
    // The family of the last `# TYPE` line, and its type.
    let mut family: Option<(String, String)> = None;
    let mut seen_series = HashSet::new();
    let mut seen_families = HashSet::new();
    // Lines end at `\n` only: a `\r` is text (`str::lines` would drop it).
    let body = text.strip_suffix('\n').unwrap_or(text);
    for (number, line) in body.split('\n').enumerate().filter(|_| !text.is_empty()) {
        let at = |why: String| format!("line {}: {why}: {line:?}", number + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            check_metric_name(name).map_err(at)?;
            let text = unescape_help(help).map_err(at)?;
            scrape.helps.push(Help {
                family: name.to_owned(),
                text,
            });
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| at("a TYPE line without a type".into()))?;
            check_metric_name(name).map_err(at)?;
            if !matches!(
                kind,
                "counter" | "gauge" | "histogram" | "summary" | "untyped"
            ) {
                return Err(at(format!("unknown type {kind:?}")));
            }
            if !seen_families.insert(name.to_owned()) {
                return Err(at(format!("family {name} typed twice")));
            }
            family = Some((name.to_owned(), kind.to_owned()));
        } else if line.starts_with('#') || line.is_empty() {
            // A comment, or a blank line: both allowed by the format.
        } else {
            let sample = parse_sample(line).map_err(at)?;
            if let Some((name, kind)) = &family {
                let suffixes: &[&str] = match kind.as_str() {
                    "histogram" => &["_bucket", "_sum", "_count"],
                    "summary" => &["", "_sum", "_count"],
                    _ => &[""],
                };
                let belongs = sample.name.strip_prefix(name.as_str()).is_some_and(|rest| {
                    suffixes.contains(&rest) || (kind == "counter" && rest == "_total")
                });
                if !belongs {
                    return Err(at(format!("sample outside its family {name}")));
                }
            }
            let mut key = sample.labels.clone();
            key.sort();
            if !seen_series.insert((sample.name.clone(), key)) {
                return Err(at("a series written twice".into()));
            }
            scrape.samples.push(sample);
        }
    }
    Ok(scrape)
}

fn check_metric_name(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':');
    if first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

fn check_label_name(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    if first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(())
    } else {
        Err(format!("bad label name {name:?}"))
    }
}

/// Help text escapes `\` and newline, nothing else.
fn unescape_help(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                other => return Err(format!("bad escape in help: \\{other:?}")),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// `name{label="value",...} value`, with an optional timestamp.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| "a sample without a value".to_owned())?;
    let name = &line[..name_end];
    check_metric_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        rest = inner;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = rest
                .find('=')
                .ok_or_else(|| "a label without `=`".to_owned())?;
            let label = &rest[..eq];
            check_label_name(label)?;
            if labels.iter().any(|(l, _)| l == label) {
                return Err(format!("label {label} twice"));
            }
            rest = rest[eq + 1..]
                .strip_prefix('"')
                .ok_or_else(|| "a label value without its opening quote".to_owned())?;
            let (value, after) = read_label_value(rest)?;
            labels.push((label.to_owned(), value));
            rest = after;
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if !rest.starts_with('}') {
                return Err("labels not separated by `,`".into());
            }
        }
    }
    let rest = rest
        .strip_prefix(' ')
        .ok_or_else(|| "no space before the value".to_owned())?;
    let mut fields = rest.split(' ');
    let value = parse_value(fields.next().unwrap_or(""))?;
    if let Some(timestamp) = fields.next() {
        timestamp
            .parse::<i64>()
            .map_err(|_| format!("bad timestamp {timestamp:?}"))?;
    }
    if fields.next().is_some() {
        return Err("more than a value and a timestamp".into());
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// A label value after its opening quote: `\\`, `\"` and `\n` are the only
/// escapes. Returns the value and what follows the closing quote.
fn read_label_value(text: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &text[i + 1..])),
            '\\' => match chars.next() {
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                Some((_, 'n')) => out.push('\n'),
                other => return Err(format!("bad escape in a label value: {other:?}")),
            },
            c => out.push(c),
        }
    }
    Err("a label value without its closing quote".into())
}

fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        // Rust reads `inf`, `infinity` and `nan` too; the format does not.
        t if t
            .bytes()
            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E') =>
        {
            Err(format!("bad value {t:?}"))
        }
        t => t.parse().map_err(|_| format!("bad value {t:?}")),
    }
}
