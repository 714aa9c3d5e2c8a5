//! Where Segno finds what it needs outside its own code (SoundFonts, learned models, ONNX Runtime),
//! and the settings the environment gives. Every environment variable Segno reads is read here,
//! and every search order is written here once.
//!
//! Each search takes the first that exists:
//! - **SoundFont**: the file given (`--soundfont`, the plugin's SoundFont… button),
//!   `$SEGNO_SOUNDFONT`, then the system's ([`SYSTEM_SOUNDFONTS`]).
//! - **Learned model** `NAME.onnx`: the file given (`--model`), `$SEGNO_MODEL` (for the default
//!   model), then `models/NAME.onnx` and `NAME.onnx` in each search folder (below).
//! - **basic-pitch's model** (`basic-pitch-nmp.onnx`): `$SEGNO_SALIENCE_MODEL`, the folder of the
//!   salience model that needs it, then the search folders, then the checkout's `target/models/`.
//! - **ONNX Runtime** (`libonnxruntime.so`, `.dylib`, `onnxruntime.dll`): `$SEGNO_ONNXRUNTIME`
//!   (or `ort`'s `$ORT_DYLIB_PATH`), then `onnxruntime/` and the folder itself in the install and
//!   executable folders, then the checkout's `target/onnxruntime/`.
//! - **Cache** (what is worked out from a user's files and kept between runs, such as the theme
//!   search's chroma): `$SEGNO_CACHE_DIR`, else `$XDG_CACHE_HOME/segno`, else
//!   `$HOME/.cache/segno` (`%LOCALAPPDATA%\segno\cache` on Windows).
//! - **Data** (what a user builds up, such as the score library of `segno library`):
//!   `$SEGNO_DATA_DIR`, else `$XDG_DATA_HOME/segno`, else `$HOME/.local/share/segno`
//!   (`%LOCALAPPDATA%\segno\data` on Windows).
//!
//! The search folders are, in order: the install folder (a plugin's bundle, which the plugin
//! names), the running executable's folder, and the checkout. Nothing of the build machine is
//! compiled in: a build finds its checkout from where its executable is (inside a Cargo `target/`
//! folder whose parent holds `Cargo.toml`), so a binary copied elsewhere searches only its own
//! folders.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Why no SoundFont was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoundFontMissing {
    /// `$SEGNO_SOUNDFONT` names a file that is not there.
    FromEnv(PathBuf),
    /// None given, and none in the system paths (listed).
    System(Vec<PathBuf>),
}

/// Names the SoundFont to use when none is given.
pub const SOUNDFONT_ENV: &str = "SEGNO_SOUNDFONT";
/// Names the learned model to use instead of the default.
pub const MODEL_ENV: &str = "SEGNO_MODEL";
/// Names basic-pitch's model file.
pub const SALIENCE_MODEL_ENV: &str = "SEGNO_SALIENCE_MODEL";
/// Names the ONNX Runtime library file to load (before any search).
pub const ONNXRUNTIME_ENV: &str = "SEGNO_ONNXRUNTIME";
/// `ort`'s own name for the same, honoured after ours.
const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";
/// How frames are compared where there is no command line (the plugin): see `similarity`.
pub const SIMILARITY_ENV: &str = "SEGNO_SIMILARITY";
/// The inference device: `auto`, `cpu`, `cuda`, `tensorrt`, `directml`, `coreml`.
pub const DEVICE_ENV: &str = "SEGNO_DEVICE";
/// ONNX Runtime's messages shown from this level up: `verbose`, `info`, `warning` (the default),
/// `error`, `fatal`.
pub const ONNXRUNTIME_LOG_ENV: &str = "SEGNO_ONNXRUNTIME_LOG";

/// Names the folder Segno keeps its cache in.
pub const CACHE_ENV: &str = "SEGNO_CACHE_DIR";
/// Names the folder Segno keeps its data in (the score library).
pub const DATA_ENV: &str = "SEGNO_DATA_DIR";

/// The folder for `what` in Segno's cache (created by whoever writes there), or `None` where the
/// environment names no home at all.
pub fn cache_dir(what: &str) -> Option<PathBuf> {
    user_dir(CACHE_ENV, "XDG_CACHE_HOME", ".cache", "cache").map(|d| d.join(what))
}

