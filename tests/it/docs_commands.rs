//! The docs cannot drift from the CLI: every `so101-lab` command line in a shell block of
//! README.md or docs/*.md is parsed by the real command-line parser, and every subcommand is
//! shown somewhere.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap::Parser;
use so101_lab::cli::Cli;

/// One command line found in the docs.
struct DocCommand {
    file: PathBuf,
    line: usize,
    args: Vec<String>,
}

fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut stack = vec![root.join("docs")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// The shell lines of fenced `sh`/`bash`/`console` blocks, continuation lines joined, with the
/// number of the line each starts on.
fn shell_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_shell = false;
    let mut in_other = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if let Some(lang) = trimmed.strip_prefix("```") {
            if in_shell || in_other {
                in_shell = false;
                in_other = false;
            } else if matches!(lang.trim(), "sh" | "bash" | "shell" | "console") {
                in_shell = true;
            } else {
                in_other = true;
            }
            continue;
        }
        if !in_shell {
            continue;
        }
        let line = trimmed.strip_prefix("$ ").unwrap_or(trimmed);
        let (start, mut acc) = pending.take().unwrap_or((i + 1, String::new()));
        if let Some(head) = line.strip_suffix('\\') {
            acc.push_str(head);
            acc.push(' ');
            pending = Some((start, acc));
        } else {
            acc.push_str(line);
            out.push((start, acc));
        }
    }
    out
}

/// The so101-lab arguments of each command in one shell line (`so101-lab ARGS`, a path ending
/// in `/so101-lab`, or `cargo run [FLAGS] -- ARGS`), up to a pipe, `&&`, `;` or redirection.
fn commands_in(line: &str) -> Vec<Vec<String>> {
    if line.starts_with('#') {
        return Vec::new();
    }
    let Ok(words) = shell_words::split(line) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let start = if w == "so101-lab" || w.ends_with("/so101-lab") {
            Some(i + 1)
        } else if w == "cargo" && words.get(i + 1).is_some_and(|n| n == "run") {
            words[i..].iter().position(|t| t == "--").map(|p| i + p + 1)
        } else {
            None
        };
        let Some(start) = start else {
            i += 1;
            continue;
        };
        let end = words[start..]
            .iter()
            .position(|t| {
                matches!(t.as_str(), "|" | "&&" | "||" | ";" | "&")
                    || t.starts_with('>')
                    || t.starts_with('<')
                    || t.starts_with("2>")
                    || t.ends_with(';')
            })
            .map_or(words.len(), |p| start + p);
        let mut args: Vec<String> = words[start..end].to_vec();
        if let Some(last) = words.get(end).filter(|t| t.ends_with(';') && t.len() > 1) {
            args.push(last.trim_end_matches(';').to_owned());
        }
        out.push(args);
        i = end.max(start);
    }
    out
}

fn doc_commands() -> Vec<DocCommand> {
    let mut found = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).expect("doc file reads");
        for (line, shell) in shell_lines(&text) {
            for args in commands_in(&shell) {
                found.push(DocCommand {
                    file: file.clone(),
                    line,
                    args,
                });
            }
        }
    }
    found
}

#[test]
fn every_command_line_in_the_docs_parses() {
    let commands = doc_commands();
    // Not vacuous: the README and the docs pages show dozens of commands.
    assert!(
        commands.len() >= 40,
        "only {} commands found",
        commands.len()
    );
    let mut failures = Vec::new();
    for c in &commands {
        if cfg!(not(feature = "app")) && c.args.first().is_some_and(|a| a == "view") {
            continue;
        }
        let argv = std::iter::once("so101-lab".to_owned()).chain(c.args.iter().cloned());
        if let Err(e) = Cli::try_parse_from(argv) {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                continue;
            }
            let first = e.to_string().lines().next().unwrap_or_default().to_owned();
            failures.push(format!(
                "{}:{}: so101-lab {}\n    {first}",
                c.file.display(),
                c.line,
                c.args.join(" ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} documented commands do not parse:\n{}",
        failures.len(),
        commands.len(),
        failures.join("\n")
    );
}

#[test]
fn every_subcommand_is_shown_in_the_docs() {
    let commands = doc_commands();
    let shown = |path: &[&str]| {
        commands
            .iter()
            .any(|c| c.args.len() >= path.len() && c.args.iter().zip(path).all(|(a, p)| a == p))
    };
    let mut missing = Vec::new();
    let cli = Cli::command();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        let nested: Vec<_> = sub
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .filter(|n| n != "help")
            .collect();
        if nested.is_empty() {
            if !shown(&[name]) {
                missing.push(name.to_owned());
            }
        } else {
            for n in nested {
                if !shown(&[name, &n]) {
                    missing.push(format!("{name} {n}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "subcommands with no example in README.md or docs/: {missing:?}"
    );
}

#[test]
fn the_extractor_reads_continuations_cargo_run_and_pipes() {
    let text = "```sh\n# a comment\ncargo run --release -- eval runs/x.safetensors \\\n  --episodes 5 | tail\n$ so101-lab pick --seeds 2 && so101-lab triage runs/e > out.txt\n```\n```toml\nso101-lab = 1\n```\n";
    let lines = shell_lines(text);
    let cmds: Vec<Vec<String>> = lines.iter().flat_map(|(_, l)| commands_in(l)).collect();
    assert_eq!(
        cmds,
        vec![
            vec!["eval", "runs/x.safetensors", "--episodes", "5"],
            vec!["pick", "--seeds", "2"],
            vec!["triage", "runs/e"],
        ]
    );
    assert_eq!(lines[1].0, 3, "a command is reported at its first line");
}
