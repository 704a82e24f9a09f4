//! Reset diagnosis: for every TCP RST in a capture, who sent it, in which phase of the
//! connection, the most likely cause in plain words, what to check next and the packets that
//! prove it; for every connection, how it ended; and for the capture, a summary.
//!
//! CONTRACT: a pure function of the finished analysis, `diagnose(&analysis, &ttls) ->
//! Diagnosis`, where `ttls` is a [`TtlObserver`] fed every TCP segment beside the flow table
//! (the per-packet records keep no TTL). Plain serde data out, with stable snake_case ids. It
//! never panics on any input.
//!
//! # How
//!
//! One pass over the per-packet records (file order) keeps, per connection, what had happened
//! so far ([`timeline::Track`]). At each RST the rules in [`rules`] are tried in order, one
//! function per cause, each stating its rule: no connection, out of window, forged (TTL unlike
//! the claimed sender's: idle timeout or middlebox), refused, after close, zero-window stall,
//! retransmission timeout, data after close, idle timeout, abortive close. The first that
//! matches is the primary cause, the others the further causes. Then, across connections, a
//! host that reset several connections within a few milliseconds gets `mass_reset`
//! ([`summary::mark_mass_resets`]); then each connection's outcome and the capture summary.
//!
//! Every threshold is a named constant that says where its number comes from; sequence numbers
//! are compared as serial numbers ([`crate::seq::SeqNum`]).

pub mod model;
pub mod observer;
pub mod rules;
pub mod summary;
#[cfg(test)]
mod tests;
pub mod text;
pub mod timeline;

pub use model::{
    Cause, CauseCount, ConnectionDiagnosis, Diagnosis, Evidence, IdleTimer, Outcome, OutcomeCount,
    PeerPairCount, Phase, ResetVerdict, Sender, Summary, TimeHistogram, COMMON_IDLE_TIMERS,
};
pub use observer::{RstFact, SideTtls, TtlObserver};
pub use summary::MAX_PEER_PAIRS;

use std::net::SocketAddr;

use crate::analysis::TcpAnalyzer;
use crate::capture::Timestamp;
use crate::flow::{Connection, FlowTable, StreamId};
use crate::pipeline::Analysis;

use rules::{Context, Match};
use summary::Found;
use timeline::{PacketView, Role, Track, MAX_SYN_ATTEMPTS};

/// A single SYN counts as timed out only when the capture goes on at least this long after
/// it without an answer or a retry: TCP's initial retransmission timeout (RFC 6298 section 2,
/// 1 s; Linux `TCP_TIMEOUT_INIT`). A capture that ends sooner leaves the attempt open.
pub const SYN_TIMEOUT_MIN_NS: i64 = 1_000_000_000;

/// What the diagnosis reads: the parts of an [`Analysis`], and the TTLs.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub flows: &'a FlowTable,
    pub tcp: &'a TcpAnalyzer,
    pub ttls: &'a TtlObserver,
    /// The capture's first and last packet times.
    pub span: Option<(Timestamp, Timestamp)>,
}

/// Diagnoses every RST and connection of a finished analysis. `ttls` must have been fed the
/// same capture (see [`TtlObserver`]); an empty one only loses the forged-RST evidence.
pub fn diagnose(analysis: &Analysis, ttls: &TtlObserver) -> Diagnosis {
    let span = analysis.capture.first_ts.zip(analysis.capture.last_ts);
    diagnose_parts(Inputs {
        flows: &analysis.flows,
        tcp: &analysis.tcp,
        ttls,
        span,
    })
}

/// [`diagnose`] over the parts: one pass over the records, then each connection's outcome.
pub fn diagnose_parts(inputs: Inputs<'_>) -> Diagnosis {
    let conns = inputs.flows.connections();
    let (tracks, mut found) = walk(inputs);
    let bursts = summary::mark_mass_resets(&mut found);
    let last_ts = inputs.span.map(|(_, last)| last);
    let empty = Track::default();
    let mut connections: Vec<ConnectionDiagnosis> = conns
        .iter()
        .enumerate()
        .map(|(i, conn)| connection_outcome(conn, tracks.get(i).unwrap_or(&empty), last_ts))
        .collect();
    for f in &found {
        if let Some(c) = connections.get_mut(f.stream.index()) {
            c.resets.push(f.verdict.clone());
        }
    }
    for c in &mut connections {
        settle_outcome(c);
    }
    let peers: Vec<(SocketAddr, SocketAddr)> = conns.iter().map(|c| (c.client, c.server)).collect();
    let summary = summary::summarise(&found, &bursts, &connections, &peers, inputs.span);
    Diagnosis {
        connections,
        summary,
    }
}

