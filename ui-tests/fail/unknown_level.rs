use obs_runtime::instrumented;

#[instrumented(level = "verbose")]
fn query() {}

fn main() {}
