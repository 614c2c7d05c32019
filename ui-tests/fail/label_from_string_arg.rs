use obs_runtime::instrumented;

#[instrumented(labels(model = name))]
fn call(name: String) {
    let _ = name;
}

fn main() {}
