use obs_runtime::instrumented;

#[instrumented(labels(model = nope))]
fn call(name: bool) {
    let _ = name;
}

fn main() {}
