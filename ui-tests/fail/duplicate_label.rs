use obs_runtime::instrumented;

#[instrumented(labels(table = "users", table = "orders"))]
fn query() {}

fn main() {}
