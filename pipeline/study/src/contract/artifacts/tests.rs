//! Real files, as the stages wrote them before these types existed, read
//! and written back byte for byte (up to serde_json's parsing of floats),
//! and the cases they do not hold against the old `Value` form exactly.
#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::explain::{Agreement, AgreementPerImage, Gradcam, Methods, PerImage, RandomBaseline};
use super::train::{Distill, Pretrained, DISTILL_SOURCE_CACHED};
use super::*;

/// Parses `bytes` as `T` and writes it back.
fn round_trip<T: ArtifactFile>(bytes: &[u8]) -> Vec<u8> {
    T::from_bytes(bytes).unwrap().to_bytes().unwrap()
}

/// JSON text as tokens: strings (with their quotes), numbers, and every
/// other character on its own.
fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let c = chars[i];
        i += 1;
        if c == '"' {
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '-' || c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_digit() || "+-.eE".contains(chars[i])) {
                i += 1;
            }
        }
        out.push(chars[start..i.min(chars.len())].iter().collect());
    }
    out
}

/// Whether two number tokens are the same, or floats one unit in the last
/// place apart: serde_json's default float parser (the one the stages and
/// the head have always read with) may be off by one ULP, so a number read
/// and written back can change in its last digit. The writer is exact.
fn same_number(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        _ if a == b => true,
        (Ok(x), Ok(y)) if a.contains('.') && b.contains('.') => {
            (x.to_bits() as i64 - y.to_bits() as i64).abs() <= 1
        }
        _ => false,
    }
}

#[track_caller]
fn assert_round_trips<T: ArtifactFile>(name: &str, bytes: &[u8]) {
    let back = round_trip::<T>(bytes);
    let (was, now) = (
        String::from_utf8_lossy(bytes),
        String::from_utf8_lossy(&back),
    );
    let (a, b) = (tokens(&was), tokens(&now));
    let same = a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            x == y || (x.starts_with(|c: char| c == '-' || c.is_ascii_digit()) && same_number(x, y))
        });
    assert!(same, "{name} changed:\n--- was\n{was}\n--- now\n{now}");
}

#[test]
fn real_files_round_trip_byte_for_byte() {
    macro_rules! file {
        ($t:ty, $name:literal) => {
            assert_round_trips::<$t>($name, include_bytes!(concat!("testdata/", $name)))
        };
    }
    file!(Dataset, "dataset.json");
    file!(Metrics, "metrics.json");
    file!(Latency, "latency.json");
    file!(Explain, "explain-teacher.json");
    file!(Explain, "explain-student.json");
    file!(Explain, "explain-student-no-eg.json");
    file!(Timing, "timing-architecture.json");
    file!(Timing, "timing-model.json");
    file!(Train, "train-teacher.json");
    file!(Train, "train-student.json");
    file!(Throughput, "throughput.json");
}

#[test]
fn file_names() {
    assert_eq!(Dataset::FILE, "dataset.json");
    assert_eq!(Metrics::FILE, "metrics.json");
    assert_eq!(Latency::FILE, "latency.json");
    assert_eq!(Explain::FILE, "explain.json");
    assert_eq!(Timing::FILE, "timing.json");
    assert_eq!(Train::FILE, "train.json");
    assert_eq!(Throughput::FILE, "throughput.json");
}

/// The old stages built these files as `serde_json::Value` (keys sorted);
/// the cases the real files above do not hold come out the same.
#[test]
fn cases_absent_from_the_real_files_match_the_old_value_form() {
    let pretty = |v: serde_json::Value| {
        let mut b = serde_json::to_vec_pretty(&v).unwrap();
        b.push(b'\n');
        b
    };
    let train = Train {
        best_epoch: 3,
        class_weight: "balanced".into(),
        device: "cuda".into(),
        distill: Some(Distill {
            alpha: 0.9,
            method: None,
            temperature: 4.0,
        }),
        distill_source: DISTILL_SOURCE_CACHED.into(),
        epochs: 5,
        macs: 1,
        params: 2,
        pretrained: Some(Pretrained {
            loaded: 10,
            skipped: 2,
        }),
        seed: 7,
        select: "val_accuracy".into(),
        threads: 4,
        val_accuracy: 0.75,
        val_balanced_accuracy: 0.5,
        val_loss: f64::NAN,
    };
    let old = json!({
        "best_epoch": 3u32,
        "class_weight": "balanced",
        "select": "val_accuracy",
        "val_accuracy": 0.75,
        "val_balanced_accuracy": 0.5,
        "val_loss": f64::NAN,
        "epochs": 5u32,
        "threads": 4i32,
        "device": "cuda",
        "seed": 7u64,
        "params": 2u64,
        "macs": 1u64,
        "distill": json!({"temperature": 4.0, "alpha": 0.9}),
        "distill_source": DISTILL_SOURCE_CACHED,
        "pretrained": json!({"loaded": 10usize, "skipped": 2usize}),
    });
    assert_eq!(train.to_bytes().unwrap(), pretty(old));
    // A NaN is written as null and read back as NaN.
    let back = Train::from_bytes(&train.to_bytes().unwrap()).unwrap();
    assert!(back.val_loss.is_nan());

    // explain.json (format of explain's code version 2): NaN faithfulness
    // is written as null and read back as NaN; undefined agreement is null.
    let per_image = PerImage {
        deletion_auc: vec![f64::NAN],
        deletion_norm: vec![f64::NAN],
        insertion_auc: vec![0.5],
        insertion_norm: vec![0.1],
    };
    let explain = Explain {
        agreement: Some(Agreement {
            classes: vec![1],
            compared_at: [8, 8],
            gradcam_iou_top10: None,
            gradcam_pearson: None,
            images: 1,
            n_defined: 0,
            n_undefined: 1,
            per_image: AgreementPerImage {
                iou_top10: vec![None],
                pearson: vec![None],
            },
            teacher_layer: Some("block5.conv".into()),
        }),
        class_names: vec!["no".into(), "yes".into()],
        deletion_baseline: "b".into(),
        images: vec![4],
        labels: vec![1],
        methods: Methods {
            gradcam: Some(Gradcam {
                classes: vec![0],
                deletion_auc: f64::NAN,
                deletion_norm: f64::NAN,
                insertion_auc: 0.5,
                insertion_norm: 0.1,
                layer: None,
                layer_index: 3,
                layer_size: [6, 6],
                per_image,
            }),
            ..Methods::default()
        },
        params: json!({"b": 1, "a": [2]}),
        predicted: vec![0],
        random_baseline: Some(RandomBaseline {
            deletion_auc: vec![0.3],
            insertion_auc: vec![0.4],
            orders: 4,
        }),
    };
    let bytes = explain.to_bytes().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains("\"deletion_norm\": null"), "{text}");
    assert!(text.contains("\"gradcam_iou_top10\": null"), "{text}");
    let back = Explain::from_bytes(&bytes).unwrap();
    let g = back.methods.gradcam.as_ref().unwrap();
    assert!(g.deletion_auc.is_nan() && g.per_image.deletion_auc[0].is_nan());
    assert_eq!(back.methods.faithfulness("gradcam").map(|f| f.1), Some(0.5));
    assert_eq!(
        back.methods.faithfulness_norm("gradcam").map(|f| f.1),
        Some(0.1)
    );
    assert_eq!(back.methods.faithfulness("feature_maps"), None);
    assert_eq!(back.agreement, explain.agreement);
    assert_eq!(back.random_baseline, explain.random_baseline);
}
