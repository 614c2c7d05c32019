//! Checks the function's signature: what the runner can't call (a sync
//! function, arguments, generics, no return type) is reported at the exact
//! token, with what to write instead.

use syn::{ItemFn, ReturnType};

use crate::ctxt::Ctxt;

/// Reports what the runner can't call: a sync function, arguments,
/// generics, a missing return type. Returns whether the signature is
/// usable.
pub(super) fn check_signature(cx: &mut Ctxt, func: &ItemFn) -> bool {
    let sig = &func.sig;
    let name = &sig.ident;
    let mut ok = true;
    if sig.asyncness.is_none() {
        cx.error(
            sig.fn_token,
            format_args!("a health check is an `async fn`: the runner awaits it under its timeout; write `async fn {name}()`"),
        );
        ok = false;
    }
    if !sig.inputs.is_empty() {
        cx.error(
            &sig.inputs,
            "a health check takes no arguments: the runner has none to give; reach shared state such as a pool through a `static` that `main` fills (`static POOL: OnceLock<Pool>`)",
        );
        ok = false;
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        cx.error(
            &sig.generics,
            "a health check can't be generic: the runner calls it with no types to choose; write a concrete function",
        );
        ok = false;
    }
    if let Some(c) = &sig.constness {
        cx.error(c, "a health check can't be a `const fn`");
        ok = false;
    }
    if let ReturnType::Default = sig.output {
        cx.error(
            name,
            format_args!("a health check returns `Result<(), E>` or `Result<Observed, E>` with `E: Display`: write `async fn {name}() -> Result<(), MyError>`"),
        );
        ok = false;
    }
    ok
}
