use obs_runtime::instrumented;

#[instrumented(metric = "__db_query")]
fn query() {}

fn main() {}
