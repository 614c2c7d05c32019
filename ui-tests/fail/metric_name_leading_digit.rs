use obs_runtime::instrumented;

#[instrumented(metric = "2db_query")]
fn query() {}

fn main() {}
