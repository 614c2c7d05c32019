// Every problem of one objective in one build: a part missing, a key
// repeated, a value that is not a string.
fn main() {
    let _no_percentile = obs_runtime::slo!(latency = "250ms");
    let _twice = obs_runtime::slo!(success = "99%", success = "99.9%", period = 30);
    let _empty = obs_runtime::slo!();
}
