//! Which page (or half pages, or which stretch of a scroll) to show, from where the pianist is
//! alone: a jump of the follower (a restart, a repeat, a relocation) turns to the right page on
//! the very next frame, with no state to go stale.

use std::fmt;
use std::str::FromStr;

use crate::engrave::Engraving;

/// How the score is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PageMode {
    /// One page at a time, turned ahead of its end.
    #[default]
    Page,
    /// The part of the page already played gives way to the top half of the next page.
    HalfPage,
    /// The pages as one strip that scrolls with the current system at a fixed height.
    Scroll,
}

impl PageMode {
    pub const ALL: [PageMode; 3] = [Self::Page, Self::HalfPage, Self::Scroll];

    pub fn name(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::HalfPage => "half-page",
            Self::Scroll => "scroll",
        }
    }
}

/// Where on a page the page turns (in page view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TurnPoint {
    /// At the start of the page's last system: the pianist reads ahead, as from a page turner.
    #[default]
    LastSystem,
    /// A system earlier.
    SecondLastSystem,
    /// Only when the next page's first system begins.
    PageEnd,
}

impl TurnPoint {
    pub const ALL: [TurnPoint; 3] = [Self::LastSystem, Self::SecondLastSystem, Self::PageEnd];

    pub fn name(self) -> &'static str {
        match self {
            Self::LastSystem => "last-system",
            Self::SecondLastSystem => "second-last-system",
            Self::PageEnd => "page-end",
        }
    }

    /// How many of the page's last systems already show the next page.
    fn systems_early(self) -> usize {
        match self {
            Self::LastSystem => 1,
            Self::SecondLastSystem => 2,
            Self::PageEnd => 0,
        }
    }
}

macro_rules! named {
    ($t:ty, $what:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.name() == s)
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::ALL.iter().map(|v| v.name()).collect();
                        format!("unknown {} '{s}' (one of: {})", $what, names.join(", "))
                    })
            }
        }
    };
}
named!(PageMode, "page mode");
named!(TurnPoint, "turn point");

/// The page to show in page view while the pianist is in `system`.
pub fn page_to_show(engraving: &Engraving, system: usize, turn: TurnPoint) -> usize {
    let systems = &engraving.systems;
    let page = systems[system].page;
    if page + 1 >= engraving.pages.len() {
        return page;
    }
    let first_on_page = system == 0 || systems[system - 1].page != page;
    let later_on_page = systems[system + 1..]
        .iter()
        .take_while(|s| s.page == page)
        .count();
    // A page is never turned while its first system is played: it would go unseen.
    if !first_on_page && later_on_page < turn.systems_early() {
        page + 1
    } else {
        page
    }
}

/// Half-page view: the pages shown in the top and in the bottom half of the view (each half shows
/// that part of its page). In the top half of a page both halves show it; from its bottom half on,
/// the top half already shows the next page.
pub fn halves_to_show(engraving: &Engraving, system: usize) -> [usize; 2] {
    let s = &engraving.systems[system];
    let in_bottom = (s.rect.y0 + s.rect.y1) / 2.0 > half_page_split(engraving, s.page);
    let next = (s.page + 1).min(engraving.pages.len() - 1);
    [if in_bottom { next } else { s.page }, s.page]
}

/// Where a page divides into halves (points from its top): between the two systems nearest its
/// middle, so that no system is cut; the whole page if it has one system.
pub fn half_page_split(engraving: &Engraving, page: usize) -> f32 {
    let height = engraving.layout.height as f32;
    let on_page: Vec<_> = engraving
        .systems
        .iter()
        .filter(|s| s.page == page)
        .collect();
    on_page
        .windows(2)
        .map(|w| (w[0].rect.y1 + w[1].rect.y0) / 2.0)
        .min_by(|a, b| {
            (a - height / 2.0)
                .abs()
                .total_cmp(&(b - height / 2.0).abs())
        })
        .unwrap_or(height)
}

/// Scroll view: the pages stacked top to bottom; the offset (points from the top of the first
/// page) that puts the top of `system` at `at_share` of a view `view_height` high.
pub fn scroll_offset(engraving: &Engraving, system: usize, view_height: f32, at_share: f32) -> f32 {
    let s = &engraving.systems[system];
    let top = s.page as f32 * engraving.layout.height as f32 + s.rect.y0;
    (top - view_height * at_share).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engrave::{Layout, Page, Rect, System};

    /// Pages with the given number of systems, each 100 points high, on pages 500 high.
    fn engraving(systems_per_page: &[usize]) -> Engraving {
        let mut systems = Vec::new();
        for (page, &n) in systems_per_page.iter().enumerate() {
            for k in 0..n {
                let y0 = 20.0 + 120.0 * k as f32;
                systems.push(System {
                    page,
                    rect: Rect {
                        x0: 10.0,
                        y0,
                        x1: 490.0,
                        y1: y0 + 100.0,
                    },
                });
            }
        }
        let page = Page {
            width_px: 1,
            height_px: 1,
            rgba: vec![0; 4],
        };
        Engraving {
            layout: Layout {
                width: 500,
                height: 500,
                zoom_percent: 50,
                pixels_per_point: 1.0,
            },
            pages: vec![page; systems_per_page.len()],
            systems,
            measures: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_page_turns_at_the_chosen_system_and_never_on_a_first_system() {
        let e = engraving(&[4, 4, 1]);
        let shown = |turn| {
            (0..9)
                .map(|s| page_to_show(&e, s, turn))
                .collect::<Vec<_>>()
        };
        assert_eq!(shown(TurnPoint::LastSystem), [0, 0, 0, 1, 1, 1, 1, 2, 2]);
        assert_eq!(
            shown(TurnPoint::SecondLastSystem),
            [0, 0, 1, 1, 1, 1, 2, 2, 2]
        );
        assert_eq!(shown(TurnPoint::PageEnd), [0, 0, 0, 0, 1, 1, 1, 1, 2]);
        let single = engraving(&[1, 1]);
        assert_eq!(page_to_show(&single, 0, TurnPoint::LastSystem), 0);
    }

    #[test]
    fn half_pages_show_the_next_page_on_top_from_the_bottom_half_on() {
        let e = engraving(&[4, 4]);
        assert_eq!(half_page_split(&e, 0), 250.0);
        let shown: Vec<_> = (0..8).map(|s| halves_to_show(&e, s)).collect();
        assert_eq!(
            shown,
            [
                [0, 0],
                [0, 0],
                [1, 0],
                [1, 0],
                [1, 1],
                [1, 1],
                [1, 1],
                [1, 1]
            ]
        );
    }

    #[test]
    fn scrolling_keeps_the_current_system_at_its_height() {
        let e = engraving(&[4, 4]);
        assert_eq!(scroll_offset(&e, 0, 400.0, 0.25), 0.0);
        assert_eq!(scroll_offset(&e, 5, 400.0, 0.25), 500.0 + 140.0 - 100.0);
    }

    #[test]
    fn modes_and_turn_points_parse_from_their_names() {
        for m in PageMode::ALL {
            assert_eq!(m.name().parse::<PageMode>(), Ok(m));
        }
        for t in TurnPoint::ALL {
            assert_eq!(t.to_string().parse::<TurnPoint>(), Ok(t));
        }
        assert!("sideways"
            .parse::<PageMode>()
            .unwrap_err()
            .contains("half-page"));
    }
}
