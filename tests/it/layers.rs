//! The layers of `src/` (README, ARCHITECTURE): every top-level module may use only the modules
//! below it in [`LAYERS`], so no import cycle can form. The test reads the sources: a
//! `crate::module` path (in a `use` or inline, grouped `use crate::{a, b}` included) outside
//! comments and outside the module's `#[cfg(test)]` items is a dependency.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top. A module depends only on modules listed before it.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "platform",
        &[
            "allocator",
            "db",
            "signing",
            "clock",
            "machine",
            "pdf",
            "telemetry",
            "config",
            "error",
            "http",
            "jobs",
            "auth",
            "mail",
            "app",
            "audit",
        ],
    ),
    (
        "reference",
        &["catalogue", "credentials", "calendar", "rounds"],
    ),
    (
        "capabilities",
        &[
            "documents",
            "opendata",
            "sanctions",
            "accounts",
            "institutions",
            "applications",
            "pool",
            "contracts",
            "exits",
            "notices",
            "objections",
            "review",
        ],
    ),
    (
        "notifications, operations and pages",
        &["notify", "ops", "web"],
    ),
    (
        "composition root",
        &["demo", "routes", "openapi", "startup", "cli"],
    ),
];

/// Dependencies that still point up, each with what removing it takes. The test fails on any
/// other upward dependency, and on an entry here that is no longer needed.
const KNOWN_UPWARD: &[(&str, &str, &str)] = &[];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level modules of `src/` (files and folders, without `lib.rs` and `main.rs`).
fn top_level_modules() -> BTreeSet<String> {
    std::fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            if p.is_dir() {
                Some(name)
            } else {
                name.strip_suffix(".rs").map(str::to_owned)
            }
        })
        .filter(|m| m != "lib" && m != "main")
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without comments, string literals' contents and `#[cfg(test)]` items.
fn code_only(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_string = false;
                    out.push('"');
                }
                _ => {}
            }
            continue;
        }
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                in_string = true;
                out.push('"');
            }
            _ => out.push(c),
        }
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The modules a piece of code names through `crate::`.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d::{e, f}}`: the first segment of each top-level item.
            let mut depth = 0;
            let mut item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_ascii_alphanumeric() || c == '_') => {
                        found.insert(ident_at(&group[j..]).to_owned());
                        item_start = false;
                    }
                    c if c.is_whitespace() => {}
                    _ => item_start = false,
                }
            }
        } else {
            found.insert(ident_at(rest).to_owned());
        }
    }
    found
}

/// Module → the other top-level modules it uses, with one file that shows each use.
fn dependencies() -> BTreeMap<String, BTreeMap<String, String>> {
    let modules = top_level_modules();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut deps: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src()).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        let module = first.strip_suffix(".rs").unwrap_or(first).to_owned();
        if !modules.contains(&module) {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        for used in named_modules(&code) {
            if used != module && modules.contains(&used) {
                deps.entry(module.clone())
                    .or_default()
                    .entry(used)
                    .or_insert_with(|| rel.display().to_string());
            }
        }
    }
    deps
}

#[test]
fn every_top_level_module_has_a_layer() {
    let listed: Vec<&str> = LAYERS.iter().flat_map(|(_, m)| m.iter().copied()).collect();
    let listed_set: BTreeSet<String> = listed.iter().map(|m| (*m).to_owned()).collect();
    assert_eq!(listed.len(), listed_set.len(), "a module is listed twice");
    assert_eq!(
        top_level_modules(),
        listed_set,
        "LAYERS must list exactly the top-level modules of src/"
    );
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let rank: BTreeMap<&str, usize> = LAYERS
        .iter()
        .flat_map(|(_, m)| m.iter().copied())
        .enumerate()
        .map(|(i, m)| (m, i))
        .collect();
    let mut upward = Vec::new();
    let mut known_seen = BTreeSet::new();
    for (module, used) in dependencies() {
        for (dep, file) in used {
            if rank.get(dep.as_str()) >= rank.get(module.as_str()) {
                if let Some(known) = KNOWN_UPWARD
                    .iter()
                    .find(|(m, d, _)| *m == module && *d == dep)
                {
                    known_seen.insert(known.0);
                    continue;
                }
                upward.push(format!("{module} → {dep} (in src/{file})"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "dependencies that point up (or sideways to a later module) in LAYERS:\n  {}",
        upward.join("\n  ")
    );
    let stale: Vec<&str> = KNOWN_UPWARD
        .iter()
        .map(|(m, _, _)| *m)
        .filter(|m| !known_seen.contains(m))
        .collect();
    assert!(
        stale.is_empty(),
        "no longer needed in KNOWN_UPWARD: {stale:?}"
    );
}

#[test]
fn the_scanner_sees_grouped_and_inline_paths_and_skips_comments() {
    let code = code_only(
        "use crate::{a, b::c, d::{e, f}};\n\
         // crate::commented\n\
         let x = crate::g::h(\"crate::in_string\");\n\
         /* crate::block */\n\
         #[cfg(test)]\nmod tests { use crate::test_only; }",
    );
    let names: Vec<String> = named_modules(&code).into_iter().collect();
    assert_eq!(names, ["a", "b", "d", "g"]);
}
