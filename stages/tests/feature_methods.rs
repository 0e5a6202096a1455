//! Feature-based distillation does what it claims, on tiny seeded data: a
//! FitNets student's paired-block features end closer to the teacher's
//! than they started, through its own regressor and through the best 1×1
//! map (least squares, fitted afterwards), and closer than a control's
//! through its best 1×1 map; an AT student's attention maps end closer to
//! the teacher's than they started and than the control's. Plus the `student` stage's outputs for every
//! method (train.json, the saved regressor, a loadable model).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use common::{class_image, ds_params, model, run_stage, train};
use stages::data::{list_input_files, prepare_dataset, Split};
use stages::models::{build_model, load_model, Classifier};
use stages::train::fit::{fit, Distill, Teacher};
use stages::train::losses::{attention_pair_loss, HintRegressor};
use stages::train::objective::hint_regressor;
use study::kd::params::{
    AtParams, DatasetFormat, DistillParams, DistillSource, DkdParams, FitnetsParams, MethodParams,
    ModelParams, Schedule, StudentParams, TeacherParams, TrainParams,
};
use tch::{nn, Device, Kind, Tensor};

/// libtorch's seed and threads are process-global.
static SERIAL: Mutex<()> = Mutex::new(());

/// `n` seeded 1×16×16 images: class 0 bright on the left, class 1 on the
/// right, at a random height band, plus noise.
fn split(n: i64, seed: i64) -> Split {
    tch::manual_seed(seed);
    let noise = Tensor::randn([n, 1, 16, 16], tch::kind::FLOAT_CPU) * 0.3;
    let y = Tensor::arange(n, tch::kind::INT64_CPU).remainder(2);
    let cols = Tensor::arange(16, tch::kind::FLOAT_CPU).view([1, 1, 1, 16]);
    let left = cols.lt(8.0).to_kind(Kind::Float);
    let side = y.to_kind(Kind::Float).view([n, 1, 1, 1]);
    let half = &left * (1.0 - &side) + (1.0 - &left) * &side;
    let rows = Tensor::arange(16, tch::kind::FLOAT_CPU).view([1, 1, 16, 1]);
    let top = Tensor::randint(10, [n, 1, 1, 1], tch::kind::INT64_CPU).to_kind(Kind::Float);
    let band = rows
        .ge_tensor(&top)
        .logical_and(&rows.lt_tensor(&(&top + 6.0)));
    let x = half * band.to_kind(Kind::Float) * 2.0 + noise;
    Split { x, y }
}

fn params(epochs: u32) -> TrainParams {
    let mut t = train(epochs, false);
    t.batch_size = 16;
    t.schedule = Schedule::None;
    t
}

fn cnn(depth: u32, width: u32, max_width: u32) -> ModelParams {
    ModelParams {
        width,
        max_width,
        dropout: 0.0,
        ..model(depth)
    }
}

/// A trained, frozen depth-3 teacher.
fn teacher(train: &Split, val: &Split) -> (nn::VarStore, Box<dyn Classifier>) {
    tch::manual_seed(1);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let t = build_model(&cnn(3, 8, 32), 1, 16, 2, &vs.root())
        .unwrap()
        .model;
    fit(t.as_ref(), &vs, train, val, &params(8), None, &|_| {}).unwrap();
    vs.freeze();
    (vs, t)
}

/// A fresh depth-2 student (the same initial weights for every method).
fn student() -> (nn::VarStore, Box<dyn Classifier>) {
    tch::manual_seed(7);
    let vs = nn::VarStore::new(Device::Cpu);
    let s = build_model(&cnn(2, 4, 16), 1, 16, 2, &vs.root())
        .unwrap()
        .model;
    (vs, s)
}

fn distill(method: MethodParams) -> DistillParams {
    DistillParams {
        temperature: 4.0,
        alpha: 0.5,
        method,
        source: DistillSource::Online,
    }
}

/// Block-k features (1-based) of a model in eval mode, without gradient.
fn block(m: &dyn Classifier, x: &Tensor, k: usize) -> Tensor {
    tch::no_grad(|| m.forward_taps(x, false).0[k - 1].shallow_clone())
}

/// MSE of the regressed student block-2 features against the teacher's.
fn hint_mse(s: &dyn Classifier, r: &HintRegressor, t: &dyn Classifier, x: &Tensor) -> f64 {
    tch::no_grad(|| {
        r.forward(&block(s, x, 2))
            .mse_loss(&block(t, x, 2), tch::Reduction::Mean)
            .double_value(&[])
    })
}

