//! The editor: the score as engraved notation (MusicXML) or as a piano roll (MIDI, or by choice),
//! a cursor that follows the performer smoothly, pages that turn ahead of the pianist, and the
//! controls a pianist needs (load, reset, start at measure, follow, sensitivity, view).

mod dialog;
mod identify;
#[cfg(feature = "notation")]
mod notation;
pub mod palette;
#[cfg(feature = "notation")]
mod report;
mod roll;

use dialog::Pick;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use egui::{Color32, RichText};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::{BoolParam, ResizeHint};
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{
    baseview, create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, Frame, NiceEguiApp,
};
use segno::live::{Command, Snapshot, Status, Worker};
use segno::nn::Device;
use segno::position::FollowState;
use segno::score::ScoreFormat;
use segno::similarity::Similarity;
use segno_notation::{Layout, PageMode, TurnPoint};

use crate::score_file::load_score_file;
use crate::session::Display;
use crate::SegnoParams;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 560;
/// Below this the controls no longer fit.
const MIN_SIZE: LogicalSize<f32> = LogicalSize::new(720.0, 420.0);

pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(LogicalSize::new(WIDTH, HEIGHT), 1.0)
}

pub fn create(params: Arc<SegnoParams>, worker: Arc<Worker>) -> Option<EguiEditor<SegnoEditor>> {
    let settings = EguiNiceSettings::new()
        .with_tile("Segno")
        .with_resize_hint(ResizeHint::resizable().with_min_logical_size(MIN_SIZE));
    let (picked_tx, picked_rx) = crossbeam_channel::unbounded();
    let app = SegnoEditor {
        params: params.clone(),
        worker,
        gui: None,
        cursor: Cursor::default(),
        measure_text: String::new(),
        path_text: String::new(),
        message: None,
        picked_tx,
        picked_rx,
        #[cfg(feature = "notation")]
        notation: notation::NotationView::default(),
        #[cfg(feature = "notation")]
        report: report::Report::from_env(),
    };
    create_egui_editor(
        params.editor_state.clone(),
        Default::default(),
        settings,
        app,
    )
}

pub struct SegnoEditor {
    params: Arc<SegnoParams>,
    worker: Arc<Worker>,
    gui: Option<GuiContext>,
    cursor: Cursor,
    measure_text: String,
    path_text: String,
    /// An error from the editor itself (a file that cannot be read).
    message: Option<String>,
    picked_tx: Sender<Result<(Pick, PathBuf), String>>,
    picked_rx: Receiver<Result<(Pick, PathBuf), String>>,
    #[cfg(feature = "notation")]
    notation: notation::NotationView,
    /// What the editor showed and how long its frames took, for `cargo xtask screenshot`.
    #[cfg(feature = "notation")]
    report: Option<report::Report>,
}

/// Turns the worker's position (updated every 23 ms) into a cursor that moves every frame: between
/// updates it advances at the performer's tempo, and it never jumps back for less than a hop.
#[derive(Default)]
struct Cursor {
    last: Option<(Snapshot, Instant)>,
}

impl Cursor {
    fn score_time(&mut self, snap: Option<Snapshot>) -> Option<f64> {
        let snap = snap?;
        if self.last.is_none_or(|(s, _)| s.version != snap.version) {
            self.last = Some((snap, Instant::now()));
        }
        let (s, at) = self.last?;
        let moving = matches!(s.state, FollowState::Following | FollowState::Uncertain);
        // At most a tenth of a second of extrapolation: if updates stop, so does the cursor.
        let ahead = if moving {
            at.elapsed().as_secs_f64().min(0.1) * s.tempo_ratio
        } else {
            0.0
        };
        Some(s.score_time_s + ahead)
    }
}

