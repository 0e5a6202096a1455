//! Stage names and upstream roles: the one place that spells them. Names are
//! not hashed (renaming one changes no fingerprint) but `why` and the name
//! links of the store use them to find "the same stage" across runs, so they
//! stay stable. Nothing parses a name back: the tables use the expansion's
//! [`crate::index::StudyIndex`].

/// Upstream role: the prepared data set.
pub const ROLE_DATA: &str = "data";
/// Upstream role of a distilled student: its teacher.
pub const ROLE_TEACHER: &str = "teacher";
/// Upstream role of an evaluate / explain stage: the model it reads.
pub const ROLE_MODEL: &str = "model";
/// Upstream role of a student's explain stage: the teacher's explain stage.
pub const ROLE_TEACHER_EXPLAIN: &str = "teacher_explain";
/// Upstream role of a toy square stage: the toy gen stage.
pub const ROLE_GEN: &str = "gen";

/// `prepare/<ds>`.
pub fn prepare(dataset: &str) -> String {
    format!("prepare/{dataset}")
}

/// `teacher/<ds>/s<seed>`.
pub fn teacher(dataset: &str, seed: u64) -> String {
    format!("teacher/{dataset}/s{seed}")
}

/// `student/<ds>/s<seed>/d<k>-T<t>-a<a>` (Hinton), `…/d<k>-<method>-T<t>-a<a>`
/// (every other method, e.g. `d2-fitnets-T4-a0.5`), or `…/d<k>-control`
/// without distillation (alpha = 0). `distill`: (method name, T, alpha);
/// Hinton's names are the ones published before the method axis.
pub fn student(dataset: &str, seed: u64, depth: u32, distill: Option<(&str, f64, f64)>) -> String {
    match distill {
        None => format!("student/{dataset}/s{seed}/d{depth}-control"),
        Some(("hinton", t, a)) => format!("student/{dataset}/s{seed}/d{depth}-T{t}-a{a}"),
        Some((m, t, a)) => format!("student/{dataset}/s{seed}/d{depth}-{m}-T{t}-a{a}"),
    }
}

/// `evaluate/<model stage name>`.
pub fn evaluate(model: &str) -> String {
    format!("evaluate/{model}")
}

/// `explain/<model stage name>`.
pub fn explain(model: &str) -> String {
    format!("explain/{model}")
}

/// `timing/<ds>`: one per data set.
pub fn timing(dataset: &str) -> String {
    format!("timing/{dataset}")
}

/// The label under which the timing stage times an architecture
/// (`timing_scope = "architecture"`): `teacher`, `student-d<k>`. With
/// `timing_scope = "model"` the label is the model's stage name.
pub fn timing_arch_label(depth: Option<u32>) -> String {
    match depth {
        None => "teacher".to_owned(),
        Some(k) => format!("student-d{k}"),
    }
}

/// `toy/gen/s<seed>`.
pub fn toy_gen(seed: u64) -> String {
    format!("toy/gen/s{seed}")
}

/// `toy/square/s<seed>/x<x>`.
pub fn toy_square(seed: u64, x: i64) -> String {
    format!("toy/square/s{seed}/x{x}")
}

/// `toy/sum/s<seed>`.
pub fn toy_sum(seed: u64) -> String {
    format!("toy/sum/s{seed}")
}

/// Upstream role of square stage `x` in a toy sum stage: `sq_<x>`.
pub fn role_square(x: i64) -> String {
    format!("sq_{x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names stores were published under before the typed contract
    /// (a rename breaks `why` and the store's name links).
    #[test]
    fn names_are_the_published_ones() {
        assert_eq!(prepare("brain-mri"), "prepare/brain-mri");
        assert_eq!(teacher("brain-mri", 0), "teacher/brain-mri/s0");
        assert_eq!(
            student("brain-mri", 2, 3, None),
            "student/brain-mri/s2/d3-control"
        );
        assert_eq!(
            student("brain-mri", 0, 1, Some(("hinton", 4.0, 0.5))),
            "student/brain-mri/s0/d1-T4-a0.5"
        );
        assert_eq!(
            student("d", 0, 1, Some(("hinton", 2.5, 0.9))),
            "student/d/s0/d1-T2.5-a0.9"
        );
        assert_eq!(
            student("d", 0, 2, Some(("fitnets", 4.0, 0.5))),
            "student/d/s0/d2-fitnets-T4-a0.5"
        );
        assert_eq!(
            student("d", 1, 3, Some(("dkd", 4.0, 1.0))),
            "student/d/s1/d3-dkd-T4-a1"
        );
        assert_eq!(evaluate("teacher/d/s0"), "evaluate/teacher/d/s0");
        assert_eq!(explain("teacher/d/s0"), "explain/teacher/d/s0");
        assert_eq!(timing("d"), "timing/d");
        assert_eq!(timing_arch_label(None), "teacher");
        assert_eq!(timing_arch_label(Some(4)), "student-d4");
        assert_eq!(toy_gen(1), "toy/gen/s1");
        assert_eq!(toy_square(1, -3), "toy/square/s1/x-3");
        assert_eq!(toy_sum(0), "toy/sum/s0");
        assert_eq!(role_square(-3), "sq_-3");
    }
}
