//! For `cargo xtask screenshot`: with `SEGNO_EDITOR_REPORT=FILE` set, the editor writes to FILE what
//! it shows (where the pianist is, the measures of the page shown and where each was drawn, in
//! pixels) and how long its frames take, at most ten times a second; and each engraved page as it
//! was rasterised, without cursor or shading, beside it (`FILE.page-N.png`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use super::notation::NotationView;

const EVERY: Duration = Duration::from_millis(100);
/// Frame times kept for the statistics.
const FRAMES: usize = 2000;

pub struct Report {
    path: PathBuf,
    last: Option<Instant>,
    frame_ms: Vec<f64>,
    /// The address of the pages last written.
    pages_written: usize,
}

impl Report {
    pub fn from_env() -> Option<Self> {
        let path = std::env::var_os("SEGNO_EDITOR_REPORT")?;
        Some(Self {
            path: path.into(),
            last: None,
            frame_ms: Vec::new(),
            pages_written: 0,
        })
    }

    /// Records a frame that took `took` to build; writes the report when it is due.
    pub fn frame(&mut self, took: Duration, notation: &NotationView, pixels_per_point: f32) {
        if self.frame_ms.len() == FRAMES {
            self.frame_ms.remove(0);
        }
        self.frame_ms.push(took.as_secs_f64() * 1e3);
        if self.last.is_some_and(|l| l.elapsed() < EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        self.write_pages(notation);
        let px = |r: egui::Rect| {
            [r.min.x, r.min.y, r.max.x, r.max.y].map(|v| (v * pixels_per_point).round())
        };
        let shown = notation.shown.as_ref().map(|s| {
            json!({
                "played_measure": s.place.played_measure,
                "written_measure": s.place.measure,
                "pass": s.place.pass,
                "page": s.page,
                "view": px(s.view),
                "measures": s.measures.iter().map(|(n, r)| json!({"number": n, "rect": px(*r)})).collect::<Vec<_>>(),
            })
        });
        let mut sorted = self.frame_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q) as usize];
        let report = json!({
            "frames": sorted.len(),
            "frame_ms": {"mean": sorted.iter().sum::<f64>() / sorted.len() as f64, "median": at(0.5), "p99": at(0.99), "max": at(1.0)},
            "shown": shown,
        });
        let tmp = self.path.with_extension("tmp");
        // A test reads it: written whole, then renamed over the last one.
        if std::fs::write(&tmp, report.to_string()).is_ok() {
            let _ = std::fs::rename(&tmp, &self.path);
        }
    }

    fn write_pages(&mut self, notation: &NotationView) {
        let Some(pages) = notation.pages() else {
            return;
        };
        // A new engraving is a new allocation.
        if pages.as_ptr() as usize == self.pages_written {
            return;
        }
        for (i, page) in pages.iter().enumerate() {
            if let Some(png) = page.png() {
                let mut name = self.path.clone().into_os_string();
                name.push(format!(".page-{i}.png"));
                let _ = std::fs::write(name, png);
            }
        }
        self.pages_written = pages.as_ptr() as usize;
    }
}
