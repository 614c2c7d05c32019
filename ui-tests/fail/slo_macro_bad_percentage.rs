fn main() {
    let _full = obs_runtime::slo!(success = "100%");
    let _fraction = obs_runtime::slo!(latency = "250ms", percentile = "0.99");
}
