//! Expansion of repeats, voltas and jumps (D.C., D.S., Coda, Fine) into the played order of
//! written measures.
//!
//! Conventions, as most engraving programs play back: after a D.C./D.S. jump, repeats are not taken
//! again and only the last ending of each volta group is played; a backward repeat with no forward
//! repeat before it goes back to the start of the piece or to the bar after the previous repeat.

use super::ParseError;

/// Repeat and jump markup of one written measure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    pub repeat_forward: bool,
    /// Total number of passes, from `<repeat direction="backward" times="n"/>` (default 2).
    pub repeat_backward: Option<u32>,
    /// Passes on which the volta starting here is played ("1, 2" → [1, 2]).
    pub ending_start: Option<Vec<u32>>,
    pub ending_stop: bool,
    pub segno: bool,
    pub coda: bool,
    pub dacapo: bool,
    pub dalsegno: bool,
    pub tocoda: bool,
    pub fine: bool,
}

/// Played order of written measures, as indices into `marks`.
pub fn played_order(
    marks: &[Marks],
    number_of: impl Fn(usize) -> String,
) -> Result<Vec<usize>, ParseError> {
    let n = marks.len();
    // A finite repeat may be taken many times (`times="99"`), so the bound is on what the
    // unfolding produces, not on passes per measure; markup that loops forever reaches it too.
    let limit = super::MAX_MEASURES;
    let mut played = Vec::new();
    let mut i = 0;
    let mut pass = 1u32;
    let mut section_start = 0;
    let mut jumped = false;
    while i < n {
        if played.len() > limit {
            return Err(ParseError::new(
                format!("measure {}", number_of(i)),
                format!(
                    "the repeats and jumps unfold to more than {limit} played measures, Segno's \
                     limit (a repeat with a very large times=\"…\", or markup that loops forever)"
                ),
            ));
        }
        let m = &marks[i];
        if m.repeat_forward && i != section_start {
            section_start = i;
            pass = 1;
        }
        if let Some(numbers) = &m.ending_start {
            let end = ending_end(marks, i);
            let play = if jumped {
                is_last_ending(marks, end)
            } else {
                numbers.contains(&pass)
            };
            if !play {
                i = end + 1;
                continue;
            }
        }
        played.push(i);
        if jumped && m.fine {
            break;
        }
        if jumped && m.tocoda {
            i = marks
                .iter()
                .enumerate()
                .skip(i + 1)
                .find(|(_, m)| m.coda)
                .map(|(k, _)| k)
                .ok_or_else(|| {
                    ParseError::new(
                        format!("measure {}", number_of(i)),
                        "'To Coda' has no coda sign after it; add the coda or remove the jump",
                    )
                })?;
            continue;
        }
        if let Some(times) = m.repeat_backward.filter(|_| !jumped) {
            if pass < times.max(2) {
                pass += 1;
                i = section_start;
                continue;
            }
            pass = 1;
            section_start = i + 1;
        }
        if !jumped && (m.dacapo || m.dalsegno) {
            jumped = true;
            pass = 1;
            i = if m.dacapo {
                0
            } else {
                marks.iter().position(|m| m.segno).ok_or_else(|| {
                    ParseError::new(
                        format!("measure {}", number_of(i)),
                        "'D.S.' has no segno sign in the piece; add the segno or remove the jump",
                    )
                })?
            };
            section_start = i;
            continue;
        }
        i += 1;
    }
    Ok(played)
}

/// Last measure of the volta that starts at `start`.
fn ending_end(marks: &[Marks], start: usize) -> usize {
    (start..marks.len())
        .find(|&k| marks[k].ending_stop || (k > start && marks[k].ending_start.is_some()))
        .map_or(marks.len() - 1, |k| {
            if marks[k].ending_stop {
                k
            } else {
                k - 1
            }
        })
}

fn is_last_ending(marks: &[Marks], end: usize) -> bool {
    marks.get(end + 1).is_none_or(|m| m.ending_start.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(marks: &[Marks]) -> Vec<usize> {
        played_order(marks, |i| (i + 1).to_string())
            .unwrap()
            .into_iter()
            .map(|i| i + 1)
            .collect()
    }

    fn plain(n: usize) -> Vec<Marks> {
        vec![Marks::default(); n]
    }

    #[test]
    fn simple_repeat_from_start() {
        let mut m = plain(3);
        m[1].repeat_backward = Some(2);
        assert_eq!(order(&m), vec![1, 2, 1, 2, 3]);
    }

    #[test]
    fn forward_repeat_and_three_passes() {
        let mut m = plain(4);
        m[1].repeat_forward = true;
        m[2].repeat_backward = Some(3);
        assert_eq!(order(&m), vec![1, 2, 3, 2, 3, 2, 3, 4]);
    }

    #[test]
    fn a_repeat_taken_99_times_is_played_99_times() {
        let mut m = plain(3);
        m[1].repeat_backward = Some(99);
        let played = order(&m);
        assert_eq!(played.len(), 99 * 2 + 1);
        assert_eq!(played.last(), Some(&3));
    }

    #[test]
    fn an_unfolding_past_the_bound_says_which_bound() {
        let mut m = plain(2);
        m[1].repeat_backward = Some(u32::MAX);
        let e = played_order(&m, |i| (i + 1).to_string()).unwrap_err();
        assert!(
            e.message.contains("more than 10000 played measures"),
            "{}",
            e.message
        );
    }

    #[test]
    fn voltas() {
        // |: 1 2 [1. 3 :| [2. 4 ] 5
        let mut m = plain(5);
        m[0].repeat_forward = true;
        m[2].ending_start = Some(vec![1]);
        m[2].ending_stop = true;
        m[2].repeat_backward = Some(2);
        m[3].ending_start = Some(vec![2]);
        m[3].ending_stop = true;
        assert_eq!(order(&m), vec![1, 2, 3, 1, 2, 4, 5]);
    }

    #[test]
    fn two_sections_each_repeated() {
        let mut m = plain(4);
        m[1].repeat_backward = Some(2);
        m[3].repeat_backward = Some(2);
        assert_eq!(order(&m), vec![1, 2, 1, 2, 3, 4, 3, 4]);
    }

    #[test]
    fn da_capo_al_fine_skips_repeats() {
        let mut m = plain(4);
        m[1].repeat_backward = Some(2);
        m[1].fine = true;
        m[3].dacapo = true;
        assert_eq!(order(&m), vec![1, 2, 1, 2, 3, 4, 1, 2]);
    }

    #[test]
    fn dal_segno_al_coda() {
        let mut m = plain(6);
        m[1].segno = true;
        m[2].tocoda = true;
        m[3].dalsegno = true;
        m[4].coda = true;
        assert_eq!(order(&m), vec![1, 2, 3, 4, 2, 3, 5, 6]);
    }

    #[test]
    fn after_jump_only_last_volta() {
        let mut m = plain(5);
        m[1].ending_start = Some(vec![1]);
        m[1].ending_stop = true;
        m[1].repeat_backward = Some(2);
        m[2].ending_start = Some(vec![2]);
        m[2].ending_stop = true;
        m[3].dacapo = true;
        assert_eq!(order(&m), vec![1, 2, 1, 3, 4, 1, 3, 4, 5]);
    }

    #[test]
    fn missing_segno_is_an_error_naming_the_measure() {
        let mut m = plain(2);
        m[1].dalsegno = true;
        let e = played_order(&m, |i| (i + 1).to_string()).unwrap_err();
        assert_eq!(e.place, "measure 2");
    }
}
