//! The structure docs/architecture.md promises, checked on the sources: no file-level import
//! loops inside a crate, and the crate floors (core and health pure, service crates never
//! importing each other). A change that breaks either fails here, not in a later review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
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

/// `a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs` is the root, "".
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// The code of a file without comments and without its test module.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Paths a file names: `crate::a::b…` (also inside `use crate::{a, b::c}` groups) and, for
/// paths written after such a `use`, any `a::b` that is a module of the crate.
fn referenced_paths(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let flat: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let mut rest = flat.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        expand("", rest, &mut paths);
    }
    for m in modules.iter().filter(|m| m.contains("::")) {
        let found = flat.match_indices(m.as_str()).any(|(i, _)| {
            let before = flat[..i].chars().last();
            let after = flat[i + m.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        });
        if found {
            paths.insert(m.clone());
        }
    }
    paths
}

/// Adds the paths that `text` (what follows `prefix::`) starts with; groups `{a, b::c}` expand.
fn expand(prefix: &str, text: &str, out: &mut BTreeSet<String>) {
    let join = |p: &str, s: &str| {
        if p.is_empty() {
            s.to_string()
        } else {
            format!("{p}::{s}")
        }
    };
    if let Some(inner) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut item = String::new();
        for c in inner.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(prefix, &item, out);
                    item.clear();
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        expand(prefix, &item, out);
        return;
    }
    let ident: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if ident.is_empty() {
        return;
    }
    let path = join(prefix, &ident);
    let after = &text[ident.len()..];
    match after.strip_prefix("::") {
        Some(next) => expand(&path, next, out),
        None => {
            out.insert(path);
        }
    }
}

/// The file-level import graph of the crate in `dir`.
fn import_graph(dir: &str) -> BTreeMap<String, BTreeSet<String>> {
    let src = workspace().join(dir).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let resolve = |path: &str| {
        let parts: Vec<&str> = path.split("::").collect();
        (1..=parts.len())
            .rev()
            .map(|n| parts[..n].join("::"))
            .find(|m| modules.contains(m))
    };
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let text = code(&std::fs::read_to_string(file).unwrap());
        let mut deps = BTreeSet::new();
        for path in referenced_paths(&text, &modules) {
            if let Some(target) = resolve(&path)
                && !target.is_empty()
                && target != module
            {
                deps.insert(target);
            }
        }
        // `super::x` from a file is its parent module's `x`.
        let parent = module.rsplit_once("::").map_or("", |(p, _)| p).to_string();
        for (i, _) in text.match_indices("super::") {
            let rest: String = text[i + "super::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let path = if parent.is_empty() {
                rest
            } else {
                format!("{parent}::{rest}")
            };
            if let Some(target) = resolve(&path)
                && !target.is_empty()
                && target != module
            {
                deps.insert(target);
            }
        }
        graph.insert(module, deps);
    }
    graph
}

/// The strongly connected components with more than one file (Tarjan).
fn loops(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

#[test]
fn the_loop_finder_finds_a_planted_loop() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(loops(&graph), vec![vec!["a", "b", "c"]]);
    let modules: BTreeSet<String> = ["x::y".to_string()].into();
    let paths = referenced_paths(
        "use crate::{a::{b, c}, d};\nfn f() { x::y::g(); crate::e::f(); }",
        &modules,
    );
    for p in ["a::b", "a::c", "d", "x::y", "e::f"] {
        assert!(paths.contains(p), "{p} in {paths:?}");
    }
}

#[test]
fn no_crate_has_a_file_level_import_loop() {
    let mut found = Vec::new();
    for dir in [
        "core",
        "acn",
        "ocpp",
        "store",
        "records",
        "ocpp-gateway",
        "scheduler",
        "api",
        "health",
        "simulations",
        "chargegrid",
    ] {
        let graph = import_graph(dir);
        assert!(graph.contains_key(""), "{dir}: no sources read");
        for component in loops(&graph) {
            found.push(format!("{dir}: {}", component.join(" → ")));
        }
    }
    assert!(found.is_empty(), "import loops:\n{}", found.join("\n"));
}

/// The workspace crates a crate's `[dependencies]` name.
fn workspace_deps(dir: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(workspace().join(dir).join("Cargo.toml")).unwrap();
    let deps = text
        .split("[dependencies]")
        .nth(1)
        .unwrap_or_default()
        .split("\n[")
        .next()
        .unwrap_or_default();
    deps.lines()
        .filter_map(|l| l.split(['.', ' ', '=']).next())
        .filter(|name| name.starts_with("chargegrid"))
        .map(String::from)
        .collect()
}

#[test]
fn the_crate_floors_hold() {
    let deps = |dir| workspace_deps(dir);
    assert!(deps("core").is_empty(), "core: {:?}", deps("core"));
    let pure = ["chargegrid-core".to_string()].into();
    assert_eq!(deps("health"), pure, "health is pure: core only");
    assert_eq!(deps("acn"), pure);
    assert_eq!(
        deps("records"),
        pure,
        "records: core only, beside the live store"
    );
    // `health` is a pure library (its worker lives in the binary): the API may use it.
    let services = [
        ("ocpp-gateway", "chargegrid-ocpp-gateway"),
        ("scheduler", "chargegrid-scheduler"),
        ("api", "chargegrid-api"),
    ];
    for (dir, _) in services {
        let d = deps(dir);
        for (_, other) in services {
            assert!(
                !d.contains(other),
                "{dir} imports the service crate {other}"
            );
        }
        assert!(!d.contains("chargegrid"), "{dir} imports the binary");
    }
    assert!(
        deps("ocpp-gateway").contains("chargegrid-ocpp"),
        "the check reads real manifests"
    );
}
