use obs_runtime::LabelValue;

#[derive(LabelValue, Clone, Copy)]
enum Breaker {
    Closed,
    Open,
    // A label value can't hold a newline: the exposition is line-based.
    #[label(rename = "half\nopen")]
    HalfOpen,
}

fn main() {}
