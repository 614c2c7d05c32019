use obs_runtime::health_check;

#[health_check("database", kind = "ready")]
async fn database() -> Result<(), String> {
    Ok(())
}

fn main() {}
