//! The page's state: a pure reducer over plain data (no side effects here; the worker is
//! driven from hooks in `app`).

use std::rc::Rc;

use yew::Reducible;

use super::protocol::JobId;
use crate::report::Report;
use crate::view::fields::PacketDetail;
use crate::view::ladder::ConnectionPackets;
use crate::view::time::Zone;

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
    /// The worker has loaded (everything the page needs has been fetched), and it and the
    /// page have warmed up (see `web::warm_up`).
    pub worker_ready: bool,
    /// The worker stopped unexpectedly: it is not ready again, whatever comes after (the page's
    /// warm-up may still end after a crash).
    pub worker_crashed: bool,
    /// The service worker holds the app's files: the page now works with no network.
    pub offline_ready: bool,
    /// The current job (file); messages about any other job are stale and ignored.
    pub job: JobId,
    /// Name of the file being read or shown.
    pub file_name: Option<String>,
    pub phase: Phase,
    /// The packets of the connection the worker last sent (for its sequence diagram).
    pub connection: Option<Rc<ConnectionPackets>>,
    /// The packet detail the worker last sent (for the detail pane).
    pub detail: Option<Rc<PacketDetail>>,
    /// Times in UTC (the default) or the browser's local time.
    pub zone: Zone,
    /// Absolute sequence numbers instead of relative ones (the default, as in Wireshark).
    pub absolute_seq: bool,
    /// The keyboard-shortcut help is open.
    pub help: bool,
}

/// A page-wide display choice the person flips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggle {
    /// UTC or local time.
    Zone,
    /// Relative or absolute sequence numbers.
    Seq,
    /// The keyboard-shortcut help.
    Help,
}

/// Everything that changes the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A file was chosen; it becomes job `job`.
    Open {
        job: JobId,
        name: String,
        size: u64,
    },
    Progress {
        job: JobId,
        read: u64,
        total: u64,
        packets: u64,
    },
    Done {
        job: JobId,
        report: Rc<Report>,
        millis: f64,
    },
    Failed {
        job: JobId,
        message: String,
    },
    Cancel,
    /// One connection's packets arrived.
    Packets {
        job: JobId,
        connection: Rc<ConnectionPackets>,
    },
    /// One packet's detail arrived.
    Detail {
        job: JobId,
        detail: Rc<PacketDetail>,
    },
    /// The worker has loaded.
    WorkerReady,
    /// The service worker is active with the app's files cached.
    OfflineReady,
    /// The worker itself failed: whatever was running has failed with it.
    Crashed {
        message: String,
    },
    /// Flips a display choice.
    Toggle(Toggle),
    /// Closes the keyboard-shortcut help.
    CloseHelp,
}

impl Action {
    /// The job a worker's message is about (None for the person's own actions).
    fn job(&self) -> Option<JobId> {
        match self {
            Action::Progress { job, .. }
            | Action::Done { job, .. }
            | Action::Failed { job, .. }
            | Action::Packets { job, .. }
            | Action::Detail { job, .. } => Some(*job),
            Action::Open { .. }
            | Action::Cancel
            | Action::WorkerReady
            | Action::OfflineReady
            | Action::Crashed { .. }
            | Action::Toggle(_)
            | Action::CloseHelp => None,
        }
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        if action.job().is_some_and(|job| job != self.job) {
            return self;
        }
        // Only a running job makes progress or finishes; a cancelled one stays cancelled.
        let loading = matches!(self.phase, Phase::Loading { .. });
        let mut next = (*self).clone();
        match action {
            Action::Open { job, name, size } => {
                next.job = job;
                next.file_name = Some(name);
                next.connection = None;
                next.detail = None;
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
                ..
            } if loading => {
                next.phase = Phase::Loading {
                    read,
                    total,
                    packets,
                }
            }
            Action::Done { report, millis, .. } if loading => {
                next.phase = Phase::Done { report, millis }
            }
            Action::Failed { message, .. } if loading => next.phase = Phase::Failed { message },
            Action::Cancel if loading => next.phase = Phase::Cancelled,
            Action::Packets { connection, .. } if matches!(self.phase, Phase::Done { .. }) => {
                next.connection = Some(connection);
                next.detail = None;
            }
            Action::Detail { detail, .. } if matches!(self.phase, Phase::Done { .. }) => {
                next.detail = Some(detail)
            }
            Action::WorkerReady if !self.worker_crashed => next.worker_ready = true,
            Action::OfflineReady => next.offline_ready = true,
            Action::Toggle(Toggle::Zone) => next.zone = self.zone.toggled(),
            Action::Toggle(Toggle::Seq) => next.absolute_seq = !self.absolute_seq,
            Action::Toggle(Toggle::Help) => next.help = !self.help,
            Action::CloseHelp if self.help => next.help = false,
            Action::Crashed { message } => {
                next.worker_ready = false;
                next.worker_crashed = true;
                next.phase = Phase::Failed { message };
            }
            _ => return self,
        }
        Rc::new(next)
    }
}
