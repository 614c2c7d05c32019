#![deny(unused_attributes)]

use obs_runtime::instrumented;

/// Doubles `x`. The doc comment, `#[must_use]` and `#[inline]` stay on the
/// generated function.
#[instrumented]
#[must_use = "the doubled value is the point"]
#[inline]
fn double(x: u32) -> u32 {
    x * 2
}

// Only one of the two survives `cfg`; if the macro dropped the attribute,
// this would be a duplicate definition.
#[instrumented]
#[cfg(any())]
fn pick() -> u8 {
    1
}

#[instrumented]
#[cfg(all())]
fn pick() -> u8 {
    2
}

#[cfg_attr(all(), instrumented)]
#[allow(clippy::needless_return)]
fn via_cfg_attr() -> u8 {
    return 3;
}

#[instrumented]
#[allow(unused_variables)]
fn quiet(unused: u8) {}

fn main() {
    let _ = double(1);
    assert_eq!(double(2), 4);
    assert_eq!(pick(), 2);
    assert_eq!(via_cfg_attr(), 3);
    quiet(0);
}
