use obs_runtime::instrumented;

#[instrumented(metric = 5, in_flight = "yes")]
fn query() {}

fn main() {}
