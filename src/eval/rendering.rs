//! The pianos and rooms the benchmark plays each performance in. A gain on one synthesised piano
//! is only a hypothesis about real ones, so `segno eval --renderings all` plays every performance
//! on each of these and reports each and the worst; settings are chosen on the first and checked
//! on the others.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use super::degrade::Degradation;
use crate::resources::{CSOUND_SOUNDFONT, OTHER_PIANO_SOUNDFONT};

/// A piano (SoundFont and General MIDI preset) in a room (tone, reverb, noise). None of them is
/// the reference's piano (FluidR3's grand in a 0.8 s room).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    /// TimGM6mb's grand in the benchmark's 1.2 s room at 30 dB SNR: the figures of BENCHMARKS.md.
    TimGmHall,
    /// csound's GM bank grand, close-miked in a dry studio (0.4 s), a darker tone, 35 dB SNR.
    CsoundStudio,
    /// TimGM6mb's bright piano far away in a church (2.2 s, much reverb), a brighter tone, 25 dB.
    TimGmBrightChurch,
}

impl Rendering {
    pub const ALL: [Self; 3] = [Self::TimGmHall, Self::CsoundStudio, Self::TimGmBrightChurch];

    pub fn name(self) -> &'static str {
        match self {
            Self::TimGmHall => "timgm-hall",
            Self::CsoundStudio => "csound-studio",
            Self::TimGmBrightChurch => "timgm-bright-church",
        }
    }

    pub fn soundfont(self) -> &'static Path {
        Path::new(match self {
            Self::TimGmHall | Self::TimGmBrightChurch => OTHER_PIANO_SOUNDFONT,
            Self::CsoundStudio => CSOUND_SOUNDFONT,
        })
    }

    /// The General MIDI program played.
    pub fn program(self) -> u8 {
        match self {
            Self::TimGmHall | Self::CsoundStudio => 0,
            Self::TimGmBrightChurch => 1,
        }
    }

    pub fn degradation(self) -> Degradation {
        match self {
            Self::TimGmHall => Degradation::BENCHMARK,
            Self::CsoundStudio => Degradation {
                tilt: -0.4,
                reverb_decay_s: 0.4,
                reverb_wet: 0.15,
                snr_db: 35.0,
            },
            Self::TimGmBrightChurch => Degradation {
                tilt: 0.5,
                reverb_decay_s: 2.2,
                reverb_wet: 0.4,
                snr_db: 25.0,
            },
        }
    }

    /// The Debian package that installs its SoundFont.
    pub fn package(self) -> &'static str {
        match self {
            Self::TimGmHall | Self::TimGmBrightChurch => "timgm6mb-soundfont",
            Self::CsoundStudio => "csound-soundfont",
        }
    }
}

impl fmt::Display for Rendering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Rendering {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|r| r.name()).collect();
                format!(
                    "unknown rendering '{s}': one of {}, or all",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for r in Rendering::ALL {
            assert_eq!(r.name().parse::<Rendering>(), Ok(r));
        }
        assert!("fluidr3"
            .parse::<Rendering>()
            .unwrap_err()
            .contains("timgm-hall"));
    }
}
