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

use crate::analysis::{PacketRecord, TcpAnalyzer};
use crate::capture::{PacketIdx, Timestamp};
use crate::flow::{Connection, FlowTable, StreamId};
use crate::pipeline::Analysis;

use rules::{Context, Match};
use summary::Found;
use timeline::{PacketView, Pkt, Role, Track, MAX_SYN_ATTEMPTS};

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

/// [`diagnose`] over the parts: one pass over the records, which also settles each
/// connection's outcome as its last packet goes by, then the capture summary.
pub fn diagnose_parts(inputs: Inputs<'_>) -> Diagnosis {
    let conns = inputs.flows.connections();
    let (mut connections, mut found) = walk(inputs);
    let bursts = summary::mark_mass_resets(&mut found);
    for f in &mut found {
        if let Some(c) = connections.get_mut(f.stream.index()) {
            // The verdict moves to its connection; the summary reads only its scalars.
            let v = &f.verdict;
            let scalars = ResetVerdict {
                frame: v.frame,
                sender: v.sender,
                claimed_sender: v.claimed_sender,
                phase: v.phase,
                cause: v.cause,
                also: Vec::new(),
                summary: String::new(),
                next_step: String::new(),
                evidence: Vec::new(),
            };
            c.resets.push(std::mem::replace(&mut f.verdict, scalars));
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

/// A connection as the pass over the records needs it, gathered once (see [`PacketView`]).
#[derive(Clone, Copy)]
struct Walked {
    /// `None` for a stream without analysed packets.
    view: Option<PacketView>,
    /// The connection's last packet in file order: after it, its [`Track`] is final.
    last: PacketIdx,
    /// Its track's place in the [`Tracks`] while it is open.
    slot: Option<u32>,
    /// It has a RST, so the rules will read its track: all of it is kept. Otherwise only
    /// what its outcome needs ([`Track::push_outline`]).
    resets: bool,
}

/// The tracks of the connections open at one point of the pass, in slots reused once a
/// connection's last packet has gone by. A track is about 600 bytes: one per connection of a
/// capture with a million connections would be 600 MB of fresh memory, written once and read
/// at the end, where the connections open at once are usually a few thousand.
#[derive(Default)]
struct Tracks {
    slots: Vec<Track>,
    free: Vec<u32>,
}

impl Tracks {
    /// A fresh track's slot.
    fn open(&mut self) -> u32 {
        if let Some(slot) = self.free.pop() {
            if let Some(track) = self.slots.get_mut(slot as usize) {
                *track = Track::default();
            }
            return slot;
        }
        self.slots.push(Track::default());
        u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
    }

    fn get(&self, slot: Option<u32>) -> Option<&Track> {
        self.slots.get(slot? as usize)
    }
}

/// The pass over the records: what each connection had seen before each packet, the verdict
/// on each RST, in file order, and each connection's outcome (indexed by stream number).
///
/// It is not split between threads: each part would still read every record, and the pass is
/// bound by memory more than by work. Natively the connections' rows are built meanwhile.
fn walk(inputs: Inputs<'_>) -> (Vec<ConnectionDiagnosis>, Vec<Found>) {
    let conns = inputs.flows.connections();
    let last_ts = inputs.span.map(|(_, last)| last);
    let mut walked: Vec<Walked> = conns
        .iter()
        .map(|conn| Walked {
            view: inputs
                .tcp
                .connection(conn.stream)
                .map(|ca| PacketView::of(conn, ca)),
            last: conn.last_packet,
            slot: None,
            resets: conn.to_server.rst > 0 || conn.to_client.rst > 0,
        })
        .collect();
    let mut outcomes: Vec<Option<ConnectionDiagnosis>> = vec![None; conns.len()];
    let mut tracks = Tracks::default();
    // A verdict per RST at most: room made ahead (growing it copied every verdict made so
    // far, in the page's worker a tenth of the diagnosis at 1 GB).
    let rsts: u32 = conns
        .iter()
        .map(|c| c.to_server.rst.saturating_add(c.to_client.rst))
        .fold(0, u32::saturating_add);
    let mut found: Vec<Found> = Vec::with_capacity(rsts as usize);
    for record in inputs.tcp.records().as_slice() {
        let stream = record.stream;
        let Some(w) = walked.get_mut(stream.index()) else {
            continue;
        };
        let Some(view) = w.view else {
            continue;
        };
        let slot = *w.slot.get_or_insert_with(|| tracks.open());
        let Some(track) = tracks.slots.get_mut(slot as usize) else {
            continue;
        };
        let pkt = view.packet(record);
        if !w.resets {
            track.push_outline(&pkt);
        } else {
            if pkt.flags.rst() {
                if let Some(f) = judged(inputs, stream, record, &pkt, track) {
                    found.push(f);
                }
            }
            track.push(&pkt);
        }
        if record.index == w.last {
            if let (Some(conn), Some(outcome)) =
                (conns.get(stream.index()), outcomes.get_mut(stream.index()))
            {
                *outcome = Some(connection_outcome(conn, track, last_ts));
            }
            w.slot = None;
            tracks.free.push(slot);
        }
    }
    let empty = Track::default();
    let outcomes = outcomes
        .into_iter()
        .zip(conns.iter().zip(&walked))
        .map(|(outcome, (conn, w))| {
            outcome.unwrap_or_else(|| {
                connection_outcome(conn, tracks.get(w.slot).unwrap_or(&empty), last_ts)
            })
        })
        .collect();
    (outcomes, found)
}

/// The verdict on the RST `pkt` (record `record` of `stream`), `track` being what its
/// connection had seen before it.
fn judged(
    inputs: Inputs<'_>,
    stream: StreamId,
    record: &PacketRecord,
    pkt: &Pkt,
    track: &Track,
) -> Option<Found> {
    let conn = inputs.flows.connection(stream)?;
    let ca = inputs.tcp.connection(stream)?;
    let ctx = Context {
        rst: *pkt,
        before: track,
        client: conn.client,
        server: conn.server,
        only_rsts: only_rsts(conn),
        rtt_ns: ca.handshake_rtt_ns,
        fact: inputs.ttls.rst(record.index),
        baseline: inputs.ttls.side(stream, record.side()),
    };
    Some(Found {
        stream,
        at: pkt.at,
        claimed: pkt.role,
        client: conn.client,
        server: conn.server,
        verdict: judge(&ctx),
    })
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
