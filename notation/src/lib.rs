//! The score as a pianist reads it: MusicXML engraved by Verovio into pages, each written note,
//! measure and system located on its page ([`engrave`]), the played timeline (repeats expanded)
//! mapped onto them ([`timeline`]), and which page to show where the pianist is ([`turn`]).
//!
//! This crate knows nothing of a GUI: it hands the editor pixels and rectangles. It is the only
//! part of Segno that links Verovio (LGPL-3.0-or-later); see the README's "Licence".

pub mod engrave;
pub mod timeline;
pub mod turn;

#[cfg(feature = "verovio")]
pub use engrave::engrave;
pub use engrave::{Engraving, Layout, NotationError, Rect};
pub use timeline::{Place, Timeline};
pub use turn::{PageMode, TurnPoint};
