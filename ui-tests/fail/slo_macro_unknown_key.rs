fn main() {
    let _objective = obs_runtime::slo!(success = "99.9%", target = "99%");
}
