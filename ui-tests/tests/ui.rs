//! Compile-fail and compile-pass tests of `#[instrumented]`.
//!
//! `fail/*.rs` must fail to build with the messages recorded in the `.stderr`
//! file next to each case; `pass/*.rs` must build and run. Paths are relative
//! to this crate's root. Regenerate the snapshots with
//! `TRYBUILD=overwrite cargo test -p ui-tests`, then read every changed one.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("fail/*.rs");
    t.pass("pass/*.rs");
}
