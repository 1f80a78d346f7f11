//! The triage table as one static HTML page: counts per outcome, a row per episode, and for
//! every failure a thumbnail of its moment of failure (framing camera, sites and contacts
//! drawn), inlined as PNG so the page is a single file to attach or mail.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;
use nalgebra::Vector3;

use super::{Overlay, draw_state};
use crate::episode::Replay;
use crate::episode::triage::{COLUMNS, Triage};
use crate::render::{CameraModel, Frame, RenderOptions, Renderer};

/// Thumbnail size, pixels.
pub const THUMB_SIZE: (u32, u32) = (240, 180);

/// A PNG of state `k` of the episode at `path`, framed on the cube and the TCP, with the
/// sites and contacts drawn.
pub fn thumbnail_png(path: &Path, k: usize, width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let mut replay = Replay::open(path)?;
    replay.seek(k)?;
    let sim = replay.env().sim();
    let renderer = Renderer::new(sim.model(), RenderOptions::for_size(width, height))?;
    // Close on the hand and the cube, a quarter metre away, from the videos' direction.
    let centre = (sim.cube_pose().pos + sim.tcp_pose().pos) / 2.0;
    let cam = CameraModel::look_at(
        centre + 0.25 * Vector3::from(super::FRAMING_FROM).normalize(),
        centre,
        45.0,
        width,
        height,
    );
    let mut frame = Frame::default();
    draw_state(
        &renderer,
        sim,
        &cam,
        &replay.snapshot(),
        &[Overlay::Sites, Overlay::Contacts],
        &mut frame,
    )?;
    Ok(crate::render::preprocess::encode_png(
        width, height, &frame.rgb,
    )?)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page for `triage`, titled `title`; thumbnails are drawn for failed episodes.
pub fn html_report(triage: &Triage, title: &str) -> anyhow::Result<String> {
    let mut h = String::new();
    let t = escape(title);
    writeln!(
        h,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title><style>\
         body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right;vertical-align:middle}}\
         td.l,th.l{{text-align:left}}tr.ok{{color:#666}}</style></head><body><h1>{t}</h1>"
    )?;
    let counts = triage.counts();
    write!(h, "<p>{} episodes: ", triage.rows.len())?;
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    writeln!(h, "{}</p>", parts.join(", "))?;
    let head: Vec<String> = COLUMNS.iter().map(|c| format!("<th>{c}</th>")).collect();
    writeln!(
        h,
        "<table><tr>{}<th class=l>moment of failure</th></tr>",
        head.join("")
    )?;
    for r in &triage.rows {
        let s = &r.summary;
        let thumb = match s.failure_step {
            Some(k) => {
                let png = thumbnail_png(&r.file, k, THUMB_SIZE.0, THUMB_SIZE.1)?;
                format!(
                    "<img width={} height={} alt=\"state {k}\" src=\"data:image/png;base64,{}\">",
                    THUMB_SIZE.0,
                    THUMB_SIZE.1,
                    base64::engine::general_purpose::STANDARD.encode(png)
                )
            }
            None => String::new(),
        };
        let cells: Vec<String> = r
            .cells()
            .iter()
            .map(|c| format!("<td>{}</td>", escape(c)))
            .collect();
        writeln!(
            h,
            "<tr class=\"{}\">{}<td class=l>{thumb}</td></tr>",
            if s.success { "ok" } else { "fail" },
            cells.join("")
        )?;
    }
    writeln!(h, "</table>")?;
    for (file, err) in &triage.errors {
        writeln!(
            h,
            "<p>not read: {}: {}</p>",
            escape(&file.display().to_string()),
            escape(err)
        )?;
    }
    writeln!(h, "</body></html>")?;
    Ok(h)
}
