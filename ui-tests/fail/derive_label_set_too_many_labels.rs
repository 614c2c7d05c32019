use obs_runtime::LabelSet;

// The limit lives in the runtime's schema (`MAX_LABELS`), not the derive.
#[derive(LabelSet)]
struct Everything {
    a: bool,
    b: bool,
    c: bool,
    d: bool,
    e: bool,
    f: bool,
    g: bool,
    h: bool,
    i: bool,
    j: bool,
    k: bool,
    l: bool,
    m: bool,
    n: bool,
    o: bool,
    p: bool,
    q: bool,
}

fn main() {}
