//! Input files read whole (scores, SoundFonts), within a bound on their size, so that a huge or
//! hostile file is refused with its size before it takes the machine's memory.

use std::io::Read;
use std::path::Path;

/// The whole of `path`, if it holds at most `limit` bytes; otherwise an error that says how large
/// it is and what the bound is. The file's stated length is checked first, and reading stops at
/// the bound whatever it says (a file can grow while it is read).
pub fn read_within(path: &Path, limit: u64, what: &str) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let too_large = |size: u64| {
        std::io::Error::other(format!(
            "the file is {} MiB; Segno reads {what} of at most {} MiB",
            size.div_ceil(1 << 20),
            limit >> 20
        ))
    };
    let stated = file.metadata()?.len();
    if stated > limit {
        return Err(too_large(stated));
    }
    let mut data = Vec::with_capacity(stated as usize);
    file.take(limit + 1).read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Err(too_large(data.len() as u64));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_bound_is_refused_with_its_size() {
        let path = std::env::temp_dir().join(format!("segno-input-{}.bin", std::process::id()));
        std::fs::write(&path, vec![7u8; 3 << 20]).unwrap();
        assert_eq!(
            read_within(&path, 4 << 20, "scores").unwrap().len(),
            3 << 20
        );
        let e = read_within(&path, 2 << 20, "scores")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("3 MiB") && e.contains("scores of at most 2 MiB"),
            "{e}"
        );
        std::fs::remove_file(&path).unwrap();
    }
}
