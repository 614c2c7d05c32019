use obs_runtime::{LabelSet, LabelValue};

#[derive(LabelValue, Clone, Copy)]
enum Method {
    Get,
    Post,
}

// `endpoint: String` would create a series per distinct path.
#[derive(LabelSet, Clone)]
struct HttpLabels {
    method: Method,
    endpoint: String,
}

fn main() {}
