//! Compile-fail and compile-pass tests of the obs macros (see `tests/ui.rs`).
