use obs_runtime::instrumented;

#[instrumented(metric = "ui_expo", buckets = [0.5, 5.0])]
fn work(fail: bool) -> Result<(), std::fmt::Error> {
    if fail { Err(std::fmt::Error) } else { Ok(()) }
}

#[instrumented]
fn plain() {}

fn main() {
    // Before the first call, `ok` and (for a `Result`) `error` exist at zero.
    let before = obs_runtime::encode_text();
    let ok = r#"ui_expo_calls_total{function="work","#;
    assert!(before.contains("# TYPE ui_expo_calls_total counter"), "{before}");
    assert!(
        before.lines().any(|l| l.starts_with(ok) && l.contains(r#"result="ok""#) && l.ends_with(" 0")),
        "{before}"
    );
    assert!(
        before.lines().any(|l| l.starts_with(ok) && l.contains(r#"result="error""#) && l.ends_with(" 0")),
        "{before}"
    );

    work(false).unwrap();
    work(false).unwrap();
    work(true).unwrap_err();
    plain();

    let text = obs_runtime::encode_text();
    let count = |result: &str| {
        text.lines()
            .find(|l| l.starts_with(ok) && l.contains(&format!(r#"result="{result}""#)))
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_owned)
    };
    assert_eq!(count("ok").as_deref(), Some("2"), "{text}");
    assert_eq!(count("error").as_deref(), Some("1"), "{text}");
    assert!(text.contains("# TYPE ui_expo_duration_seconds histogram"), "{text}");
    assert!(text.contains(r#"le="0.5""#) && text.contains(r#"le="+Inf""#), "{text}");
    // The default base name is `function`.
    assert!(
        text.lines().any(|l| l.starts_with(r#"function_calls_total{function="plain","#) && l.ends_with(" 1")),
        "{text}"
    );
}