impl NiceEguiApp for SegnoEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), baseview::HandlerError> {
        egui_ctx.set_visuals(egui::Visuals::light());
        self.gui = Some(gui);
        // An open window is no scan: a score loaded before the host activates the plugin is
        // prepared now.
        self.worker.start();
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        #[cfg(feature = "notation")]
        let started = Instant::now();
        ui.ctx().request_repaint();
        // The window is not a panel: without this the light theme's dark text sits on black.
        ui.painter()
            .rect_filled(ui.max_rect().expand(8.0), 0.0, ui.visuals().panel_fill);
        self.take_dropped_or_picked(ui.ctx());
        let status = self.worker.status();
        let snapshot = self.worker.published.snapshot();
        self.header(ui, &status);
        ui.separator();
        self.controls(ui, &status);
        if let Some(identifying) = &status.identifying {
            let asked = identify::answer(ui, &self.params.session, identifying);
            self.take(asked);
        }
        ui.separator();
        self.readout(ui, &status, snapshot);
        let cursor = self.cursor.score_time(snapshot);
        let display = self.params.session.display();
        let engraved = cfg!(feature = "notation")
            && ScoreFormat::from_path(std::path::Path::new(&status.score_name))
                .is_some_and(|f| f != ScoreFormat::Midi);
        self.view_choice(ui, display, engraved);
        let state = snapshot.map(|s| s.state);
        #[cfg(feature = "notation")]
        if let Some(score) = status.score.as_ref().filter(|_| engraved && !display.roll) {
            let frame = notation::Frame {
                score,
                cursor,
                state,
                display,
            };
            let session = &self.params.session;
            self.notation.show(ui, frame, || session.get().score);
            if let Some(report) = &mut self.report {
                report.frame(
                    started.elapsed(),
                    &self.notation,
                    ui.ctx().pixels_per_point(),
                );
            }
            return;
        }
        roll::show(ui, status.score.as_deref(), cursor, state);
    }

    fn editor_closed(&mut self) {
        self.gui = None;
    }
}

impl SegnoEditor {
    fn header(&mut self, ui: &mut egui::Ui, status: &Status) {
        ui.horizontal(|ui| {
            ui.heading("Segno");
            let title = if status.score_name.is_empty() {
                "no score loaded".to_owned()
            } else {
                status.score_name.clone()
            };
            ui.label(RichText::new(title).strong());
            if status.loading {
                ui.spinner();
                ui.label("preparing the score…");
            }
        });
        let restore_error = self
            .params
            .session
            .restore_error
            .lock()
            .ok()
            .and_then(|e| e.clone());
        for error in [
            status.error.as_ref(),
            restore_error.as_ref(),
            self.message.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            ui.colored_label(rgb(palette::ERROR), error);
        }
    }

