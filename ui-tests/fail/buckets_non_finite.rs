use obs_runtime::instrumented;

#[instrumented(buckets = [1.0, f64::INFINITY])]
fn query() {}

fn main() {}