/// The smallest MSE any 1×1 convolution (with bias) reaches from `s`'s
/// block-2 features to `t`'s on `x`: least squares over every pixel.
fn best_linear_mse(s: &dyn Classifier, t: &dyn Classifier, x: &Tensor) -> f64 {
    let pixels = |f: Tensor| {
        let c = f.size()[1];
        f.permute([0, 2, 3, 1])
            .reshape([-1, c])
            .to_kind(Kind::Double)
    };
    let fs = pixels(block(s, x, 2));
    let ft = pixels(block(t, x, 2));
    let ones = Tensor::ones([fs.size()[0], 1], tch::kind::DOUBLE_CPU);
    let a = Tensor::cat(&[fs, ones], 1);
    let ata = a.transpose(0, 1).matmul(&a) + Tensor::eye(a.size()[1], tch::kind::DOUBLE_CPU) * 1e-9;
    let w = Tensor::linalg_solve(&ata, &a.transpose(0, 1).matmul(&ft), true);
    (a.matmul(&w) - ft)
        .square()
        .mean(Kind::Double)
        .double_value(&[])
}

/// Mean attention-map distance over blocks 1 and 2 (the AT pairs).
fn attention_distance(s: &dyn Classifier, t: &dyn Classifier, x: &Tensor) -> f64 {
    [1, 2]
        .iter()
        .map(|&k| attention_pair_loss(&block(s, x, k), &block(t, x, k), 2.0).double_value(&[]))
        .sum::<f64>()
        / 2.0
}

#[test]
fn fitnets_and_at_students_move_their_features_towards_the_teacher() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(1);
    let (train, val) = (split(96, 0), split(32, 1));
    let (_tvs, t) = teacher(&train, &val);
    let x = &val.x;
    let epochs = 15;

    // The control: the same initial student, cross-entropy only.
    let (cvs, control) = student();
    let control_at_start = attention_distance(control.as_ref(), t.as_ref(), x);
    fit(
        control.as_ref(),
        &cvs,
        &train,
        &val,
        &params(epochs),
        None,
        &|_| {},
    )
    .unwrap();

    // FitNets on block 2.
    let fitnets = distill(MethodParams::Fitnets(FitnetsParams {
        student_block: 2,
        teacher_block: 2,
        hint_weight: 1.0,
    }));
    let (fvs, fs) = student();
    let sample = train.x.narrow(0, 0, 1);
    let r = hint_regressor(&fvs, fs.as_ref(), t.as_ref(), &sample, &fitnets)
        .unwrap()
        .unwrap();
    let start = hint_mse(fs.as_ref(), &r, t.as_ref(), x);
    let start_best = best_linear_mse(fs.as_ref(), t.as_ref(), x);
    let d = Distill {
        params: fitnets,
        teacher: Teacher::Online(t.as_ref()),
        regressor: Some(&r),
    };
    fit(
        fs.as_ref(),
        &fvs,
        &train,
        &val,
        &params(epochs),
        Some(d),
        &|_| {},
    )
    .unwrap();
    let end = hint_mse(fs.as_ref(), &r, t.as_ref(), x);
    let end_best = best_linear_mse(fs.as_ref(), t.as_ref(), x);
    let control_best = best_linear_mse(control.as_ref(), t.as_ref(), x);
    println!(
        "fitnets hint MSE through its regressor: start {start:.4}, end {end:.4}; \
         through the best 1x1 map: start {start_best:.4}, end {end_best:.4}, \
         control {control_best:.4}"
    );
    assert!(end < start, "hint MSE rose: {start} -> {end}");
    // Through the best 1×1 map (the trained regressor can only be worse):
    // the hint made block 2 more like the teacher's than training alone.
    assert!(end_best < start_best, "{start_best} -> {end_best}");
    assert!(
        end_best < control_best,
        "fitnets {end_best} not below the control's {control_best}"
    );
    // The regressor trained with the student (it is in the student's store).
    assert!(fvs.variables().contains_key("hint.conv.weight"));

    // Attention transfer on blocks 1 and 2.
    let at = distill(MethodParams::At(AtParams {
        pairs: vec![(1, 1), (2, 2)],
        p: 2.0,
        beta: 1.0,
    }));
    let (avs, a) = student();
    let at_start = attention_distance(a.as_ref(), t.as_ref(), x);
    assert!(
        (at_start - control_at_start).abs() < 1e-9,
        "same initial student"
    );
    let d = Distill {
        params: at,
        teacher: Teacher::Online(t.as_ref()),
        regressor: None,
    };
    fit(
        a.as_ref(),
        &avs,
        &train,
        &val,
        &params(epochs),
        Some(d),
        &|_| {},
    )
    .unwrap();
    let at_end = attention_distance(a.as_ref(), t.as_ref(), x);
    let control_end = attention_distance(control.as_ref(), t.as_ref(), x);
    println!("attention distance: start {at_start:.4}, end {at_end:.4}, control {control_end:.4}");
    assert!(
        at_end < at_start,
        "attention distance rose: {at_start} -> {at_end}"
    );
    assert!(
        at_end < control_end,
        "at {at_end} not below the control's {control_end}"
    );
}

