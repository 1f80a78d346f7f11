//! The import structure of `src/` stays layered: no cycle between top-level modules, none
//! between the sibling files of a module directory, and the CLI (the top layer) and the app
//! are imported by nobody below them.
//!
//! The check reads the sources, not the compiler: comments and string literals are dropped,
//! then `use` trees and `crate::` / `super::` / `self::` / child-module paths in code are
//! resolved against the module tree found from `src/lib.rs` through its `mod` declarations
//! (every `cfg`, so the app and the GPU renderer count too). A parent module file (`mod.rs`)
//! is left out of the sibling check: children reading their parent's items while the parent
//! re-exports or dispatches to them is the module's facade, not a cycle between siblings. A
//! child importing through the parent's re-export counts as importing the file that defines it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::sync::OnceLock;

type ModPath = Vec<String>;

/// One import: `from` (a file's module) names something in module `to`.
#[derive(Debug, Clone)]
struct Edge {
    file: String,
    line: usize,
    from: ModPath,
    to: ModPath,
    /// The segment after the deepest module on the path (the item), when there is one.
    item: Option<String>,
    path: String,
}

#[derive(Debug, Default)]
struct Analysis {
    /// Module -> its file, for every module with a file of its own.
    files: BTreeMap<ModPath, String>,
    /// Inline module (`mod tests { .. }`) -> the module of the file it is written in.
    inline: BTreeMap<ModPath, ModPath>,
    edges: Vec<Edge>,
    /// (module, exported name) -> the descendant module the name is re-exported from.
    reexports: BTreeMap<(ModPath, String), ModPath>,
}

/// A graph between named nodes, each edge with where it comes from (`file:line path`).
type Graph = BTreeMap<String, BTreeMap<String, Vec<String>>>;

// ---- reading sources ----------------------------------------------------------------------

fn read_sources() -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).expect("under the root");
                let rel = rel.to_string_lossy().replace('\\', "/");
                let text = std::fs::read_to_string(&path).expect("readable source");
                out.insert(rel, text);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = BTreeMap::new();
    walk(root, &root.join("src"), &mut out);
    out
}

