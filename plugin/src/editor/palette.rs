//! The editor's colours, in one place. Plain RGB without egui, so that `cargo xtask screenshot`
//! compiles this same file and looks for exactly the colours the editor paints.

pub type Rgb = [u8; 3];

/// Notes still to come.
pub const NOTE: Rgb = [40, 96, 200];
/// Notes already played.
pub const PLAYED: Rgb = [170, 190, 225];
pub const MEASURE_LINE: Rgb = [200, 200, 200];
/// The measure being played, under the engraved notes.
pub const MEASURE_SHADE: Rgb = [255, 236, 170];
pub const ERROR: Rgb = [170, 20, 20];

/// The follower's states: the cursor is drawn in these, the state's name in a darker shade.
pub const LISTENING: Rgb = [40, 90, 170];
pub const FOLLOWING: Rgb = [20, 150, 60];
pub const UNCERTAIN: Rgb = [220, 140, 0];
pub const LOST: Rgb = [200, 30, 30];
/// Looking over the whole piece: the cursor is not to be trusted.
pub const SEARCHING: Rgb = [130, 70, 180];

/// The shade a state's name is written in: the state's colour, darker, to read on the light panel
/// (and so never the cursor's exact colour, which the screenshot check counts).
pub const fn text_shade(c: Rgb) -> Rgb {
    [c[0] / 8 * 7, c[1] / 8 * 7, c[2] / 8 * 7]
}
