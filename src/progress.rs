//! Progress of a run for the plain display (logs, CI, Slurm head jobs): a
//! `[done/total]` counter, the elapsed time and an ETA, and the slowest
//! stages at the end. Fed the same events as the display.
//!
//! ETA: each stage still to finish is expected to take the mean wall time
//! of the finished stages of its kind (of all finished stages when none of
//! its kind has finished); their sum is divided by the parallelism observed
//! so far (finished wall time over elapsed time, at least 1).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use engine::events::Event;

/// How many of the slowest stages the final summary names.
const SLOWEST: usize = 3;

pub struct Progress {
    start: Instant,
    total: usize,
    done: usize,
    /// Kind of every stage that will run, by name.
    kind_of: HashMap<String, String>,
    /// Stages not finished yet, by name.
    pending: HashMap<String, ()>,
    /// Wall seconds of finished stages per kind.
    by_kind: HashMap<String, (f64, usize)>,
    finished: Vec<(String, f64)>,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            total: 0,
            done: 0,
            kind_of: HashMap::new(),
            pending: HashMap::new(),
            by_kind: HashMap::new(),
            finished: Vec::new(),
        }
    }
}

impl Progress {
    /// Records `event`; for a stage that ended (done, failed or skipped),
    /// returns the suffix its line gets, e.g. `[12/335, 1:02, ETA 8:31]`.
    pub fn on_event(&mut self, event: &Event) -> Option<String> {
        let ended = match event {
            Event::RunStarted { to_run, .. } => {
                self.total = *to_run;
                self.start = Instant::now();
                None
            }
            Event::Planned {
                name,
                kind,
                will_run: true,
                ..
            } => {
                self.kind_of.insert(name.clone(), kind.clone());
                self.pending.insert(name.clone(), ());
                None
            }
            Event::Finished { name, wall_s, .. } => {
                let kind = self.kind_of.get(name).cloned().unwrap_or_default();
                let e = self.by_kind.entry(kind).or_insert((0.0, 0));
                e.0 += wall_s;
                e.1 += 1;
                self.finished.push((name.clone(), *wall_s));
                Some(name)
            }
            Event::Failed { name, .. } | Event::Skipped { name, .. } => Some(name),
            _ => None,
        }?;
        self.pending.remove(ended);
        self.done += 1;
        let elapsed = self.start.elapsed();
        let eta = self.eta(elapsed.as_secs_f64());
        Some(format!(
            "[{}/{}, {}{}]",
            self.done,
            self.total,
            clock(elapsed),
            eta.map(|s| format!(", ETA {}", clock(Duration::from_secs_f64(s))))
                .unwrap_or_default()
        ))
    }

    /// Seconds left, once a stage has finished and while stages remain.
    fn eta(&self, elapsed: f64) -> Option<f64> {
        if self.finished.is_empty() || self.pending.is_empty() {
            return None;
        }
        let (sum, n) = self
            .by_kind
            .values()
            .fold((0.0, 0), |(s, c), (ks, kc)| (s + ks, c + kc));
        let overall = sum / n as f64;
        let work: f64 = self
            .pending
            .keys()
            .map(|name| {
                self.kind_of
                    .get(name)
                    .and_then(|k| self.by_kind.get(k))
                    .map_or(overall, |(s, c)| s / *c as f64)
            })
            .sum();
        let parallel = if elapsed > 0.0 {
            (sum / elapsed).max(1.0)
        } else {
            1.0
        };
        Some(work / parallel)
    }

    /// `slowest: a (12.3 s), b (11.0 s), c (9.8 s)`, or `None` when nothing
    /// was computed.
    pub fn slowest(&self) -> Option<String> {
        if self.finished.is_empty() {
            return None;
        }
        let mut by_time = self.finished.clone();
        by_time.sort_by(|a, b| b.1.total_cmp(&a.1));
        let names: Vec<String> = by_time
            .iter()
            .take(SLOWEST)
            .map(|(n, s)| format!("{n} ({s:.1} s)"))
            .collect();
        Some(format!("slowest: {}", names.join(", ")))
    }
}

/// `m:ss`, or `h:mm:ss` from an hour on.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use engine::Fingerprint;

    use super::*;

    fn fp() -> Fingerprint {
        Fingerprint::parse(&"a".repeat(64)).expect("fingerprint")
    }

    fn planned(name: &str, kind: &str) -> Event {
        Event::Planned {
            name: name.into(),
            fingerprint: fp(),
            kind: kind.into(),
            will_run: true,
            reasons: Vec::new(),
        }
    }

    fn finished(name: &str, wall_s: f64) -> Event {
        Event::Finished {
            name: name.into(),
            fingerprint: fp(),
            wall_s,
            computed: true,
        }
    }

    #[test]
    fn counts_and_estimates_from_stages_of_the_same_kind() {
        let mut p = Progress::default();
        p.on_event(&Event::RunStarted {
            experiment: "x".into(),
            stages: 4,
            to_run: 4,
            cached: 0,
        });
        for (n, k) in [
            ("t1", "train"),
            ("t2", "train"),
            ("e1", "eval"),
            ("e2", "eval"),
        ] {
            p.on_event(&planned(n, k));
        }
        let line = p.on_event(&finished("t1", 10.0)).expect("suffix");
        assert!(line.starts_with("[1/4, 0:00"), "{line}");
        // Left: t2 (train: 10 s, the mean of its kind) and two eval stages,
        // none of their kind finished yet (the overall mean, 10 s): 30 s of
        // work, at a parallelism of 1 when 10 s of work took 10 s.
        let eta1 = p.eta(10.0).expect("eta");
        assert!((eta1 - 30.0).abs() < 1e-9, "{eta1}");
        p.on_event(&finished("e1", 1.0));
        // t2 ≈ 10 s, e2 ≈ 1 s (the eval mean), over 11 s of work in 11 s.
        let eta2 = p.eta(11.0).expect("eta");
        assert!((eta2 - 11.0).abs() < 1e-9, "{eta2}");
        p.on_event(&finished("t2", 12.0));
        let last = p.on_event(&finished("e2", 2.0)).expect("suffix");
        assert!(
            last.starts_with("[4/4, ") && !last.contains("ETA"),
            "{last}"
        );
        assert_eq!(
            p.slowest().expect("slowest"),
            "slowest: t2 (12.0 s), t1 (10.0 s), e2 (2.0 s)"
        );
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
        assert_eq!(clock(Duration::from_secs(75)), "1:15");
    }
}