/// Where Segno keeps what a user builds up and would not want to lose (the score library):
/// `$SEGNO_DATA_DIR`, else `$XDG_DATA_HOME/segno`, else `$HOME/.local/share/segno`
/// (`%LOCALAPPDATA%\segno\data` on Windows); `None` where the environment names no home.
pub fn data_dir() -> Option<PathBuf> {
    user_dir(DATA_ENV, "XDG_DATA_HOME", ".local/share", "data")
}

/// Segno's own variable `ours`, else the XDG variable `xdg` + `segno`, else `$HOME/home_rel/segno`;
/// on Windows `%LOCALAPPDATA%\segno\windows`.
fn user_dir(ours: &str, xdg: &str, home_rel: &str, windows: &str) -> Option<PathBuf> {
    var(ours).map(PathBuf::from).or_else(|| {
        if cfg!(windows) {
            var("LOCALAPPDATA").map(|d| PathBuf::from(d).join("segno").join(windows))
        } else {
            var(xdg)
                .map(|d| PathBuf::from(d).join("segno"))
                .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(home_rel).join("segno")))
        }
    })
}

/// Where Debian/Ubuntu packages (`fluid-soundfont-gm`, `timgm6mb-soundfont`) and common setups
/// put General MIDI SoundFonts, best first.
pub const SYSTEM_SOUNDFONTS: &[&str] = &[
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/FluidR3_GS.sf2",
];

/// A second piano, unlike the reference's (Debian's `timgm6mb-soundfont`): the benchmark and the
/// tests render "performances" with it so that nothing is ever followed against its own sound.
pub const OTHER_PIANO_SOUNDFONT: &str = "/usr/share/sounds/sf2/TimGM6mb.sf2";
/// csound's General MIDI bank (Debian's csound-soundfont): a third piano, for the benchmark.
pub const CSOUND_SOUNDFONT: &str = "/usr/share/sounds/sf2/sf_GMbank.sf2";

/// basic-pitch's model file (see [`crate::nn::salience`]).
pub const SALIENCE_MODEL_FILE: &str = "basic-pitch-nmp.onnx";

#[cfg(target_os = "linux")]
pub const ONNXRUNTIME_NAMES: &[&str] = &["libonnxruntime.so", "libonnxruntime.so.1"];
#[cfg(target_os = "macos")]
pub const ONNXRUNTIME_NAMES: &[&str] = &["libonnxruntime.dylib"];
#[cfg(target_os = "windows")]
pub const ONNXRUNTIME_NAMES: &[&str] = &["onnxruntime.dll"];

/// The value of an environment variable Segno reads, if set and not empty.
pub fn var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// The value of a setting variable as text (`None` if unset, empty or not Unicode).
pub fn setting(name: &str) -> Option<String> {
    var(name).and_then(|v| v.into_string().ok())
}

/// Where to look: the install folder, the executable's, the checkout's, and whether the
/// environment counts. `Default` is what a command-line run uses.
#[derive(Debug, Clone)]
pub struct Resources {
    install_dir: Option<PathBuf>,
    executable_dir: Option<PathBuf>,
    environment: bool,
}

impl Default for Resources {
    fn default() -> Self {
        Self {
            install_dir: None,
            executable_dir: executable_dir(),
            environment: true,
        }
    }
}

impl Resources {
    /// As the default, searching `dir` first: the folder a plugin's binary was installed in.
    pub fn installed_at(dir: Option<PathBuf>) -> Self {
        Self {
            install_dir: dir,
            ..Self::default()
        }
    }

    /// Only `dir`: no environment, no executable or checkout folders (for tests).
    pub fn isolated(dir: Option<PathBuf>) -> Self {
        Self {
            install_dir: dir,
            executable_dir: None,
            environment: false,
        }
    }

    fn env(&self, name: &str) -> Option<PathBuf> {
        self.environment
            .then(|| var(name))
            .flatten()
            .map(PathBuf::from)
    }

    /// The checkout this executable was built in, if it runs from a Cargo `target/` folder.
    fn checkout(&self) -> Option<PathBuf> {
        let exe = self.executable_dir.as_deref()?;
        let target = exe
            .ancestors()
            .find(|d| d.file_name().is_some_and(|n| n == "target"))?;
        target
            .parent()
            .filter(|c| c.join("Cargo.toml").is_file())
            .map(Path::to_owned)
    }