    fn controls(&mut self, ui: &mut egui::Ui, status: &Status) {
        ui.horizontal(|ui| {
            if ui.button("Open score…").clicked() {
                self.pick_file(Pick::Score);
            }
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.path_text)
                    .hint_text("or type/drop a .musicxml, .mxl or .mid path")
                    .desired_width(260.0),
            );
            if ui.button("Load").clicked()
                || (field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)))
            {
                let path = PathBuf::from(self.path_text.trim());
                self.load(&path);
            }
            ui.separator();
            if ui.button("Reset").clicked() {
                self.worker.send(Command::Reset);
            }
            ui.label("Start at measure");
            let m = ui.add(egui::TextEdit::singleline(&mut self.measure_text).desired_width(40.0));
            if ui.button("Go").clicked()
                || (m.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)))
            {
                self.worker
                    .send(Command::StartAtMeasure(self.measure_text.trim().to_owned()));
            }
        });
        let Some(gui) = self.gui.clone() else { return };
        let setter = gui.param_setter();
        ui.horizontal(|ui| {
            let toggle = |ui: &mut egui::Ui, param: &BoolParam, label: &str, hint: &str| {
                let mut on = param.value();
                if ui.checkbox(&mut on, label).on_hover_text(hint).changed() {
                    setter.begin_set_parameter(param);
                    setter.set_parameter(param, on);
                    setter.end_set_parameter(param);
                }
            };
            toggle(ui, &self.params.follow, "Follow", "Follow the input (turning it on starts over at the beginning)");
            toggle(
                ui,
                &self.params.relocation,
                "Find me anywhere",
                "Relocation: also look for the pianist over the whole piece, and move there after a restart, a skip or a start in the middle (practice). Experimental.",
            );
            ui.separator();
            ui.label("Sensitivity");
            ui.add(ParamSlider::for_param(&self.params.sensitivity, &setter).with_width(140.0));
            ui.separator();
            ui.label("MIDI channel");
            ui.add(ParamSlider::for_param(&self.params.midi_channel, &setter).with_width(80.0));
        });
        ui.horizontal(|ui| {
            self.analysis_choice(ui);
            ui.separator();
            if ui
                .button("SoundFont…")
                .on_hover_text(soundfont_hint(&self.params))
                .clicked()
            {
                self.pick_file(Pick::SoundFont);
            }
            ui.separator();
            let identifying = status.identifying.is_some();
            let asked = identify::controls(ui, &self.params.session, identifying);
            self.take(asked);
        });
    }

    /// Acts on what the musician asked for in the identification controls.
    fn take(&mut self, asked: identify::Asked) {
        match asked {
            identify::Asked::Nothing => {}
            identify::Asked::ChooseLibrary => self.pick_file(Pick::Library),
            identify::Asked::Failed(e) => self.message = Some(e),
        }
    }

    /// How frames are compared and on which device; the current choice is in the session.
    fn analysis_choice(&mut self, ui: &mut egui::Ui) {
        let current = self.params.session.analysis();
        let mut chosen = current;
        ui.label("Analysis");
        egui::ComboBox::from_id_salt("analysis")
            .selected_text(chosen.similarity.name())
            .show_ui(ui, |ui| {
                for s in Similarity::FOR_MUSICIANS {
                    ui.selectable_value(&mut chosen.similarity, s, s.name());
                }
            });
        ui.label("Device");
        egui::ComboBox::from_id_salt("device")
            .selected_text(chosen.device.name())
            .show_ui(ui, |ui| {
                for d in Device::ALL {
                    ui.selectable_value(&mut chosen.device, d, d.name());
                }
            });
        if chosen != current {
            self.message = self.params.session.set_analysis(chosen).err();
        }
    }

    fn readout(&self, ui: &mut egui::Ui, status: &Status, snap: Option<Snapshot>) {
        let published = &self.worker.published;
        ui.horizontal(|ui| {
            let shade = |c| rgb(palette::text_shade(c));
            let (state, color) = match (status.following, snap.map(|s| s.state)) {
                (false, _) => ("not following", Color32::GRAY),
                (true, None | Some(FollowState::Waiting)) => {
                    ("listening", shade(palette::LISTENING))
                }
                (true, Some(FollowState::Following)) => ("following", shade(palette::FOLLOWING)),
                (true, Some(FollowState::Uncertain)) => ("unsure", shade(palette::UNCERTAIN)),
                (true, Some(FollowState::Lost)) => ("lost", shade(palette::LOST)),
                (true, Some(FollowState::Searching)) => ("searching", shade(palette::SEARCHING)),
            };
            ui.label(RichText::new(state).color(color).strong().size(18.0));
            if let (Some(s), Some(score)) = (snap, status.score.as_ref()) {
                let measure = score.measure_number(s.measure_index).unwrap_or("–");
                ui.label(
                    RichText::new(format!("measure {measure}  beat {:.1}", s.beat_in_measure))
                        .size(18.0),
                );
                let qpm = score.tempo.qpm_at(s.score_beat) * s.tempo_ratio;
                ui.label(format!(
                    "tempo {:.0} bpm ({:.0} % of written)",
                    qpm,
                    s.tempo_ratio * 100.0
                ));
                ui.add(
                    egui::ProgressBar::new(s.confidence)
                        .desired_width(90.0)
                        .text(format!("confidence {:.0} %", s.confidence * 100.0)),
                );
            }
        });
        ui.horizontal(|ui| {
            if let Some(rate) = status.input_rate {
                ui.label(format!("input {rate} Hz"));
            }
            let dropped = published.dropped.load(Ordering::Relaxed);
            let text = format!("dropped samples: {dropped}");
            if dropped > 0 {
                ui.colored_label(rgb(palette::LOST), text);
            } else {
                ui.label(text);
            }
            // The full text (with why a GPU is not in use) on hover: it can be long.
            ui.add(egui::Label::new(format!("analysis: {}", status.similarity)).truncate())
                .on_hover_text(&status.similarity);
        });
    }

    /// Notation or piano roll (one click), and how the notation is laid out; saved with the project.
    fn view_choice(&mut self, ui: &mut egui::Ui, display: Display, engraved: bool) {
        let mut chosen = display;
        ui.horizontal(|ui| {
            let notation = ui.add_enabled(
                engraved,
                egui::Button::selectable(engraved && !chosen.roll, "Notation"),
            );
            if notation
                .on_disabled_hover_text(
                    "A MIDI file has no notation: open its MusicXML to read the score",
                )
                .clicked()
            {
                chosen.roll = false;
            }
            if ui
                .add(egui::Button::selectable(
                    !engraved || chosen.roll,
                    "Piano roll",
                ))
                .clicked()
            {
                chosen.roll = true;
            }
            if !engraved || chosen.roll {
                return;
            }
            ui.separator();
            egui::ComboBox::from_id_salt("page-mode")
                .selected_text(page_mode_label(chosen.page_mode))
                .show_ui(ui, |ui| {
                    for m in PageMode::ALL {
                        ui.selectable_value(&mut chosen.page_mode, m, page_mode_label(m));
                    }
                });
            if chosen.page_mode == PageMode::Page {
                ui.label("Turn");
                egui::ComboBox::from_id_salt("turn")
                    .selected_text(turn_label(chosen.turn))
                    .show_ui(ui, |ui| {
                        for t in TurnPoint::ALL {
                            ui.selectable_value(&mut chosen.turn, t, turn_label(t));
                        }
                    });
            }
            ui.separator();
            ui.label("Zoom");
            let mut zoom = chosen.zoom_percent;
            if ui.button("−").clicked() {
                zoom = zoom.saturating_sub(5);
            }
            ui.label(format!("{zoom} %"));
            if ui.button("+").clicked() {
                zoom += 5;
            }
            chosen.zoom_percent = zoom.clamp(Layout::MIN_ZOOM, Layout::MAX_ZOOM);
        });
        if chosen != display {
            self.params.session.set_display(chosen);
        }
    }

    fn pick_file(&mut self, what: Pick) {
        let tx = self.picked_tx.clone();
        // The dialog blocks, and the editor must keep drawing meanwhile.
        let spawned = std::thread::spawn(move || match dialog::pick(what) {
            Ok(Some(path)) => {
                let _ = tx.send(Ok((what, path)));
            }
            Ok(None) => {}
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        });
        drop(spawned);
    }

    fn take_dropped_or_picked(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_owned())
                .collect()
        });
        let mut picked = Vec::new();
        for p in self.picked_rx.try_iter() {
            match p {
                Ok((Pick::Score, path)) => picked.push(path),
                Ok((Pick::SoundFont, path)) => {
                    self.message = None;
                    self.params.session.set_soundfont(Some(path));
                }
                Ok((Pick::Library, path)) => {
                    self.message = None;
                    self.params.session.set_library(Some(path));
                    // A question open about the old library is asked again of the new one.
                    if self.worker.status().identifying.is_some() {
                        self.message = self.params.session.identify().err();
                    }
                }
                Err(e) => self.message = Some(e),
            }
        }
        if let Some(path) = dropped.into_iter().chain(picked).last() {
            self.path_text = path.display().to_string();
            self.load(&path);
        }
    }

    fn load(&mut self, path: &std::path::Path) {
        self.message = load_score_file(&self.params.session, path).err();
    }
}