/// The source with comments and the insides of string and char literals blanked (line breaks
/// kept, so lines still count).
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let n = c.len();
    let mut out = String::with_capacity(src.len());
    let blank = |out: &mut String, s: &[char]| {
        out.extend(s.iter().map(|&ch| if ch == '\n' { '\n' } else { ' ' }));
    };
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let raw_start = |i: usize| match i {
        0 => true,
        _ if c[i - 1] == 'b' => i < 2 || !ident(c[i - 2]),
        _ => !ident(c[i - 1]),
    };
    let mut i = 0;
    while i < n {
        if c[i] == '/' && i + 1 < n && c[i + 1] == '/' {
            let mut j = i;
            while j < n && c[j] != '\n' {
                j += 1;
            }
            blank(&mut out, &c[i..j]);
            i = j;
        } else if c[i] == '/' && i + 1 < n && c[i + 1] == '*' {
            let (mut j, mut depth) = (i + 2, 1);
            while j < n && depth > 0 {
                if c[j] == '/' && j + 1 < n && c[j + 1] == '*' {
                    depth += 1;
                    j += 2;
                } else if c[j] == '*' && j + 1 < n && c[j + 1] == '/' {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &c[i..j.min(n)]);
            i = j;
        } else if c[i] == 'r' && raw_start(i) && i + 1 < n && matches!(c[i + 1], '"' | '#') {
            // A raw string r"..." / r#"..."# / br"..." (or a raw identifier r#name).
            let mut j = i + 1;
            while j < n && c[j] == '#' {
                j += 1;
            }
            if j >= n || c[j] != '"' {
                out.push(c[i]);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            let mut k = j + 1;
            while k < n
                && !(c[k] == '"' && (0..hashes).all(|h| k + 1 + h < n && c[k + 1 + h] == '#'))
            {
                k += 1;
            }
            out.push('"');
            blank(&mut out, &c[j + 1..k.min(n)]);
            out.push('"');
            i = (k + 1 + hashes).min(n);
        } else if c[i] == '"' {
            let mut j = i + 1;
            while j < n && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            out.push('"');
            blank(&mut out, &c[i + 1..j.min(n)]);
            out.push('"');
            i = j + 1;
        } else if c[i] == '\'' && i + 1 < n && c[i + 1] == '\\' {
            let mut j = i + 3;
            while j < n && c[j] != '\'' {
                j += 1;
            }
            blank(&mut out, &c[i..(j + 1).min(n)]);
            i = j + 1;
        } else if c[i] == '\'' && i + 2 < n && c[i + 2] == '\'' {
            blank(&mut out, &c[i..i + 3]);
            i += 3;
        } else {
            // Everything else, lifetimes included.
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

#[derive(Debug, Clone)]
struct Tok {
    text: String,
    line: usize,
}

fn is_ident(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

fn tokens(stripped: &str) -> Vec<Tok> {
    let c: Vec<char> = stripped.chars().collect();
    let (mut out, mut line, mut i) = (Vec::new(), 1, 0);
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let text = c[start..i].iter().collect();
            out.push(Tok { text, line });
        } else if ch == ':' && i + 1 < c.len() && c[i + 1] == ':' {
            out.push(Tok {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            out.push(Tok {
                text: ch.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

// ---- the module tree and its imports --------------------------------------------------------

struct FileToks {
    file: String,
    module: ModPath,
    toks: Vec<Tok>,
    /// Per token, the index into `scopes` of the (possibly inline) module it is in.
    scope_of: Vec<usize>,
    scopes: Vec<ModPath>,
}

fn child_dir(file: &str) -> String {
    let (dir, name) = file.rsplit_once('/').unwrap_or(("", file));
    match name {
        "mod.rs" | "lib.rs" | "main.rs" => dir.to_owned(),
        _ => format!("{dir}/{}", name.trim_end_matches(".rs")),
    }
}

/// Reads `file` (module `module`) and, through its `mod x;` declarations, its descendants.
fn discover(
    sources: &BTreeMap<String, String>,
    file: &str,
    module: ModPath,
    a: &mut Analysis,
    out: &mut Vec<FileToks>,
) {
    a.files.insert(module.clone(), file.to_owned());
    let toks = tokens(&strip(&sources[file]));
    let mut scopes = vec![module.clone()];
    let mut scope_of = Vec::with_capacity(toks.len());
    let mut stack: Vec<(usize, i64)> = Vec::new();
    let (mut depth, mut cur, mut pending) = (0i64, 0usize, None::<String>);
    let mut children = Vec::new();
    for i in 0..toks.len() {
        scope_of.push(cur);
        let next = |k: usize| toks.get(i + k).map_or("", |t| t.text.as_str());
        match toks[i].text.as_str() {
            "mod" if is_ident(next(1)) && next(2) == "{" => pending = Some(next(1).to_owned()),
            "mod" if is_ident(next(1)) && next(2) == ";" && cur == 0 => {
                children.push(next(1).to_owned());
            }
            "{" => {
                depth += 1;
                if let Some(name) = pending.take() {
                    let mut p = scopes[cur].clone();
                    p.push(name);
                    a.inline.insert(p.clone(), module.clone());
                    scopes.push(p);
                    stack.push((cur, depth));
                    cur = scopes.len() - 1;
                }
            }
            "}" => {
                if let Some(&(prev, d)) = stack.last()
                    && d == depth
                {
                    stack.pop();
                    cur = prev;
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    out.push(FileToks {
        file: file.to_owned(),
        module: module.clone(),
        toks,
        scope_of,
        scopes,
    });
    let dir = child_dir(file);
    for name in children {
        let candidates = [format!("{dir}/{name}.rs"), format!("{dir}/{name}/mod.rs")];
        if let Some(f) = candidates.iter().find(|f| sources.contains_key(*f)) {
            let mut m = module.clone();
            m.push(name);
            discover(sources, f, m, a, out);
        }
    }
}

/// Expands a `use` tree (tokens between `use` and `;`) into (path, alias) pairs.
fn use_paths(
    toks: &[Tok],
    mut i: usize,
    prefix: ModPath,
) -> (Vec<(ModPath, Option<String>)>, usize) {
    let mut path = prefix;
    let mut out = Vec::new();
    while i < toks.len() {
        match toks[i].text.as_str() {
            "::" => i += 1,
            "{" => {
                i += 1;
                while i < toks.len() && toks[i].text != "}" {
                    let (sub, j) = use_paths(toks, i, path.clone());
                    out.extend(sub);
                    i = j;
                    if i < toks.len() && toks[i].text == "," {
                        i += 1;
                    }
                }
                return (out, i + 1);
            }
            "*" => {
                path.push("*".into());
                out.push((path, None));
                return (out, i + 1);
            }
            t if is_ident(t) => {
                path.push(t.to_owned());
                i += 1;
                if i < toks.len() && toks[i].text == "::" {
                    continue;
                }
                let mut alias = None;
                if i + 1 < toks.len() && toks[i].text == "as" {
                    alias = Some(toks[i + 1].text.clone());
                    i += 2;
                }
                if path.last().is_some_and(|s| s == "self") {
                    path.pop();
                }
                out.push((path, alias));
                return (out, i);
            }
            _ => return (out, i + 1),
        }
    }
    (out, i)
}

impl Analysis {
    fn exists(&self, m: &ModPath) -> bool {
        self.files.contains_key(m) || self.inline.contains_key(m)
    }

    fn file_module(&self, m: &ModPath) -> ModPath {
        self.inline.get(m).cloned().unwrap_or_else(|| m.clone())
    }

    /// The module a path reaches (its file's module) and the segment after it, or `None` for
    /// paths outside the crate.
    fn resolve(&self, segs: &[String], scope: &ModPath) -> Option<(ModPath, Option<String>)> {
        let first = segs.first()?.as_str();
        let (mut m, mut rest) = match first {
            "crate" => (Vec::new(), &segs[1..]),
            "super" | "self" => {
                let mut m = scope.clone();
                let mut k = 0;
                while k < segs.len() && matches!(segs[k].as_str(), "super" | "self") {
                    if segs[k] == "super" {
                        m.pop();
                    }
                    k += 1;
                }
                (m, &segs[k..])
            }
            name => {
                let mut child = scope.clone();
                child.push(name.to_owned());
                if !self.exists(&child) {
                    return None;
                }
                (scope.clone(), segs)
            }
        };
        while let Some(s) = rest.first() {
            let mut next = m.clone();
            next.push(s.clone());
            if !self.exists(&next) {
                break;
            }
            m = next;
            rest = &rest[1..];
        }
        Some((self.file_module(&m), rest.first().cloned()))
    }

    fn scan(&mut self, f: &FileToks) {
        let toks = &f.toks;
        let text = |k: usize| toks.get(k).map_or("", |t| t.text.as_str());
        let mut i = 0;
        while i < toks.len() {
            let scope = &f.scopes[f.scope_of[i]];
            let t = text(i);
            let use_start =
                t == "use" && (is_ident(text(i + 1)) || matches!(text(i + 1), "::" | "{"));
            if use_start && text(i.wrapping_sub(1)) != "::" {
                let is_pub = text(i.wrapping_sub(1)) == "pub"
                    || (text(i.wrapping_sub(1)) == ")"
                        && toks[..i].iter().rev().take(5).any(|t| t.text == "pub"));
                let end = (i..toks.len())
                    .find(|&k| toks[k].text == ";")
                    .unwrap_or(toks.len());
                let (paths, _) = use_paths(&toks[..end], i + 1, Vec::new());
                for (segs, alias) in paths {
                    let Some((to, item)) = self.resolve(&segs, scope) else {
                        continue;
                    };
                    if is_pub
                        && to.len() > f.module.len()
                        && to.starts_with(&f.module)
                        && let Some(name) = alias.clone().or_else(|| item.clone())
                    {
                        self.reexports.insert((f.module.clone(), name), to.clone());
                    }
                    self.push(f, toks[i].line, to, item, segs.join("::"));
                }
                i = end + 1;
                continue;
            }
            let path_start = is_ident(t) && text(i.wrapping_sub(1)) != "::" && text(i + 1) == "::";
            if path_start && is_ident(text(i + 2)) {
                let mut segs = vec![t.to_owned()];
                let mut k = i + 1;
                while text(k) == "::" && is_ident(text(k + 1)) {
                    segs.push(text(k + 1).to_owned());
                    k += 2;
                }
                if let Some((to, item)) = self.resolve(&segs, scope) {
                    self.push(f, toks[i].line, to, item, segs.join("::"));
                }
                i = k;
                continue;
            }
            i += 1;
        }
    }

    fn push(&mut self, f: &FileToks, line: usize, to: ModPath, item: Option<String>, path: String) {
        if to != f.module {
            self.edges.push(Edge {
                file: f.file.clone(),
                line,
                from: f.module.clone(),
                to,
                item,
                path,
            });
        }
    }

    /// `to`, followed through its module's re-exports to the module that defines the item.
    fn defining(&self, e: &Edge) -> ModPath {
        let mut to = e.to.clone();
        if let Some(item) = &e.item {
            for _ in 0..8 {
                match self.reexports.get(&(to.clone(), item.clone())) {
                    Some(t) => to = t.clone(),
                    None => break,
                }
            }
        }
        to
    }

    /// Edges between top-level modules (`src/<top>/` or `src/<top>.rs`).
    fn top_level(&self) -> Graph {
        let mut g = Graph::new();
        for e in &self.edges {
            let (Some(a), Some(b)) = (e.from.first(), e.to.first()) else {
                continue;
            };
            if a != b {
                add(&mut g, a, b, e);
            }
        }
        g
    }

    /// Per module directory (below the crate root), edges between its children (files and
    /// subdirectories); the directory's own module file is left out.
    fn siblings(&self) -> BTreeMap<String, Graph> {
        let mut out: BTreeMap<String, Graph> = BTreeMap::new();
        for e in &self.edges {
            let to = self.defining(e);
            for k in 1..e.from.len() {
                if to.len() <= k || to[..k] != e.from[..k] || to[k] == e.from[k] {
                    continue;
                }
                let dir = self
                    .files
                    .get(&e.from[..k])
                    .map_or_else(|| e.from[..k].join("/"), |f| child_dir(f));
                add(out.entry(dir).or_default(), &e.from[k], &to[k], e);
            }
        }
        out
    }
}

fn add(g: &mut Graph, a: &str, b: &str, e: &Edge) {
    g.entry(a.to_owned())
        .or_default()
        .entry(b.to_owned())
        .or_default()
        .push(format!("{}:{} {}", e.file, e.line, e.path));
    g.entry(b.to_owned()).or_default();
}

fn analyze(sources: &BTreeMap<String, String>) -> Analysis {
    let mut a = Analysis::default();
    let mut files = Vec::new();
    discover(sources, "src/lib.rs", Vec::new(), &mut a, &mut files);
    for f in &files {
        a.scan(f);
    }
    a
}

fn crate_analysis() -> &'static Analysis {
    static ANALYSIS: OnceLock<Analysis> = OnceLock::new();
    ANALYSIS.get_or_init(|| {
        let a = analyze(&read_sources());
        // A parser that silently stopped finding imports would pass every check below.
        assert!(
            a.files.len() > 50,
            "only {} module files found",
            a.files.len()
        );
        assert!(a.edges.len() > 100, "only {} imports found", a.edges.len());
        for top in ["sim", "task", "rl", "cli"] {
            assert!(
                a.files.contains_key(&vec![top.to_owned()]),
                "module `{top}` not found"
            );
        }
        a
    })
}

// ---- cycles -------------------------------------------------------------------------------

/// Strongly connected components with more than one node (Tarjan).
fn cycles(g: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        g: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        on_stack: BTreeSet<&'g str>,
        stack: Vec<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        let g = s.g;
        for w in g[v].keys() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = s.stack.pop().expect("on the stack");
                s.on_stack.remove(w);
                comp.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on_stack: BTreeSet::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// One concrete cycle through the component's first node, as `a -> b -> ... -> a`.
fn one_cycle(g: &Graph, comp: &[String]) -> Vec<String> {
    let members: BTreeSet<&str> = comp.iter().map(String::as_str).collect();
    let start = comp[0].as_str();
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in g[v]
            .keys()
            .map(String::as_str)
            .filter(|w| members.contains(w))
        {
            if w == start {
                let mut path = vec![start.to_owned(), v.to_owned()];
                let mut u = v;
                while u != start {
                    u = prev[u];
                    path.push(u.to_owned());
                }
                path.reverse();
                return path;
            }
            if !prev.contains_key(w) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    Vec::new()
}

/// The failure message for the cycles of `g`: each cycle with where each of its imports is.
fn describe(what: &str, g: &Graph) -> Option<String> {
    let comps = cycles(g);
    if comps.is_empty() {
        return None;
    }
    let mut msg = String::new();
    for comp in comps {
        let cycle = one_cycle(g, &comp);
        msg += &format!("\nimport cycle in {what}: {}\n", cycle.join(" -> "));
        for pair in cycle.windows(2) {
            let sites = &g[&pair[0]][&pair[1]];
            msg += &format!("  {} -> {}:\n", pair[0], pair[1]);
            for site in sites.iter().take(5) {
                msg += &format!("    {site}\n");
            }
            if sites.len() > 5 {
                msg += &format!("    ... and {} more\n", sites.len() - 5);
            }
        }
        if comp.len() > cycle.len().saturating_sub(1) {
            msg += &format!("  (all of {comp:?} import each other in a circle)\n");
        }
    }
    Some(msg)
}

// ---- the checks ----------------------------------------------------------------------------

#[test]
fn no_import_cycles_between_modules() {
    let g = crate_analysis().top_level();
    if let Some(msg) = describe("src/ (top-level modules)", &g) {
        panic!(
            "{msg}\nEach module imports only from the layers below it: move the shared code down."
        );
    }
}

#[test]
fn no_import_cycles_between_sibling_files() {
    let mut msgs = String::new();
    for (dir, g) in crate_analysis().siblings() {
        if let Some(msg) = describe(&dir, &g) {
            msgs += &msg;
        }
    }
    assert!(
        msgs.is_empty(),
        "{msgs}\nMove what both files need into the lower one, or into a new small file."
    );
}

#[test]
fn only_the_cli_imports_the_cli_and_only_the_app_and_cli_import_the_app() {
    let mut bad = Vec::new();
    for e in &crate_analysis().edges {
        let top = e.to.first().map(String::as_str);
        let in_cli = e.file.starts_with("src/cli/") || e.file == "src/cli.rs";
        let in_app = e.file.starts_with("src/app/") || e.file == "src/app.rs";
        if (top == Some("cli") && !in_cli) || (top == Some("app") && !in_app && !in_cli) {
            bad.push(format!("{}:{} {}", e.file, e.line, e.path));
        }
    }
    assert!(
        bad.is_empty(),
        "the CLI is the top layer and the app sits under it only; the core must not import \
         them (move the shared code into the core module that owns it):\n  {}",
        bad.join("\n  ")
    );
}

// ---- the checker checks itself --------------------------------------------------------------

fn graph(edges: &[(&str, &str)]) -> Graph {
    let mut g = Graph::new();
    for (k, &(a, b)) in edges.iter().enumerate() {
        let e = Edge {
            file: "synthetic.rs".into(),
            line: k + 1,
            from: vec![a.into()],
            to: vec![b.into()],
            item: None,
            path: format!("{a}->{b}"),
        };
        add(&mut g, a, b, &e);
    }
    g
}

#[test]
fn the_cycle_finder_finds_a_known_cycle() {
    let g = graph(&[
        ("a", "b"),
        ("b", "c"),
        ("c", "a"),
        ("c", "d"),
        ("d", "e"),
        ("x", "x2"),
    ]);
    assert_eq!(cycles(&g), vec![vec!["a", "b", "c"]]);
    assert_eq!(
        one_cycle(&g, &["a".to_owned(), "b".to_owned(), "c".to_owned()]),
        ["a", "b", "c", "a"]
    );
    let msg = describe("synthetic", &g).expect("a cycle is reported");
    assert!(
        msg.contains("a -> b -> c -> a") && msg.contains("synthetic.rs:3"),
        "{msg}"
    );
    assert!(cycles(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])).is_empty());
}

#[test]
fn the_parser_sees_imports_and_not_comments_or_strings() {
    let sources: BTreeMap<String, String> = [
        ("src/lib.rs", "pub mod a;\n#[cfg(feature = \"x\")]\npub mod b;\n"),
        (
            "src/a/mod.rs",
            "//! Docs naming `crate::b::Nope` are not imports.\nmod one;\nmod two;\npub use one::Shared;\n",
        ),
        ("src/a/one.rs", "use super::two::{self, Thing as T};\npub struct Shared;\n"),
        (
            "src/a/two.rs",
            "use super::Shared;\npub struct Thing;\nfn f() -> &'static str { \"crate::b::Nope\" }\n\
             #[cfg(test)]\nmod tests {\n    use super::super::one;\n}\n",
        ),
        (
            "src/b.rs",
            "pub fn g() {\n    let _ = crate::a::Shared;\n    let _c = 'x';\n}\n/* crate::a::Nope */\n",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let a = analyze(&sources);
    assert_eq!(a.files.len(), 5, "{:?}", a.files);
    // b -> a only: the comment and the string in `a` name `b` but import nothing.
    let top = a.top_level();
    assert_eq!(top["b"].keys().collect::<Vec<_>>(), ["a"]);
    assert!(top["a"].is_empty(), "{top:?}");
    // one -> two directly; two -> one through the parent's re-export and from its tests.
    let sibs = a.siblings();
    let sib = &sibs["src/a"];
    assert!(
        sib["one"].contains_key("two") && sib["two"].contains_key("one"),
        "{sib:?}"
    );
    let msg = describe("src/a", sib).expect("the one <-> two cycle");
    assert!(msg.contains("src/a/two.rs:1 super::Shared"), "{msg}");
}