/// A prepared data set (two classes of 16×16 grayscale images) in `dir`.
fn prepared(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    for (c, name) in ["a", "b"].iter().enumerate() {
        std::fs::create_dir_all(src.join(name)).unwrap();
        for i in 0..20 {
            class_image(c, i)
                .save(src.join(name).join(format!("img{i:03}.png")))
                .unwrap();
        }
    }
    let files = list_input_files(&src).unwrap();
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    prepare_dataset(
        &ds_params("tiny", DatasetFormat::Imagefolder, 16, 1),
        &files,
        &data,
        1,
    )
    .unwrap();
    data
}

#[test]
fn student_stage_writes_every_method() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let data = prepared(tmp.path());
    let tdir = tmp.path().join("teacher");
    let tp = TeacherParams {
        model: cnn(3, 8, 32),
        train: params(2),
    };
    run_stage("teacher", &tp, &[("data", &data)], &tdir, 1);
    let methods = [
        ("hinton", MethodParams::Hinton, DistillSource::Cached),
        ("hinton-online", MethodParams::Hinton, DistillSource::Online),
        (
            "fitnets",
            MethodParams::Fitnets(FitnetsParams {
                student_block: 2,
                teacher_block: 2,
                hint_weight: 1.0,
            }),
            DistillSource::Online,
        ),
        (
            "at",
            MethodParams::At(AtParams {
                pairs: vec![(1, 1), (2, 2)],
                p: 2.0,
                beta: 1.0,
            }),
            DistillSource::Online,
        ),
        (
            "dkd",
            MethodParams::Dkd(DkdParams {
                alpha: 1.0,
                beta: 8.0,
                warmup_epochs: 1,
            }),
            DistillSource::Cached,
        ),
    ];
    let mut weights = Vec::new();
    for (label, method, source) in methods {
        // Augmented batches: an online teacher sees what the student sees.
        let mut tr = params(2);
        tr.augment = true;
        let sp = StudentParams {
            model: cnn(2, 4, 16),
            train: tr,
            distill: Some(DistillParams {
                temperature: 4.0,
                alpha: 0.5,
                method,
                source,
            }),
        };
        let out = tmp.path().join(label);
        run_stage(
            "student",
            &sp,
            &[("data", &data), ("teacher", &tdir)],
            &out,
            1,
        );
        let tj: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("train.json")).unwrap()).unwrap();
        let online = source == DistillSource::Online;
        assert_eq!(
            tj["distill_source"].as_str().unwrap().starts_with("online"),
            online,
            "{label}: {tj}"
        );
        match label {
            "hinton" | "hinton-online" => assert!(tj["distill"].get("method").is_none(), "{tj}"),
            m => assert_eq!(tj["distill"]["method"], m, "{tj}"),
        }
        // The regressor is saved beside the model, and only for FitNets;
        // model.safetensors holds the student alone, so it loads as one.
        assert_eq!(
            out.join("hint_regressor.safetensors").is_file(),
            label == "fitnets",
            "{label}"
        );
        load_model(&out, Device::Cpu).unwrap();
        let model_json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
        weights.push((
            label,
            model_json["params"].clone(),
            std::fs::read(out.join("model.safetensors")).unwrap(),
        ));
    }
    // Same student size for every method; every method trains differently.
    for w in &weights[1..] {
        assert_eq!(w.1, weights[0].1, "{}", w.0);
        assert_ne!(w.2, weights[0].2, "{} trained like hinton", w.0);
    }
    let regressor =
        Tensor::read_safetensors(tmp.path().join("fitnets/hint_regressor.safetensors")).unwrap();
    let mut names: Vec<(String, Vec<i64>)> =
        regressor.into_iter().map(|(n, t)| (n, t.size())).collect();
    names.sort();
    // student block 2: 8 channels; teacher block 2: 16 channels
    assert_eq!(
        names,
        [
            ("hint.conv.bias".to_owned(), vec![16]),
            ("hint.conv.weight".to_owned(), vec![16, 8, 1, 1]),
        ]
    );
}
