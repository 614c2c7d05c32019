//! Behaviour of `#[instrumented]`, asserted on the exact exposition lines.
//!
//! Every test uses its own metric base name: the registry is global to the
//! test process and the tests run in parallel.

use std::future::Future;
use std::panic::catch_unwind;
use std::pin::pin;
use std::task::{Context, Waker};
use std::time::Duration;

use obs_runtime::{encode_text, instrumented};

const MODULE: &str = module_path!();

/// The value of the series `series` (name and labels, as written).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn labels(function: &str, result: &str, extra: &str) -> String {
    format!(r#"function="{function}",module="{MODULE}",result="{result}"{extra}"#)
}

#[instrumented(metric = "t_sync")]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[test]
fn sync_calls_are_counted_and_timed() {
    for i in 0..3 {
        assert_eq!(add(i, 1), i + 1);
    }
    let text = encode_text();
    let l = labels("add", "ok", "");
    assert!(
        text.contains("# TYPE t_sync_calls_total counter\n"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE t_sync_duration_seconds histogram\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("t_sync_calls_total{{{l}}} 3\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("t_sync_duration_seconds_count{{{l}}} 3\n")),
        "{text}"
    );
    // An add takes far less than the first default bound (10 ms).
    assert!(
        text.contains(&format!(
            "t_sync_duration_seconds_bucket{{{l},le=\"0.01\"}} 3\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "t_sync_duration_seconds_bucket{{{l},le=\"+Inf\"}} 3\n"
        )),
        "{text}"
    );
    let sum = value(&text, &format!("t_sync_duration_seconds_sum{{{l}}}")).unwrap();
    assert!(sum > 0.0 && sum < 0.03, "sum {sum}");
    // A function that returns no Result has no error series.
    assert!(!text.contains(&format!(
        "t_sync_calls_total{{{}}}",
        labels("add", "error", "")
    )));
}

#[instrumented(metric = "t_async", buckets = [0.02, 10.0], labels(stage = "fetch"))]
async fn slow_fetch(fail: bool) -> Result<u32, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(25)).await;
    if fail {
        Err(std::io::Error::other("upstream refused"))
    } else {
        Ok(7)
    }
}

#[tokio::test]
async fn async_results_land_in_their_buckets() {
    assert_eq!(slow_fetch(false).await.unwrap(), 7);
    assert!(slow_fetch(true).await.is_err());
    let text = encode_text();
    for result in ["ok", "error"] {
        let l = labels("slow_fetch", result, r#",stage="fetch""#);
        assert!(
            text.contains(&format!("t_async_calls_total{{{l}}} 1\n")),
            "{text}"
        );
        // A 25 ms sleep can't fit under 20 ms, and takes less than 10 s.
        assert!(
            text.contains(&format!(
                "t_async_duration_seconds_bucket{{{l},le=\"0.02\"}} 0\n"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "t_async_duration_seconds_bucket{{{l},le=\"10\"}} 1\n"
            )),
            "{text}"
        );
        let sum = value(&text, &format!("t_async_duration_seconds_sum{{{l}}}")).unwrap();
        assert!((0.025..10.0).contains(&sum), "sum {sum}");
    }
}

/// A `Result` under another name: classified by its type, not its name.
type Checked = Result<u8, String>;

#[instrumented(metric = "t_alias")]
fn checked(fail: bool) -> Checked {
    if fail {
        Err("refused".to_owned())
    } else {
        Ok(1)
    }
}

#[instrumented(metric = "t_io")]
fn io_call(fail: bool) -> std::io::Result<()> {
    if fail {
        Err(std::io::Error::other("refused"))
    } else {
        Ok(())
    }
}

#[test]
fn aliased_results_have_error_series_from_the_start_and_count_errs() {
    let cases = [("t_alias", "checked"), ("t_io", "io_call")];
    let text = encode_text();
    for (base, function) in cases {
        let error = format!("{base}_calls_total{{{}}}", labels(function, "error", ""));
        assert_eq!(
            value(&text, &error),
            Some(0.0),
            "{error} before any call:\n{text}"
        );
    }
    assert!(checked(true).is_err());
    assert!(io_call(true).is_err());
    assert_eq!(checked(false), Ok(1));
    let text = encode_text();
    for (base, function) in cases {
        let error = format!("{base}_calls_total{{{}}}", labels(function, "error", ""));
        assert_eq!(value(&text, &error), Some(1.0), "{text}");
    }
    let ok = format!("t_alias_calls_total{{{}}}", labels("checked", "ok", ""));
    assert_eq!(value(&text, &ok), Some(1.0), "{text}");
}

#[instrumented(metric = "t_panic", in_flight = true)]
fn explode(really: bool) -> u8 {
    assert!(!really, "boom");
    1
}

#[test]
fn a_panic_is_counted_and_keeps_unwinding() {
    let caught = catch_unwind(|| explode(true));
    assert!(caught.is_err(), "the panic must continue to unwind");
    assert_eq!(explode(false), 1);
    let text = encode_text();
    assert!(
        text.contains(&format!(
            "t_panic_calls_total{{{}}} 1\n",
            labels("explode", "panic", "")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "t_panic_calls_total{{{}}} 1\n",
            labels("explode", "ok", "")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "t_panic_in_flight{{function=\"explode\",module=\"{MODULE}\"}} 0\n"
        )),
        "{text}"
    );
}

#[instrumented(metric = "t_cancel", in_flight = true)]
async fn never_finishes() -> Result<(), String> {
    std::future::pending::<()>().await;
    Ok(())
}

#[test]
fn a_dropped_future_counts_as_cancelled() {
    let in_flight =
        format!("t_cancel_in_flight{{function=\"never_finishes\",module=\"{MODULE}\"}}");
    {
        let mut fut = pin!(never_finishes());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert_eq!(
            value(&encode_text(), &in_flight),
            Some(1.0),
            "one call is running"
        );
    }
    let text = encode_text();
    assert!(text.contains(&format!(
        "t_cancel_calls_total{{{}}} 1\n",
        labels("never_finishes", "cancelled", "")
    )));
    assert!(text.contains(&format!(
        "t_cancel_calls_total{{{}}} 0\n",
        labels("never_finishes", "ok", "")
    )));
    assert_eq!(
        value(&text, &in_flight),
        Some(0.0),
        "in-flight must return to 0"
    );
}

#[instrumented(metric = "t_async_panic")]
async fn explode_later() -> u8 {
    tokio::task::yield_now().await;
    panic!("late boom")
}

#[tokio::test]
async fn a_panic_inside_an_async_call_is_not_a_cancellation() {
    let joined = tokio::spawn(explode_later()).await;
    assert!(joined.unwrap_err().is_panic());
    let text = encode_text();
    assert!(
        text.contains(&format!(
            "t_async_panic_calls_total{{{}}} 1\n",
            labels("explode_later", "panic", "")
        )),
        "{text}"
    );
    assert!(
        !text.contains(&labels("explode_later", "cancelled", "")),
        "{text}"
    );
}

#[instrumented(metric = "t_untouched", labels(db = "main"))]
fn never_called() -> Result<(), String> {
    Ok(())
}

#[instrumented(metric = "t_flag", labels(hit = hit))]
fn lookup(hit: bool) -> Option<u8> {
    hit.then_some(1)
}

#[test]
fn static_series_exist_at_zero_before_the_first_call() {
    let text = encode_text();
    for result in ["ok", "error"] {
        let l = labels("never_called", result, r#",db="main""#);
        assert!(
            text.contains(&format!("t_untouched_calls_total{{{l}}} 0\n")),
            "{text}"
        );
        assert!(text.contains(&format!(
            "t_untouched_duration_seconds_bucket{{{l},le=\"+Inf\"}} 0\n"
        )));
    }
    // Every value of a bounded argument label exists from the start too.
    for hit in ["false", "true"] {
        let l = labels("lookup", "ok", &format!(r#",hit="{hit}""#));
        assert!(
            text.contains(&format!("t_flag_calls_total{{{l}}} ")),
            "{text}"
        );
    }
    if false {
        let _ = never_called();
    }
}

#[test]
fn bool_labels_split_series() {
    assert_eq!(lookup(true), Some(1));
    assert_eq!(lookup(true), Some(1));
    assert_eq!(lookup(false), None);
    let text = encode_text();
    let hit = labels("lookup", "ok", r#",hit="true""#);
    let miss = labels("lookup", "ok", r#",hit="false""#);
    assert!(
        text.contains(&format!("t_flag_calls_total{{{hit}}} 2\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("t_flag_calls_total{{{miss}}} 1\n")),
        "{text}"
    );
}

#[instrumented(metric = "t_region", labels(region = region))]
fn serve(region: &'static str) -> u8 {
    u8::try_from(region.len()).unwrap_or(u8::MAX)
}

#[test]
fn static_str_labels_create_series_as_seen() {
    serve("eu-west");
    serve("eu-west");
    serve("us-east");
    let text = encode_text();
    assert!(text.contains(&format!(
        "t_region_calls_total{{{}}} 2\n",
        labels("serve", "ok", r#",region="eu-west""#)
    )));
    assert!(text.contains(&format!(
        "t_region_calls_total{{{}}} 1\n",
        labels("serve", "ok", r#",region="us-east""#)
    )));
}

struct Store {
    hits: u32,
}

trait Fetch {
    fn fetch(&mut self, key: u32) -> Result<u32, String>;
}

impl Store {
    #[instrumented(metric = "t_method")]
    fn peek(&self) -> u32 {
        self.hits
    }
}

impl Fetch for Store {
    #[instrumented(metric = "t_method")]
    fn fetch(&mut self, key: u32) -> Result<u32, String> {
        self.hits += 1;
        if key == 0 {
            return Err("key 0 is reserved".to_owned());
        }
        Ok(key * 2)
    }
}

#[instrumented(metric = "t_generic")]
fn largest<T: PartialOrd + Copy>(items: &[T]) -> Option<T> {
    let mut best = *items.first()?;
    for &i in items {
        if i > best {
            best = i;
        }
    }
    Some(best)
}

#[test]
fn methods_generics_and_early_returns() {
    let mut store = Store { hits: 0 };
    assert_eq!(store.fetch(2), Ok(4));
    assert!(store.fetch(0).is_err());
    assert_eq!(store.peek(), 2);
    assert_eq!(largest(&[3, 9, 2]), Some(9));
    assert_eq!(largest(&[1.5, 0.5]), Some(1.5));
    assert_eq!(largest::<u8>(&[]), None);
    let text = encode_text();
    assert!(
        text.contains(&format!(
            "t_method_calls_total{{{}}} 1\n",
            labels("fetch", "ok", "")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "t_method_calls_total{{{}}} 1\n",
            labels("fetch", "error", "")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "t_method_calls_total{{{}}} 1\n",
            labels("peek", "ok", "")
        )),
        "{text}"
    );
    // All instantiations of a generic function share one call site.
    assert!(
        text.contains(&format!(
            "t_generic_calls_total{{{}}} 3\n",
            labels("largest", "ok", "")
        )),
        "{text}"
    );
}

#[instrumented(metric = "t_live", in_flight = true)]
fn report_while_running() -> Option<f64> {
    value(
        &encode_text(),
        &format!("t_live_in_flight{{function=\"report_while_running\",module=\"{MODULE}\"}}"),
    )
}

#[test]
fn in_flight_counts_running_calls() {
    assert_eq!(report_while_running(), Some(1.0));
    let text = encode_text();
    assert_eq!(
        value(
            &text,
            &format!("t_live_in_flight{{function=\"report_while_running\",module=\"{MODULE}\"}}")
        ),
        Some(0.0)
    );
}

#[instrumented(metric = "function")]
fn default_base_explicitly() {}

#[instrumented]
fn default_base() {}

#[test]
fn without_metric_the_base_name_is_function() {
    default_base();
    default_base_explicitly();
    let text = encode_text();
    assert!(
        text.contains(&format!(
            "function_calls_total{{{}}} 1\n",
            labels("default_base", "ok", "")
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "function_calls_total{{{}}} 1\n",
        labels("default_base_explicitly", "ok", "")
    )));
    // One family header however many functions share it.
    assert_eq!(
        text.matches("# TYPE function_calls_total counter").count(),
        1
    );
}
