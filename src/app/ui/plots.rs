//! The plots panel: the reward terms, return, cube height, grasp flags, the grasp inspector's
//! forces, cone use and depth, critics and actions of the current episode (or the replay), each
//! with its legend above the plot and the replay cursor.

use std::collections::VecDeque;
use std::time::Duration;

use bevy_egui::egui;
use egui_plot::{HLine, Line, Plot, PlotPoints};

use crate::app::state::{PlotHistory, SimResource, StepSample};
use crate::task::reward::RewardTerms;

fn line<'a>(
    name: &str,
    samples: &'a VecDeque<StepSample>,
    f: impl Fn(&StepSample) -> f64,
) -> Line<'a> {
    let pts: Vec<[f64; 2]> = samples.iter().map(|s| [s.step as f64, f(s)]).collect();
    Line::new(name.to_owned(), PlotPoints::from(pts))
}

/// A dashed line over a plain slice (the comparison episode); empty slices draw nothing.
fn dashed<'a>(name: &str, samples: &'a [StepSample], f: impl Fn(&StepSample) -> f64) -> Line<'a> {
    let pts: Vec<[f64; 2]> = samples.iter().map(|s| [s.step as f64, f(s)]).collect();
    Line::new(name.to_owned(), PlotPoints::from(pts)).style(egui_plot::LineStyle::dashed_dense())
}

fn plot(id: &str, height: f32) -> Plot<'static> {
    Plot::new(id.to_owned())
        .height(height)
        .link_axis("policy_steps", [true, false])
        .link_cursor("policy_steps", [true, false])
        .allow_scroll(false)
}

/// Distinct curve colours (legend and curve share them).
const PALETTE: [egui::Color32; 10] = [
    egui::Color32::from_rgb(230, 25, 75),
    egui::Color32::from_rgb(60, 180, 75),
    egui::Color32::from_rgb(255, 225, 25),
    egui::Color32::from_rgb(67, 99, 216),
    egui::Color32::from_rgb(245, 130, 49),
    egui::Color32::from_rgb(145, 30, 180),
    egui::Color32::from_rgb(66, 212, 244),
    egui::Color32::from_rgb(240, 50, 230),
    egui::Color32::from_rgb(191, 239, 69),
    egui::Color32::from_rgb(250, 190, 212),
];

/// The curves of one plot with their legend entries.
#[derive(Default)]
struct Curves<'a> {
    lines: Vec<Line<'a>>,
    hlines: Vec<HLine>,
    legend: Vec<(String, egui::Color32)>,
}

impl<'a> Curves<'a> {
    /// Adds a curve in the next palette colour (white when `emphasis`).
    fn add(&mut self, name: &str, line: Line<'a>, emphasis: bool) {
        let colour = if emphasis {
            egui::Color32::WHITE
        } else {
            PALETTE[self.legend.len() % PALETTE.len()]
        };
        self.lines.push(line.color(colour));
        self.legend.push((name.to_owned(), colour));
    }

    /// A dashed comparison curve; nothing when there is no comparison episode.
    fn compare(&mut self, name: &str, samples: &'a [StepSample], f: impl Fn(&StepSample) -> f64) {
        if !samples.is_empty() {
            self.add(name, dashed(name, samples, f), false);
        }
    }

    fn hline(&mut self, name: &str, y: f64) {
        let colour = PALETTE[(self.legend.len() + 5) % PALETTE.len()];
        self.hlines.push(HLine::new(name, y).color(colour));
        self.legend.push((name.to_owned(), colour));
    }
}

/// Draws one plot: its legend above it, outside the plot area so it never covers a curve, then
/// the curves with the shared cursor line; returns the step clicked, if any.
fn show_plot(
    ui: &mut egui::Ui,
    id: &str,
    height: f32,
    cursor: Option<usize>,
    curves: Curves<'_>,
) -> Option<usize> {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 8.0;
        for (name, colour) in &curves.legend {
            ui.label(
                egui::RichText::new(format!("\u{25A0} {name}"))
                    .color(*colour)
                    .small(),
            );
        }
    });
    let Curves { lines, hlines, .. } = curves;
    let r = plot(id, height).show(ui, move |p| {
        for l in lines {
            p.line(l);
        }
        for h in hlines {
            p.hline(h);
        }
        if let Some(c) = cursor {
            p.vline(egui_plot::VLine::new("", c as f64).color(egui::Color32::WHITE));
        }
        p.pointer_coordinate()
    });
    if r.response.clicked() {
        r.inner.map(|p| p.x.round().max(0.0) as usize)
    } else {
        None
    }
}

