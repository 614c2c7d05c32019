use obs_runtime::instrumented;

#[instrumented(metric = "db_query_total")]
fn query() {}

fn main() {}
