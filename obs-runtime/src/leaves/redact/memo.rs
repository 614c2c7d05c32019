//! What a thread remembers of its earlier verdicts: which names are
//! sensitive, and which texts held nothing to hide. Requests repeat the
//! same header names and mostly the same values (`Host`, `User-Agent`,
//! `Accept`), spans the same attribute keys; where the cheap filters can't
//! settle a name or a text at once, the full check of one header cost
//! thousands of instructions, paid again on every request.
//!
//! Only exact texts are remembered, and only clean ones: `redact` depends
//! on nothing but its input, so a text equal to one found clean is clean,
//! and a text with something to hide is redacted every time. Each table is
//! a fixed number of slots, a name or text going to the one slot its hash
//! picks and replacing what was there: a lookup is one hash and one
//! comparison whatever the input (no chain to walk, so no input can make
//! it slow, and a crafted collision only costs a check), input that never
//! repeats costs an allocation per check and no more memory, and a name or
//! text past the length bound is never kept.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

/// Slots per table, per thread.
const SLOTS: usize = 256;
/// The longest name kept.
const MAX_NAME_LEN: usize = 128;
/// The longest text kept: with [`SLOTS`], 64 KiB of texts per thread.
const MAX_TEXT_LEN: usize = 256;

/// One table: each slot holds the last key that hashed to it.
struct Slots<V> {
    seed: u64,
    slots: Vec<Option<(Box<str>, V)>>,
}

impl<V: Copy> Slots<V> {
    fn new() -> Self {
        use std::hash::{BuildHasher as _, Hasher as _};
        // A seed per thread, so which keys share a slot can't be known
        // from outside.
        let mut seed = std::collections::hash_map::RandomState::new().build_hasher();
        seed.write_u8(0);
        Self {
            seed: seed.finish(),
            slots: (0..SLOTS).map(|_| None).collect(),
        }
    }

    /// The slot `key` goes to: a multiply-rotate hash of its words.
    fn index(&self, key: &str) -> usize {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.seed ^ key.len() as u64;
        let (words, rest) = key.as_bytes().as_chunks::<8>();
        for word in words {
            h = (h.rotate_left(5) ^ u64::from_le_bytes(*word)).wrapping_mul(K);
        }
        let mut last = [0u8; 8];
        last.get_mut(..rest.len())
            .unwrap_or_default()
            .copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
        // The high bits are the best mixed.
        (h >> 56) as usize % SLOTS
    }

    fn get(&self, key: &str) -> Option<V> {
        match self.slots.get(self.index(key)) {
            Some(Some((held, value))) if **held == *key => Some(*value),
            _ => None,
        }
    }

    fn put(&mut self, key: &str, value: V) {
        let index = self.index(key);
        if let Some(slot) = self.slots.get_mut(index) {
            *slot = Some((key.into(), value));
        }
    }
}

thread_local! {
    static NAMES: RefCell<Slots<bool>> = RefCell::new(Slots::new());
    static CLEAN: RefCell<Slots<()>> = RefCell::new(Slots::new());
}

/// [`is_sensitive_name`](super::is_sensitive_name), remembered for the
/// names its filter can't settle.
pub(crate) fn is_sensitive_name(name: &str) -> bool {
    if !super::names::may_be_sensitive(name) {
        return false;
    }
    let check = || crate::leaves::schema::is_sensitive_field(name);
    if name.len() > MAX_NAME_LEN {
        return check();
    }
    NAMES.with(|names| {
        let Ok(mut names) = names.try_borrow_mut() else {
            return check();
        };
        if let Some(sensitive) = names.get(name) {
            return sensitive;
        }
        let sensitive = check();
        names.put(name, sensitive);
        sensitive
    })
}

/// Slots of the verdicts on names known by their address.
const ADDRESS_SLOTS: usize = 64;

thread_local! {
    /// Each slot: the address and length of a `'static` name, and whether
    /// it is sensitive; address 0 is an empty slot (no `str` lives there).
    static BY_ADDRESS: [Cell<(usize, usize, bool)>; ADDRESS_SLOTS] =
        const { [const { Cell::new((0, 0, false)) }; ADDRESS_SLOTS] };
}

/// [`is_sensitive_name`] for a name that lives for the whole program (a
/// field name of a `tracing` callsite), remembered by its address: the
/// same address and length are the same bytes, so a lookup compares two
/// words instead of hashing and comparing the text. A log line asks this
/// of each of its field names.
pub(crate) fn is_sensitive_static_name(name: &'static str) -> bool {
    let address = name.as_ptr() as usize;
    let index = (address >> 3 ^ address >> 11) % ADDRESS_SLOTS;
    BY_ADDRESS.with(|slots| {
        let Some(slot) = slots.get(index) else {
            return is_sensitive_name(name);
        };
        let (held, len, sensitive) = slot.get();
        if held == address && len == name.len() {
            return sensitive;
        }
        let sensitive = is_sensitive_name(name);
        slot.set((address, name.len(), sensitive));
        sensitive
    })
}

