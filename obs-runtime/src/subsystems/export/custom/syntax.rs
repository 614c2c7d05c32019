//! The small languages of custom alerts: selectors, decimals, durations,
//! names and annotation templates, each parsed with a message that says
//! what was expected.

/// `name` or `name{label="value",…}`: equality matchers only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selector {
    pub(crate) name: String,
    pub(crate) matchers: Vec<(String, String)>,
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// A metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub(crate) fn is_metric_name(s: &str) -> bool {
    is_name(s, true)
}

/// A label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub(crate) fn is_label_name(s: &str) -> bool {
    is_name(s, false)
}

/// Parses a selector.
pub(crate) fn selector(text: &str) -> Result<Selector, String> {
    let text = text.trim();
    let (name, rest) = match text.find('{') {
        Some(i) => (text.get(..i).unwrap_or_default().trim(), text.get(i..)),
        None => (text, None),
    };
    if name.is_empty() {
        return Err(format!(
            "selector `{text}` has no metric name (expected `name` or `name{{label=\"value\"}}`)"
        ));
    }
    if !is_metric_name(name) {
        return Err(format!("`{name}` is not a metric name"));
    }
    let mut matchers = Vec::new();
    if let Some(rest) = rest {
        let Some(inner) = rest.strip_prefix('{').and_then(|r| r.strip_suffix('}')) else {
            return Err(format!("selector `{text}` does not end with `}}`"));
        };
        let mut chars = inner.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek().is_none() {
                break;
            }
            let mut label = String::new();
            while let Some(c) = chars.peek().copied() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    label.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if !is_label_name(&label) {
                return Err(format!("selector `{text}`: expected a label name"));
            }
            match (chars.next(), chars.peek().copied()) {
                (Some('='), Some('~')) | (Some('!'), _) => {
                    return Err(format!(
                        "selector `{text}`: only equality matchers (`{label}=\"…\"`) are supported"
                    ));
                }
                (Some('='), _) => {}
                _ => return Err(format!("selector `{text}`: expected `=` after `{label}`")),
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.next() != Some('"') {
                return Err(format!(
                    "selector `{text}`: the value of `{label}` must be in double quotes"
                ));
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(c @ ('"' | '\\')) => value.push(c),
                        Some('n') => value.push('\n'),
                        _ => return Err(format!("selector `{text}`: unknown escape in `{label}`")),
                    },
                    Some(c) => value.push(c),
                    None => {
                        return Err(format!(
                            "selector `{text}`: unterminated value of `{label}`"
                        ));
                    }
                }
            }
            if matchers.iter().any(|(l, _): &(String, String)| *l == label) {
                return Err(format!("selector `{text}` matches `{label}` twice"));
            }
            matchers.push((label, value));
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            match chars.next() {
                Some(',') | None => {}
                Some(c) => return Err(format!("selector `{text}`: unexpected `{c}`")),
            }
        }
    }
    Ok(Selector {
        name: name.to_owned(),
        matchers,
    })
}

/// An exact decimal: an integer `mantissa` over `10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decimal {
    pub(crate) mantissa: i128,
    pub(crate) scale: u32,
}

impl Decimal {
    pub(crate) fn as_f64(self) -> f64 {
        #[allow(clippy::cast_precision_loss)] // thresholds are short decimals
        let m = self.mantissa as f64;
        m / 10f64.powi(i32::try_from(self.scale).unwrap_or(i32::MAX))
    }

    /// `self + whole`, exactly.
    pub(crate) fn plus(self, whole: i128) -> Self {
        Self {
            mantissa: self.mantissa + whole * 10i128.pow(self.scale),
            scale: self.scale,
        }
    }

    pub(crate) fn text(self) -> String {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = u64::try_from(self.mantissa.unsigned_abs()).unwrap_or(u64::MAX);
        format!(
            "{sign}{}",
            super::super::decimal::decimal(digits, self.scale)
        )
    }
}

/// Parses `-?[0-9]+(\.[0-9]+)?` (at most 15 significant digits).
pub(crate) fn decimal(text: &str) -> Result<Decimal, String> {
    let bad = || format!("`{text}` is not a decimal number (as `0.1`, `5`, `-2.5`)");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(fraction)
        || (digits.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    if whole.len() + fraction.len() > 15 {
        return Err(format!("`{text}` has more than 15 digits"));
    }
    let mantissa: i128 = format!("{whole}{fraction}").parse().map_err(|_| bad())?;
    Ok(Decimal {
        mantissa: if negative { -mantissa } else { mantissa },
        scale: u32::try_from(fraction.len()).unwrap_or(0),
    })
}

/// The longest `for` supported: the rule tests evaluate every minute.
pub(crate) const MAX_FOR_SECONDS: u64 = 86_400;

/// Parses a Prometheus duration (`1h30m`, `90s`, `500ms`; units in
/// decreasing order, each once) into whole seconds, rounded up.
pub(crate) fn duration(text: &str) -> Result<u64, String> {
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let bad = || format!("`{text}` is not a Prometheus duration (as `30s`, `5m`, `1h30m`)");
    let mut rest = text;
    let mut ms: u64 = 0;
    let mut last_unit: Option<usize> = None;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let (number, tail) = rest.split_at(digits);
        let n: u64 = number.parse().map_err(|_| bad())?;
        let letters = tail.chars().take_while(char::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(letters);
        let Some(index) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(bad());
        };
        if last_unit.is_some_and(|l| l >= index) {
            return Err(format!(
                "`{text}`: units must go from the largest to the smallest, each once"
            ));
        }
        last_unit = Some(index);
        let factor = UNITS.get(index).map_or(1, |(_, f)| *f);
        ms = ms.saturating_add(n.saturating_mul(factor));
        rest = tail;
    }
    Ok(ms.div_ceil(1_000))
}

