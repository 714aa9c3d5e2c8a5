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

/// An engraving, its timeline and its pages as images (made on the engraving thread: converting
/// a page's pixels costs more than an editor frame).
type Job = Receiver<Result<(Engraving, Timeline, Vec<egui::ColorImage>), String>>;

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

impl Shown {
    fn new(e: &Engraving, place: Place, page: usize, view: Rect, to_screen: &ToScreen) -> Self {
        Shown {
            place,
            page,
            view,
            measures: e
                .measures
                .iter()
                .enumerate()
                .filter(|(i, _)| e.page_of_measure(*i) == page)
                .map(|(_, m)| (m.number.clone(), to_screen.rect(m.rect)))
                .collect(),
        }
    }
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
        let canvas = Canvas {
            painter: &painter,
            rect,
            ready,
            look: &look,
        };
        let (page, to_screen) = match frame.display.page_mode {
            PageMode::Page => {
                canvas.page(page_to_show(&ready.engraving, system, frame.display.turn))
            }
            PageMode::HalfPage => canvas.halves(halves_to_show(&ready.engraving, system)),
            PageMode::Scroll => {
                let e = &ready.engraving;
                let view_height = rect.height() / canvas.width_scale();
                let target = scroll_offset(e, system, view_height, SCROLL_AT);
                let dt = ui.ctx().input(|i| i.stable_dt);
                self.scroll = eased(self.scroll, target, view_height, dt);
                canvas.scroll(self.scroll)
            }
        };
        self.shown = look
            .place
            .map(|place| Shown::new(&ready.engraving, place, page, rect, &to_screen));
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
                        let images = e.pages.iter().map(page_image).collect();
                        (e, timeline, images)
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
            Ok((engraving, timeline, images)) => {
                let textures = images
                    .into_iter()
                    .enumerate()
                    .map(|(i, image)| {
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

fn page_image(p: &Page) -> egui::ColorImage {
    egui::ColorImage::from_rgba_premultiplied([p.width_px as usize, p.height_px as usize], &p.rgba)
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

/// Where and what the notation is drawn this frame. Each view returns the page the pianist is
/// on (else the one shown) and how it was placed.
struct Canvas<'a> {
    painter: &'a egui::Painter,
    rect: Rect,
    ready: &'a Engraved,
    look: &'a Look,
}

impl Canvas<'_> {
    fn page_size(&self) -> Vec2 {
        let layout = self.ready.key.layout;
        Vec2::new(layout.width as f32, layout.height as f32)
    }

    /// Pages engraved for another size (while a new layout is engraved) are scaled to fit.
    fn fit_scale(&self) -> f32 {
        let size = self.page_size();
        (self.rect.width() / size.x).min(self.rect.height() / size.y)
    }

    fn width_scale(&self) -> f32 {
        self.rect.width() / self.page_size().x
    }

    fn draw(&self, page: usize, to_screen: ToScreen, clip: Rect) -> (usize, ToScreen) {
        let painter = self.painter.with_clip_rect(clip);
        draw_page(&painter, self.ready, page, &to_screen, self.look);
        (page, to_screen)
    }

    fn fitted(&self) -> ToScreen {
        ToScreen {
            origin: self.rect.min,
            scale: self.fit_scale(),
        }
    }

    fn page(&self, page: usize) -> (usize, ToScreen) {
        self.draw(page, self.fitted(), self.rect)
    }

    /// The top part of `top`'s page over the bottom part of `bottom`'s, divided where the page
    /// the pianist is on divides (the other page gives way where they differ).
    fn halves(&self, [top, bottom]: [usize; 2]) -> (usize, ToScreen) {
        let e = &self.ready.engraving;
        let (rect, scale) = (self.rect, self.fit_scale());
        let y = |split: f32| rect.top() + split * scale;
        let bottom_from = y(half_page_split(e, bottom));
        let top_to = y(half_page_split(e, top)).min(bottom_from);
        self.draw(
            top,
            self.fitted(),
            Rect::from_min_max(rect.min, Pos2::new(rect.right(), top_to)),
        );
        let shown = self.draw(
            bottom,
            self.fitted(),
            Rect::from_min_max(Pos2::new(rect.left(), bottom_from), rect.max),
        );
        if top != bottom {
            self.painter.line_segment(
                [
                    Pos2::new(rect.left(), bottom_from),
                    Pos2::new(rect.right(), bottom_from),
                ],
                Stroke::new(1.0, rgb(palette::MEASURE_LINE)),
            );
        }
        match self.look.place {
            Some(p) if p.page == top && top != bottom => (top, self.fitted()),
            _ => shown,
        }
    }

    /// The pages stacked, `offset` points of them scrolled past.
    fn scroll(&self, offset: f32) -> (usize, ToScreen) {
        let (rect, scale) = (self.rect, self.width_scale());
        let height = self.page_size().y;
        let placed = |page: usize| ToScreen {
            origin: Pos2::new(
                rect.left(),
                rect.top() + (page as f32 * height - offset) * scale,
            ),
            scale,
        };
        let visible = (0..self.ready.engraving.pages.len()).filter(|&page| {
            let top = placed(page).origin.y;
            top < rect.bottom() && top + height * scale > rect.top()
        });
        let mut shown = None;
        for page in visible {
            let drawn = self.draw(page, placed(page), rect);
            if shown.is_none() || self.look.place.is_some_and(|p| p.page == page) {
                shown = Some(drawn);
            }
        }
        shown.unwrap_or_else(|| (0, placed(0)))
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
