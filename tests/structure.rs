//! The workspace's shape, checked on its sources (ARCHITECTURE.md, "Shape
//! rules"): no import cycle between the files of a crate, no non-test source
//! file over 500 lines unless ARCHITECTURE.md names it, and an engine that
//! knows no study.
//!
//! The import graph is read from `crate::` and `super::` paths (in `use`
//! items and inline), resolved to the deepest module file on the path and
//! through `pub use` re-exports; test files and inline `mod tests` are left
//! out, and so are edges into module files that only declare and re-export.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates: (name, src dir relative to the workspace root, root file).
const CRATES: [(&str, &str, &str); 5] = [
    ("engine", "pipeline/engine/src", "lib.rs"),
    ("stats", "pipeline/stats/src", "lib.rs"),
    ("study", "pipeline/study/src", "lib.rs"),
    ("stages", "stages/src", "lib.rs"),
    ("kdpipe", "src", "main.rs"),
];

/// One source file of a crate: its module path and its code (with the
/// trailing `#[cfg(test)] mod tests { ... }` removed).
struct File {
    path: PathBuf,
    module: Vec<String>,
    code: String,
    is_test: bool,
}

/// Removes `//` comments (line and doc) and string literals' contents well
/// enough for path scanning.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut cut = line.len();
        for (i, c) in line.char_indices() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            }
            if !in_str && c == '/' && prev == '/' {
                cut = i - 1;
                break;
            }
            prev = c;
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

/// The code before the file's inline test module, if it has one.
fn without_inline_tests(code: &str) -> &str {
    for marker in [
        "#[cfg(test)]\nmod tests {",
        "#[cfg(test)]\n#[allow(clippy::unwrap_used)]\nmod tests {",
    ] {
        if let Some(i) = code.find(marker) {
            return &code[..i];
        }
    }
    code
}

fn collect(root: &Path, src: &str, root_file: &str) -> Vec<File> {
    let mut files = Vec::new();
    let base = root.join(src);
    let mut stack = vec![base.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "bin") {
                    stack.push(p);
                }
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(&base).unwrap_or(&p);
            let mut module: Vec<String> = rel
                .parent()
                .into_iter()
                .flat_map(|d| d.components())
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let is_root = rel == Path::new(root_file);
            if stem != "mod" && !is_root {
                module.push(stem.clone());
            }
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let code = strip_comments(&text);
            let code = without_inline_tests(&code).to_owned();
            let is_test =
                stem == "tests" || stem == "fixture" || module.iter().any(|m| m == "tests");
            files.push(File {
                path: p,
                module,
                code,
                is_test,
            });
        }
    }
    files
}

/// Every `crate::a::b` / `super::a` path in `code`, as absolute module
/// paths (segments), including the segments of `use x::{a, b::c}` groups.
fn paths_in(code: &str, module: &[String], is_mod_file: bool) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let n = bytes.len();
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < n {
        let starts = |w: &str| {
            let w: Vec<char> = w.chars().collect();
            i + w.len() <= n
                && bytes[i..i + w.len()] == w[..]
                && (i == 0 || !ident(bytes[i - 1]) && bytes[i - 1] != ':')
        };
        let (base, skip) = if starts("crate::") {
            (Vec::new(), 7)
        } else if starts("super::") {
            // `super` of a mod.rs / lib.rs module is its parent; of foo.rs too.
            let mut b = module.to_vec();
            let _ = is_mod_file;
            b.pop();
            (b, 7)
        } else {
            i += 1;
            continue;
        };
        i += skip;
        // further `super::`
        let mut base = base;
        while i + 7 <= n && bytes[i..i + 7].iter().collect::<String>() == "super::" {
            base.pop();
            i += 7;
        }
        // read a path tree: seg(::seg)* optionally ::{ group }
        let (paths, end) = read_tree(&bytes, i);
        for p in paths {
            let mut full = base.clone();
            full.extend(p);
            out.push(full);
        }
        i = end.max(i + 1);
    }
    out
}

