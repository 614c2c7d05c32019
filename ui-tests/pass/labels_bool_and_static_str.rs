use obs_runtime::instrumented;

#[instrumented(
    metric = "ui_labels",
    labels(cached = cached, region = region, tier = "gold", route = "/users/{id}")
)]
fn lookup(cached: bool, region: &'static str, id: u64) -> u64 {
    if cached { id } else { id + 1 }
}

fn main() {
    assert_eq!(lookup(true, "eu-west", 1), 1);
    assert_eq!(lookup(false, "us-east", 1), 2);

    let text = obs_runtime::encode_text();
    let series = |labels: &str| {
        text.lines()
            .any(|l| l.starts_with("ui_labels_calls_total{") && l.contains(labels) && l.ends_with(" 1"))
    };
    assert!(series(r#"cached="true""#), "{text}");
    assert!(series(r#"cached="false""#), "{text}");
    assert!(series(r#"region="eu-west""#), "{text}");
    assert!(series(r#"region="us-east""#), "{text}");
    assert!(series(r#"route="/users/{id}""#), "{text}");
    assert!(series(r#"tier="gold""#), "{text}");
}
