//! The score as engraved notation. Verovio engraves the pages on a thread of their own, once per
//! layout (score, view size, zoom); each frame draws them from textures, with the measure being
//! played shaded, its sounding notes outlined, the notes played dimmed and a cursor on the beat.
//! The page turns from the position alone (see [`segno_notation::turn`]), so a jump of the follower
//! shows the right page on the next frame.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, TextureHandle, Vec2};
use segno::position::FollowState;
use segno::score::Score;
use segno_notation::engrave::Page;
use segno_notation::turn::{half_page_split, halves_to_show, page_to_show, scroll_offset};
use segno_notation::{engrave, Engraving, Layout, PageMode, Place, Timeline};

use super::{cursor_colour, palette, rgb};
use crate::session::{Display, SavedScore};

/// A new layout is engraved once the view has kept its size this long (not at every step of a
/// window resize).
const SETTLE: Duration = Duration::from_millis(250);
/// Scroll view: where the current system's top sits, as a share of the view's height.
const SCROLL_AT: f32 = 0.2;

/// What one engraving was made for: a score (told apart by its address) and a layout.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key {
    score: usize,
    layout: Layout,
}

struct Engraved {
    key: Key,
    engraving: Engraving,
    timeline: Timeline,
    textures: Vec<TextureHandle>,
}

type Job = Receiver<Result<(Engraving, Timeline), String>>;

#[derive(Default)]
pub struct NotationView {
    ready: Option<Engraved>,
    job: Option<(Key, Job)>,
    wanted: Option<(Key, Instant)>,
    failed: Option<(Key, String)>,
    /// Scroll view: the offset shown, easing toward the current system's.
    scroll: f32,
    /// What the last frame showed, for `cargo xtask screenshot`'s check.
    pub shown: Option<Shown>,
}

/// What a frame showed, in screen points.
#[derive(Debug, Clone)]
pub struct Shown {
    pub place: Place,
    pub page: usize,
    pub view: Rect,
    /// Every engraved measure of the page shown: its printed number and where it was drawn.
    pub measures: Vec<(String, Rect)>,
}

/// What the notation is drawn from this frame.
pub struct Frame<'a> {
    pub score: &'a Arc<Score>,
    pub cursor: Option<f64>,
    pub state: Option<FollowState>,
    pub display: Display,
}

