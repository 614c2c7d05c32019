use obs_runtime::instrumented;

#[instrumented(metric = "db-query")]
fn query() {}

fn main() {}
