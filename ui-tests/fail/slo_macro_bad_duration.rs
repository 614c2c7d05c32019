fn main() {
    let _spaced = obs_runtime::slo!(latency = "250 ms", percentile = "99%");
    let _period = obs_runtime::slo!(success = "99%", period = "14d");
}
