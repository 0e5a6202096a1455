//! Bad data is bad input: every case exits 2 with its reason (the file and
//! the problem) on the terminal, and publishes nothing. Problems visible
//! from names and headers are found while planning (nothing runs); those
//! only decoding finds are found by the `prepare` stage, which exits 2 with
//! the reason the terminal then prints under its FAILED line.

#![allow(clippy::unwrap_used)] // tests panic on purpose

mod common;

use std::io::{Cursor, Write};
use std::path::Path;

use common::*;
use image::{DynamicImage, GrayImage, ImageFormat, Luma};

/// The experiment: `mini` (format `format`, path `path`) and the smallest
/// models; `extra` goes into the `[[dataset]]` table.
fn experiment(format: &str, path: &str, extra: &str) -> String {
    format!(
        r#"name = "bad-data"
seeds = [0]

[[dataset]]
name = "mini"
format = "{format}"
path = "{path}"
image_size = 8
{extra}

[teacher]
depth = 1
width = 2
max_width = 2
epochs = 1

[student]
width = 2
max_width = 2
epochs = 1

[sweep]
depth = [1]
temperature = [2.0]
alpha = [0.5]
"#
    )
}

/// A smooth 32×32 grayscale "scan" per `seed`: four bright blobs on a dark
/// disc, placed by a hash of the seed (no two seeds are near-duplicates).
fn scan(seed: u32) -> GrayImage {
    let mut z = u64::from(seed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut next = move |lo: f32, hi: f32| {
        z ^= z >> 29;
        z = z.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z ^= z >> 32;
        lo + (z % 10_000) as f32 / 10_000.0 * (hi - lo)
    };
    let blobs: Vec<(f32, f32, f32, f32)> = (0..4)
        .map(|_| {
            (
                next(6.0, 26.0),
                next(6.0, 26.0),
                next(2.0, 5.0),
                next(80.0, 160.0),
            )
        })
        .collect();
    GrayImage::from_fn(32, 32, |x, y| {
        let (x, y) = (x as f32, y as f32);
        let disc = if (x - 16.0).hypot(y - 16.0) < 13.0 {
            60.0
        } else {
            0.0
        };
        let v: f32 = blobs
            .iter()
            .map(|&(cx, cy, r, a)| {
                a * (-((x - cx).powi(2) + (y - cy).powi(2)) / (2.0 * r * r)).exp()
            })
            .sum();
        Luma([(disc + v).min(255.0) as u8])
    })
}

fn png_bytes(img: &GrayImage) -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageLuma8(img.clone())
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

/// Two classes `a` and `b` of six distinct PNGs each under `dir`.
fn good_folder(dir: &Path) {
    for (c, class) in ["a", "b"].iter().enumerate() {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..6 {
            let seed = (c * 10 + i) as u32 + 1;
            std::fs::write(
                dir.join(class).join(format!("{i}.png")),
                png_bytes(&scan(seed)),
            )
            .unwrap();
        }
    }
}

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        Case {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("mini")
    }

    /// Runs `kdpipe run` on `text`; asserts exit 2, every needle on stderr,
    /// and no published artifact and no name in the store. Returns stderr.
    #[track_caller]
    fn rejects(&self, text: &str, needles: &[&str]) -> String {
        let exp = self.dir.path().join("exp.toml");
        std::fs::write(&exp, text).unwrap();
        let store = self.dir.path().join("store");
        let out = kdpipe(&store, &["run", "--plain", exp.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "`kdpipe run` must exit 2; stderr:\n{err}"
        );
        for n in needles {
            assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
        }
        assert!(
            published(&store).is_empty(),
            "published: {:?}",
            published(&store)
        );
        let names = tree(&store.join("names"));
        assert!(names.is_empty(), "names: {names:?}");
        err
    }
}

/// What the stage found is under the FAILED line, before the log path.
#[track_caller]
fn reason_under_failed_line(err: &str, reason: &str) {
    let at = err
        .find("FAILED  prepare/mini: bad input")
        .unwrap_or_else(|| panic!("no FAILED line:\n{err}"));
    let rest = &err[at..];
    let lines: Vec<&str> = rest.lines().take(3).collect();
    assert!(lines[1].contains(reason), "{lines:?}");
    assert!(lines[2].trim_start().starts_with("log: "), "{lines:?}");
}

#[test]
fn one_class_is_refused_while_planning() {
    let c = Case::new();
    good_folder(&c.data());
    std::fs::remove_dir_all(c.data().join("b")).unwrap();
    c.rejects(
        &experiment("imagefolder", "mini", ""),
        &["dataset[0].path", "1 class folder(s) (`a`)", "at least two"],
    );
}

#[test]
fn an_empty_class_folder_is_refused_while_planning() {
    let c = Case::new();
    good_folder(&c.data());
    std::fs::create_dir_all(c.data().join("c")).unwrap();
    std::fs::write(c.data().join("c/readme.txt"), "no images here").unwrap();
    c.rejects(
        &experiment("imagefolder", "mini", ""),
        &["dataset[0].path", "mini/c", "holds no image file"],
    );
}

#[test]
fn a_split_folder_outside_the_dataset_is_refused() {
    let c = Case::new();
    good_folder(&c.data());
    c.rejects(
        &experiment(
            "imagefolder",
            "mini",
            "train_dir = \"../../..\"\ntest_dir = \"a\"",
        ),
        &[
            "dataset[0].train_dir",
            "../../..",
            "inside the dataset path",
        ],
    );
}

#[test]
fn a_truncated_file_fails_prepare_with_exit_2() {
    let c = Case::new();
    good_folder(&c.data());
    let full = png_bytes(&scan(99));
    std::fs::write(c.data().join("a/trunc.png"), &full[..full.len() / 2]).unwrap();
    let err = c.rejects(
        &experiment("imagefolder", "mini", ""),
        &["corrupt or unreadable image `a/trunc.png`"],
    );
    reason_under_failed_line(&err, "a/trunc.png");
}

#[test]
fn a_corrupt_file_fails_prepare_with_exit_2() {
    let c = Case::new();
    good_folder(&c.data());
    let mut bytes = png_bytes(&scan(98));
    // Keep the signature and header; garble everything after them.
    for b in bytes.iter_mut().skip(33) {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    std::fs::write(c.data().join("b/garbled.png"), bytes).unwrap();
    let err = c.rejects(
        &experiment("imagefolder", "mini", ""),
        &["corrupt or unreadable image `b/garbled.png`"],
    );
    reason_under_failed_line(&err, "b/garbled.png");
}

#[test]
fn a_zero_byte_file_fails_prepare_with_exit_2() {
    let c = Case::new();
    good_folder(&c.data());
    std::fs::write(c.data().join("a/empty.jpg"), b"").unwrap();
    let err = c.rejects(
        &experiment("imagefolder", "mini", ""),
        &["`a/empty.jpg`: the file is empty (0 bytes)"],
    );
    reason_under_failed_line(&err, "a/empty.jpg");
}

#[test]
fn a_non_image_with_an_image_extension_fails_prepare_with_exit_2() {
    let c = Case::new();
    good_folder(&c.data());
    std::fs::write(
        c.data().join("b/notes.png"),
        b"just some text, not a picture\n",
    )
    .unwrap();
    let err = c.rejects(
        &experiment("imagefolder", "mini", ""),
        &["corrupt or unreadable image `b/notes.png`"],
    );
    reason_under_failed_line(&err, "b/notes.png");
}

#[test]
fn a_class_left_empty_by_skip_corrupt_fails_prepare_with_exit_2() {
    let c = Case::new();
    good_folder(&c.data());
    for i in 0..6 {
        std::fs::write(c.data().join(format!("b/{i}.png")), b"broken").unwrap();
    }
    let err = c.rejects(
        &experiment("imagefolder", "mini", "skip_corrupt = true"),
        &["class `b` has no images left after skipping unreadable ones"],
    );
    reason_under_failed_line(&err, "class `b`");
}

#[test]
fn the_same_image_under_two_labels_names_both_files() {
    let c = Case::new();
    good_folder(&c.data());
    // a/0.png again, under b, as another file (different bytes): an
    // upscaled copy.
    let twin = image::imageops::resize(&scan(1), 48, 48, image::imageops::FilterType::CatmullRom);
    std::fs::write(c.data().join("b/twin.png"), png_bytes(&twin)).unwrap();
    let err = c.rejects(
        &experiment("imagefolder", "mini", ""),
        &[
            "near-duplicate images under different labels",
            "`a/0.png` (a)",
            "`b/twin.png` (b)",
        ],
    );
    reason_under_failed_line(&err, "b/twin.png");
    // Byte-identical copies under two labels are refused too (the exact
    // dedupe used to keep one of them silently).
    std::fs::remove_file(c.data().join("b/twin.png")).unwrap();
    std::fs::copy(c.data().join("a/1.png"), c.data().join("b/copy.png")).unwrap();
    c.rejects(
        &experiment("imagefolder", "mini", ""),
        &["`a/1.png` (a)", "`b/copy.png` (b)"],
    );
}

/// A zip holding `members` (name, bytes).
fn zip_file(path: &Path, members: &[(&str, Vec<u8>)]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in members {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

fn npy_u8(shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("{},", dims[0])
    } else {
        dims.join(", ")
    };
    let mut header = format!("{{'descr': '|u1', 'fortran_order': False, 'shape': ({shape}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    v.extend_from_slice(header.as_bytes());
    v.extend(std::iter::repeat_n(0u8, shape_len(&dims)));
    v
}

fn shape_len(dims: &[String]) -> usize {
    dims.iter().map(|d| d.parse::<usize>().unwrap()).product()
}

#[test]
fn an_npz_without_the_expected_keys_is_refused_while_planning() {
    let c = Case::new();
    let f = c.dir.path().join("mini.npz");
    zip_file(
        &f,
        &[
            ("train_images.npy", npy_u8(&[4, 8, 8])),
            ("train_labels.npy", npy_u8(&[4, 1])),
            ("x_test.npy", npy_u8(&[2, 8, 8])),
        ],
    );
    c.rejects(
        &experiment("medmnist", "mini.npz", ""),
        &["mini.npz has no array `test_images`", "x_test.npy"],
    );
}

#[test]
fn an_npz_that_is_not_a_zip_is_refused_while_planning() {
    let c = Case::new();
    std::fs::write(c.dir.path().join("mini.npz"), b"this is not a zip archive").unwrap();
    c.rejects(
        &experiment("medmnist", "mini.npz", ""),
        &["mini.npz is not a .npz (zip) archive"],
    );
}

#[test]
fn an_npz_with_one_class_fails_prepare_with_exit_2() {
    let c = Case::new();
    let f = c.dir.path().join("mini.npz");
    let images = |n: usize| {
        let mut v = npy_u8(&[n, 8, 8]);
        let header = v.len() - n * 64;
        for (i, b) in v[header..].iter_mut().enumerate() {
            *b = ((i * 7919) % 251) as u8;
        }
        v
    };
    zip_file(
        &f,
        &[
            ("train_images.npy", images(6)),
            ("train_labels.npy", npy_u8(&[6, 1])),
            ("test_images.npy", images(3)),
            ("test_labels.npy", npy_u8(&[3, 1])),
        ],
    );
    let err = c.rejects(
        &experiment("medmnist", "mini.npz", "near_duplicates = false"),
        &["only one class (`0`)"],
    );
    reason_under_failed_line(&err, "only one class");
}
