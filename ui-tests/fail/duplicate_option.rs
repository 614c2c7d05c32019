use obs_runtime::instrumented;

#[instrumented(metric = "db_query", metric = "db_lookup")]
fn query() {}

fn main() {}
