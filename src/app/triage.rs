//! `TriagePlugin`: a folder of episodes (e.g. `eval --record DIR`) as a table: seed, outcome,
//! failure kind and moment, return, steps, grasp verdict, peak height and grasp quality. Sort by
//! any column, filter by outcome; a row opens its episode on the timeline with the cursor at the
//! moment of failure. The folder is read on a worker thread so the frame loop never waits.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use super::state::{AppMessages, OpenPanels, TimelineCommand, TimelineQueue};
use crate::episode::triage::{COLUMNS, SortKey, Triage, TriageRow, scan, sort_rows};

/// The triage window.
pub struct TriagePlugin {
    /// A folder to open at start.
    pub dir: Option<PathBuf>,
    /// Draw the window (off in headless apps).
    pub ui: bool,
}

impl Plugin for TriagePlugin {
    fn build(&self, app: &mut App) {
        let mut table = TriageTable::default();
        if let Some(dir) = &self.dir {
            table.open(dir.clone());
        }
        app.insert_resource(table).add_systems(Update, poll_triage);
        if self.ui {
            app.add_systems(EguiPrimaryContextPass, triage_ui);
        }
    }
}

type Pending = Arc<Mutex<Option<Result<Triage, String>>>>;

/// The table, its sort and filter, and a folder being read.
#[derive(Resource, Default)]
pub struct TriageTable {
    /// The folder shown (or being read).
    pub dir: Option<PathBuf>,
    /// Its episodes, once read.
    pub triage: Option<Triage>,
    /// The column rows are sorted by.
    pub sort: SortKey,
    /// Descending order.
    pub descending: bool,
    /// Show only this outcome (`success` or a failure kind's label).
    pub outcome: Option<String>,
    /// The folder path typed in the window.
    pub dir_text: String,
    pending: Option<Pending>,
}

impl TriageTable {
    /// Starts reading `dir` on a worker thread; the table fills in when it is done.
    pub fn open(&mut self, dir: PathBuf) {
        let slot: Pending = Arc::default();
        let out = Arc::clone(&slot);
        let d = dir.clone();
        std::thread::spawn(move || {
            let result = scan(&d).map_err(|e| e.to_string());
            if let Ok(mut s) = out.lock() {
                *s = Some(result);
            }
        });
        self.dir_text = dir.display().to_string();
        self.dir = Some(dir);
        self.triage = None;
        self.pending = Some(slot);
    }

    /// Whether a folder is being read.
    pub fn is_loading(&self) -> bool {
        self.pending.is_some()
    }

    /// Takes a finished read: `Some(Err)` when the folder could not be read.
    pub fn poll(&mut self) -> Option<Result<(), String>> {
        let done = self.pending.as_ref()?.lock().ok()?.take()?;
        self.pending = None;
        Some(done.map(|t| self.triage = Some(t)))
    }

    /// The rows shown: filtered by outcome, sorted.
    pub fn visible_rows(&self) -> Vec<TriageRow> {
        let Some(t) = &self.triage else {
            return Vec::new();
        };
        let mut rows: Vec<TriageRow> = t
            .rows
            .iter()
            .filter(|r| self.outcome.as_deref().is_none_or(|o| r.outcome() == o))
            .cloned()
            .collect();
        sort_rows(&mut rows, self.sort, self.descending);
        rows
    }
}

/// The timeline commands that open `row` at its moment of failure (the end, for a success).
pub fn open_row_commands(row: &TriageRow) -> [TimelineCommand; 3] {
    [
        TimelineCommand::Open(row.file.clone()),
        TimelineCommand::Play(false),
        TimelineCommand::Seek(row.summary.failure_step.unwrap_or(row.summary.steps)),
    ]
}

fn poll_triage(mut table: ResMut<TriageTable>, mut messages: ResMut<AppMessages>) {
    match table.poll() {
        Some(Ok(())) => {
            if let Some(t) = &table.triage {
                messages.info(format!("triage: {} episodes read", t.rows.len()));
                for (file, err) in &t.errors {
                    messages.error(format!("triage: {}: {err}", file.display()));
                }
            }
        }
        Some(Err(e)) => messages.error(format!("triage: {e}")),
        None => {}
    }
}

