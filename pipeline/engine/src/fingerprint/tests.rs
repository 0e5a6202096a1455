//! Golden fingerprints. Changing a pinned value must go with a bump of
//! STORE_SCHEMA_VERSION (or the kind's code version).

use std::collections::BTreeMap;

use serde_json::json;

use crate::spec::{Resources, StageSpec};

fn base() -> StageSpec {
    StageSpec {
        name: "sq/2".into(),
        kind: "toy.square".into(),
        code_version: 1,
        params: BTreeMap::from([
            ("x".into(), json!(2)),
            ("opt".into(), json!({"lr": 0.5, "betas": [0.9, 0.99]})),
        ]),
        upstream: BTreeMap::from([(
            "gen".into(),
            super::Fingerprint::parse(&"0".repeat(64)).unwrap(),
        )]),
        inputs: BTreeMap::from([("data/a.jpg".into(), "a".repeat(64))]),
        input_root: None,
        resources: Resources::default(),
    }
}

#[test]
fn canonical_encoding_is_pinned() {
    let bytes = base().fingerprint_inputs().canonical_bytes();
    insta::assert_snapshot!(String::from_utf8(bytes).unwrap(), @r#"{"schema":1,"kind":"toy.square","code_version":1,"params":{"opt":{"betas":[0.9,0.99],"lr":0.5},"x":2},"upstream":{"gen":"0000000000000000000000000000000000000000000000000000000000000000"},"inputs":{"data/a.jpg":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}"#);
}

#[test]
fn golden_fingerprint() {
    assert_eq!(
        base().fingerprint().as_str(),
        "b1477595fb7f83cb1b45be6d0ed1f9fcf803e95108e5a14a282388fa17536041"
    );
}

#[test]
fn key_order_of_params_does_not_matter() {
    let a = base();
    let mut b = base();
    b.params = BTreeMap::new();
    b.params
        .insert("opt".into(), json!({"betas": [0.9, 0.99], "lr": 0.5}));
    b.params.insert("x".into(), json!(2));
    // Build the nested object in the other order too, through a TOML table.
    let t: toml::Table = toml::from_str("[opt]\nlr = 0.5\nbetas = [0.9, 0.99]").unwrap();
    let opt = serde_json::to_value(&t["opt"]).unwrap();
    b.params.insert("opt".into(), opt);
    assert_eq!(a.fingerprint(), b.fingerprint());
}

#[test]
fn list_order_matters() {
    let mut b = base();
    b.params
        .insert("opt".into(), json!({"lr": 0.5, "betas": [0.99, 0.9]}));
    assert_ne!(base().fingerprint(), b.fingerprint());
}

#[test]
fn adding_a_param_or_upstream_changes_it() {
    let mut b = base();
    b.params.insert("y".into(), json!(0));
    assert_ne!(base().fingerprint(), b.fingerprint());
    let mut c = base();
    c.upstream.insert(
        "teacher".into(),
        super::Fingerprint::parse(&"1".repeat(64)).unwrap(),
    );
    assert_ne!(base().fingerprint(), c.fingerprint());
}

#[test]
fn input_content_and_code_version_change_it() {
    let mut b = base();
    b.inputs.insert("data/a.jpg".into(), "b".repeat(64));
    assert_ne!(base().fingerprint(), b.fingerprint());
    let mut c = base();
    c.code_version = 2;
    assert_ne!(base().fingerprint(), c.fingerprint());
}

#[test]
fn name_input_root_and_resources_do_not() {
    let mut b = base();
    b.name = "elsewhere".into();
    b.input_root = Some("/data/mri".into());
    b.resources = Resources {
        cpu: 8,
        gpu: 1,
        exclusive: true,
    };
    assert_eq!(base().fingerprint(), b.fingerprint());
}
