//! The "Open score…" dialog, through the desktop's own file chooser (`zenity` on GNOME and most
//! desktops, `kdialog` on KDE): no GUI toolkit is linked into the plugin, which a host may not
//! tolerate. Without either, the editor says to type or drop the path instead.

use std::path::PathBuf;
use std::process::Command;

/// What a dialog asks for: its title, and the file patterns it offers.
#[derive(Debug, Clone, Copy)]
pub enum Pick {
    Score,
    SoundFont,
    Library,
}

impl Pick {
    fn title(self) -> &'static str {
        match self {
            Self::Score => "Open a score",
            Self::SoundFont => "Choose a piano SoundFont",
            Self::Library => "Choose a score library (segno library add)",
        }
    }

    fn patterns(self) -> &'static str {
        match self {
            Self::Score => "*.musicxml *.xml *.mxl *.mid *.midi",
            Self::SoundFont => "*.sf2",
            Self::Library => "*.segnolib",
        }
    }
}

/// `Ok(None)` when the user cancelled.
pub fn pick(what: Pick) -> Result<Option<PathBuf>, String> {
    let zenity = [
        format!("--title={}", what.title()),
        format!("--file-filter={} | {}", what.title(), what.patterns()),
    ];
    let choosers: [(&str, Vec<String>); 2] = [
        (
            "zenity",
            ["--file-selection".to_owned()]
                .into_iter()
                .chain(zenity)
                .collect(),
        ),
        (
            "kdialog",
            vec![
                "--getopenfilename".into(),
                ".".into(),
                what.patterns().into(),
            ],
        ),
    ];
    for (program, args) in choosers {
        match Command::new(program).args(&args).output() {
            Ok(out) if out.status.success() => {
                let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                return Ok((!path.is_empty()).then(|| PathBuf::from(path)));
            }
            Ok(_) => return Ok(None),
            Err(_) => continue,
        }
    }
    Err("No file chooser found on this system (zenity or kdialog). Type the file's path in the box, or drop the file on the window.".into())
}
