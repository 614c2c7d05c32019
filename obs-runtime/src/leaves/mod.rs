//! Layer 0, the leaves: rules, label traits, text and time helpers. A leaf
//! imports nothing from the layers above it; `schema` imports nothing from
//! the crate at all, so every other module can check against it.

pub mod access;
pub(crate) mod clock;
pub(crate) mod json;
pub(crate) mod labels;
pub mod redact;
pub mod schema;
pub(crate) mod sync;
pub(crate) mod text;
pub(crate) mod time;
