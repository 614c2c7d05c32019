//! The option parsers of `#[instrumented]`, `#[health_check]`, `slo!` and
//! the derives, on arbitrary token streams. `obs-macros` is a proc-macro crate,
//! which can't be linked as a library, and its `lib.rs` only hands
//! `proc_macro` tokens to one `expand` per macro; so this target compiles
//! the crate's other modules into itself by path, at the same places in the
//! module tree (they name each other through `crate::`), and calls those
//! `expand` functions with `proc_macro2` tokens. A module added to
//! obs-macros must be added here too; the build says so.
//!
//! Checked: no panic on any input; the output (the expansion, or the item
//! beside a `compile_error!`) is always items, never tokens that don't
//! parse, whenever the input item parsed; `slo!`'s is always one
//! expression.
//!
//! Input: fields split at `0x00`: the attribute's arguments, then the item.

#![allow(dead_code, unreachable_pub, clippy::all, clippy::pedantic)]

#[path = "../../../../obs-macros/src/buckets.rs"]
mod buckets;
#[path = "../../../../obs-macros/src/ctxt.rs"]
mod ctxt;
#[path = "../../../../obs-macros/src/derive/mod.rs"]
mod derive;
#[path = "../../../../obs-macros/src/health_check/mod.rs"]
mod health_check;
#[path = "../../../../obs-macros/src/instrumented/mod.rs"]
mod instrumented;
#[path = "../../../../obs-macros/src/objective.rs"]
mod objective;
#[path = "../../../../obs-macros/src/options.rs"]
mod options;
#[path = "../../../../obs-macros/src/schema.rs"]
mod schema;
#[path = "../../../../obs-macros/src/slo.rs"]
mod slo;

use proc_macro2::TokenStream;

/// The expansion must be items; `what` names the macro for the message.
fn assert_items(what: &str, args: &str, item: &str, out: &TokenStream) {
    if let Err(e) = syn::parse2::<syn::File>(out.clone()) {
        panic!("{what}({args:?}) on {item:?} expanded to tokens that don't parse ({e}):\n{out}");
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let fields = obs_fuzz::fields(data);
        let field = |i: usize| fields.get(i).map_or("", String::as_str);
        let (args_text, item_text) = (field(0), field(1));
        // Only what lexes reaches a macro: rustc lexes before it expands.
        let (Ok(args), Ok(item)) = (
            args_text.parse::<TokenStream>(),
            item_text.parse::<TokenStream>(),
        ) else {
            return;
        };
        // syn takes a bare trait object (`-> Result<(), E> +`) that rustc
        // rejects since edition 2021; the expansion need not parse then.
        let item_parses = match syn::parse2::<syn::Item>(item.clone()) {
            Ok(syn::Item::Fn(f)) => !matches!(
                &f.sig.output,
                syn::ReturnType::Type(_, ty)
                    if matches!(&**ty, syn::Type::TraitObject(t) if t.dyn_token.is_none())
            ),
            Ok(_) => true,
            Err(_) => false,
        };
        // `slo!` takes the arguments alone, and expands to an expression.
        let out = objective::expand(args.clone());
        if let Err(e) = syn::parse2::<syn::Expr>(out.clone()) {
            panic!("slo!({args_text:?}) expanded to no expression ({e}):\n{out}");
        }
        let out = instrumented::expand(args.clone(), item.clone());
        if item_parses {
            assert_items("instrumented", args_text, item_text, &out);
        }
        let out = health_check::expand(args, item.clone());
        if item_parses {
            assert_items("health_check", args_text, item_text, &out);
        }
        // The derives read their options from the item's attributes.
        let bare_trait_object =
            |ty: &syn::Type| matches!(ty, syn::Type::TraitObject(t) if t.dyn_token.is_none());
        if let Ok(input) = syn::parse2::<syn::DeriveInput>(item) {
            // As above: a field typed `Method+` is a rustc error already.
            if let syn::Data::Struct(s) = &input.data
                && s.fields.iter().any(|f| bare_trait_object(&f.ty))
            {
                return;
            }
            for (what, out) in [
                ("LabelValue", derive::label_value::expand(&input)),
                ("LabelSet", derive::label_set::expand(&input)),
                ("MetricSet", derive::metric_set::expand(&input)),
            ] {
                assert_items(what, "", item_text, &out);
            }
        }
    });
}
