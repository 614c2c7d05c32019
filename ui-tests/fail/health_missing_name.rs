use obs_runtime::health_check;

#[health_check(timeout = "2s")]
async fn database() -> Result<(), String> {
    Ok(())
}

fn main() {}
