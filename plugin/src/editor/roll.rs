//! The score as a piano roll: time runs left to right at the written tempo, measure lines carry
//! their printed numbers, and the view scrolls so the cursor stays a third of the way in.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke};
use segno::position::FollowState;
use segno::score::Score;

use super::{cursor_colour, palette, rgb};

/// Seconds of the score in view.
const WINDOW_S: f64 = 10.0;
/// Where the cursor sits, as a share of the width.
const CURSOR_AT: f64 = 0.3;
const NUMBER_STRIP: f32 = 18.0;

pub fn show(
    ui: &mut egui::Ui,
    score: Option<&Score>,
    cursor: Option<f64>,
    state: Option<FollowState>,
) {
    let (rect, _) = ui.allocate_exact_size(ui.available_size(), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, Color32::WHITE);
    let Some(score) = score.filter(|s| !s.notes.is_empty()) else {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "Open a score, or drop a MusicXML or MIDI file here",
            FontId::proportional(18.0),
            Color32::DARK_GRAY,
        );
        return;
    };
    let first_note = score
        .notes
        .iter()
        .map(|n| n.onset_s)
        .fold(f64::INFINITY, f64::min);
    let now = cursor.unwrap_or(first_note);
    let start = now - CURSOR_AT * WINDOW_S;
    let view = View::new(rect, score, start);

    for m in &score.measures {
        let t = score.tempo.seconds_at(m.start_beat);
        if (start..start + WINDOW_S).contains(&t) {
            let x = view.x(t);
            painter.line_segment(
                [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
                Stroke::new(1.0, rgb(palette::MEASURE_LINE)),
            );
            painter.text(
                Pos2::new(x + 3.0, rect.top() + 2.0),
                Align2::LEFT_TOP,
                &m.number,
                FontId::proportional(13.0),
                Color32::DARK_GRAY,
            );
        }
    }
    for n in score
        .notes
        .iter()
        .filter(|n| n.offset_s > start && n.onset_s < start + WINDOW_S)
    {
        let (top, bottom) = view.pitch_band(n.pitch);
        let r = Rect::from_x_y_ranges(
            view.x(n.onset_s)..=view.x(n.offset_s).max(view.x(n.onset_s) + 2.0),
            top..=bottom,
        );
        painter.rect_filled(
            r.intersect(rect),
            1.5,
            rgb(if n.onset_s < now {
                palette::PLAYED
            } else {
                palette::NOTE
            }),
        );
    }
    if cursor.is_some() {
        let color = cursor_colour(state);
        let x = view.x(now);
        painter.line_segment(
            [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
            Stroke::new(3.0, color),
        );
    }
}

/// Maps score time and pitch to the screen.
struct View {
    rect: Rect,
    start: f64,
    low: u8,
    rows: f32,
}

impl View {
    fn new(rect: Rect, score: &Score, start: f64) -> Self {
        let low = score
            .notes
            .iter()
            .map(|n| n.pitch)
            .min()
            .unwrap_or(60)
            .saturating_sub(2);
        let high = score
            .notes
            .iter()
            .map(|n| n.pitch)
            .max()
            .unwrap_or(72)
            .saturating_add(2);
        Self {
            rect,
            start,
            low,
            rows: f32::from(high - low + 1),
        }
    }

    fn x(&self, t: f64) -> f32 {
        self.rect.left() + ((t - self.start) / WINDOW_S) as f32 * self.rect.width()
    }

    fn pitch_band(&self, pitch: u8) -> (f32, f32) {
        let row_h = (self.rect.height() - NUMBER_STRIP) / self.rows;
        let bottom = self.rect.bottom() - f32::from(pitch - self.low) * row_h;
        (bottom - row_h.max(2.0) + 0.5, bottom - 0.5)
    }
}
