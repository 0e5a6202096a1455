//! Checkpoint selection: which epoch's weights a training stage keeps
//! (`select` of `[teacher]` / `[student]`), from each epoch's validation
//! scores. A NaN loss (an empty validation split) counts as the worst.

use study::kd::params::Select;

/// Validation scores of one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValScores {
    pub loss: f64,
    pub accuracy: f64,
    /// Mean per-class recall over the classes present in the split.
    pub balanced_accuracy: f64,
}

/// `a < b` with NaN the largest (worst) loss.
fn lower_loss(a: f64, b: f64) -> bool {
    match (a.is_nan(), b.is_nan()) {
        (false, true) => true,
        (true, _) => false,
        (false, false) => a < b,
    }
}

/// Whether a later epoch with scores `cand` replaces the kept one with
/// `best` under `select`. Ties keep the earlier epoch.
pub fn replaces(select: Select, cand: &ValScores, best: &ValScores) -> bool {
    let by_score_then_loss = |c: f64, b: f64| c > b || (c == b && lower_loss(cand.loss, best.loss));
    match select {
        Select::Last => true,
        Select::ValLoss => {
            lower_loss(cand.loss, best.loss)
                || (cand.loss == best.loss && cand.accuracy > best.accuracy)
        }
        Select::ValAccuracy => by_score_then_loss(cand.accuracy, best.accuracy),
        Select::ValBalancedAccuracy => {
            by_score_then_loss(cand.balanced_accuracy, best.balanced_accuracy)
        }
    }
}

/// The 1-based epoch `select` keeps from every epoch's scores (in order);
/// `None` when no epoch ran.
pub fn selected_epoch(select: Select, epochs: &[ValScores]) -> Option<u32> {
    let mut best: Option<(usize, &ValScores)> = None;
    for (i, s) in epochs.iter().enumerate() {
        if best.is_none_or(|(_, b)| replaces(select, s, b)) {
            best = Some((i, s));
        }
    }
    best.map(|(i, _)| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(loss: f64, accuracy: f64, balanced_accuracy: f64) -> ValScores {
        ValScores {
            loss,
            accuracy,
            balanced_accuracy,
        }
    }

    /// Epoch 2 collapses to the majority class: best accuracy, worst
    /// balanced accuracy; epoch 3 has the lowest loss.
    const HISTORY: [(f64, f64, f64); 5] = [
        (0.70, 0.60, 0.55),
        (0.66, 0.75, 0.50),
        (0.52, 0.71, 0.70),
        (0.52, 0.71, 0.74),
        (0.58, 0.68, 0.74),
    ];

    fn history() -> Vec<ValScores> {
        HISTORY.iter().map(|&(l, a, b)| s(l, a, b)).collect()
    }

    #[test]
    fn each_criterion_picks_its_epoch() {
        let h = history();
        assert_eq!(selected_epoch(Select::ValLoss, &h), Some(3));
        assert_eq!(selected_epoch(Select::ValAccuracy, &h), Some(2));
        // 4 and 5 tie on balanced accuracy: the lower loss (4) wins
        assert_eq!(selected_epoch(Select::ValBalancedAccuracy, &h), Some(4));
        assert_eq!(selected_epoch(Select::Last, &h), Some(5));
        assert_eq!(selected_epoch(Select::ValLoss, &[]), None);
    }

    #[test]
    fn ties_keep_the_earlier_epoch_and_nan_loss_is_worst() {
        let h = [s(0.5, 0.7, 0.7), s(0.5, 0.7, 0.7)];
        for sel in [
            Select::ValLoss,
            Select::ValAccuracy,
            Select::ValBalancedAccuracy,
        ] {
            assert_eq!(selected_epoch(sel, &h), Some(1), "{sel:?}");
        }
        let nan_first = [s(f64::NAN, 0.0, 0.0), s(0.9, 0.0, 0.0)];
        assert_eq!(selected_epoch(Select::ValLoss, &nan_first), Some(2));
        let all_nan = [s(f64::NAN, 0.0, 0.0), s(f64::NAN, 0.0, 0.0)];
        assert_eq!(selected_epoch(Select::ValLoss, &all_nan), Some(1));
    }
}
