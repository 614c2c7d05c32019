use obs_runtime::LabelSet;

#[derive(LabelSet, Clone, Copy)]
struct ScanLabels {
    region: &'static str,
    user_id: &'static str,
}

fn main() {}
