use obs_runtime::LabelSet;

#[derive(LabelSet, Clone, Copy)]
struct LatencyLabels {
    le: &'static str,
}

fn main() {}
