use obs_runtime::instrumented;

#[instrumented(buckets = "fast")]
fn query() {}

fn main() {}
