use obs_runtime::instrumented;

#[derive(Debug)]
struct PayError;

impl std::fmt::Display for PayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("declined")
    }
}

// Both objectives, the default period.
#[instrumented(metric = "checkout", buckets = "latency", slo(success = "99.9%", latency = "250ms", percentile = "99%"))]
fn checkout(amount: u64) -> Result<u64, PayError> {
    if amount == 0 { Err(PayError) } else { Ok(amount) }
}

// Success alone, over 28 days.
#[instrumented(slo(success = "99.95%", period = "28d"))]
fn refund() -> Result<(), PayError> {
    Ok(())
}

// Latency alone, at a bound of an explicit list.
#[instrumented(metric = "search", buckets = [0.1, 0.3, 1.0], slo(latency = "300ms", percentile = "95%"))]
fn search() -> usize {
    3
}

fn main() {
    assert!(checkout(0).is_err());
    assert!(checkout(5).is_ok());
    refund().unwrap();
    assert_eq!(search(), 3);
}
