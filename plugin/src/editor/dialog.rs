//! The "Open score…" dialog, through the desktop's own file chooser (`zenity` on GNOME and most
//! desktops, `kdialog` on KDE): no GUI toolkit is linked into the plugin, which a host may not
//! tolerate. Without either, the editor says to type or drop the path instead.

use std::path::PathBuf;
use std::process::Command;

/// `Ok(None)` when the user cancelled.
pub fn pick_score() -> Result<Option<PathBuf>, String> {
    let choosers: [(&str, &[&str]); 2] = [
        ("zenity", &["--file-selection", "--title=Open a score", "--file-filter=Scores | *.musicxml *.xml *.mxl *.mid *.midi"]),
        ("kdialog", &["--getopenfilename", ".", "*.musicxml *.xml *.mxl *.mid *.midi"]),
    ];
    for (program, args) in choosers {
        match Command::new(program).args(args).output() {
            Ok(out) if out.status.success() => {
                let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                return Ok((!path.is_empty()).then(|| PathBuf::from(path)));
            }
            Ok(_) => return Ok(None),
            Err(_) => continue,
        }
    }
    Err("No file chooser found on this system (zenity or kdialog). Type the score's path in the box, or drop the file on the window.".into())
}
