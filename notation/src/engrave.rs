//! Verovio's engraving of a MusicXML score: every page rasterised, every system, written measure
//! and note located on its page, and each note's written time and pitch, as Verovio itself
//! reports them (its timemap and element ids), so nothing is matched by drawing order.

#[cfg(feature = "verovio")]
use std::collections::HashMap;
#[cfg(feature = "verovio")]
use std::path::Path;
#[cfg(feature = "verovio")]
use std::sync::{Arc, Mutex, OnceLock};

#[cfg(feature = "verovio")]
use resvg::{tiny_skia, usvg};
#[cfg(feature = "verovio")]
use segno::score::{musicxml, ScoreFormat};
#[cfg(feature = "verovio")]
use verovio::Toolkit;

/// A page rectangle in points, from the page's top left.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl Rect {
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }
    pub fn centre_x(&self) -> f32 {
        (self.x0 + self.x1) / 2.0
    }
    pub fn union(self, o: Rect) -> Rect {
        Rect {
            x0: self.x0.min(o.x0),
            y0: self.y0.min(o.y0),
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
        }
    }
}

/// How the score is laid out: pages the size of the view, at a zoom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    /// Page size in points (the view's size).
    pub width: u32,
    pub height: u32,
    /// Size of the notation, in percent of Verovio's default (staff space 9 points at 100).
    pub zoom_percent: u32,
    /// Pixels per point of the screen the pages are rasterised for.
    pub pixels_per_point: f32,
}

impl Layout {
    pub const MIN_ZOOM: u32 = 20;
    pub const MAX_ZOOM: u32 = 150;
    /// Fits two piano systems on a page of the default editor size.
    pub const DEFAULT_ZOOM: u32 = 38;
}

/// One page, rasterised: premultiplied RGBA, transparent where there is no ink.
#[derive(Clone)]
pub struct Page {
    pub width_px: u32,
    pub height_px: u32,
    pub rgba: Vec<u8>,
}

#[cfg(feature = "verovio")]
impl Page {
    /// The page as a PNG image (transparent where there is no ink).
    pub fn png(&self) -> Option<Vec<u8>> {
        let size = tiny_skia::IntSize::from_wh(self.width_px, self.height_px)?;
        tiny_skia::Pixmap::from_vec(self.rgba.clone(), size)?
            .encode_png()
            .ok()
    }
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Page({}x{} px)", self.width_px, self.height_px)
    }
}

/// A line of music (all staves, across the page).
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    pub page: usize,
    pub rect: Rect,
}

/// A written measure (a repeat's passes share it), in the order of the score.
#[derive(Debug, Clone, PartialEq)]
pub struct EngravedMeasure {
    /// Verovio's element id.
    pub id: String,
    /// The printed number (MusicXML `number`), as Verovio read it.
    pub number: String,
    pub system: usize,
    pub rect: Rect,
}

/// A written note head.
#[derive(Debug, Clone, PartialEq)]
pub struct EngravedNote {
    pub id: String,
    /// Index into [`Engraving::measures`].
    pub measure: usize,
    pub rect: Rect,
    pub pitch: u8,
    /// Written onset, in quarter notes from the start of its measure.
    pub beat_in_measure: f64,
}

#[derive(Debug, Clone)]
pub struct Engraving {
    pub layout: Layout,
    pub pages: Vec<Page>,
    /// In reading order.
    pub systems: Vec<System>,
    pub measures: Vec<EngravedMeasure>,
    pub notes: Vec<EngravedNote>,
}

impl Engraving {
    pub fn page_of_measure(&self, measure: usize) -> usize {
        self.systems[self.measures[measure].system].page
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotationError {
    #[error(
        "{name} is a MIDI file: it has no notation to engrave, so Segno shows it as a piano roll"
    )]
    NoNotation { name: String },
    #[error("{name} is not a MusicXML file (.musicxml, .xml or .mxl), so it cannot be engraved")]
    UnknownFormat { name: String },
    #[error("{name}, {place}: {message}")]
    Unreadable {
        name: String,
        place: String,
        message: String,
    },
    #[error("{name}: the engraver (Verovio) could not {what}: {cause}")]
    Verovio {
        name: String,
        what: &'static str,
        cause: String,
    },
    #[error("{name}: the engraving has no pages")]
    Empty { name: String },
}

