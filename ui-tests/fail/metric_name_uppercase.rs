use obs_runtime::instrumented;

#[instrumented(metric = "DbQuery")]
fn query() {}

fn main() {}
