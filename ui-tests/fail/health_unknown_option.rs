use obs_runtime::health_check;

#[health_check("database", interval = "10s", critical = "no")]
async fn database() -> Result<(), String> {
    Ok(())
}

fn main() {}