/// The pass over the records: what each connection had seen before each packet (indexed by
/// stream number), and the verdict on each RST, in file order.
///
/// It is not split between threads: each part would still read every record, and the pass is
/// bound by memory more than by work. Natively the connections' rows are built meanwhile.
fn walk(inputs: Inputs<'_>) -> (Vec<Track>, Vec<Found>) {
    let conns = inputs.flows.connections();
    let mut tracks = vec![Track::default(); conns.len()];
    // What each packet needs of its connection, in one small table (see `PacketView`); `None`
    // for a stream without analysed packets.
    let views: Vec<Option<PacketView>> = conns
        .iter()
        .map(|conn| Some(PacketView::of(conn, inputs.tcp.connection(conn.stream)?)))
        .collect();
    let mut found: Vec<Found> = Vec::new();
    for record in inputs.tcp.records().as_slice() {
        let stream = record.stream;
        let (Some(Some(view)), Some(track)) =
            (views.get(stream.index()), tracks.get_mut(stream.index()))
        else {
            continue;
        };
        let pkt = view.packet(record);
        if pkt.flags.rst() {
            let (Some(conn), Some(ca)) = (
                inputs.flows.connection(stream),
                inputs.tcp.connection(stream),
            ) else {
                continue;
            };
            let ctx = Context {
                rst: pkt,
                before: track,
                client: conn.client,
                server: conn.server,
                only_rsts: only_rsts(conn),
                rtt_ns: ca.handshake_rtt_ns,
                fact: inputs.ttls.rst(record.index),
                baseline: inputs.ttls.side(stream, record.side()),
            };
            found.push(Found {
                stream,
                at: pkt.at,
                claimed: pkt.role,
                client: conn.client,
                server: conn.server,
                verdict: judge(&ctx),
            });
        }
        track.push(&pkt);
    }
    (tracks, found)
}

/// The capture holds nothing of the connection but RSTs.
fn only_rsts(conn: &Connection) -> bool {
    let (a, b) = (&conn.to_server, &conn.to_client);
    a.packets + b.packets == u64::from(a.rst) + u64::from(b.rst)
}

/// Tries the rules in order (see the module documentation) and builds the verdict.
fn judge(ctx: &Context<'_>) -> ResetVerdict {
    let phase = rules::phase(ctx);
    let forgery = rules::forged(ctx);
    let mut matches: Vec<Match> = Vec::new();
    let mut add = |m: Option<Match>| matches.extend(m);
    add(rules::no_connection(ctx));
    add(rules::out_of_window(ctx, phase));
    if let Some(f) = &forgery {
        add(rules::forged_after_idle(ctx, f));
        add(rules::middlebox(ctx, f));
        add(rules::refused(ctx, phase));
    } else {
        add(rules::refused(ctx, phase));
        add(rules::after_close(ctx, phase));
        add(rules::zero_window_stall(ctx));
        add(rules::unacknowledged_retransmissions(ctx));
        add(rules::data_after_close(ctx));
        add(rules::silently_dropped(ctx, phase));
        add(rules::idle_then_reset(ctx, phase));
        add(rules::abortive_close(ctx, phase));
    }
    let mut rest = matches.into_iter();
    let primary = rest.next().unwrap_or_else(|| rules::fallback(ctx));
    let mut also: Vec<Cause> = Vec::new();
    for m in rest {
        if m.cause != primary.cause && !also.contains(&m.cause) {
            also.push(m.cause);
        }
    }
    let mut evidence = primary.evidence;
    let forged = forgery.is_some();
    if let Some(f) = forgery {
        if !matches!(primary.cause, Cause::IdleTimeout | Cause::Middlebox) {
            evidence.extend(f.evidence);
        }
    }
    evidence.sort_by_key(|e| e.frame);
    evidence.dedup();
    let claimed_sender = role_sender(ctx.rst.role);
    ResetVerdict {
        frame: ctx.rst.at.frame(),
        sender: if forged {
            Sender::Middlebox
        } else {
            claimed_sender
        },
        claimed_sender,
        phase,
        cause: primary.cause,
        also,
        summary: primary.summary,
        next_step: primary.next_step,
        evidence,
    }
}