fn soundfont_hint(params: &SegnoParams) -> String {
    match params.session.get().soundfont {
        Some(path) => format!("Piano sound used to prepare scores: {}", path.display()),
        None => "Piano sound used to prepare scores: the system's General MIDI SoundFont (choose a .sf2 file to use another)".into(),
    }
}

fn page_mode_label(m: PageMode) -> &'static str {
    match m {
        PageMode::Page => "Page view",
        PageMode::HalfPage => "Half-page turns",
        PageMode::Scroll => "Scrolling view",
    }
}

fn turn_label(t: TurnPoint) -> &'static str {
    match t {
        TurnPoint::LastSystem => "at the last system",
        TurnPoint::SecondLastSystem => "a system earlier",
        TurnPoint::PageEnd => "at the end of the page",
    }
}

/// The cursor's colour: the follower's state.
fn cursor_colour(state: Option<FollowState>) -> Color32 {
    rgb(match state {
        Some(FollowState::Lost) => palette::LOST,
        Some(FollowState::Uncertain) => palette::UNCERTAIN,
        Some(FollowState::Searching) => palette::SEARCHING,
        _ => palette::FOLLOWING,
    })
}

/// A palette colour for egui.
fn rgb(c: palette::Rgb) -> Color32 {
    Color32::from_rgb(c[0], c[1], c[2])
}
