use obs_runtime::instrumented;

#[instrumented(labels(shard = id % 4))]
fn load(id: u64) {
    let _ = id;
}

fn main() {}