/// The sort key of each column of [`TriageRow::cells`] (None: not sortable).
const SORT_KEYS: [Option<SortKey>; 11] = [
    Some(SortKey::File),
    Some(SortKey::Seed),
    Some(SortKey::Outcome),
    None,
    Some(SortKey::Return),
    Some(SortKey::Steps),
    Some(SortKey::Verdict),
    Some(SortKey::Peak),
    None,
    None,
    None,
];

fn triage_ui(
    mut contexts: EguiContexts,
    mut table: ResMut<TriageTable>,
    mut timeline: ResMut<TimelineQueue>,
    mut panels: ResMut<OpenPanels>,
) -> Result {
    if !panels.triage {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    let mut open = true;
    egui::Window::new("Failure triage")
        .open(&mut open)
        .default_pos([300.0, 130.0])
        .default_width(760.0)
        .default_height(420.0)
        .show(ctx, |ui| {
            folder_row(ui, &mut table);
            if table.is_loading() {
                ui.spinner();
                return;
            }
            let Some(t) = &table.triage else {
                return;
            };
            let counts = t.counts();
            let mut chosen = table.outcome.clone();
            ui.horizontal_wrapped(|ui| {
                ui.selectable_value(&mut chosen, None, format!("all {}", t.rows.len()));
                for (k, n) in counts {
                    ui.selectable_value(&mut chosen, Some(k.to_owned()), format!("{k} {n}"));
                }
            });
            table.outcome = chosen;
            rows_grid(ui, &mut table, &mut timeline);
        });
    panels.triage = open;
    Ok(())
}

fn folder_row(ui: &mut egui::Ui, table: &mut TriageTable) {
    ui.horizontal(|ui| {
        ui.label("folder");
        let edit = ui.text_edit_singleline(&mut table.dir_text);
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (ui.button("Read").clicked() || enter) && !table.dir_text.is_empty() {
            let dir = PathBuf::from(table.dir_text.trim());
            table.open(dir);
        }
    });
}

fn rows_grid(ui: &mut egui::Ui, table: &mut TriageTable, timeline: &mut TimelineQueue) {
    let rows = table.visible_rows();
    egui::ScrollArea::both().show(ui, |ui| {
        egui::Grid::new("triage_rows")
            .striped(true)
            .num_columns(COLUMNS.len() + 1)
            .show(ui, |ui| {
                for (name, key) in COLUMNS.into_iter().zip(SORT_KEYS).chain([("", None)]) {
                    match key {
                        Some(k) => {
                            let arrow = match (table.sort == k, table.descending) {
                                (true, false) => " ^",
                                (true, true) => " v",
                                _ => "",
                            };
                            if ui.button(format!("{name}{arrow}")).clicked() {
                                table.descending = table.sort == k && !table.descending;
                                table.sort = k;
                            }
                        }
                        None => {
                            ui.strong(name);
                        }
                    }
                }
                ui.end_row();
                for row in &rows {
                    row_cells(ui, row, timeline);
                    ui.end_row();
                }
            });
    });
}

fn row_cells(ui: &mut egui::Ui, row: &TriageRow, timeline: &mut TimelineQueue) {
    let s = &row.summary;
    for (i, cell) in row.cells().into_iter().enumerate() {
        let text = egui::RichText::new(cell);
        // Failures in red, sliding and clipping grasps in amber.
        let text = match i {
            2 if !s.success => text.color(egui::Color32::from_rgb(240, 120, 90)),
            6 if s.verdict.is_fault() => text.color(egui::Color32::from_rgb(240, 180, 60)),
            _ => text,
        };
        ui.label(text);
    }
    let tip = match s.failure_step {
        Some(k) => format!("open at step {k}, the moment of failure"),
        None => "open at the last step".to_owned(),
    };
    if ui.button("open").on_hover_text(tip).clicked() {
        timeline.0.extend(open_row_commands(row));
    }
}
