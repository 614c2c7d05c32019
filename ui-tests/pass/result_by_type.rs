// A `Result` is recognised by its type, whatever it is called: an alias,
// `io::Result`, a generic one. A type whose name ends in `Result` but is
// no `Result` is an ordinary return value.
use obs_runtime::instrumented;

#[derive(Debug)]
struct Refused;

type Outcome = Result<u8, Refused>;

#[allow(dead_code)]
struct SearchResult(u8);

#[instrumented(metric = "ui_alias")]
fn aliased(fail: bool) -> Outcome {
    if fail { Err(Refused) } else { Ok(1) }
}

#[instrumented(metric = "ui_io")]
fn io_result(fail: bool) -> std::io::Result<()> {
    if fail {
        Err(std::io::Error::other("refused"))
    } else {
        Ok(())
    }
}

#[instrumented(metric = "ui_not_result")]
fn search() -> SearchResult {
    SearchResult(3)
}

#[instrumented(metric = "ui_generic_result")]
fn parse<T: std::str::FromStr>(s: &str) -> Result<T, T::Err> {
    s.parse()
}

fn main() {
    let series = |base: &str, function: &str, result: &str| {
        format!(
            "{base}_calls_total{{function=\"{function}\",module=\"{}\",result=\"{result}\"}}",
            module_path!()
        )
    };
    // Before any call: the `error` series of both Results exist at zero.
    let text = obs_runtime::encode_text();
    assert!(text.contains(&format!("{} 0\n", series("ui_alias", "aliased", "error"))), "{text}");
    assert!(text.contains(&format!("{} 0\n", series("ui_io", "io_result", "error"))), "{text}");
    assert!(!text.contains(&series("ui_not_result", "search", "error")), "{text}");

    assert!(aliased(true).is_err());
    assert!(io_result(true).is_err());
    assert_eq!(search().0, 3);
    assert!(parse::<u8>("x").is_err());

    let text = obs_runtime::encode_text();
    assert!(text.contains(&format!("{} 1\n", series("ui_alias", "aliased", "error"))), "{text}");
    assert!(text.contains(&format!("{} 1\n", series("ui_io", "io_result", "error"))), "{text}");
    assert!(text.contains(&format!("{} 1\n", series("ui_not_result", "search", "ok"))), "{text}");
    assert!(text.contains(&format!("{} 1\n", series("ui_generic_result", "parse", "error"))), "{text}");
}
