//! What the page shows once a report is in: the resets summary, the capture summary and the
//! explorer. The app draws it for the person's report; `web::warm_up` draws the same, off the
//! document, on the worker's warm-up report.

use std::rc::Rc;

use yew::prelude::*;

use super::{CaptureSummary, Explorer, ResetsSummary};
use crate::report::Report;
use crate::view::fields::PacketDetail;
use crate::view::ladder::ConnectionPackets;
use crate::web::protocol::Question;

#[derive(Properties, PartialEq)]
pub struct ReportViewsProps {
    pub report: Rc<Report>,
    /// Name of the capture file.
    #[prop_or_default]
    pub file_name: String,
    /// Time the worker took, in milliseconds.
    #[prop_or_default]
    pub millis: f64,
    /// The connection packets the worker last sent.
    #[prop_or_default]
    pub connection: Option<Rc<ConnectionPackets>>,
    /// The packet detail the worker last sent.
    #[prop_or_default]
    pub detail: Option<Rc<PacketDetail>>,
    /// Opens a connection (by stream) in the diagram.
    #[prop_or_default]
    pub on_open: Callback<u32>,
    /// Asks the worker for packets or a packet's detail.
    #[prop_or_default]
    pub on_question: Callback<Question>,
    /// Asks the worker for these streams as a capture file with this name (no extension).
    #[prop_or_default]
    pub on_export: Callback<(Vec<u32>, String)>,
}

/// The report's views.
#[component]
pub fn ReportViews(props: &ReportViewsProps) -> Html {
    let report = &props.report;
    html! {
        <>
            <ResetsSummary report={report.clone()} on_open={props.on_open.clone()} />
            <CaptureSummary report={report.clone()} file_name={props.file_name.clone()} millis={props.millis} />
            <Explorer report={report.clone()} connection={props.connection.clone()}
                detail={props.detail.clone()} on_question={props.on_question.clone()}
                file_name={props.file_name.clone()} on_export={props.on_export.clone()} />
        </>
    }
}
