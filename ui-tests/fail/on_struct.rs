use obs_runtime::instrumented;

#[instrumented]
struct Db;

fn main() {}
