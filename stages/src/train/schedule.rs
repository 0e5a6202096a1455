//! Learning-rate schedules as plain functions of the epoch and the
//! validation history.

use std::f64::consts::PI;

/// Cosine annealing from `base` (epoch 0) towards 0 (epoch `epochs`).
pub fn cosine_lr(base: f64, epoch: u32, epochs: u32) -> f64 {
    if epochs == 0 {
        return base;
    }
    base * 0.5 * (1.0 + (PI * epoch as f64 / epochs as f64).cos())
}

/// State of reduce-on-plateau: the best validation loss so far and how many
/// epochs have passed without beating it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plateau {
    pub lr: f64,
    pub best: f64,
    pub bad_epochs: u32,
}

impl Plateau {
    pub fn new(lr: f64) -> Self {
        Plateau {
            lr,
            best: f64::INFINITY,
            bad_epochs: 0,
        }
    }
}

/// One reduce-on-plateau step after an epoch with validation loss
/// `val_loss`: after `patience` epochs without improvement the rate is
/// multiplied by `factor` and the count restarts.
pub fn plateau_step(s: Plateau, val_loss: f64, patience: u32, factor: f64) -> Plateau {
    if val_loss < s.best {
        return Plateau {
            lr: s.lr,
            best: val_loss,
            bad_epochs: 0,
        };
    }
    let bad = s.bad_epochs + 1;
    if bad >= patience.max(1) {
        Plateau {
            lr: s.lr * factor,
            best: s.best,
            bad_epochs: 0,
        }
    } else {
        Plateau {
            bad_epochs: bad,
            ..s
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cosine_endpoints() {
        assert_eq!(cosine_lr(0.1, 0, 10), 0.1);
        assert!((cosine_lr(0.1, 5, 10) - 0.05).abs() < 1e-12);
        assert!(cosine_lr(0.1, 10, 10).abs() < 1e-12);
    }

    #[test]
    fn plateau_reduces_after_patience() {
        let mut s = Plateau::new(1.0);
        s = plateau_step(s, 1.0, 2, 0.1);
        assert_eq!((s.lr, s.bad_epochs), (1.0, 0));
        s = plateau_step(s, 1.0, 2, 0.1);
        assert_eq!((s.lr, s.bad_epochs), (1.0, 1));
        s = plateau_step(s, 1.5, 2, 0.1);
        assert_eq!((s.lr, s.bad_epochs), (0.1, 0));
        s = plateau_step(s, 0.5, 2, 0.1);
        assert_eq!((s.lr, s.best), (0.1, 0.5));
    }
}
