//! The runtime's layers, checked against the table in `ARCHITECTURE.md`.
//!
//! Every module of `obs-runtime/src` has a rank in that table; a module may
//! name (`crate::…`, `super::…`) only modules of a lower rank, or itself.
//! So the imports point one way and no cycle can form. A module missing
//! from the table fails too: a new module gets its place deliberately.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/obs-runtime/src");
const ARCHITECTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ARCHITECTURE.md");

/// Items the facade (`lib.rs`) re-exports from a lower layer, which a module
/// might name by their short path; anything else under `crate::` that is no
/// module is the facade itself, which no module may import.
const FACADE_ALIASES: &[(&str, &str)] = &[
    ("LabelSet", "leaves::labels"),
    ("LabelValue", "leaves::labels"),
];

/// The proc macros, re-exported by the facade but defined in `obs-macros`.
const MACROS: &[&str] = &[
    "instrumented",
    "health_check",
    "MetricSet",
    "LabelSet",
    "LabelValue",
];

/// `module path -> rank`, from the rows between `<!-- layers -->` and
/// `<!-- /layers -->`: `| rank | layer | `module` | … |`.
fn layer_table() -> BTreeMap<String, u32> {
    let doc = fs::read_to_string(ARCHITECTURE).expect("ARCHITECTURE.md");
    let start = doc
        .find("<!-- layers -->")
        .expect("a <!-- layers --> table");
    let end = doc
        .find("<!-- /layers -->")
        .expect("a <!-- /layers --> end");
    let mut table = BTreeMap::new();
    for row in doc[start..end].lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (Some(rank), Some(module)) = (cells.get(1), cells.get(3)) else {
            continue;
        };
        let Ok(rank) = rank.parse::<u32>() else {
            continue; // the header and its rule
        };
        for module in module.split(',') {
            let module = module.trim().trim_matches('`');
            assert!(
                table.insert(module.to_owned(), rank).is_none(),
                "{module} is twice in the layer table"
            );
        }
    }
    assert!(
        table.len() > 5,
        "the layer table has too few rows: {table:?}"
    );
    table
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `subsystems/health/runner.rs` ->
/// `["subsystems", "health", "runner"]`.
fn module_path(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(SRC).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The longest prefix of `path` that is a row of the table.
fn owner<'t>(table: &'t BTreeMap<String, u32>, path: &[String]) -> Option<(&'t str, u32)> {
    (1..=path.len()).rev().find_map(|n| {
        let key = path[..n].join("::");
        table.get_key_value(&key).map(|(k, r)| (k.as_str(), *r))
    })
}

/// The code of a file without comments and without its test module.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| l.split(" // ").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A path a file names: from the crate root, or relative to the file's
/// module (which an inline `mod` in the file deepens by one).
#[derive(Debug, PartialEq)]
enum Resolved {
    Root(Vec<String>),
    Super { ups: usize, rest: Vec<String> },
}

impl Resolved {
    /// The candidate absolute paths: for `super::`, from the file's module,
    /// then as if written inside an inline module of the file.
    fn candidates(&self, own: &[String]) -> Vec<Vec<String>> {
        match self {
            Self::Root(path) => vec![path.clone()],
            Self::Super { ups, rest } => (0..2)
                .filter_map(|inline| {
                    let keep = (own.len() + inline).checked_sub(*ups)?;
                    let mut base: Vec<String> = own.iter().take(keep).cloned().collect();
                    base.extend(rest.iter().cloned());
                    Some(base)
                })
                .collect(),
        }
    }
}

/// Every path a file names from the crate root or its own module.
fn named_paths(code: &str) -> Vec<Resolved> {
    let ident = |s: &str| -> Vec<String> {
        s.split("::")
            .map(|seg| {
                seg.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .take_while(|seg| !seg.is_empty())
            .collect()
    };
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue; // `obs_runtime::crate`-like or `$crate::`
        }
        out.push(Resolved::Root(ident(&code[i + "crate::".len()..])));
    }
    for (i, _) in code.match_indices("super::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue; // the inner `super::` of `super::super::`
        }
        let mut rest = &code[i..];
        let mut ups = 0;
        while let Some(tail) = rest.strip_prefix("super::") {
            ups += 1;
            rest = tail;
        }
        out.push(Resolved::Super {
            ups,
            rest: ident(rest),
        });
    }
    out
}

#[test]
fn every_module_imports_only_from_lower_layers() {
    let table = layer_table();
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    files.sort();
    let layer_roots = ["leaves", "metric_core", "subsystems"];
    let mut problems = Vec::new();
    for file in &files {
        let own = module_path(file);
        if own.is_empty()
            || own == ["lib"]
            || (own.len() == 1 && layer_roots.contains(&own[0].as_str()))
        {
            continue; // the facade and the layer folders' `mod` lists
        }
        let Some((me, my_rank)) = owner(&table, &own) else {
            problems.push(format!(
                "{}: module `{}` is not in ARCHITECTURE.md's layer table",
                file.display(),
                own.join("::")
            ));
            continue;
        };
        let code = code_of(&fs::read_to_string(file).expect("readable"));
        for named in named_paths(&code) {
            let candidates = named.candidates(&own);
            let path = candidates
                .iter()
                .find(|p| owner(&table, p).is_some())
                .or(candidates.first())
                .cloned()
                .unwrap_or_default();
            let Some(first) = path.first() else { continue };
            // A short public path (`crate::schema`) names the module the
            // facade re-exports: find it in the table by its last segment.
            let target = if layer_roots.contains(&first.as_str()) {
                owner(&table, &path)
            } else if let Some((_, module)) = FACADE_ALIASES.iter().find(|(a, _)| a == first) {
                table.get_key_value(*module).map(|(k, r)| (k.as_str(), *r))
            } else if MACROS.contains(&first.as_str()) {
                continue;
            } else {
                table
                    .iter()
                    .find(|(k, _)| k.rsplit("::").next() == Some(first.as_str()))
                    .map(|(k, r)| (k.as_str(), *r))
            };
            match target {
                Some((target, _)) if target == me => {}
                Some((target, rank)) if rank < my_rank => {
                    let _ = target;
                }
                Some((target, rank)) => problems.push(format!(
                    "{}: `{me}` (rank {my_rank}) imports `{target}` (rank {rank}), a module of the same or a higher layer",
                    file.display()
                )),
                None => problems.push(format!(
                    "{}: `{me}` names `crate::{}`, which is the facade (lib.rs) or unknown; import from the module that defines it",
                    file.display(),
                    path.join("::")
                )),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layer violations:\n{}",
        problems.join("\n")
    );
}

/// The checker itself catches an upward import, so a pass means something.
#[test]
fn an_upward_import_is_caught() {
    let table = layer_table();
    let own: Vec<String> = ["leaves", "schema"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let named = named_paths("use crate::subsystems::health::Probe;\nuse super::labels;");
    let paths: Vec<Vec<String>> = named.iter().map(|n| n.candidates(&own).remove(0)).collect();
    let ranks: Vec<Option<u32>> = paths
        .iter()
        .map(|p| owner(&table, p).map(|(_, r)| r))
        .collect();
    let mine = owner(&table, &own)
        .map(|(_, r)| r)
        .expect("schema is in the table");
    assert!(ranks[0].expect("health is in the table") > mine);
    assert_eq!(paths[1], ["leaves", "labels"]);
    // Comments and test modules are not imports.
    let code = code_of(
        "// crate::subsystems::init\nfn f() {}\n#[cfg(test)]\nmod tests { use crate::subsystems::init; }",
    );
    assert!(named_paths(&code).is_empty());
}
