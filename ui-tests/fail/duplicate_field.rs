use obs_runtime::instrumented;

#[instrumented(fields(id, id))]
fn load(id: u64) {
    let _ = id;
}

fn main() {}