/// Reads `a::b::{c, d::e}` from `s[i..]`; returns the leaf paths and the end.
fn read_tree(s: &[char], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut prefix: Vec<String> = Vec::new();
    loop {
        while i < s.len() && s[i].is_whitespace() {
            i += 1;
        }
        if i < s.len() && s[i] == '{' {
            i += 1;
            let mut all = Vec::new();
            loop {
                while i < s.len() && (s[i].is_whitespace() || s[i] == ',') {
                    i += 1;
                }
                if i >= s.len() || s[i] == '}' {
                    i += 1;
                    break;
                }
                let (sub, e) = read_tree(s, i);
                for p in sub {
                    let mut full = prefix.clone();
                    full.extend(p);
                    all.push(full);
                }
                if e <= i {
                    i += 1;
                } else {
                    i = e;
                }
            }
            return (all, i);
        }
        let start = i;
        while i < s.len() && ident(s[i]) {
            i += 1;
        }
        if i == start {
            return (vec![prefix], i);
        }
        prefix.push(s[start..i].iter().collect());
        if i + 1 < s.len() && s[i] == ':' && s[i + 1] == ':' {
            i += 2;
            continue;
        }
        // `as alias`, `*`, etc. end the path
        return (vec![prefix], i);
    }
}

/// `pub use` re-exports of a module file: exported name → target path.
fn reexports(f: &File) -> BTreeMap<String, Vec<String>> {
    let mut map = BTreeMap::new();
    for stmt in f.code.split(';') {
        let t = stmt.trim();
        let Some(rest) = t
            .strip_prefix("pub use ")
            .or_else(|| t.strip_prefix("pub(crate) use "))
        else {
            continue;
        };
        let chars: Vec<char> = rest.chars().collect();
        let (paths, _) = read_tree(&chars, 0);
        for p in paths {
            let Some(last) = p.last().cloned() else {
                continue;
            };
            let mut target: Vec<String> = match p.first().map(String::as_str) {
                Some("crate") => p[1..].to_vec(),
                Some("super") => {
                    let mut b = f.module.clone();
                    b.pop();
                    b.extend(p[1..].iter().cloned());
                    b
                }
                Some("self") => {
                    let mut b = f.module.clone();
                    b.extend(p[1..].iter().cloned());
                    b
                }
                _ => {
                    let mut b = f.module.clone();
                    b.extend(p.iter().cloned());
                    b
                }
            };
            if last == "*" {
                continue;
            }
            map.insert(last, std::mem::take(&mut target));
        }
    }
    map
}

/// The file a path refers to: the deepest module file on it, following a
/// re-export when the next segment is one.
fn resolve(
    path: &[String],
    by_module: &BTreeMap<Vec<String>, usize>,
    files: &[File],
    depth: u32,
) -> Option<usize> {
    let mut best = None;
    for k in (0..=path.len()).rev() {
        if let Some(&i) = by_module.get(&path[..k].to_vec()) {
            best = Some((i, k));
            break;
        }
    }
    let (i, k) = best?;
    if depth < 8 && k < path.len() {
        let re = reexports(&files[i]);
        if let Some(target) = re.get(&path[k]) {
            let mut t = target.clone();
            t.extend(path[k + 1..].iter().cloned());
            if let Some(j) = resolve(&t, by_module, files, depth + 1) {
                return Some(j);
            }
        }
    }
    Some(i)
}