impl NotationView {
    /// The raw pages of the engraving shown, for the screenshot check.
    pub fn pages(&self) -> Option<&[Page]> {
        self.ready.as_ref().map(|r| r.engraving.pages.as_slice())
    }

    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        frame: Frame,
        saved: impl FnOnce() -> Option<SavedScore>,
    ) {
        let (rect, _) = ui.allocate_exact_size(ui.available_size(), Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, Color32::WHITE);
        let key = Key {
            score: Arc::as_ptr(frame.score) as usize,
            layout: Layout {
                width: rect.width().max(50.0) as u32,
                height: rect.height().max(50.0) as u32,
                zoom_percent: frame.display.zoom_percent,
                pixels_per_point: ui.ctx().pixels_per_point(),
            },
        };
        self.engrave_when_settled(key, frame.score, saved);
        self.take_finished(ui.ctx());
        if let Some((k, error)) = &self.failed {
            if k.score == key.score {
                centred(&painter, rect, error);
                return;
            }
        }
        let Some(ready) = self.ready.as_ref().filter(|r| r.key.score == key.score) else {
            centred(&painter, rect, "Engraving the score…");
            ui.ctx().request_repaint();
            return;
        };
        let t = frame.cursor.unwrap_or(0.0);
        let place = ready.timeline.place(&ready.engraving, t);
        let system = place.map_or(0, |p| p.system);
        let look = Look {
            place: place.filter(|_| frame.cursor.is_some()),
            t,
            colour: cursor_colour(frame.state),
        };
        // Pages engraved for another size (while a new layout is engraved) are scaled to fit.
        let page_size = Vec2::new(
            ready.key.layout.width as f32,
            ready.key.layout.height as f32,
        );
        let scale = (rect.width() / page_size.x).min(rect.height() / page_size.y);
        let draw = |page: usize, top: f32, clip: Rect| {
            let to_screen = ToScreen {
                origin: Pos2::new(rect.left(), top),
                scale,
            };
            draw_page(
                &painter.with_clip_rect(clip),
                ready,
                page,
                &to_screen,
                &look,
            );
            to_screen
        };
        let e = &ready.engraving;
        let (page, to_screen) = match frame.display.page_mode {
            PageMode::Page => {
                let page = page_to_show(e, system, frame.display.turn);
                (page, draw(page, rect.top(), rect))
            }
            PageMode::HalfPage => {
                let [top, bottom] = halves_to_show(e, system);
                let split = half_page_split(e, bottom).min(half_page_split(e, top));
                let split_y = rect.top() + half_page_split(e, bottom) * scale;
                let top_clip = Rect::from_min_max(
                    rect.min,
                    Pos2::new(rect.right(), rect.top() + split * scale),
                );
                let bottom_clip = Rect::from_min_max(Pos2::new(rect.left(), split_y), rect.max);
                draw(top, rect.top(), top_clip);
                let shown = draw(bottom, rect.top(), bottom_clip);
                painter.line_segment(
                    [
                        Pos2::new(rect.left(), split_y),
                        Pos2::new(rect.right(), split_y),
                    ],
                    Stroke::new(1.0, rgb(palette::MEASURE_LINE)),
                );
                let on_top = place.is_some_and(|p| p.page == top && top != bottom);
                if on_top {
                    (top, shown)
                } else {
                    (bottom, shown)
                }
            }
            PageMode::Scroll => {
                let scale = rect.width() / page_size.x;
                let target = scroll_offset(e, system, rect.height() / scale, SCROLL_AT);
                let dt = ui.ctx().input(|i| i.stable_dt);
                self.scroll = eased(self.scroll, target, rect.height() / scale, dt);
                let mut shown = None;
                for page in 0..e.pages.len() {
                    let top = rect.top() + (page as f32 * page_size.y - self.scroll) * scale;
                    if top < rect.bottom() && top + page_size.y * scale > rect.top() {
                        let to_screen = ToScreen {
                            origin: Pos2::new(rect.left(), top),
                            scale,
                        };
                        draw_page(&painter, ready, page, &to_screen, &look);
                        if place.is_some_and(|p| p.page == page) || shown.is_none() {
                            shown = Some((page, to_screen));
                        }
                    }
                }
                shown.unwrap_or((
                    0,
                    ToScreen {
                        origin: rect.min,
                        scale,
                    },
                ))
            }
        };
        self.shown = look.place.map(|place| Shown {
            place,
            page,
            view: rect,
            measures: e
                .measures
                .iter()
                .enumerate()
                .filter(|(i, _)| e.page_of_measure(*i) == page)
                .map(|(_, m)| (m.number.clone(), to_screen.rect(m.rect)))
                .collect(),
        });
    }

    /// Engraves `key`'s layout once the view has kept it for [`SETTLE`], on a thread of its own.
    fn engrave_when_settled(
        &mut self,
        key: Key,
        score: &Arc<Score>,
        saved: impl FnOnce() -> Option<SavedScore>,
    ) {
        let current = self.ready.as_ref().map(|r| r.key);
        let in_flight = self.job.as_ref().map(|j| j.0);
        let failed = self.failed.as_ref().map(|f| f.0);
        if [current, in_flight, failed].contains(&Some(key)) {
            return;
        }
        let since = match self.wanted {
            Some((k, since)) if k == key => since,
            _ => {
                self.wanted = Some((key, Instant::now()));
                return;
            }
        };
        // The first engraving of a score need not wait for a resize to end.
        let first = current.is_none_or(|c| c.score != key.score);
        if !first && since.elapsed() < SETTLE {
            return;
        }
        let Some(saved) = saved() else { return };
        let (tx, rx) = crossbeam_channel::bounded(1);
        let score = score.clone();
        let spawned = std::thread::Builder::new()
            .name("segno-engrave".into())
            .spawn(move || {
                let engraved = engrave(&saved.name, &saved.bytes, key.layout)
                    .map(|e| {
                        let timeline = Timeline::new(score, &e);
                        (e, timeline)
                    })
                    .map_err(|e| e.to_string());
                let _ = tx.send(engraved);
            });
        match spawned {
            Ok(_) => self.job = Some((key, rx)),
            Err(e) => {
                self.failed = Some((key, format!("Could not start engraving the score: {e}")))
            }
        }
    }

    fn take_finished(&mut self, ctx: &egui::Context) {
        let Some((key, rx)) = &self.job else { return };
        let key = *key;
        let result = match rx.try_recv() {
            Ok(result) => result,
            Err(crossbeam_channel::TryRecvError::Empty) => return,
            // The thread died (Verovio panicked): say so rather than wait for ever.
            Err(crossbeam_channel::TryRecvError::Disconnected) => Err(
                "The engraver failed on this score; showing it as a piano roll is still possible."
                    .into(),
            ),
        };
        self.job = None;
        match result {
            Ok((engraving, timeline)) => {
                let textures = engraving
                    .pages
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let image = egui::ColorImage::from_rgba_premultiplied(
                            [p.width_px as usize, p.height_px as usize],
                            &p.rgba,
                        );
                        ctx.load_texture(
                            format!("segno-page-{i}"),
                            image,
                            egui::TextureOptions::LINEAR,
                        )
                    })
                    .collect();
                self.failed = None;
                self.ready = Some(Engraved {
                    key,
                    engraving,
                    timeline,
                    textures,
                });
            }
            Err(e) => self.failed = Some((key, e)),
        }
    }
}

