//! Embeds the official OCPP JSON schemas (`schemas/v16`, `schemas/v201`) into the crate, so
//! validation is on by default without any file beside the binary.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut out = String::new();
    for (name, dir) in [("V16", "v16"), ("V201", "v201")] {
        let dir = root.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no schemas in {}", dir.display());
        writeln!(out, "/// The {dir:?} schemas: (file stem, text).").unwrap();
        writeln!(out, "pub(crate) static {name}: &[(&str, &str)] = &[").unwrap();
        for path in files {
            let stem = path.file_stem().unwrap().to_str().unwrap();
            writeln!(
                out,
                "    ({stem:?}, include_str!({:?})),",
                path.display().to_string()
            )
            .unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_schemas.rs");
    std::fs::write(dest, out).unwrap();
}
