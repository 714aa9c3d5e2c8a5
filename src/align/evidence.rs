//! Is the audio this piece at all? A tracker always finds a best place, even for white noise or
//! another piece: its belief can be concentrated while the audio matches nothing. The evidence
//! for a place is how much closer the live frame is to the reference frame there than to its
//! nearest rival ([`Rivals`]): the piece's typical frame (the median over [`NULL_FRAMES`] frames
//! spread over the piece), and for the follower also the reference frame there a semitone up or
//! down. The first tells the piece from noise and from music of another texture; the second from
//! music in a neighbouring or the same key, which the place's own notes match and its notes a
//! semitone away match as well (identification's confidence has the same rival:
//! `identify::confidence_of`). It is about 0 or below for audio unrelated to the score and about
//! [`EVIDENCE_SURE`] for a recording of it (offline, against the typical frame); online it is read
//! against the most the reference's own frames would have had.

use super::cost::LocalCost;
use crate::features::{Features, CHROMA_DIM, DIM};

/// Reference frames the null is taken over, spread evenly over the piece.
pub const NULL_FRAMES: usize = 64;
/// Evidence at which a recording matches its place fully, against the typical frame alone
/// ([`Rivals::Typical`]): about the median of a recording of the piece (0.36–0.58 offline, on six
/// train pieces rendered with another piano).
pub const EVIDENCE_SURE: f32 = 0.5;
/// A place is its frame or one this many frames either side (±70 ms): a tracker a frame or two
/// off an attack would otherwise see the attack's onset feature as a mismatch.
pub const NEAR_FRAMES: usize = 3;
/// Live frames whose chroma norm is below this are (near) silence: they match any rest in the
/// score and say nothing about whether the audio is the piece.
const SILENT_CHROMA_NORM: f32 = 0.5;

/// What the live frame must be nearer to its place than.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rivals {
    /// The piece's typical frame.
    Typical,
    /// The typical frame, or the place a semitone up or down, whichever is nearer. Read against
    /// the most evidence the place's own frame would have ([`MatchEvidence::most`]): a place whose
    /// own frame is near its transposition (a bare octave, a sparse texture) has little to give,
    /// and offline, where the evidence is read on its own, the Chopin ballade's recordings fell to
    /// the evidence of another piece (BENCHMARKS.md, "Calibration: a semitone away").
    TypicalOrTransposed,
}

/// The null frames of one reference, and room for their distances.
#[derive(Debug, Clone)]
pub struct MatchEvidence {
    rivals: Rivals,
    null_frames: Vec<usize>,
    distances: Vec<f32>,
    /// [`most`](Self::most) per reference frame, once worked out (NaN before): it depends on the
    /// frame alone, and a follower asks for the same frames again and again.
    most: Vec<f32>,
    /// A reference frame moved by a semitone.
    shifted: Vec<f32>,
}

impl MatchEvidence {
    pub fn new(reference_len: usize, rivals: Rivals) -> Self {
        let n = reference_len.max(1);
        Self {
            rivals,
            null_frames: (0..NULL_FRAMES).map(|k| k * n / NULL_FRAMES).collect(),
            distances: vec![0.0; NULL_FRAMES],
            most: Vec::new(),
            shifted: Vec::new(),
        }
    }

    /// How much closer `live` is to `reference`'s frame `j`, or the nearest frame up to `near`
    /// from it (for a place a tracker found online, which may be a frame or two off: see
    /// [`NEAR_FRAMES`]), than to its rivals, in the cost's units.
    pub fn of(
        &mut self,
        live: &[f32],
        reference: &Features,
        j: usize,
        near: usize,
        cost: &dyn LocalCost,
    ) -> f32 {
        let (typical, or_transposed) = self.of_each(live, reference, j, near, cost);
        match self.rivals {
            Rivals::Typical => typical,
            Rivals::TypicalOrTransposed => or_transposed,
        }
    }

    /// [`of`](Self::of) against each kind of rival, whichever `self` was made for: the typical
    /// frame alone ([`Rivals::Typical`]), then it or the place a semitone away
    /// ([`Rivals::TypicalOrTransposed`]).
    pub fn of_each(
        &mut self,
        live: &[f32],
        reference: &Features,
        j: usize,
        near: usize,
        cost: &dyn LocalCost,
    ) -> (f32, f32) {
        let (k, nearest) = nearest(live, reference, j, near, cost);
        let typical = self.typical_distance(live, reference, cost);
        let transposed = self.transposed_distance(live, reference, k, cost);
        (typical - nearest, typical.min(transposed) - nearest)
    }

    /// How near `frame` is to what is not the piece at reference frame `j` ([`Rivals`]).
    fn rival_distance(
        &mut self,
        frame: &[f32],
        reference: &Features,
        j: usize,
        cost: &dyn LocalCost,
    ) -> f32 {
        let typical = self.typical_distance(frame, reference, cost);
        match self.rivals {
            Rivals::Typical => typical,
            Rivals::TypicalOrTransposed => {
                typical.min(self.transposed_distance(frame, reference, j, cost))
            }
        }
    }

