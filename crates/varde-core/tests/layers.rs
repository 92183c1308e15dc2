//! The layers as the manifests declare them: the core on top of the port, the backends below it knowing only the
//! port. A backend that came to depend on the core (or on a web crate) could run use cases of its own again, and
//! every change would once more be made in three places; this test fails first.

use std::path::Path;

/// The workspace crates `krate` depends on at run time (its `[dependencies]`, not its tests').
fn dependencies(krate: &str) -> Vec<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let table: toml::Table = text.parse().expect("a manifest parses");
    let deps = table.get("dependencies").and_then(|d| d.as_table()).cloned().unwrap_or_default();
    deps.keys().filter(|name| name.starts_with("varde")).cloned().collect()
}

#[test]
fn the_backends_know_the_port_and_not_the_core() {
    for backend in ["varde-store-sqlite", "varde-store-postgres"] {
        let deps = dependencies(backend);
        assert!(deps.contains(&"varde-store".to_owned()), "{backend} implements the port: {deps:?}");
        for above in ["varde-core", "varde-web", "varde-advisory-web", "varde"] {
            assert!(!deps.contains(&above.to_owned()), "{backend} must not depend on {above}: {deps:?}");
        }
    }
}

#[test]
fn the_port_knows_no_use_case_and_the_core_no_backend() {
    let port = dependencies("varde-store");
    assert!(!port.contains(&"varde-core".to_owned()), "the port depends on the core: {port:?}");
    let core = dependencies("varde-core");
    for backend in ["varde-store-sqlite", "varde-store-postgres"] {
        assert!(!core.contains(&backend.to_owned()), "the core depends on {backend}: {core:?}");
    }
}

#[test]
fn pages_api_and_commands_reach_the_core() {
    for caller in ["varde-web", "varde"] {
        let deps = dependencies(caller);
        assert!(deps.contains(&"varde-core".to_owned()), "{caller} calls the application: {deps:?}");
    }
    // Only the binary, which wires a backend under the core, names a backend.
    let web = dependencies("varde-web");
    for backend in ["varde-store-sqlite", "varde-store-postgres"] {
        assert!(!web.contains(&backend.to_owned()), "varde-web names {backend}: {web:?}");
    }
}

/// No file-level import cycle in any crate: a module that names another (by `crate::` path or `super::`) must not be
/// named back, directly or round a ring, or the files can no longer be understood — or moved into crates — one at a
/// time. (Doc links count too: they are read as references.)
#[test]
fn no_file_imports_another_that_imports_it_back() {
    use std::collections::{BTreeMap, BTreeSet};
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path_re = regex::Regex::new(r"(crate|super)::((?:\w+::)*\w+)").unwrap();
    let group_re = regex::Regex::new(r"use crate::\{([^;]*)\};").unwrap();
    let mut cycles = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap().map(|e| e.unwrap().path()) {
        let src = krate.join("src");
        if !src.is_dir() {
            continue;
        }
        // Module path ("a::b") → file.
        let mut files: BTreeMap<String, std::path::PathBuf> = BTreeMap::new();
        let mut stack = vec![src.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
                if entry.is_dir() {
                    stack.push(entry);
                } else if entry.extension().is_some_and(|e| e == "rs") {
                    let rel = entry.strip_prefix(&src).unwrap().with_extension("");
                    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                        parts.pop();
                    }
                    files.insert(parts.join("::"), entry);
                }
            }
        }
        let longest = |path: &[&str]| -> Option<String> {
            (1..=path.len()).rev().map(|k| path[..k].join("::")).find(|c| files.contains_key(c))
        };
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (module, file) in &files {
            let text = std::fs::read_to_string(file).unwrap();
            // A file's own unit tests may use anything.
            let text = text.split("#[cfg(test)]\nmod tests {").next().unwrap_or(&text);
            let parent: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
            let parent = &parent[..parent.len().saturating_sub(1)];
            let mut refs = BTreeSet::new();
            for c in path_re.captures_iter(text) {
                let tail: Vec<&str> = c[2].split("::").collect();
                let full: Vec<&str> =
                    if &c[1] == "super" { parent.iter().copied().chain(tail).collect() } else { tail };
                refs.extend(longest(&full));
            }
            for c in group_re.captures_iter(text) {
                for item in c[1].split(',') {
                    let item = item.trim().split(' ').next().unwrap_or("").replace(['{', '}'], "");
                    let path: Vec<&str> = item.split("::").filter(|s| !s.is_empty()).collect();
                    refs.extend(longest(&path));
                }
            }
            // A module's own ancestors (its mod.rs, lib.rs) are where it is declared, not an import.
            refs.retain(|r| r != module && !r.is_empty() && !module.starts_with(&format!("{r}::")));
            graph.insert(module.clone(), refs);
        }
        // A cycle: some module reaches itself.
        for start in graph.keys() {
            let mut seen = BTreeSet::new();
            let mut todo: Vec<&String> = graph[start].iter().collect();
            while let Some(m) = todo.pop() {
                if m == start {
                    cycles.push(format!("{}: {start}", krate.file_name().unwrap().to_string_lossy()));
                    break;
                }
                if seen.insert(m.clone()) {
                    todo.extend(graph.get(m).into_iter().flatten());
                }
            }
        }
    }
    assert!(cycles.is_empty(), "modules in an import cycle: {cycles:?}");
}