/// The plots panel body (drawn by the UI shell as a right-hand panel). `cursor` is the replay
/// cursor (a white line); returns the step the user clicked in any plot.
pub fn plots_ui(
    ui: &mut egui::Ui,
    hist: &PlotHistory,
    sim: &SimResource,
    cursor: Option<usize>,
) -> Option<usize> {
    let stats = sim.session.stats;
    ui.heading(if cursor.is_some() {
        "Recorded episode"
    } else {
        "Policy"
    });
    ui.label(format!(
        "episodes {}  success {:.0}%  mean return {:.1}",
        stats.episodes,
        100.0 * stats.success_rate(),
        stats.mean_return(),
    ));
    ui.label(format!(
        "inference {}",
        fmt_duration(sim.session.mean_act_time())
    ));
    let mut clicked = None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        for (title, id, height, curves) in plot_specs(hist) {
            ui.label(title);
            clicked = clicked.or(show_plot(ui, id, height, cursor, curves));
        }
    });
    clicked
}

/// Every plot of the panel: title, id, height and curves.
fn plot_specs(hist: &PlotHistory) -> Vec<(&'static str, &'static str, f32, Curves<'_>)> {
    let (s, c) = (&hist.samples, hist.comparison.as_slice());
    let mut out = Vec::new();
    let mut terms = Curves::default();
    for (k, name) in RewardTerms::NAMES.iter().enumerate() {
        // Each reward function reports its own terms; the others stay zero and are left out.
        if s.iter().all(|x| x.terms[k] == 0.0) {
            continue;
        }
        terms.add(name, line(name, s, |x| x.terms[..=k].iter().sum()), false);
    }
    terms.add("total", line("total", s, |x| x.total).width(2.5), true);
    terms.compare("original total", c, |x| x.total);
    out.push(("reward terms (stacked) and total", "terms", 140.0, terms));
    let mut ret = Curves::default();
    ret.add("return", line("return", s, |x| x.cumulative), false);
    ret.compare("original return", c, |x| x.cumulative);
    out.push(("return so far", "return", 90.0, ret));
    let mut z = Curves::default();
    z.add("cube z", line("cube z", s, |x| x.cube_z), false);
    z.compare("original cube z", c, |x| x.cube_z);
    for (name, h) in [("0.02", 0.02), ("0.06", 0.06), ("lift 0.08", 0.08)] {
        z.hline(name, h);
    }
    out.push(("cube height (m)", "cube_z", 110.0, z));
    let mut flags = Curves::default();
    for (i, name) in ["grasping", "static pad", "moving pad"].iter().enumerate() {
        let off = 1.2 * i as f64;
        flags.add(
            name,
            line(name, s, |x| off + f64::from(u8::from(x.flags[i]))),
            false,
        );
    }
    out.push(("grasp and pad contacts", "flags", 80.0, flags));
    let mut jaw = Curves::default();
    jaw.add(
        "static jaw N",
        line("static jaw N", s, |x| x.grasp.force_n[0]),
        false,
    );
    jaw.add(
        "moving jaw N",
        line("moving jaw N", s, |x| x.grasp.force_n[1]),
        false,
    );
    out.push((
        "grasp inspector: normal force per jaw",
        "jaw_force",
        80.0,
        jaw,
    ));
    let mut slip = Curves::default();
    slip.add("cone use", line("cone use", s, |x| x.grasp.cone_use), false);
    slip.add("depth mm", line("depth mm", s, |x| x.grasp.depth_mm), false);
    slip.add(
        "sliding/clipping",
        line("sliding/clipping", s, |x| {
            f64::from(u8::from(x.grasp.fault))
        }),
        false,
    );
    slip.hline("sliding (cone 0.95)", crate::sim::SLIDING_CONE_USE);
    slip.hline(
        "clipping (0.5 mm)",
        1e3 * crate::sim::CLIPPING_PENETRATION_M,
    );
    out.push((
        "grasp inspector: cone use, depth, faults",
        "jaw_slip",
        90.0,
        slip,
    ));
    if s.iter().any(|x| !x.q.is_empty()) {
        let mut q = Curves::default();
        q.add(
            "Q1",
            line("Q1", s, |x| x.q.first().copied().unwrap_or(f64::NAN)),
            false,
        );
        q.add(
            "Q2",
            line("Q2", s, |x| x.q.get(1).copied().unwrap_or(f64::NAN)),
            false,
        );
        out.push(("critics Q1 / Q2 of the action", "q", 110.0, q));
        let mut alpha = Curves::default();
        alpha.add(
            "alpha",
            line("alpha", s, |x| x.alpha.unwrap_or(f64::NAN)),
            false,
        );
        out.push(("entropy coefficient alpha", "alpha", 60.0, alpha));
    }
    let mut act = Curves::default();
    for (d, name) in ["dx", "dy", "dz", "gripper"].iter().enumerate() {
        act.add(
            name,
            line(name, s, |x| x.mean.get(d).map_or(x.action[d], |m| m.tanh())),
            false,
        );
        let std = format!("{name} std");
        let dashed = line(&std, s, |x| x.std.get(d).copied().unwrap_or(0.0))
            .style(egui_plot::LineStyle::dashed_loose());
        act.add(&std, dashed, false);
    }
    out.push(("action (policy mean; std dashed)", "actions", 120.0, act));
    out
}

fn fmt_duration(d: Option<Duration>) -> String {
    d.map_or_else(
        || "-".to_owned(),
        |d| format!("{:.0} us/step", d.as_secs_f64() * 1e6),
    )
}
