//! Typed run events and their subscribers. The scheduler emits [`Event`]s
//! into an [`EventSink`]; the terminal display (in the binary) and the
//! JSON-lines run log ([`JsonlLog`]) are subscribers of the same stream.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{IoContext, Result};
use crate::fingerprint::Fingerprint;
use crate::plan::Reason;

/// One thing that happened during a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        experiment: String,
        stages: usize,
        to_run: usize,
        cached: usize,
    },
    Planned {
        name: String,
        fingerprint: Fingerprint,
        kind: String,
        will_run: bool,
        reasons: Vec<Reason>,
    },
    Cached {
        name: String,
        fingerprint: Fingerprint,
    },
    Started {
        name: String,
        fingerprint: Fingerprint,
        job: String,
        threads: usize,
    },
    Progress {
        name: String,
        fingerprint: Fingerprint,
        done: u64,
        total: u64,
        metrics: BTreeMap<String, f64>,
    },
    Finished {
        name: String,
        fingerprint: Fingerprint,
        wall_s: f64,
        /// False when another run published it first.
        computed: bool,
    },
    Failed {
        name: String,
        fingerprint: Fingerprint,
        reason: String,
        log: PathBuf,
        /// True when the stage's input data is bad (`reason` then names the
        /// file and the problem).
        #[serde(default)]
        bad_input: bool,
    },
    Skipped {
        name: String,
        fingerprint: Fingerprint,
        because: String,
    },
    RunFinished {
        ok: bool,
        computed: usize,
        cached: usize,
        failed: usize,
        skipped: usize,
        wall_s: f64,
    },
}

/// Receives every event of a run, in order.
pub trait Subscriber {
    fn on_event(&mut self, run_id: &str, event: &Event);
}

/// Fans events out to its subscribers.
pub struct EventSink {
    run_id: String,
    subscribers: Vec<Box<dyn Subscriber>>,
}

impl EventSink {
    pub fn new(run_id: impl Into<String>) -> EventSink {
        EventSink {
            run_id: run_id.into(),
            subscribers: Vec::new(),
        }
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    pub fn subscribe(&mut self, subscriber: Box<dyn Subscriber>) {
        self.subscribers.push(subscriber);
    }

    pub fn emit(&mut self, event: Event) {
        for s in &mut self.subscribers {
            s.on_event(&self.run_id, &event);
        }
    }
}

/// A new run id: `YYYYMMDDTHHMMSSZ-<4 hex>` (UTC).
pub fn new_run_id() -> String {
    format!(
        "{}-{:04x}",
        jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ"),
        rand::random::<u16>()
    )
}

/// Writes each event as one JSON line with `t` and `run_id` added
/// (`<store>/runs/<run-id>.jsonl`). Buffered, but flushed after every event
/// other than `planned`, `cached` and `progress` (thousands of those on a
/// big no-op run), so a killed run still leaves a readable log.
pub struct JsonlLog {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl JsonlLog {
    pub fn create(path: &Path) -> Result<JsonlLog> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).ctx("create directory", dir)?;
        }
        let file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(path)
            .ctx("create run log", path)?;
        Ok(JsonlLog {
            path: path.to_path_buf(),
            file: std::io::BufWriter::with_capacity(1 << 16, file),
        })
    }
}

impl Subscriber for JsonlLog {
    fn on_event(&mut self, run_id: &str, event: &Event) {
        let mut value = match serde_json::to_value(event) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return,
        };
        value.insert("t".into(), crate::store::now_rfc3339().into());
        value.insert("run_id".into(), run_id.into());
        let mut line = serde_json::Value::Object(value).to_string();
        line.push('\n');
        let batched = matches!(
            event,
            Event::Planned { .. } | Event::Cached { .. } | Event::Progress { .. }
        );
        let written = self.file.write_all(line.as_bytes()).and_then(|()| {
            if batched {
                Ok(())
            } else {
                self.file.flush()
            }
        });
        if let Err(e) = written {
            tracing::warn!("failed to write run log `{}`: {e}", self.path.display());
        }
    }
}

impl Drop for JsonlLog {
    fn drop(&mut self) {
        let _ = self.file.flush();
    }
}

/// Collects events in memory (the engine's unit tests).
#[cfg(test)]
#[derive(Default, Clone)]
pub(crate) struct Collect(pub std::rc::Rc<std::cell::RefCell<Vec<Event>>>);

#[cfg(test)]
impl Subscriber for Collect {
    fn on_event(&mut self, _run_id: &str, event: &Event) {
        self.0.borrow_mut().push(event.clone());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fp() -> Fingerprint {
        Fingerprint::parse(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn run_id_format() {
        let id = new_run_id();
        assert_eq!(id.len(), 21, "{id}");
        assert_eq!(&id[8..9], "T");
        assert_eq!(&id[15..17], "Z-");
        assert!(id[17..].chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    }

    #[test]
    fn event_json_shape() {
        let e = Event::Finished {
            name: "a".into(),
            fingerprint: fp(),
            wall_s: 1.5,
            computed: true,
        };
        insta::assert_json_snapshot!(e, @r#"
        {
          "event": "finished",
          "name": "a",
          "fingerprint": "abababababababababababababababababababababababababababababababab",
          "wall_s": 1.5,
          "computed": true
        }
        "#);
    }

    #[test]
    fn jsonl_log_lines_carry_t_and_run_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs/r1.jsonl");
        let collect = Collect::default();
        let mut sink = EventSink::new("r1");
        sink.subscribe(Box::new(JsonlLog::create(&path).unwrap()));
        sink.subscribe(Box::new(collect.clone()));
        sink.emit(Event::Cached {
            name: "a".into(),
            fingerprint: fp(),
        });
        sink.emit(Event::RunFinished {
            ok: true,
            computed: 0,
            cached: 1,
            failed: 0,
            skipped: 0,
            wall_s: 0.1,
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "cached");
        assert_eq!(lines[0]["run_id"], "r1");
        assert!(lines[0]["t"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .is_ok());
        assert_eq!(lines[1]["event"], "run_finished");
        assert_eq!(collect.0.borrow().len(), 2);
        // Lines parse back into events (extra fields ignored).
        let back: Event = serde_json::from_value(lines[0].clone()).unwrap();
        assert!(matches!(back, Event::Cached { .. }));
    }
}