/// An alert name: `[A-Za-z_][A-Za-z0-9_]*`, like a metric name without
/// colons, so its runbook anchor is `alert-` and the name in lower case.
pub(crate) fn check_alert_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the alert name is empty".to_owned());
    }
    if !is_label_name(name) {
        return Err(
            "an alert name is letters, digits and `_`, not starting with a digit".to_owned(),
        );
    }
    if name.len() > 200 {
        return Err("the alert name is longer than 200 characters".to_owned());
    }
    Ok(())
}

/// The file name of a dashboard (and its uid): the title in lower case,
/// letters and digits kept, every other run of characters one `-`, at most
/// 40 characters (Grafana's uid limit).
pub(crate) fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out: String = out.chars().take(40).collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Checks that every `{{ … }}` of an annotation is `{{ $labels.<name> }}`
/// of one of `labels` (the rule tests render them exactly as Prometheus
/// does, so nothing else can be tested).
pub(crate) fn check_template(text: &str, labels: &[String]) -> Result<(), String> {
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = rest.get(open + 2..).unwrap_or_default();
        let Some(close) = after.find("}}") else {
            return Err("has `{{` without `}}`".to_owned());
        };
        let inner = after.get(..close).unwrap_or_default().trim();
        match inner.strip_prefix("$labels.") {
            Some(label) if labels.iter().any(|l| l == label) => {
                if after.get(..close) != Some(format!(" {inner} ").as_str()) {
                    return Err(format!(
                        "write `{{{{ {inner} }}}}` with one space inside the braces"
                    ));
                }
            }
            Some(label) => {
                return Err(format!(
                    "uses `{{{{ $labels.{label} }}}}`, but the alert's labels are {}",
                    labels.join(", ")
                ));
            }
            None => {
                return Err(format!(
                    "uses `{{{{ {inner} }}}}`: only `{{{{ $labels.<name> }}}}` templates are supported"
                ));
            }
        }
        rest = after.get(close + 2..).unwrap_or_default();
    }
    if rest.contains("}}") {
        return Err("has `}}` without `{{`".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_equality_matchers_only() {
        let s = selector(r#"brain_missions_total{status="failed", kind = "a\"b",}"#).unwrap();
        assert_eq!(s.name, "brain_missions_total");
        assert_eq!(
            s.matchers,
            [
                ("status".to_owned(), "failed".to_owned()),
                ("kind".to_owned(), "a\"b".to_owned())
            ]
        );
        assert!(selector("up").unwrap().matchers.is_empty());
        // Whatever the text, an answer and never a panic.
        for odd in [
            "x{",
            "x{a",
            "x{a=",
            "x{a=\"",
            "x{a=\"b\\",
            "x{a=\"b\\q\"}",
            "é{}",
            "x}",
            "{",
            "",
            "x{a=\"😀\"}",
            "x{ , }",
            "x{=\"v\"}",
            "x{a=\"v\"}}",
        ] {
            let _ = selector(odd);
        }
        assert_eq!(selector("x{a=\"😀\"}").unwrap().matchers[0].1, "😀");
        assert!(selector("up{}").unwrap().matchers.is_empty());
        for (bad, why) in [
            (r#"x{a=~"b"}"#, "only equality"),
            (r#"x{a!="b"}"#, "only equality"),
            ("x{a=b}", "double quotes"),
            (r#"x{a="b""#, "does not end"),
            (r#"{a="b"}"#, "no metric name"),
            ("9x", "not a metric name"),
            (r#"x{a="1",a="2"}"#, "twice"),
            (r#"x{a="1" b="2"}"#, "unexpected"),
        ] {
            let err = selector(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn decimals_are_exact_and_strict() {
        assert_eq!(decimal("0.1").unwrap().text(), "0.1");
        assert_eq!(decimal("-2.50").unwrap().text(), "-2.5");
        assert_eq!(decimal("0.8").unwrap().plus(-1).text(), "-0.2");
        assert_eq!(decimal("1").unwrap().plus(-1).text(), "0");
        for bad in ["", "1.", ".5", "1e3", "ten", "0x10", "1.2.3", "+1"] {
            assert!(decimal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_follow_prometheus() {
        assert_eq!(duration("5m"), Ok(300));
        assert_eq!(duration("1h30m"), Ok(5_400));
        assert_eq!(duration("500ms"), Ok(1));
        assert_eq!(duration("0s"), Ok(0));
        for bad in ["", "5", "m", "5 m", "30m1h", "1m1m", "5min", "-1m"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs_and_templates() {
        assert_eq!(slug("BRAiN overview"), "brain-overview");
        assert_eq!(slug("  Jobs & queues!  "), "jobs-queues");
        assert_eq!(slug("---"), "");
        let labels = vec!["job".to_owned(), "endpoint".to_owned()];
        assert!(
            check_template("{{ $labels.job }} slow on {{ $labels.endpoint }}", &labels).is_ok()
        );
        assert!(
            check_template("{{ $labels.pod }}", &labels)
                .unwrap_err()
                .contains("job, endpoint")
        );
        assert!(
            check_template("{{ $value }}", &labels)
                .unwrap_err()
                .contains("only")
        );
        assert!(
            check_template("{{$labels.job}}", &labels)
                .unwrap_err()
                .contains("one space")
        );
        assert!(check_template("a {{ b", &labels).is_err());
    }
}
