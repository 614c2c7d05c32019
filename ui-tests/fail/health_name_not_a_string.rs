use obs_runtime::health_check;

#[health_check(database)]
async fn database() -> Result<(), String> {
    Ok(())
}

fn main() {}
