//! What a run reports: each stage's status, time, folder and result, and the table printed
//! after a run.

use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StageStatus {
    Ran,
    Skipped,
    Failed(String),
    NotRun,
    WouldRun(String),
    WouldSkip,
}

impl StageStatus {
    pub fn label(&self) -> String {
        match self {
            StageStatus::Ran => "ran".into(),
            StageStatus::Skipped => "skipped (up to date)".into(),
            StageStatus::Failed(_) => "FAILED".into(),
            StageStatus::NotRun => "not run".into(),
            StageStatus::WouldRun(why) => format!("would run ({why})"),
            StageStatus::WouldSkip => "would skip (up to date)".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct StageOutcome {
    pub name: String,
    pub kind: String,
    pub status: StageStatus,
    pub seconds: f64,
    pub dir: PathBuf,
    pub summary: String,
    pub alert: Option<String>,
}

#[derive(Clone, Debug)]
pub struct RunSummary {
    pub pipeline: String,
    pub stages: Vec<StageOutcome>,
}

impl RunSummary {
    pub fn failure(&self) -> Option<(&str, &str)> {
        self.stages.iter().find_map(|s| match &s.status {
            StageStatus::Failed(e) => Some((s.name.as_str(), e.as_str())),
            _ => None,
        })
    }

    /// `(stage, alert)` for every stage that raised one.
    pub fn alerts(&self) -> Vec<(&str, &str)> {
        self.stages
            .iter()
            .filter_map(|s| Some((s.name.as_str(), s.alert.as_deref()?)))
            .collect()
    }

    pub fn status_of(&self, stage: &str) -> Option<&StageStatus> {
        self.stages
            .iter()
            .find(|s| s.name == stage)
            .map(|s| &s.status)
    }

    pub fn table(&self) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header(["stage", "kind", "status", "time", "output", "result"]);
        for s in &self.stages {
            let time = if s.seconds > 0.0 {
                format!("{:.1}s", s.seconds)
            } else {
                "-".into()
            };
            t.add_row([
                s.name.clone(),
                s.kind.clone(),
                s.status.label(),
                time,
                s.dir.display().to_string(),
                s.summary.clone(),
            ]);
        }
        t.to_string()
    }
}