/// Import cycles between the files of one crate (each as a list of files).
fn cycles(root: &Path, src: &str, root_file: &str) -> Vec<Vec<PathBuf>> {
    let files = collect(root, src, root_file);
    let by_module: BTreeMap<Vec<String>, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.module.clone(), i))
        .collect();
    let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); files.len()];
    for (i, f) in files.iter().enumerate() {
        if f.is_test {
            continue;
        }
        let is_mod = f
            .path
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == root_file);
        for p in paths_in(&f.code, &f.module, is_mod) {
            if let Some(j) = resolve(&p, &by_module, &files, 0) {
                if j != i && !files[j].is_test {
                    edges[i].insert(j);
                }
            }
        }
    }
    // A module file that only re-exports is not a dependency of its
    // children: drop edges into a file that declares no items.
    let declares_items = |f: &File| {
        f.code.lines().any(|l| {
            let l = l.trim_start();
            [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "struct ",
                "pub struct ",
                "pub(crate) struct ",
                "enum ",
                "pub enum ",
                "pub(crate) enum ",
                "const ",
                "pub const ",
                "pub(crate) const ",
                "impl",
                "type ",
                "pub type ",
                "trait ",
                "pub trait ",
                "static ",
                "pub static ",
            ]
            .iter()
            .any(|k| l.starts_with(k))
        })
    };
    let passive: Vec<bool> = files.iter().map(|f| !declares_items(f)).collect();
    for e in edges.iter_mut() {
        e.retain(|&j| !passive[j]);
    }
    // Tarjan's strongly connected components.
    struct T<'a> {
        edges: &'a [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(t: &mut T<'_>, v: usize) {
        t.index[v] = Some(t.next);
        t.low[v] = t.next;
        t.next += 1;
        t.stack.push(v);
        t.on[v] = true;
        for &w in t.edges[v].iter() {
            match t.index[w] {
                None => {
                    visit(t, w);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(iw) if t.on[w] => t.low[v] = t.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                t.out.push(comp);
            }
        }
    }
    let n = files.len();
    let mut t = T {
        edges: &edges,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            visit(&mut t, v);
        }
    }
    t.out
        .into_iter()
        .map(|c| {
            let mut v: Vec<PathBuf> = c
                .into_iter()
                .map(|i| {
                    files[i]
                        .path
                        .strip_prefix(root)
                        .unwrap_or(&files[i].path)
                        .to_path_buf()
                })
                .collect();
            v.sort();
            v
        })
        .collect()
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn no_import_cycle_between_files_of_any_crate() {
    let root = workspace();
    let mut found = Vec::new();
    for (name, src, root_file) in CRATES {
        assert!(
            root.join(src).join(root_file).is_file(),
            "{name}: {src}/{root_file}"
        );
        for c in cycles(&root, src, root_file) {
            found.push(format!("{name}: {c:?}"));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

/// The checker itself: a two-file cycle through a re-export is found.
#[test]
fn the_cycle_checker_finds_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("t")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod t;\n").unwrap();
    std::fs::write(src.join("t/mod.rs"), "mod a;\nmod b;\npub use b::B;\n").unwrap();
    std::fs::write(src.join("t/a.rs"), "use super::B;\npub struct A(B);\n").unwrap();
    std::fs::write(
        src.join("t/b.rs"),
        "pub struct B;\nfn f() -> crate::t::a::A { todo!() }\n",
    )
    .unwrap();
    let c = cycles(dir.path(), "src", "lib.rs");
    assert_eq!(
        c,
        [vec![
            PathBuf::from("src/t/a.rs"),
            PathBuf::from("src/t/b.rs")
        ]],
        "{c:?}"
    );
    std::fs::write(src.join("t/b.rs"), "pub struct B;\n").unwrap();
    assert!(cycles(dir.path(), "src", "lib.rs").is_empty());
}

/// Files over 500 lines that ARCHITECTURE.md names (with why) in its
/// "Shape rules" section, as `` `path` ``.
fn allowed_long_files(root: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let Some(start) = text.find("Files over 500 lines:") else {
        return BTreeSet::new();
    };
    text[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("- "))
        .filter_map(|l| l.split('`').nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn no_long_non_test_source_file_unless_architecture_says_why() {
    let root = workspace();
    let allowed = allowed_long_files(&root);
    let mut long = Vec::new();
    for (_, src, root_file) in CRATES {
        for f in collect(&root, src, root_file) {
            if f.is_test {
                continue;
            }
            let n = std::fs::read_to_string(&f.path).unwrap().lines().count();
            let rel = f
                .path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if n > 500 && !allowed.contains(&rel) {
                long.push(format!("{rel}: {n} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "files over 500 lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_engine_knows_no_study() {
    let root = workspace();
    let mut hits = Vec::new();
    for f in collect(&root, "pipeline/engine/src", "lib.rs") {
        if f.is_test {
            continue;
        }
        let text = std::fs::read_to_string(&f.path).unwrap();
        for (i, line) in text.lines().enumerate() {
            let l = line.to_lowercase();
            if ["teacher", "student", "distil"]
                .iter()
                .any(|w| l.contains(w))
            {
                hits.push(format!("{}:{}: {line}", f.path.display(), i + 1));
            }
        }
    }
    let manifest = std::fs::read_to_string(root.join("pipeline/engine/Cargo.toml")).unwrap();
    for dep in ["study", "stages", "tch"] {
        assert!(
            !manifest
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{dep} "))),
            "the engine depends on {dep}"
        );
    }
    assert!(hits.is_empty(), "{}", hits.join("\n"));
}
