use obs_runtime::health_check;

// Every rule the schema checks is reported in one build.
#[health_check("Database", timeout = "0ms", kind = "readyness")]
async fn database() -> Result<(), String> {
    Ok(())
}

fn main() {}