/// Engraves a MusicXML score (`name` tells the format) with pages of `layout`'s size.
/// Costs about 0.1 s a page: never call it on the audio thread, nor on every editor frame.
#[cfg(feature = "verovio")]
pub fn engrave(name: &str, bytes: &[u8], layout: Layout) -> Result<Engraving, NotationError> {
    let text = musicxml_text(name, bytes)?;
    let verovio_error = |what: &'static str| {
        let name = name.to_owned();
        move |e: verovio::Error| NotationError::Verovio {
            name,
            what,
            cause: e.to_string(),
        }
    };
    // Verovio keeps process-wide state: two toolkits at work at once (two plugin instances in one
    // host) crash it. Declared before the toolkit, so dropped after it.
    static VEROVIO: Mutex<()> = Mutex::new(());
    let _one_at_a_time = VEROVIO.lock().unwrap_or_else(|e| e.into_inner());
    verovio::set_log_level(verovio::LogLevel::Off);
    let mut tk = Toolkit::new();
    tk.set_options(&options(layout))
        .map_err(verovio_error("accept Segno's layout"))?;
    tk.load_data(&text)
        .map_err(verovio_error("read the score"))?;
    let page_count = tk.page_count();
    if page_count == 0 {
        return Err(NotationError::Empty { name: name.into() });
    }
    let mut engraving = Engraving {
        layout,
        pages: Vec::new(),
        systems: Vec::new(),
        measures: Vec::new(),
        notes: Vec::new(),
    };
    let mut note_boxes = HashMap::new();
    for page in 1..=page_count {
        let svg = tk
            .render_to_svg(page)
            .map_err(verovio_error("draw a page"))?;
        read_page(&svg, &mut engraving, &mut note_boxes).map_err(|cause| {
            NotationError::Verovio {
                name: name.into(),
                what: "draw a page",
                cause,
            }
        })?;
    }
    for m in &mut engraving.measures {
        m.number = measure_number(&mut tk, &m.id);
    }
    engraving.notes = written_notes(&mut tk, &engraving.measures, &note_boxes)
        .map_err(verovio_error("time the notes"))?;
    Ok(engraving)
}

/// The MusicXML text of a score file, read within the limits Segno's own parser keeps.
#[cfg(feature = "verovio")]
fn musicxml_text(name: &str, bytes: &[u8]) -> Result<String, NotationError> {
    let unreadable = |e: segno::score::ParseError| NotationError::Unreadable {
        name: name.into(),
        place: e.place,
        message: e.message,
    };
    match ScoreFormat::from_path(Path::new(name)) {
        Some(ScoreFormat::MusicXml) => musicxml::decode_text(bytes).map_err(unreadable),
        Some(ScoreFormat::CompressedMusicXml) => {
            musicxml::decode_text(&musicxml::mxl_root_file(bytes).map_err(unreadable)?)
                .map_err(unreadable)
        }
        Some(ScoreFormat::Midi) => Err(NotationError::NoNotation { name: name.into() }),
        None => Err(NotationError::UnknownFormat { name: name.into() }),
    }
}

/// Verovio's options for pages of `layout`'s size in points. Verovio measures pages at zoom 100,
/// and its `scale` makes the SVG's pixels, so the page is set larger by the zoom's inverse.
#[cfg(feature = "verovio")]
fn options(layout: Layout) -> String {
    let zoom = layout
        .zoom_percent
        .clamp(Layout::MIN_ZOOM, Layout::MAX_ZOOM);
    let at_zoom = |points: u32| (points * 100 / zoom).clamp(100, 60_000);
    format!(
        r#"{{"pageWidth": {}, "pageHeight": {}, "scale": {zoom}, "adjustPageHeight": false,
            "breaks": "auto", "footer": "none", "header": "auto",
            "pageMarginTop": 40, "pageMarginBottom": 40, "pageMarginLeft": 40, "pageMarginRight": 40}}"#,
        at_zoom(layout.width),
        at_zoom(layout.height)
    )
}

/// Rasterises one page and records its systems, measures and note boxes.
#[cfg(feature = "verovio")]
fn read_page(
    svg: &str,
    engraving: &mut Engraving,
    note_boxes: &mut HashMap<String, (usize, Rect)>,
) -> Result<(), String> {
    let svg = &name_note_heads(svg);
    let tree = usvg::Tree::from_str(svg, &usvg_options()).map_err(|e| e.to_string())?;
    engraving
        .pages
        .push(rasterise(&tree, engraving.layout.pixels_per_point)?);
    let page = engraving.pages.len() - 1;
    let doc = roxmltree::Document::parse(svg).map_err(|e| e.to_string())?;
    let bbox = |id: &str| tree.node_by_id(id).and_then(ink_box);
    for node in doc.descendants().filter(|n| n.is_element()) {
        let (Some(id), Some(class)) = (node.attribute("id"), node.attribute("class")) else {
            continue;
        };
        let Some(rect) = bbox(id) else { continue };
        match class.split_whitespace().next() {
            Some("system") => engraving.systems.push(System { page, rect }),
            Some("measure") if !engraving.systems.is_empty() => {
                engraving.measures.push(EngravedMeasure {
                    id: id.to_owned(),
                    number: String::new(),
                    system: engraving.systems.len() - 1,
                    rect,
                });
            }
            Some("note") if !engraving.measures.is_empty() => {
                // The head only: a note's group also holds its stem, flag and accidental.
                let head = node
                    .descendants()
                    .find(|d| d.attribute("class") == Some("notehead"))
                    .and_then(|h| h.attribute("id").and_then(bbox));
                let measure = engraving.measures.len() - 1;
                note_boxes.insert(id.to_owned(), (measure, head.unwrap_or(rect)));
            }
            _ => {}
        }
    }
    // A measure's box is its staves: widen the system to hold all of them.
    for m in engraving.measures.iter().filter(|m| m.rect.width() > 0.0) {
        let s = &mut engraving.systems[m.system];
        s.rect = s.rect.union(m.rect);
    }
    Ok(())
}

