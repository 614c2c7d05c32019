//! Loom models of the bounded label family (`scripts/loom`, `--cfg
//! obs_loom`): the real `Dynamic` map (read-locked lookup, write-locked
//! re-check and insert, overflow past the cap) on loom's lock and atomics,
//! with counter cells.
//!
//! What it promises (`family.rs`): at most `cap` series, one series per
//! combination of values, every combination the cap refused counted in the
//! overflow series; so every increment lands in exactly one series and none
//! is lost.

use std::collections::HashSet;

use loom::sync::Arc;
use loom::thread;

use super::cell::CounterCell;
use super::family::Dynamic;
use crate::leaves::schema::OVERFLOW_VALUE;
use crate::leaves::sync::model;

/// The series of a family as a scrape lists them: `(value, count)`.
fn series(family: &Dynamic<CounterCell>) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    family.for_each(1, |values, cell| {
        out.push((values.concat(), cell.get()));
    });
    out
}

/// What every listing must hold, whenever it is taken.
fn assert_bounded(listed: &[(String, u64)], cap: usize) {
    let kept = listed.iter().filter(|(v, _)| v != OVERFLOW_VALUE).count();
    assert!(kept <= cap, "{kept} series past a cap of {cap}: {listed:?}");
    let distinct: HashSet<&str> = listed.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(
        distinct.len(),
        listed.len(),
        "a value listed twice: {listed:?}"
    );
}

/// With one place left under the cap, two threads insert `b` and one
/// inserts `c`, each adding 1 to the series it gets, while the main thread
/// lists the series. Whoever wins the last place, `b` is one series (or
/// both of its adds are in the overflow), and the adds all add up.
#[test]
fn loom_family_insert_at_the_cap() {
    model(2, || {
        let family = Arc::new(Dynamic::<CounterCell>::new(&(), 2));
        family.get("m", &(), &["a"]).add(1);
        let writers: Vec<_> = ["b", "c", "b"]
            .into_iter()
            .map(|v| {
                let family = Arc::clone(&family);
                thread::spawn(move || family.get("m", &(), &[v]).add(1))
            })
            .collect();
        assert_bounded(&series(&family), 2);
        for w in writers {
            w.join().unwrap();
        }
        let listed = series(&family);
        assert_bounded(&listed, 2);
        assert_eq!(family.len(), 2);
        let count = |v: &str| listed.iter().find(|(x, _)| x == v).map(|(_, n)| *n);
        assert_eq!(count("a"), Some(1));
        let total: u64 = listed.iter().map(|(_, n)| n).sum();
        assert_eq!(total, 4, "an increment was lost: {listed:?}");
        // Exactly one of `b` and `c` got the last place; the other's adds
        // are the overflow series', and so is the refusal count.
        let overflow = count(OVERFLOW_VALUE).unwrap_or(0);
        assert_eq!(family.overflowed(), overflow);
        match (count("b"), count("c")) {
            (Some(2), None) => assert_eq!(overflow, 1),
            (None, Some(1)) => assert_eq!(overflow, 2),
            other => panic!("b and c as {other:?}: {listed:?}"),
        }
    });
}

/// Below the cap, two threads insert the same new value at once: both find
/// or create one series (the writer re-checks under the write lock), so it
/// holds both adds and nothing overflows.
#[test]
fn loom_family_same_value_is_one_series() {
    model(3, || {
        let family = Arc::new(Dynamic::<CounterCell>::new(&(), 4));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let family = Arc::clone(&family);
                thread::spawn(move || family.get("m", &(), &["x"]).add(1))
            })
            .collect();
        family.get("m", &(), &["y"]).add(1);
        for w in writers {
            w.join().unwrap();
        }
        let listed = series(&family);
        assert_bounded(&listed, 4);
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(sorted, vec![("x".to_owned(), 2), ("y".to_owned(), 1)]);
        assert_eq!(family.overflowed(), 0);
    });
}
