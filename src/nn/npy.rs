//! NumPy `.npy` files (format 1.0, little-endian, C order): how training data leaves Rust and
//! reference outputs of the Python side come back for parity tests.

use std::io::{Read, Write};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("{path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error("{path}: not a .npy file Segno reads ({message}); it reads little-endian float32, int32 and uint16 arrays")]
    Format { path: String, message: String },
}

/// Element types Segno writes and reads.
pub trait Element: Copy + Default {
    const DESCR: &'static str;
    fn to_le(self, out: &mut Vec<u8>);
    fn from_le(bytes: &[u8]) -> Self;
}

macro_rules! element {
    ($t:ty, $descr:literal) => {
        impl Element for $t {
            const DESCR: &'static str = $descr;
            fn to_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn from_le(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("element size"))
            }
        }
    };
}

element!(f32, "<f4");
element!(i32, "<i4");
element!(u16, "<u2");

/// Writes `data` with `shape` (the product of `shape` must be `data.len()`).
pub fn write<T: Element>(path: &Path, shape: &[usize], data: &[T]) -> Result<(), NpyError> {
    assert_eq!(
        shape.iter().product::<usize>(),
        data.len(),
        "shape and data disagree"
    );
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
        T::DESCR,
        shape_text
    );
    // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = Vec::with_capacity(10 + header.len() + std::mem::size_of_val(data));
    bytes.extend_from_slice(b"\x93NUMPY\x01\x00");
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    data.iter().for_each(|&x| x.to_le(&mut bytes));
    let io = |cause| NpyError::Io {
        path: path.display().to_string(),
        cause,
    };
    std::fs::File::create(path)
        .and_then(|mut f| f.write_all(&bytes))
        .map_err(io)
}

/// Reads an array written by [`write`] or by NumPy (`np.save`) in C order; returns shape and data.
pub fn read<T: Element>(path: &Path) -> Result<(Vec<usize>, Vec<T>), NpyError> {
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|cause| NpyError::Io {
            path: name.clone(),
            cause,
        })?;
    let bad = |message: &str| NpyError::Format {
        path: name.clone(),
        message: message.into(),
    };
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("no NumPy magic"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize,
            12,
        ),
        _ => return Err(bad("unknown format version")),
    };
    let header = std::str::from_utf8(
        bytes
            .get(start..start + header_len)
            .ok_or_else(|| bad("truncated header"))?,
    )
    .map_err(|_| bad("header is not text"))?;
    if !header.contains(&format!("'descr': '{}'", T::DESCR)) {
        return Err(bad(&format!("element type is not {}", T::DESCR)));
    }
    if header.contains("'fortran_order': True") {
        return Err(bad("Fortran order"));
    }
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("no shape"))?;
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad("bad shape")))
        .collect::<Result<_, _>>()?;
    let size = std::mem::size_of::<T>();
    let body = &bytes[start + header_len..];
    let n: usize = shape.iter().product();
    if body.len() != n * size {
        return Err(bad("data length does not match the shape"));
    }
    Ok((shape, body.chunks_exact(size).map(T::from_le).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = std::env::temp_dir();
        let p = dir.join(format!("segno-npy-{}.npy", std::process::id()));
        write(&p, &[2, 3], &[1.0f32, 2.0, 3.0, 4.0, 5.0, -6.5]).unwrap();
        assert_eq!(
            read::<f32>(&p).unwrap(),
            (vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5])
        );
        write(&p, &[3], &[7i32, -1, 0]).unwrap();
        assert_eq!(read::<i32>(&p).unwrap(), (vec![3], vec![7, -1, 0]));
        assert!(read::<f32>(&p).is_err(), "wrong element type is refused");
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!((bytes.len() - 3 * 4) % 64, 0, "header padded to 64 bytes");
    }
}
