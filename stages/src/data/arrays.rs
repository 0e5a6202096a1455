//! Array containers: `.npy` inside MedMNIST `.npz` archives, and IDX files
//! (optionally gzip-compressed). Only what real MedMNIST and (Fashion-)MNIST
//! files use is accepted; anything else is an error naming the file.

use std::io::Read;

use crate::error::{Result, StagesError};

/// A dense u8 image array: [n, h, w, c] (channels last, as stored).
pub(crate) struct ImageArray {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub data: Vec<u8>,
}

impl ImageArray {
    /// Raw pixels of image `i`, [h, w, c].
    pub fn image(&self, i: usize) -> &[u8] {
        let len = self.h * self.w * self.c;
        &self.data[i * len..(i + 1) * len]
    }
}

fn bad(path: &str, reason: impl Into<String>) -> StagesError {
    StagesError::BadDataFile {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// A parsed `.npy` array: dtype descriptor, shape and raw little-endian data.
pub(crate) struct Npy {
    pub descr: String,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

/// Parses the `.npy` format (versions 1–3, C order).
pub(crate) fn parse_npy(bytes: &[u8], name: &str) -> Result<Npy> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad(name, "not a .npy array (bad magic)"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(name, format!("unsupported .npy version {v}"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or_else(|| bad(name, "truncated .npy header"))?;
    let header = String::from_utf8_lossy(header);
    let field = |key: &str| -> Option<String> {
        let at = header.find(&format!("'{key}'"))?;
        let rest = &header[at + key.len() + 2..];
        let rest = rest.trim_start().strip_prefix(':')?.trim_start();
        Some(rest.to_string())
    };
    let descr = field("descr")
        .and_then(|r| r.strip_prefix('\'').map(|s| s.to_string()))
        .and_then(|r| r.split('\'').next().map(str::to_string))
        .ok_or_else(|| bad(name, "no dtype in .npy header"))?;
    if field("fortran_order").is_some_and(|r| r.starts_with("True")) {
        return Err(bad(name, "fortran-ordered arrays are not supported"));
    }
    let shape_text = field("shape")
        .and_then(|r| {
            let r = r.strip_prefix('(')?;
            r.split(')').next().map(str::to_string)
        })
        .ok_or_else(|| bad(name, "no shape in .npy header"))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| bad(name, format!("bad shape ({shape_text})")))?;
    let data = bytes[start + header_len..].to_vec();
    Ok(Npy { descr, shape, data })
}

impl Npy {
    fn elem_size(&self, name: &str) -> Result<usize> {
        let size = self
            .descr
            .get(2..)
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or_else(|| bad(name, format!("unsupported dtype `{}`", self.descr)))?;
        let need = self.shape.iter().product::<usize>() * size;
        if self.data.len() < need {
            return Err(bad(name, "array data is truncated"));
        }
        Ok(size)
    }

    /// The array as u8 images: shape [n, h, w] or [n, h, w, c].
    pub fn images(self, name: &str) -> Result<ImageArray> {
        if !matches!(self.descr.as_str(), "|u1" | "<u1" | "u1") {
            return Err(bad(
                name,
                format!("images must be uint8, found dtype `{}`", self.descr),
            ));
        }
        self.elem_size(name)?;
        let (n, h, w, c) = match self.shape[..] {
            [n, h, w] => (n, h, w, 1),
            [n, h, w, c] if c == 1 || c == 3 => (n, h, w, c),
            _ => {
                return Err(bad(
                    name,
                    format!("unsupported image shape {:?}", self.shape),
                ))
            }
        };
        let mut data = self.data;
        data.truncate(n * h * w * c);
        Ok(ImageArray { n, h, w, c, data })
    }

    /// The array as integer labels: shape [n] or [n, 1].
    pub fn labels(self, name: &str) -> Result<Vec<i64>> {
        let n = match self.shape[..] {
            [n] | [n, 1] => n,
            _ => {
                return Err(bad(
                    name,
                    format!("unsupported label shape {:?}", self.shape),
                ))
            }
        };
        let size = self.elem_size(name)?;
        let kind = self.descr.as_bytes().get(1).copied().unwrap_or(b'?');
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let b = &self.data[i * size..(i + 1) * size];
            let v = match (kind, size) {
                (b'u', 1) => b[0] as i64,
                (b'i', 1) => b[0] as i8 as i64,
                (b'u', 2) => u16::from_le_bytes([b[0], b[1]]) as i64,
                (b'i', 2) => i16::from_le_bytes([b[0], b[1]]) as i64,
                (b'u', 4) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
                (b'i', 4) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
                (b'i', 8) | (b'u', 8) => {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    i64::from_le_bytes(a)
                }
                _ => {
                    return Err(bad(
                        name,
                        format!("unsupported label dtype `{}`", self.descr),
                    ))
                }
            };
            out.push(v);
        }
        Ok(out)
    }
}

/// Reads the named arrays of a `.npz` archive (`None` when absent).
pub(crate) fn read_npz_member(bytes: &[u8], file: &str, member: &str) -> Result<Option<Npy>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(file, format!("not a zip archive: {e}")))?;
    let name = format!("{member}.npy");
    let mut entry = match zip.by_name(&name) {
        Ok(e) => e,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(bad(file, format!("cannot read `{name}`: {e}"))),
    };
    let mut buf = Vec::new();
    entry
        .read_to_end(&mut buf)
        .map_err(|e| bad(file, format!("cannot read `{name}`: {e}")))?;
    parse_npy(&buf, &format!("{file}:{name}")).map(Some)
}

/// Decompresses gzip data when it starts with the gzip magic.
fn maybe_gunzip(bytes: Vec<u8>, name: &str) -> Result<Vec<u8>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| bad(name, format!("bad gzip data: {e}")))?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

fn be_u32(b: &[u8], at: usize) -> usize {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// Parses an IDX image file (u8, 3 dimensions: n, rows, cols).
pub(crate) fn parse_idx_images(bytes: Vec<u8>, name: &str) -> Result<ImageArray> {
    let b = maybe_gunzip(bytes, name)?;
    if b.len() < 16 || b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] != 3 {
        return Err(bad(name, "not an IDX u8 image file (magic 0x00000803)"));
    }
    let (n, h, w) = (be_u32(&b, 4), be_u32(&b, 8), be_u32(&b, 12));
    let data = b[16..].to_vec();
    if data.len() < n * h * w {
        return Err(bad(name, "image data is truncated"));
    }
    Ok(ImageArray {
        n,
        h,
        w,
        c: 1,
        data,
    })
}

/// Parses an IDX label file (u8, 1 dimension).
pub(crate) fn parse_idx_labels(bytes: Vec<u8>, name: &str) -> Result<Vec<i64>> {
    let b = maybe_gunzip(bytes, name)?;
    if b.len() < 8 || b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] != 1 {
        return Err(bad(name, "not an IDX u8 label file (magic 0x00000801)"));
    }
    let n = be_u32(&b, 4);
    if b.len() < 8 + n {
        return Err(bad(name, "label data is truncated"));
    }
    Ok(b[8..8 + n].iter().map(|&v| v as i64).collect())
}
