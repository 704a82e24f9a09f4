//! The page's state: a pure reducer over plain data (no side effects here; the worker is
//! driven from hooks in `app`).

use std::rc::Rc;

use yew::Reducible;

use crate::report::Report;

/// Where the page is.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Phase {
    /// Nothing loaded yet.
    #[default]
    Idle,
    /// A file is being read.
    Loading { read: u64, total: u64, packets: u64 },
    /// The analysis is shown.
    Done { report: Rc<Report>, millis: f64 },
    /// The file could not be read.
    Failed { message: String },
    /// The person cancelled.
    Cancelled,
}

/// The page's state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    /// Name of the file being read or shown.
    pub file_name: Option<String>,
    pub phase: Phase,
}

/// Everything that changes the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Open { name: String, size: u64 },
    Progress { read: u64, total: u64, packets: u64 },
    Done { report: Rc<Report>, millis: f64 },
    Failed { message: String },
    Cancel,
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Open { name, size } => {
                next.file_name = Some(name);
                next.phase = Phase::Loading {
                    read: 0,
                    total: size,
                    packets: 0,
                };
            }
            Action::Progress {
                read,
                total,
                packets,
            } => {
                // Progress of a run that was cancelled or finished is stale.
                if !matches!(next.phase, Phase::Loading { .. }) {
                    return self;
                }
                next.phase = Phase::Loading {
                    read,
                    total,
                    packets,
                };
            }
            Action::Done { report, millis } => next.phase = Phase::Done { report, millis },
            Action::Failed { message } => next.phase = Phase::Failed { message },
            Action::Cancel => next.phase = Phase::Cancelled,
        }
        Rc::new(next)
    }
}
