//! Tests of decoding: the three resize modes on a non-square image, and the
//! EXIF orientation of a JPEG made here.

#![allow(clippy::unwrap_used)]

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, GrayImage, ImageEncoder, ImageFormat, Luma};

use super::*;

fn png(img: &GrayImage) -> Content {
    let mut out = Vec::new();
    DynamicImage::ImageLuma8(img.clone())
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    Content::Encoded(out)
}

/// Row `y` of a `size`-wide grayscale result.
fn row(px: &[u8], size: usize, y: usize) -> &[u8] {
    &px[y * size..(y + 1) * size]
}

#[test]
fn pad_keeps_the_aspect_on_black_crop_cuts_the_centre_stretch_distorts() {
    // 40 wide, 20 high, white, with its left 5 columns mid-grey.
    let img = GrayImage::from_fn(40, 20, |x, _| Luma([if x < 5 { 100 } else { 255 }]));
    let content = png(&img);

    // Pad: 16 × 8 centred, rows 0..4 and 12..16 black.
    let pad = to_chw(&content, 1, 16, ResizeMode::Pad).unwrap();
    assert_eq!(pad.len(), 256);
    for y in (0..4).chain(12..16) {
        assert!(
            row(&pad, 16, y).iter().all(|&v| v == 0),
            "row {y}: {:?}",
            row(&pad, 16, y)
        );
    }
    for y in 4..12 {
        assert_eq!(row(&pad, 16, y)[15], 255, "row {y}");
        assert_eq!(row(&pad, 16, y)[0], 100, "row {y}");
    }

    // Crop: the centre 20 × 20 (columns 10..30) is all white: the grey
    // edge is cut off.
    let crop = to_chw(&content, 1, 16, ResizeMode::Crop).unwrap();
    assert!(crop.iter().all(|&v| v == 255), "{crop:?}");

    // Stretch: the grey eighth is the left edge of every row, no black
    // anywhere.
    let stretch = to_chw(&content, 1, 16, ResizeMode::Stretch).unwrap();
    for y in 0..16 {
        let r = row(&stretch, 16, y);
        assert_eq!((r[0], r[15]), (100, 255), "row {y}: {r:?}");
    }
    assert!(!stretch.contains(&0));
}

#[test]
fn pad_and_crop_of_a_tall_image_in_rgb() {
    // 10 wide, 30 high: padded to 16 it is about 5 wide, centred.
    let img = GrayImage::from_pixel(10, 30, Luma([200]));
    let px = to_chw(&png(&img), 3, 16, ResizeMode::Pad).unwrap();
    assert_eq!(px.len(), 3 * 256);
    for ch in 0..3 {
        let plane = &px[ch * 256..(ch + 1) * 256];
        let r = row(plane, 16, 8);
        assert_eq!(r.iter().filter(|&&v| v == 200).count(), 5, "{r:?}");
        assert_eq!((r[0], r[15]), (0, 0));
        assert_eq!(r[8], 200);
    }
    let crop = to_chw(&png(&img), 3, 16, ResizeMode::Crop).unwrap();
    assert!(crop.iter().all(|&v| v == 200));
}

/// A little-endian TIFF/EXIF chunk holding only an orientation tag.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut v = b"II*\0".to_vec();
    v.extend_from_slice(&8u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&0x0112u16.to_le_bytes());
    v.extend_from_slice(&3u16.to_le_bytes());
    v.extend_from_slice(&1u32.to_le_bytes());
    v.extend_from_slice(&value.to_le_bytes());
    v.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    v
}

fn jpeg(img: &GrayImage, exif: Option<Vec<u8>>) -> Content {
    let mut out = Vec::new();
    let mut enc = JpegEncoder::new_with_quality(&mut out, 95);
    if let Some(exif) = exif {
        enc.set_exif_metadata(exif).unwrap();
    }
    DynamicImage::ImageLuma8(img.clone())
        .write_with_encoder(enc)
        .unwrap();
    Content::Encoded(out)
}

fn mean(px: &[u8]) -> f64 {
    px.iter().map(|&v| f64::from(v)).sum::<f64>() / px.len() as f64
}

#[test]
fn the_exif_orientation_turns_a_rotated_jpeg_upright() {
    // Upright: 32 wide, 16 high, the top half bright.
    let upright = GrayImage::from_fn(32, 16, |_, y| Luma([if y < 8 { 230 } else { 20 }]));
    // Stored turned a quarter to the left (16 wide, 32 high, bright half on
    // the left); orientation 6 means "turn 90° clockwise to display".
    let stored = image::imageops::rotate270(&upright);
    assert_eq!(stored.dimensions(), (16, 32));

    let tagged = to_chw(
        &jpeg(&stored, Some(exif_orientation(6))),
        1,
        16,
        ResizeMode::Stretch,
    )
    .unwrap();
    // Upright after the tag: top rows bright, bottom rows dark.
    assert!(
        mean(&tagged[..4 * 16]) > 200.0,
        "{}",
        mean(&tagged[..4 * 16])
    );
    assert!(
        mean(&tagged[12 * 16..]) < 50.0,
        "{}",
        mean(&tagged[12 * 16..])
    );

    // Without the tag (the old decoding) the bright half is a side.
    let untagged = to_chw(&jpeg(&stored, None), 1, 16, ResizeMode::Stretch).unwrap();
    let top = mean(&untagged[..4 * 16]);
    assert!((100.0..150.0).contains(&top), "{top}");

    // Padded, the upright 2:1 image fills the middle 8 rows.
    let pad = to_chw(
        &jpeg(&stored, Some(exif_orientation(6))),
        1,
        16,
        ResizeMode::Pad,
    )
    .unwrap();
    assert!(row(&pad, 16, 1).iter().all(|&v| v == 0));
    assert!(mean(row(&pad, 16, 5)) > 200.0);
    assert!(mean(row(&pad, 16, 10)) < 50.0);
}

#[test]
fn an_empty_or_non_image_file_is_an_error() {
    assert!(to_chw(&Content::Encoded(Vec::new()), 1, 16, ResizeMode::Pad).is_err());
    let err = to_chw(
        &Content::Encoded(b"hello, not a png".to_vec()),
        1,
        16,
        ResizeMode::Pad,
    )
    .unwrap_err();
    assert!(!err.is_empty());
}
