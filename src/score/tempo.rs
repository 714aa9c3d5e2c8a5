//! Tempo map: conversion between score beats (quarter notes) and score seconds.

/// One constant-tempo stretch starting at `beat`/`seconds`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    beat: f64,
    seconds: f64,
    sec_per_beat: f64,
}

/// Piecewise-constant tempo, as in a MIDI file's `set_tempo` events.
#[derive(Debug, Clone, PartialEq)]
pub struct TempoMap {
    segments: Vec<Segment>,
}

impl Default for TempoMap {
    fn default() -> Self {
        Self::constant(120.0)
    }
}

impl TempoMap {
    pub fn constant(qpm: f64) -> Self {
        Self {
            segments: vec![Segment {
                beat: 0.0,
                seconds: 0.0,
                sec_per_beat: 60.0 / qpm,
            }],
        }
    }

    /// Builds a map from `(beat, quarter notes per minute)` changes. Later changes at the same
    /// beat win; changes need not be sorted. Non-positive or non-finite tempi are ignored.
    pub fn from_changes(changes: &[(f64, f64)]) -> Self {
        let mut sorted: Vec<(f64, f64)> = changes
            .iter()
            .copied()
            .filter(|&(b, q)| b.is_finite() && b >= 0.0 && q.is_finite() && q > 0.0)
            .collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut map = Self::constant(sorted.first().filter(|c| c.0 == 0.0).map_or(120.0, |c| c.1));
        for (beat, qpm) in sorted {
            let last = *map.segments.last().expect("never empty");
            let seg = Segment {
                beat,
                seconds: last.seconds + (beat - last.beat) * last.sec_per_beat,
                sec_per_beat: 60.0 / qpm,
            };
            if beat == last.beat {
                *map.segments.last_mut().expect("never empty") = Segment {
                    seconds: last.seconds,
                    ..seg
                };
            } else {
                map.segments.push(seg);
            }
        }
        map
    }

    pub fn seconds_at(&self, beat: f64) -> f64 {
        let i = self
            .segments
            .partition_point(|s| s.beat <= beat)
            .saturating_sub(1);
        let s = self.segments[i];
        s.seconds + (beat - s.beat) * s.sec_per_beat
    }

    pub fn beat_at(&self, seconds: f64) -> f64 {
        let i = self
            .segments
            .partition_point(|s| s.seconds <= seconds)
            .saturating_sub(1);
        let s = self.segments[i];
        s.beat + (seconds - s.seconds) / s.sec_per_beat
    }

    /// Quarter notes per minute in force at `beat`.
    pub fn qpm_at(&self, beat: f64) -> f64 {
        let i = self
            .segments
            .partition_point(|s| s.beat <= beat)
            .saturating_sub(1);
        60.0 / self.segments[i].sec_per_beat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_across_tempo_changes() {
        let map = TempoMap::from_changes(&[(0.0, 60.0), (4.0, 120.0), (8.0, 30.0)]);
        assert_eq!(map.seconds_at(4.0), 4.0);
        assert_eq!(map.seconds_at(6.0), 5.0);
        assert_eq!(map.seconds_at(9.0), 8.0);
        for b in [0.0, 1.5, 4.0, 7.25, 8.0, 12.0] {
            assert!((map.beat_at(map.seconds_at(b)) - b).abs() < 1e-9);
        }
        assert_eq!(map.qpm_at(5.0), 120.0);
    }

    #[test]
    fn default_tempo_when_first_change_is_late() {
        let map = TempoMap::from_changes(&[(2.0, 60.0)]);
        assert_eq!(map.seconds_at(2.0), 1.0);
        assert_eq!(map.seconds_at(3.0), 2.0);
    }
}