    /// How near `frame` is to reference frame `j` a semitone up or down.
    fn transposed_distance(
        &mut self,
        frame: &[f32],
        reference: &Features,
        j: usize,
        cost: &dyn LocalCost,
    ) -> f32 {
        [-1, 1]
            .into_iter()
            .map(|shift| {
                transpose(reference.frame(j), shift, &mut self.shifted);
                cost.distance(frame, &self.shifted)
            })
            .fold(f32::INFINITY, f32::min)
    }

    /// The evidence the reference's own frame `j` would have there: the most a live frame can
    /// have. It is small where the piece's typical frame is much like frame `j` (a piece that
    /// keeps to one texture), so a recording's evidence is read against it.
    pub fn most(&mut self, reference: &Features, j: usize, cost: &dyn LocalCost) -> f32 {
        if self.most.len() != reference.len() {
            self.most = vec![f32::NAN; reference.len()];
        }
        if self.most[j].is_nan() {
            self.most[j] = self.rival_distance(reference.frame(j), reference, j, cost);
        }
        self.most[j]
    }

    /// The median distance from `frame` to the null frames.
    fn typical_distance(
        &mut self,
        frame: &[f32],
        reference: &Features,
        cost: &dyn LocalCost,
    ) -> f32 {
        for (d, &r) in self.distances.iter_mut().zip(&self.null_frames) {
            *d = cost.distance(frame, reference.frame(r.min(reference.len() - 1)));
        }
        let (_, median, _) = self
            .distances
            .select_nth_unstable_by(NULL_FRAMES / 2, f32::total_cmp);
        *median
    }
}

