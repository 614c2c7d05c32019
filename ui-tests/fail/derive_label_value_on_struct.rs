use obs_runtime::LabelValue;

// A struct of labels derives `LabelSet`, not `LabelValue`.
#[derive(LabelValue)]
struct CacheLabels {
    hit: bool,
}

fn main() {}
