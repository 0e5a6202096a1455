//! The names of the metric columns, shared by gathering and aggregation.

/// Explanation methods, in display order; time columns are `<method>_s`.
pub const METHODS: [&str; 3] = ["feature_maps", "gradcam", "expected_gradients"];
/// Methods with deletion / insertion curves (feature maps have none).
pub(crate) const FAITHFUL_METHODS: [&str; 2] = ["gradcam", "expected_gradients"];

/// Metric columns of the gathered frame that are averaged over seeds.
pub(crate) fn metric_columns() -> Vec<String> {
    let mut v: Vec<String> = [
        "accuracy",
        "macro_f1",
        "balanced_accuracy",
        "weighted_f1",
        "roc_auc",
        "val_loss",
        "val_accuracy",
        "val_balanced_accuracy",
        "best_epoch",
        "latency_ms",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(METHODS.iter().map(|m| format!("{m}_s")));
    for m in FAITHFUL_METHODS {
        v.push(format!("{m}_deletion_auc"));
        v.push(format!("{m}_insertion_auc"));
        v.push(format!("{m}_deletion_norm"));
        v.push(format!("{m}_insertion_norm"));
    }
    v.push("agreement_pearson".into());
    v.push("agreement_iou_top10".into());
    v.push("agreement_n_defined".into());
    v
}
