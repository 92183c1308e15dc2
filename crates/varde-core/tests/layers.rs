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
