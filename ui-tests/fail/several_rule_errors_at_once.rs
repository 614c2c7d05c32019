use obs_runtime::instrumented;

// Four broken rules of the schema; every one is reported in the same build.
#[instrumented(
    metric = "Db-Query",
    labels(user_id = "x", le = "y"),
    buckets = [1.0, 0.5],
    fields(password)
)]
fn login(password: &str) {
    let _ = password;
}

fn main() {}