/// The reference frame nearest `live` within `near` of frame `j`, and its distance.
fn nearest(
    live: &[f32],
    reference: &Features,
    j: usize,
    near: usize,
    cost: &dyn LocalCost,
) -> (usize, f32) {
    let (k, d) = (j.saturating_sub(near)..(j + near + 1).min(reference.len()))
        .map(|k| (k, cost.distance(live, reference.frame(k))))
        .fold((j, f32::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
    (k.min(reference.len() - 1), d)
}

/// `frame` moved by `semitones` into `out`: its chroma rotated, its onset bands shifted (a band
/// moved past the keyboard's end is dropped), any learned embedding after them kept as it is.
fn transpose(frame: &[f32], semitones: i32, out: &mut Vec<f32>) {
    out.clear();
    out.extend_from_slice(frame);
    let chroma = &mut out[..CHROMA_DIM];
    if semitones >= 0 {
        chroma.rotate_right(semitones as usize % CHROMA_DIM);
    } else {
        chroma.rotate_left(semitones.unsigned_abs() as usize % CHROMA_DIM);
    }
    let Some(onsets) = out.get_mut(CHROMA_DIM..DIM) else {
        return; // chroma alone
    };
    let s = semitones.unsigned_abs() as usize;
    if semitones >= 0 {
        onsets.rotate_right(s);
        onsets[..s].fill(0.0);
    } else {
        onsets.rotate_left(s);
        let n = onsets.len();
        onsets[n - s..].fill(0.0);
    }
}

/// The evidence of the recent live frames against the most they could have had, both
/// exponentially weighted (so a mean of what was heard while less than a time constant has
/// been), silent frames left out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunningEvidence {
    alpha: f32,
    sure: f32,
    heard: f32,
    most: f32,
}

impl RunningEvidence {
    /// Frames count with weight falling by e every `time_constant` frames; a recording with
    /// `sure` of the most evidence it could have is a full match.
    pub fn new(time_constant: f32, sure: f32) -> Self {
        Self {
            alpha: 1.0 / time_constant.max(1.0),
            sure,
            heard: 0.0,
            most: 0.0,
        }
    }

    /// Forgets everything heard (a restart, a move elsewhere in the piece).
    pub fn reset(&mut self) {
        self.heard = 0.0;
        self.most = 0.0;
    }

    /// A frame's evidence ([`MatchEvidence::of`]) and the most it could have been
    /// ([`MatchEvidence::most`]).
    pub fn push(&mut self, evidence: f32, most: f32) {
        self.heard = (1.0 - self.alpha) * self.heard + self.alpha * evidence;
        self.most = (1.0 - self.alpha) * self.most + self.alpha * most;
    }

    /// The evidence heard over the most there could have been, as a share of `sure`: from 0
    /// (nothing like the piece) to 1; 1 while nothing has been heard.
    pub fn share(&self) -> f32 {
        if self.most <= 0.0 {
            return 1.0;
        }
        (self.heard / self.most / self.sure).clamp(0.0, 1.0)
    }
}

/// Whether a live frame is too quiet to tell the piece from anything else.
pub fn is_silent(live: &[f32]) -> bool {
    live[..CHROMA_DIM].iter().map(|x| x * x).sum::<f32>() < SILENT_CHROMA_NORM * SILENT_CHROMA_NORM
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::cost::EuclideanCost;

    fn reference() -> Features {
        // Twelve distinct frames: one pitch class each.
        let mut f = Features::new(CHROMA_DIM);
        for k in 0..CHROMA_DIM {
            let mut frame = [0.0; CHROMA_DIM];
            frame[k] = 1.0;
            f.push(&frame);
        }
        f
    }

    #[test]
    fn the_most_evidence_is_a_reference_frame_s_own() {
        let reference = reference();
        let mut evidence = MatchEvidence::new(reference.len(), Rivals::TypicalOrTransposed);
        let most = evidence.most(&reference, 5, &EuclideanCost);
        let own = evidence.of(reference.frame(5), &reference, 5, 0, &EuclideanCost);
        assert_eq!(most, own);
    }

    #[test]
    fn a_frame_of_the_piece_beats_the_typical_frame_and_noise_does_not() {
        let reference = reference();
        let mut evidence = MatchEvidence::new(reference.len(), Rivals::TypicalOrTransposed);
        let own = reference.frame(3).to_vec();
        let e = evidence.of(&own, &reference, 3, 0, &EuclideanCost);
        assert!((e - 2f32.sqrt()).abs() < 1e-6, "{e}");
        let flat = [1.0 / (CHROMA_DIM as f32).sqrt(); CHROMA_DIM];
        let e = evidence.of(&flat, &reference, 3, 0, &EuclideanCost);
        assert!(
            e.abs() < 1e-6,
            "flat chroma is as far from every frame: {e}"
        );
        let elsewhere = evidence.of(&own, &reference, 6, 0, &EuclideanCost);
        assert!(
            elsewhere.abs() < 1e-6,
            "elsewhere it is a typical frame: {elsewhere}"
        );
        // Frame 4 a semitone down is frame 3: the place's texture with other notes.
        let transposed = evidence.of(&own, &reference, 4, 0, &EuclideanCost);
        assert!(
            (transposed + 2f32.sqrt()).abs() < 1e-6,
            "the place a semitone away is evidence against: {transposed}"
        );
        let mut typical_only = MatchEvidence::new(reference.len(), Rivals::Typical);
        let typical = typical_only.of(&own, &reference, 4, 0, &EuclideanCost);
        assert!(typical.abs() < 1e-6, "the typical frame alone: {typical}");
        let near = evidence.of(
            &own,
            &reference,
            3 + NEAR_FRAMES,
            NEAR_FRAMES,
            &EuclideanCost,
        );
        assert!(
            (near - 2f32.sqrt()).abs() < 1e-6,
            "a place a few frames off: {near}"
        );
        let far = evidence.of(
            &own,
            &reference,
            5 + NEAR_FRAMES,
            NEAR_FRAMES,
            &EuclideanCost,
        );
        assert!(far.abs() < 1e-6, "{far}");
    }

    #[test]
    fn each_kind_of_rival_is_read_at_once() {
        let reference = reference();
        let own = reference.frame(3).to_vec();
        let mut typical = MatchEvidence::new(reference.len(), Rivals::Typical);
        let mut both = MatchEvidence::new(reference.len(), Rivals::TypicalOrTransposed);
        for j in [3, 4, 6] {
            let each = typical.of_each(&own, &reference, j, 0, &EuclideanCost);
            let one_by_one = (
                typical.of(&own, &reference, j, 0, &EuclideanCost),
                both.of(&own, &reference, j, 0, &EuclideanCost),
            );
            assert_eq!(each, one_by_one, "at {j}");
        }
    }

    #[test]
    fn a_frame_is_transposed_by_its_chroma_and_its_onset_bands_alone() {
        let mut frame = vec![0.0; DIM + 2];
        frame[11] = 1.0; // B
        frame[CHROMA_DIM] = 0.5; // the lowest key's onset
        frame[DIM - 1] = 0.25; // the highest key's
        frame[DIM] = 7.0; // a learned embedding
        let mut up = Vec::new();
        transpose(&frame, 1, &mut up);
        assert_eq!(up[0], 1.0, "B up a semitone is C");
        assert_eq!((up[CHROMA_DIM], up[CHROMA_DIM + 1]), (0.0, 0.5));
        assert_eq!(up[DIM - 1], 0.0, "past the keyboard's end");
        assert_eq!(up[DIM..], frame[DIM..]);
        let mut back = Vec::new();
        transpose(&up, -1, &mut back);
        assert_eq!(back[..DIM - 1], frame[..DIM - 1]);
    }

    #[test]
    fn the_running_evidence_is_a_mean_of_what_was_heard_until_it_is_forgotten() {
        let mut r = RunningEvidence::new(10.0, 0.5);
        assert_eq!(r.share(), 1.0, "nothing heard: no evidence against");
        r.push(0.25, 1.0);
        assert!(
            (r.share() - 0.5).abs() < 1e-6,
            "one frame is the mean at once"
        );
        for _ in 0..100 {
            r.push(-1.0, 1.0);
        }
        assert_eq!(r.share(), 0.0);
        r.reset();
        r.push(0.1, 0.2);
        assert_eq!(r.share(), 1.0, "half the most there could be is sure");
    }

    #[test]
    fn silence_is_told_from_a_played_frame() {
        assert!(is_silent(&[0.01; CHROMA_DIM]));
        assert!(!is_silent(reference().frame(0)));
    }
}
