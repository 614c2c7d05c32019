use obs_runtime::health_check;

#[health_check("database", timeout = "90s")]
async fn database() -> Result<(), String> {
    Ok(())
}

fn main() {}
