//! Failure triage across many episodes: a folder of recorded episodes (e.g. `eval --record DIR`)
//! as one table, a row per episode (seed, outcome, failure kind and its moment, return, steps,
//! grasp verdict, peak height, grasp quality), with sorting, filtering and counts per kind.
//! Rows come from the recording alone: recorded step infos, and the grasp inspector on each
//! recorded state restored in a scratch simulation (no re-simulation).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{EpisodeError, Replay};
use crate::task::{EpisodeSummary, EpisodeTracker, FailureKind};

/// One episode of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriageRow {
    /// The episode file.
    pub file: PathBuf,
    /// Who acted.
    pub policy: String,
    /// The summary.
    #[serde(flatten)]
    pub summary: EpisodeSummary,
}

/// Column titles of [`TriageRow::cells`].
pub const COLUMNS: [&str; 11] = [
    "episode",
    "seed",
    "outcome",
    "at",
    "return",
    "steps",
    "grasp verdict",
    "peak mm",
    "pads only",
    "sliding",
    "box mm",
];

impl TriageRow {
    /// The outcome in one word: `success`, or the failure kind.
    pub fn outcome(&self) -> &'static str {
        self.summary.failure.map_or("success", FailureKind::label)
    }

    /// The row as text, one cell per [`COLUMNS`] entry, the same in the CLI, the HTML report
    /// and the app.
    pub fn cells(&self) -> [String; 11] {
        let s = &self.summary;
        [
            self.file
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
            s.seed.to_string(),
            self.outcome().to_owned(),
            s.failure_step.map_or(String::new(), |k| k.to_string()),
            format!("{:.2}", s.ret),
            s.steps.to_string(),
            s.verdict.label().to_owned(),
            format!("{:.1}", 1e3 * s.peak_height_m),
            format!("{:.0}%", 100.0 * s.quality.pads_only_fraction),
            format!("{:.0}%", 100.0 * s.quality.sliding_fraction),
            format!("{:.2}", 1e3 * s.quality.max_box_penetration_m),
        ]
    }
}

/// A folder read as a table; files that could not be read are listed with why.
#[derive(Debug, Default)]
pub struct Triage {
    /// The episodes, by file name.
    pub rows: Vec<TriageRow>,
    /// Files that are not readable episodes.
    pub errors: Vec<(PathBuf, String)>,
}

/// The column a table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SortKey {
    /// File name.
    #[default]
    File,
    /// Reset seed.
    Seed,
    /// Outcome (successes first, then by failure kind).
    Outcome,
    /// Return.
    Return,
    /// Steps.
    Steps,
    /// Peak height.
    Peak,
    /// Grasp verdict.
    Verdict,
}

/// The summary of a recorded episode: its recorded step infos and the grasp inspector on each
/// recorded state.
pub fn summarize(replay: &Replay) -> Result<EpisodeSummary, EpisodeError> {
    let mut t = EpisodeTracker::new(replay.episode.header.seed);
    for (step, grasp) in replay.episode.steps.iter().zip(replay.inspections()?) {
        t.push(&step.info, step.reward, &grasp);
    }
    Ok(t.finish())
}

/// Reads every `*.jsonl` episode in `dir` (not recursive), in file-name order.
pub fn scan(dir: &Path) -> Result<Triage, EpisodeError> {
    let io = |source| EpisodeError::Io {
        path: dir.to_owned(),
        source,
    };
    let files = super::jsonl_files(dir).map_err(io)?;
    let mut out = Triage::default();
    for file in files {
        let row = Replay::open(&file).and_then(|r| {
            Ok(TriageRow {
                summary: summarize(&r)?,
                policy: r.episode.header.policy.clone(),
                file: file.clone(),
            })
        });
        match row {
            Ok(r) => out.rows.push(r),
            Err(e) => out.errors.push((file, e.to_string())),
        }
    }
    Ok(out)
}

impl Triage {
    /// Episodes per outcome: `success` and each failure kind, every kind listed.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m: BTreeMap<&'static str, usize> = FailureKind::ALL
            .iter()
            .map(|k| (k.label(), 0))
            .chain([("success", 0)])
            .collect();
        for r in &self.rows {
            *m.entry(r.outcome()).or_default() += 1;
        }
        m
    }

    /// Sorts the rows by `key` (ascending, or descending when `descending`).
    pub fn sort(&mut self, key: SortKey, descending: bool) {
        sort_rows(&mut self.rows, key, descending);
    }

    /// Keeps only rows whose outcome is `outcome` (a label of [`outcome_label`]).
    pub fn filter_outcome(&mut self, outcome: &str) {
        self.rows.retain(|r| r.outcome() == outcome);
    }
}

/// The outcome label (`success` or a failure kind's label) that `text` names, written either
/// way: `one-pad contact`, `one_pad_contact`, `One pad contact`.
pub fn outcome_label(text: &str) -> Option<&'static str> {
    let norm = |s: &str| s.replace(['_', '-'], " ").to_lowercase();
    let want = norm(text.trim());
    FailureKind::ALL
        .iter()
        .map(|k| k.label())
        .chain(["success"])
        .find(|l| norm(l) == want)
}

/// Sorts `rows` by `key`; ties keep file order.
pub fn sort_rows(rows: &mut [TriageRow], key: SortKey, descending: bool) {
    let outcome_rank = |r: &TriageRow| {
        r.summary.failure.map_or(0, |f| {
            1 + FailureKind::ALL.iter().position(|&k| k == f).unwrap_or(0)
        })
    };
    rows.sort_by(|a, b| {
        let (x, y) = (&a.summary, &b.summary);
        let o = match key {
            SortKey::File => a.file.cmp(&b.file),
            SortKey::Seed => x.seed.cmp(&y.seed),
            SortKey::Outcome => outcome_rank(a).cmp(&outcome_rank(b)),
            SortKey::Return => x.ret.total_cmp(&y.ret),
            SortKey::Steps => x.steps.cmp(&y.steps),
            SortKey::Peak => x.peak_height_m.total_cmp(&y.peak_height_m),
            SortKey::Verdict => x.verdict.label().cmp(y.verdict.label()),
        };
        if descending { o.reverse() } else { o }
    });
}
