use obs_runtime::instrumented;

#[instrumented(fields(password))]
fn login(password: &str) {
    let _ = password;
}

fn main() {}