/// [`redact`](super::redact), remembering which texts were clean.
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    if text.len() > MAX_TEXT_LEN {
        return super::redact(text);
    }
    // A few bytes are pre-scanned for less than a lookup costs.
    if text.len() < 8 && !super::scanner::may_hide_something(text.as_bytes()) {
        return Cow::Borrowed(text);
    }
    let known = CLEAN.with(|clean| {
        clean
            .try_borrow()
            .is_ok_and(|clean| clean.get(text).is_some())
    });
    // Text that no detector could start on is clean at once: not worth a
    // slot.
    if known || !super::scanner::may_hide_something(text.as_bytes()) {
        return Cow::Borrowed(text);
    }
    let shown = super::redact(text);
    if matches!(shown, Cow::Borrowed(_)) {
        CLEAN.with(|clean| {
            if let Ok(mut clean) = clean.try_borrow_mut() {
                clean.put(text, ());
            }
        });
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_verdicts_are_the_verdicts() {
        for name in [
            "host",
            "x-api-key",
            "authorization",
            "accept",
            "X-Pass",
            "bypass",
        ] {
            for _ in 0..2 {
                assert_eq!(
                    is_sensitive_name(name),
                    super::super::is_sensitive_name(name),
                    "{name}"
                );
            }
        }
        for text in [
            "127.0.0.1:38080",
            "curl/8.5.0",
            "paid by ada@example.com",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.0.0",
            "card 4111 1111 1111 1111",
        ] {
            for _ in 0..2 {
                assert_eq!(redact(text), super::super::redact(text), "{text}");
            }
        }
    }

    #[test]
    fn a_secret_is_never_remembered_as_clean() {
        let secret = "key=AKIAIOSFODNN7EXAMPLE";
        for _ in 0..3 {
            assert!(matches!(redact(secret), Cow::Owned(_)));
        }
        assert!(CLEAN.with(|c| c.borrow().get(secret).is_none()));
    }

    /// The bytes of the texts the clean table holds.
    fn held_bytes() -> usize {
        CLEAN.with(|c| {
            c.borrow()
                .slots
                .iter()
                .flatten()
                .map(|(k, ())| k.len())
                .sum()
        })
    }

    #[test]
    fn the_tables_stay_bounded_whatever_comes() {
        for i in 0..(3 * SLOTS) {
            let text = format!("10.0.{}.{}:8080", i / 256, i % 256);
            assert_eq!(redact(&text), text.as_str());
            assert!(is_sensitive_name(&format!("x-pass-{i}")));
        }
        assert!(CLEAN.with(|c| c.borrow().slots.len()) == SLOTS);
        assert!(NAMES.with(|n| n.borrow().slots.len()) == SLOTS);
        assert!(held_bytes() <= SLOTS * MAX_TEXT_LEN);
        // Too long to keep: checked every time, never stored.
        let long = format!("{}:1", "1.".repeat(MAX_TEXT_LEN));
        let before = held_bytes();
        assert_eq!(redact(&long), long.as_str());
        assert_eq!(held_bytes(), before);
    }

    #[test]
    fn a_repeated_text_is_found_in_its_slot() {
        let text = "203.0.113.7:443";
        let _ = redact(text);
        assert!(CLEAN.with(|c| c.borrow().get(text).is_some()));
        assert!(CLEAN.with(|c| c.borrow().get("203.0.113.7:444").is_none()));
    }

    #[test]
    fn verdicts_by_address_are_the_verdicts() {
        static NAMES: [&str; 6] = ["password", "route", "x-api-key", "status", "token", ""];
        for _ in 0..2 {
            for name in NAMES {
                assert_eq!(
                    is_sensitive_static_name(name),
                    super::super::is_sensitive_name(name),
                    "{name:?}"
                );
            }
        }
        // More names than slots: every lookup still answers right.
        let many: Vec<&'static str> = (0..4 * ADDRESS_SLOTS)
            .map(|i| {
                &*Box::leak(
                    if i % 3 == 0 {
                        format!("secret_{i}")
                    } else {
                        format!("field_{i}")
                    }
                    .into_boxed_str(),
                )
            })
            .collect();
        for _ in 0..2 {
            for name in &many {
                assert_eq!(
                    is_sensitive_static_name(name),
                    name.starts_with("secret"),
                    "{name}"
                );
            }
        }
    }
}