/// A scroll offset eased toward `target` over a frame of `dt` seconds; a jump of more than a view
/// is made at once.
fn eased(scroll: f32, target: f32, view_height: f32, dt: f32) -> f32 {
    if (target - scroll).abs() > view_height {
        target
    } else {
        scroll + (target - scroll) * (dt.min(0.1) * 8.0).min(1.0)
    }
}

/// Page points to screen points.
struct ToScreen {
    origin: Pos2,
    scale: f32,
}

impl ToScreen {
    fn rect(&self, r: segno_notation::Rect) -> Rect {
        Rect::from_min_max(self.pos(r.x0, r.y0), self.pos(r.x1, r.y1))
    }
    fn pos(&self, x: f32, y: f32) -> Pos2 {
        self.origin + Vec2::new(x, y) * self.scale
    }
}

/// What is marked on the pages this frame.
struct Look {
    place: Option<Place>,
    t: f64,
    colour: Color32,
}

/// One page: the measure shade under the ink, then the played notes dimmed, the sounding notes
/// outlined and the cursor over it.
fn draw_page(painter: &egui::Painter, ready: &Engraved, page: usize, to: &ToScreen, look: &Look) {
    let e = &ready.engraving;
    let size = Vec2::new(
        ready.key.layout.width as f32,
        ready.key.layout.height as f32,
    ) * to.scale;
    let page_rect = Rect::from_min_size(to.origin, size);
    painter.rect_filled(page_rect, 0.0, Color32::WHITE);
    let here = look.place.filter(|p| p.page == page);
    if let Some(p) = here {
        let measure = to.rect(e.measures[p.measure].rect);
        painter.rect_filled(measure, 0.0, rgb(palette::MEASURE_SHADE));
    }
    painter.image(
        ready.textures[page].id(),
        page_rect,
        Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
        Color32::WHITE,
    );
    let Some(p) = here else { return };
    let dim = Color32::from_white_alpha(150);
    for n in ready.timeline.played(&p, look.t) {
        if e.page_of_measure(e.notes[n].measure) == page {
            painter.rect_filled(to.rect(e.notes[n].rect).expand(1.0), 0.0, dim);
        }
    }
    for n in ready.timeline.sounding(&p, look.t) {
        painter.rect_stroke(
            to.rect(e.notes[n].rect).expand(2.0),
            2.0,
            Stroke::new(2.0, look.colour),
            StrokeKind::Outside,
        );
    }
    let m = e.measures[p.measure].rect;
    painter.line_segment(
        [
            to.pos(p.cursor_x, m.y0 - 4.0),
            to.pos(p.cursor_x, m.y1 + 4.0),
        ],
        Stroke::new(3.0, look.colour),
    );
}

fn centred(painter: &egui::Painter, rect: Rect, text: &str) {
    painter.text(
        rect.center(),
        Align2::CENTER_CENTER,
        text,
        FontId::proportional(16.0),
        Color32::DARK_GRAY,
    );
}
