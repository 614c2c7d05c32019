use obs_runtime::health_check;

#[health_check("Primary Database")]
async fn database() -> Result<(), String> {
    Ok(())
}

fn main() {}
