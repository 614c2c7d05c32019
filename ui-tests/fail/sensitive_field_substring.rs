use obs_runtime::instrumented;

// `user_token` contains `token`: it is a secret all the same.
#[instrumented(fields(user_token))]
fn refresh(user_token: &str) {
    let _ = user_token;
}

fn main() {}
