use obs_runtime::instrumented;

// Only `&'static str` is a label value; a borrowed `&str` is unbounded.
#[instrumented(labels(region = region))]
fn lookup(region: &str) -> usize {
    region.len()
}

fn main() {}
