//! The shape of the workspace, checked: the crates depend on each other without a cycle, the
//! top-level modules of each crate and the files of every module directory `use` each other
//! without a cycle, and the README's "Layout" table names exactly the top-level directories of
//! the repository and the modules of each crate. Run with `--nocapture` to
//! see the graphs.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The repository root.
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A directed graph over names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The workspace members, from the root `Cargo.toml`.
fn members() -> Vec<String> {
    let manifest = fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    let line = manifest
        .lines()
        .find(|line| line.starts_with("members"))
        .expect("workspace members");
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The package name in a manifest.
fn package_name(manifest: &str) -> String {
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("name = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("package name")
        .to_owned()
}

/// Each workspace crate and the workspace crates it depends on (normal dependencies).
fn crate_graph() -> Graph {
    let mut paths = vec![".".to_owned()];
    paths.extend(members());
    let manifests: Vec<String> = paths
        .iter()
        .map(|dir| fs::read_to_string(Path::new(ROOT).join(dir).join("Cargo.toml")).unwrap())
        .collect();
    let names: BTreeSet<String> = manifests.iter().map(|m| package_name(m)).collect();
    manifests
        .iter()
        .map(|manifest| {
            let deps = manifest
                .split("\n[")
                .find(|section| section.starts_with("dependencies]"))
                .unwrap_or_default()
                .lines()
                .filter_map(|line| line.split(['.', ' ', '=']).next())
                .filter(|dep| names.contains(*dep))
                .map(str::to_owned)
                .collect();
            (package_name(manifest), deps)
        })
        .collect()
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a source file relative to its crate's `src/` (`a::b`; the root is empty).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without its trailing inline test module.
fn code_of(text: &str) -> String {
    let body = text.split("#[cfg(test)]\nmod tests {").next().unwrap();
    body.lines()
        .map(|line| line.split("//").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Expands a `use` tree (`a::{b, c::{d}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap().trim().to_owned()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|part| !part.trim().is_empty())
        .flat_map(expand)
        .map(|path| format!("{prefix}{path}"))
        .collect()
}

/// Every `crate::`/`super::`/`self::` path a piece of code names, in `use` items or inline.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut lines = code.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_start();
        let item = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .find_map(|prefix| line.strip_prefix(prefix));
        let Some(first) = item else {
            continue;
        };
        let mut tree = first.to_owned();
        while !tree.contains(';') {
            match lines.next() {
                Some(more) => tree.push_str(more),
                None => break,
            }
        }
        let tree = tree.split(';').next().unwrap_or_default();
        if tree.matches('{').count() == tree.matches('}').count() {
            paths.extend(expand(tree));
        }
    }
    let bytes = code.as_bytes();
    for start in ["crate::", "super::", "self::"] {
        for (at, _) in code.match_indices(start) {
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b':') {
                continue;
            }
            let len = code[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(code.len() - at);
            paths.push(code[at..at + len].trim_end_matches(':').to_owned());
        }
    }
    paths
}

/// The module a path refers to, from module `here` (the longest known module prefix).
fn resolve(path: &str, here: &[String], known: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let mut segments = path.split("::").map(str::trim);
    let mut module: Vec<String> = match segments.next()? {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => here[..here.len().checked_sub(1)?].to_vec(),
        _ => return None,
    };
    for segment in segments {
        match segment {
            "super" => {
                module.pop()?;
            }
            name => {
                let mut next = module.clone();
                next.push(name.to_owned());
                if !known.contains(&next) {
                    break;
                }
                module = next;
            }
        }
    }
    Some(module)
}

/// For one crate's `src/`: each directory's file graph (files named by module path, edges only
/// between files of that directory) and the graph of the crate's top-level modules.
fn module_graphs(src: &Path) -> (BTreeMap<String, Graph>, Graph) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .filter(|file| !file.ends_with("tests.rs"))
        .map(|file| {
            (
                module_of(src, file),
                code_of(&fs::read_to_string(file).unwrap()),
            )
        })
        .collect();
    let known: BTreeSet<Vec<String>> = modules.keys().cloned().collect();
    let mut directories: BTreeMap<String, Graph> = BTreeMap::new();
    let mut top: Graph = BTreeMap::new();
    for (module, code) in &modules {
        let dir = module[..module.len().saturating_sub(1)].join("::");
        for path in paths_in(code) {
            let Some(target) = resolve(&path, module, &known) else {
                continue;
            };
            if &target == module || target.is_empty() {
                continue;
            }
            let (from, to) = (module.join("::"), target.join("::"));
            if target.len() == module.len()
                && target[..target.len() - 1] == module[..module.len() - 1]
            {
                directories
                    .entry(dir.clone())
                    .or_default()
                    .entry(from.clone())
                    .or_default()
                    .insert(to.clone());
            }
            if !module.is_empty() && module[0] != target[0] {
                top.entry(module[0].clone())
                    .or_default()
                    .insert(target[0].clone());
            }
        }
    }
    (directories, top)
}

/// A cycle in `graph`, if there is one.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn show(title: &str, graph: &Graph) {
    println!("{title}");
    for (from, to) in graph {
        let to: Vec<&str> = to.iter().map(String::as_str).collect();
        println!("  {from} -> {}", to.join(", "));
    }
}

#[test]
fn the_workspace_crates_depend_on_each_other_without_a_cycle() {
    let graph = crate_graph();
    show("crates:", &graph);
    assert!(graph.len() >= 6, "{graph:?}");
    assert_eq!(cycle(&graph), None);
}

#[test]
fn the_files_of_every_module_directory_use_each_other_without_a_cycle() {
    let mut checked = 0;
    for member in members() {
        let src = Path::new(ROOT).join(&member).join("src");
        let (directories, top) = module_graphs(&src);
        for (dir, graph) in &directories {
            show(&format!("{member}/src/{dir} files:"), graph);
            assert_eq!(cycle(graph), None, "a file cycle in {member}/src/{dir}");
            checked += 1;
        }
        show(&format!("{member} top-level modules:"), &top);
        assert_eq!(cycle(&top), None, "a cycle between the modules of {member}");
    }
    assert!(checked >= 5, "only {checked} directories seen");
}

#[test]
fn a_file_cycle_is_detected() {
    let dir = std::env::temp_dir().join(format!("scale-layout-{}", std::process::id()));
    fs::create_dir_all(dir.join("domain")).unwrap();
    fs::write(dir.join("lib.rs"), "pub mod domain;\n").unwrap();
    fs::write(dir.join("domain/mod.rs"), "pub mod a;\npub mod b;\n").unwrap();
    fs::write(dir.join("domain/a.rs"), "use super::b::{Thing, other};\n").unwrap();
    fs::write(
        dir.join("domain/b.rs"),
        "fn f() { crate::domain::a::g(); }\n",
    )
    .unwrap();
    let (directories, _) = module_graphs(&dir);
    fs::remove_dir_all(&dir).unwrap();
    let found = cycle(&directories["domain"]).expect("the cycle a -> b -> a");
    assert_eq!(found.len(), 3, "{found:?}");
}

#[test]
fn the_readme_layout_names_exactly_the_top_level_directories() {
    let readme = fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let table = readme
        .split("## Layout")
        .nth(1)
        .expect("a Layout section")
        .split("\n## ")
        .next()
        .unwrap();
    let listed: BTreeSet<String> = table
        .lines()
        .filter(|line| line.starts_with("| `"))
        .flat_map(|line| {
            let first = line.split('|').nth(1).unwrap_or_default();
            first
                .split('`')
                .skip(1)
                .step_by(2)
                .map(|path| path.trim_end_matches('/').to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let present: BTreeSet<String> = fs::read_dir(ROOT)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.') && name != "target")
        .chain(["Cargo.toml".to_owned()])
        .collect();
    assert_eq!(
        listed, present,
        "README Layout vs the repository's top level"
    );
    let mut dirs = members();
    dirs.push("src".to_owned());
    for dir in dirs {
        let src = if dir == "src" {
            Path::new(ROOT).join("src")
        } else {
            Path::new(ROOT).join(&dir).join("src")
        };
        let row = table
            .lines()
            .find(|line| {
                line.split('|')
                    .nth(1)
                    .is_some_and(|c| c.contains(&format!("`{dir}/`")))
            })
            .unwrap_or_else(|| panic!("README Layout has no row for {dir}/"));
        for entry in fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if ["lib", "main"].contains(&name.as_str()) {
                continue;
            }
            assert!(
                row.contains(&format!("`{name}`")) || row.contains(&format!("`{name}:")),
                "README Layout row of {dir}/ does not name its module `{name}`"
            );
        }
    }
}