fn role_sender(role: Role) -> Sender {
    match role {
        Role::Client => Sender::Client,
        Role::Server => Sender::Server,
    }
}

/// The outcome of a connection from its own packets, before its resets are known: completed
/// (FIN both ways), timeout (SYNs never answered, with the schedule), or open.
fn connection_outcome(
    conn: &Connection,
    track: &Track,
    last_ts: Option<Timestamp>,
) -> ConnectionDiagnosis {
    let stream = conn.stream.0;
    let server = Role::Server.index();
    let unanswered = track.syns > 0 && track.syn_ack.is_none() && track.last_from[server].is_none();
    let (outcome, summary, syn_attempts) = if track.fin[0].is_some() && track.fin[1].is_some() {
        (
            Outcome::Completed,
            "Completed: both sides closed with a FIN.".to_string(),
            Vec::new(),
        )
    } else if unanswered && syn_timed_out(track, last_ts) {
        let kept = (track.syns as usize).min(MAX_SYN_ATTEMPTS);
        let attempts: Vec<f64> = track.syn_offsets[..kept]
            .iter()
            .map(|ns| *ns as f64 / 1e9)
            .collect();
        let schedule: Vec<String> = track.syn_offsets[..kept]
            .iter()
            .map(|ns| text::duration(*ns))
            .collect();
        (
            Outcome::Timeout,
            format!(
                "Timed out: {} SYN{} to {} (at {}) never answered.",
                track.syns,
                if track.syns == 1 { "" } else { "s" },
                conn.server,
                schedule.join(", ")
            ),
            attempts,
        )
    } else {
        (
            Outcome::Open,
            "Open at the end of the capture: neither closed nor reset.".to_string(),
            Vec::new(),
        )
    };
    ConnectionDiagnosis {
        stream,
        outcome,
        summary,
        syn_attempts,
        resets: Vec::new(),
    }
}

/// Unanswered SYNs are a timeout when the client retried, or when the capture went on for
/// [`SYN_TIMEOUT_MIN_NS`] after the only SYN.
fn syn_timed_out(track: &Track, last_ts: Option<Timestamp>) -> bool {
    if track.syns >= 2 {
        return true;
    }
    match (track.syn, last_ts) {
        (Some(syn), Some(last)) => last.0.saturating_sub(syn.ts.0) >= SYN_TIMEOUT_MIN_NS,
        _ => false,
    }
}

/// A RST takes effect unless the receiver ignores it (out of window) or the connection was
/// already over (both FINs sent).
fn takes_effect(v: &ResetVerdict) -> bool {
    !matches!(v.cause, Cause::OutOfWindow | Cause::AfterClose) && v.phase != Phase::AfterClose
}

/// The outcome once the resets are known: the first RST that took effect makes it refused (in
/// the handshake, from the server's address) or reset.
fn settle_outcome(c: &mut ConnectionDiagnosis) {
    let Some(v) = c.resets.iter().find(|v| takes_effect(v)) else {
        if let Some(v) = c.resets.first() {
            c.summary = format!(
                "{} A later RST (frame {}, {}) changed nothing.",
                c.summary,
                v.frame,
                v.cause.id()
            );
        }
        return;
    };
    let (outcome, summary) = if v.phase == Phase::Handshake && v.claimed_sender == Sender::Server {
        (
            Outcome::Refused,
            format!(
                "Refused: the SYN was answered by a RST (frame {}).",
                v.frame
            ),
        )
    } else {
        (
            Outcome::Reset,
            format!(
                "Reset by the {} at frame {}: {}.",
                v.sender.id(),
                v.frame,
                v.cause.title().to_lowercase()
            ),
        )
    };
    c.outcome = outcome;
    c.summary = summary;
    c.syn_attempts.clear();
}

/// The connection a stream number names, for callers holding only the diagnosis.
pub fn connection(diagnosis: &Diagnosis, stream: StreamId) -> Option<&ConnectionDiagnosis> {
    diagnosis.connections.get(stream.index())
}