    /// Each search folder's `sub/` and the folder itself, then the checkout's `target/<sub>`.
    fn candidates(&self, sub: &str) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self
            .install_dir
            .iter()
            .chain(&self.executable_dir)
            .flat_map(|d| [d.join(sub), d.clone()])
            .collect();
        if let Some(checkout) = self.checkout() {
            dirs.push(checkout.join(sub));
            dirs.push(checkout.join("target").join(sub));
        }
        dirs
    }

    /// The SoundFont: `explicit`, else `$SEGNO_SOUNDFONT`, else the first system one found.
    pub fn soundfont(&self, explicit: Option<&Path>) -> Result<PathBuf, SoundFontMissing> {
        if let Some(p) = explicit {
            return Ok(p.to_owned());
        }
        if let Some(p) = self.env(SOUNDFONT_ENV) {
            return if p.is_file() {
                Ok(p)
            } else {
                Err(SoundFontMissing::FromEnv(p))
            };
        }
        let system: Vec<PathBuf> = SYSTEM_SOUNDFONTS.iter().map(PathBuf::from).collect();
        (system.iter().find(|p| p.is_file()).cloned()).ok_or(SoundFontMissing::System(system))
    }

    /// Whether `$SEGNO_MODEL` names the model (it replaces the default one).
    pub fn model_from_env(&self) -> Option<PathBuf> {
        self.env(MODEL_ENV)
    }

    /// The folders a model is looked for in, in order.
    pub fn model_folders(&self) -> Vec<PathBuf> {
        self.candidates("models")
    }

    /// The model file `name` (e.g. `scnn_semitone.onnx`) in the search folders.
    pub fn model(&self, name: &str) -> Option<PathBuf> {
        self.candidates("models")
            .into_iter()
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    }

    /// basic-pitch's model, for a salience model that lives in `beside`.
    pub fn salience_model(&self, beside: Option<&Path>) -> Option<PathBuf> {
        if let Some(p) = self.env(SALIENCE_MODEL_ENV) {
            return Some(p);
        }
        beside
            .map(Path::to_owned)
            .into_iter()
            .chain(self.candidates("models"))
            .map(|d| d.join(SALIENCE_MODEL_FILE))
            .find(|p| p.is_file())
    }

    /// The ONNX Runtime library; otherwise the folders searched.
    pub fn onnxruntime(&self) -> Result<PathBuf, Vec<PathBuf>> {
        if let Some(p) = self
            .env(ONNXRUNTIME_ENV)
            .or_else(|| self.env(ORT_DYLIB_ENV))
        {
            return Ok(p);
        }
        let dirs = self.candidates("onnxruntime");
        dirs.iter()
            .flat_map(|d| ONNXRUNTIME_NAMES.iter().map(move |n| d.join(n)))
            .find(|p| p.is_file())
            .ok_or(dirs)
    }
}

/// The folder of the running executable.
fn executable_dir() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_finds_its_checkout_from_its_executable_and_nothing_else() {
        let root = std::env::temp_dir().join(format!("segno-resources-{}", std::process::id()));
        let exe_dir = root.join("target/release/deps");
        std::fs::create_dir_all(&exe_dir).unwrap();
        std::fs::create_dir_all(root.join("models")).unwrap();
        std::fs::write(root.join("Cargo.toml"), "").unwrap();
        std::fs::write(root.join("models/m.onnx"), "").unwrap();
        let found = Resources {
            install_dir: None,
            executable_dir: Some(exe_dir.clone()),
            environment: false,
        };
        assert_eq!(found.model("m.onnx"), Some(root.join("models/m.onnx")));
        // Without the Cargo.toml beside it, a `target` folder is nobody's checkout.
        std::fs::remove_file(root.join("Cargo.toml")).unwrap();
        assert_eq!(found.model("m.onnx"), None);
        assert_eq!(Resources::isolated(None).model("m.onnx"), None);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn an_install_folder_is_searched() {
        let dir = std::env::temp_dir().join(format!("segno-install-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("models")).unwrap();
        std::fs::write(dir.join("models/m.onnx"), "").unwrap();
        let r = Resources::isolated(Some(dir.clone()));
        assert_eq!(r.model("m.onnx"), Some(dir.join("models/m.onnx")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
