//! "What am I playing?": the button that asks the worker, the library setting, and the answer as
//! it is refined: the top candidates with their confidence, each one click from being followed,
//! or "not in your library".

use egui::RichText;
use segno::identify::listen::{Identification, FIRST_LOOK_S};
use segno::identify::Descriptor;
use segno::live::Identifying;

use super::{palette, rgb};
use crate::session::SessionField;

/// What the musician asked for in the panel.
pub enum Asked {
    Nothing,
    ChooseLibrary,
    /// An error to show (a candidate's file that cannot be read).
    Failed(String),
}

/// The button and the library setting, on the controls' row.
pub fn controls(ui: &mut egui::Ui, session: &SessionField, identifying: bool) -> Asked {
    let mut asked = Asked::Nothing;
    if identifying {
        if ui.button("Stop listening").clicked() {
            session.stop_identifying();
        }
    } else if ui
        .button("What am I playing?")
        .on_hover_text("Listen to the pianist and name the piece from your score library")
        .clicked()
    {
        if let Err(e) = session.identify() {
            asked = Asked::Failed(e);
        }
    }
    let library = session
        .library()
        .map_or("none".to_owned(), |p| p.display().to_string());
    if ui
        .button("Library…")
        .on_hover_text(format!(
            "The score library pieces are named from (built with `segno library add FOLDER`): {library}"
        ))
        .clicked()
    {
        asked = Asked::ChooseLibrary;
    }
    asked
}

/// The answer, below the controls, while identifying.
pub fn answer(ui: &mut egui::Ui, session: &SessionField, identifying: &Identifying) -> Asked {
    match identifying {
        Identifying::Listening { library } => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "Listening… a piece is named after {FIRST_LOOK_S:.0} s of playing (library {}).",
                    library.display()
                ));
            });
            Asked::Nothing
        }
        Identifying::Failed(why) => {
            ui.colored_label(rgb(palette::ERROR), why);
            Asked::Nothing
        }
        Identifying::Found(found) => candidates(ui, session, found),
    }
}

/// Shown when the answer was found without the cross-modal model (`Identification::descriptor`).
const CHROMA_NOTE: &str = "Compared by chroma: the library was indexed without the cross-modal model or by another version of it, or the model is missing. Add the library's folders again with `segno library add` for surer answers.";

fn candidates(ui: &mut egui::Ui, session: &SessionField, found: &Identification) -> Asked {
    let mut asked = Asked::Nothing;
    let verdict = match found.named() {
        Some(c) => format!(
            "This is {} (from the last {:.0} s; refining while you play).",
            c.title, found.heard_s
        ),
        None => format!(
            "Not in your library: no piece matches the last {:.0} s well enough. The nearest:",
            found.heard_s
        ),
    };
    ui.label(RichText::new(verdict).strong());
    if found.descriptor == Descriptor::Chroma {
        ui.label(CHROMA_NOTE);
    }
    ui.horizontal_wrapped(|ui| {
        for c in &found.candidates {
            let place = c
                .now_measure
                .as_deref()
                .map_or(String::new(), |m| format!(", now m. {m}"));
            ui.label(format!("{} ({:.2}{place})", c.title, c.confidence));
            if ui
                .button("Follow")
                .on_hover_text(format!("Load {} and follow from here", c.path.display()))
                .clicked()
            {
                if let Err(e) = session.follow_candidate(c) {
                    asked = Asked::Failed(e);
                }
            }
            ui.separator();
        }
    });
    asked
}
