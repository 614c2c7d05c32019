use obs_runtime::LabelValue;

// A union has no variants to render as values.
#[derive(LabelValue)]
union Raw {
    code: u32,
    ratio: f32,
}

fn main() {}