/// Verovio's note heads carry no id; given one, each can be found in the drawn tree.
#[cfg(feature = "verovio")]
fn name_note_heads(svg: &str) -> String {
    const HEAD: &str = r#"<g class="notehead">"#;
    let mut out = String::with_capacity(svg.len() + svg.len() / 50);
    for (i, part) in svg.split(HEAD).enumerate() {
        if i > 0 {
            out.push_str(&format!(r#"<g id="segno-head-{i}" class="notehead">"#));
        }
        out.push_str(part);
    }
    out
}

/// Where a node puts ink on the page: the union of its paths' and texts' boxes, through the
/// node's transforms. (usvg's own boxes misplace what a `<use>` draws, which is every glyph.)
#[cfg(feature = "verovio")]
fn ink_box(node: &usvg::Node) -> Option<Rect> {
    match node {
        usvg::Node::Group(g) => group_ink(g, g.abs_transform()),
        _ => None,
    }
}

/// `to_canvas` takes the group's content to the page.
#[cfg(feature = "verovio")]
fn group_ink(group: &usvg::Group, to_canvas: tiny_skia::Transform) -> Option<Rect> {
    let placed = |r: tiny_skia::Rect| {
        r.transform(to_canvas).map(|r| Rect {
            x0: r.left(),
            y0: r.top(),
            x1: r.right(),
            y1: r.bottom(),
        })
    };
    group
        .children()
        .iter()
        .filter_map(|child| match child {
            usvg::Node::Group(g) => group_ink(g, to_canvas.pre_concat(g.transform())),
            usvg::Node::Path(p) => placed(p.data().bounds()),
            usvg::Node::Text(t) => placed(t.bounding_box()),
            usvg::Node::Image(_) => None,
        })
        .reduce(Rect::union)
}

#[cfg(feature = "verovio")]
fn usvg_options() -> usvg::Options<'static> {
    // Titles, tempo words and dynamics are SVG text: without the system's fonts they vanish.
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    let fontdb = FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_system_fonts();
            Arc::new(db)
        })
        .clone();
    usvg::Options {
        fontdb,
        ..usvg::Options::default()
    }
}

#[cfg(feature = "verovio")]
fn rasterise(tree: &usvg::Tree, pixels_per_point: f32) -> Result<Page, String> {
    let scale = pixels_per_point.clamp(0.5, 4.0);
    let size = tree.size();
    let width = (size.width() * scale).round().max(1.0) as u32;
    let height = (size.height() * scale).round().max(1.0) as u32;
    let mut pixmap = tiny_skia::Pixmap::new(width, height)
        .ok_or_else(|| format!("a page of {width}x{height} pixels is too large"))?;
    resvg::render(
        tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    Ok(Page {
        width_px: width,
        height_px: height,
        rgba: pixmap.take(),
    })
}

#[cfg(feature = "verovio")]
fn measure_number(tk: &mut Toolkit, id: &str) -> String {
    let attributes = tk.element_attr(id).unwrap_or_default();
    match attributes.get("n") {
        Some(serde_json::Value::String(n)) => n.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Every engraved note with its written time in its measure and its pitch, from Verovio's
/// timemap: the measure it starts in is the last `measureOn` before it.
#[cfg(feature = "verovio")]
fn written_notes(
    tk: &mut Toolkit,
    measures: &[EngravedMeasure],
    boxes: &HashMap<String, (usize, Rect)>,
) -> Result<Vec<EngravedNote>, verovio::Error> {
    let index_of: HashMap<&str, usize> = measures
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    // Where each measure starts, the first time the timemap enters it.
    let mut measure_start: Vec<Option<f64>> = vec![None; measures.len()];
    let mut current: Option<usize> = None;
    let mut notes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for event in tk.timemap_exact()? {
        let q = event.qfrac[0] as f64 / event.qfrac[1].max(1) as f64;
        if let Some(m) = event.measure_on.as_deref().and_then(|m| index_of.get(m)) {
            current = Some(*m);
            measure_start[*m].get_or_insert(q);
        }
        for id in &event.on {
            let Some(&(measure, rect)) = boxes.get(id) else {
                continue;
            };
            // A repeat the timemap plays out names the same notes again.
            if !seen.insert(id.clone()) {
                continue;
            }
            let start = current
                .filter(|c| *c == measure)
                .and_then(|c| measure_start[c]);
            let (Some(start), Some(values)) = (start, tk.midi_values_for_element(id)?) else {
                continue;
            };
            notes.push(EngravedNote {
                id: id.clone(),
                measure,
                rect,
                pitch: values.pitch.clamp(0, 127) as u8,
                beat_in_measure: q - start,
            });
        }
    }
    Ok(notes)
}
