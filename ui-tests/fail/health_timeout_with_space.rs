use obs_runtime::health_check;

#[health_check("database", timeout = "2 s")]
async fn database() -> Result<(), String> {
    Ok(())
}

fn main() {}
