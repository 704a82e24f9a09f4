//! The per-RST rules: one function per cause, each stating its rule, in the order they are
//! tried. The first rule that matches gives the primary cause; the others that match are the
//! further causes (`also`). Mass resets are found across connections afterwards
//! ([`super::summary`]).

use std::net::SocketAddr;

use super::model::{Cause, Evidence, Phase, COMMON_IDLE_TIMERS};
use super::observer::{RstFact, SideTtls};
use super::text::{duration, hops_from};
use super::timeline::{At, Pkt, Role, Track};

/// Below this much quiet, a pause is ordinary pacing, not an idle timeout: it is well under the
/// shortest common default idle timer (5 s, Apache `KeepAliveTimeout` and Node.js
/// `keepAliveTimeout`; see [`COMMON_IDLE_TIMERS`]) to leave room for short custom timers, and
/// twice TCP's initial retransmission timeout of 1 s (RFC 6298), so retransmission gaps of a
/// healthy connection stay below it.
pub const IDLE_MIN_NS: i64 = 2_000_000_000;

/// A RST sent within this long after a packet from its peer is taken as the answer to it. At
/// the sender's own capture point the answer follows in microseconds; at the far one a round
/// trip later, so the window is twice the handshake RTT when known, and at least this floor (for
/// jitter and for captures without a handshake).
pub const ANSWER_DELAY_FLOOR_NS: i64 = 10_000_000;

/// The answer window never grows past this, whatever the RTT says (a one-second "answer" is a
/// new event).
pub const ANSWER_DELAY_CAP_NS: i64 = 1_000_000_000;

/// A zero window that lasted this long before the RST is a stall: Linux's persist timer starts
/// at the retransmission timeout (at least 200 ms, `TCP_RTO_MIN`) and doubles, so after a
/// second the window was probed about three times without reopening. Shorter zero windows are
/// ordinary flow control.
pub const ZERO_WINDOW_STALL_MIN_NS: i64 = 1_000_000_000;

/// A side silent this long before answering with a bare RST (no socket) can have given up on
/// retransmissions the capture did not see: Linux tuned as aggressively as `tcp_retries2 = 3`
/// gives up after 200 + 400 + 800 + 1600 ms = 3 s (RFC 1122 section 4.2.3.5 asks for at least
/// 100 s; Linux's default `tcp_retries2 = 15` is about 15 minutes).
pub const SILENT_DROP_MIN_NS: i64 = 3_000_000_000;

/// Windows larger than this cannot be checked: serial comparison only works within 2^31, and a
/// window this large (2^30, the RFC 7323 maximum) accepts nearly anything anyway.
const MAX_CHECKABLE_WINDOW: u64 = 1 << 30;

/// Everything the rules know about one RST.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub rst: Pkt,
    /// The connection just before the RST.
    pub before: &'a Track,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// The connection has nothing but RSTs in the capture.
    pub only_rsts: bool,
    /// Handshake RTT, nanoseconds.
    pub rtt_ns: Option<i64>,
    /// The RST's TTL and IP ID, if the observer saw it.
    pub fact: Option<RstFact>,
    /// TTLs of the claimed sender's non-RST packets.
    pub baseline: SideTtls,
}

/// What a rule found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub cause: Cause,
    pub summary: String,
    pub next_step: String,
    pub evidence: Vec<Evidence>,
}

/// The RST's TTL differs from every TTL its claimed sender used: see [`forged`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forgery {
    pub evidence: Vec<Evidence>,
    pub ttl: u8,
}

/// The quiet before a RST: see [`idle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Idle {
    pub gap_ns: i64,
    /// The last packet before the quiet.
    pub quiet_from: At,
    /// The packet the RST answers, if it answers one (the first after the quiet).
    pub trigger: Option<Pkt>,
}

impl Context<'_> {
    fn sender(&self) -> Role {
        self.rst.role
    }

    fn receiver(&self) -> Role {
        self.rst.role.other()
    }

    /// "the server 10.0.0.2:80"
    fn name(&self, role: Role) -> String {
        let addr = match role {
            Role::Client => self.client,
            Role::Server => self.server,
        };
        format!("the {} {addr}", role.name())
    }

    fn rst_evidence(&self, what: impl Into<String>) -> Evidence {
        evidence(self.rst.at, what)
    }
}

fn evidence(at: At, what: impl Into<String>) -> Evidence {
    Evidence {
        frame: at.frame(),
        what: what.into(),
    }
}

fn ns_between(a: At, b: At) -> i64 {
    b.ts.0.saturating_sub(a.ts.0)
}

/// The phase of the connection when the RST came: no connection when the capture holds nothing
/// but RSTs of it; handshake when a SYN or SYN+ACK was seen and no ACK after it yet; after close
/// when both sides had sent a FIN; closing when one had; established otherwise (including a
/// connection seen mid-stream).
pub fn phase(ctx: &Context<'_>) -> Phase {
    let t = ctx.before;
    if ctx.only_rsts {
        Phase::NoConnection
    } else if !t.established && (t.syn.is_some() || t.syn_ack.is_some()) {
        Phase::Handshake
    } else if t.fin[0].is_some() && t.fin[1].is_some() {
        Phase::AfterClose
    } else if t.fin[0].is_some() || t.fin[1].is_some() {
        Phase::Closing
    } else {
        Phase::Established
    }
}

/// How long a RST may follow a packet from its peer and still answer it (see
/// [`ANSWER_DELAY_FLOOR_NS`]).
fn answer_window_ns(ctx: &Context<'_>) -> i64 {
    let by_rtt = ctx.rtt_ns.map_or(0, |rtt| rtt.saturating_mul(2));
    // The floor is below the cap (constants), so `clamp` cannot panic.
    by_rtt.clamp(ANSWER_DELAY_FLOOR_NS, ANSWER_DELAY_CAP_NS)
}

/// The quiet before the RST. When the RST answers the packet just before it (from the peer,
/// within the answer window), the quiet is the gap before that packet: the connection slept,
/// then one side spoke and was reset. Otherwise the RST itself broke the quiet, and the gap is
/// the time since the last packet. `None` when the capture has too few packets to tell.
pub fn idle(ctx: &Context<'_>) -> Option<Idle> {
    let last = ctx.before.recent[0]?;
    let since_last = ns_between(last.at, ctx.rst.at);
    if last.role != ctx.sender() && since_last <= answer_window_ns(ctx) {
        let prev = ctx.before.recent[1]?;
        Some(Idle {
            gap_ns: ns_between(prev.at, last.at),
            quiet_from: prev.at,
            trigger: Some(last),
        })
    } else {
        Some(Idle {
            gap_ns: since_last,
            quiet_from: last.at,
            trigger: None,
        })
    }
}

/// A RST is forged by a device in the path when its IP TTL (hop limit) differs from the TTL of
/// every other packet its claimed sender sent in the connection: a host uses one initial TTL
/// and its packets cross the same hops to the capture point, so a different value means another
/// device built the packet (the IP-level fingerprint tools like Wireshark's `ip.ttl` column and
/// the "RST injection" literature rely on). Needs at least one non-RST packet of the claimed
/// sender and a consistent baseline (not more distinct TTLs than the observer keeps).
pub fn forged(ctx: &Context<'_>) -> Option<Forgery> {
    let fact = ctx.fact?;
    if ctx.baseline.is_empty() || ctx.baseline.overflow || ctx.baseline.contains(fact.ttl) {
        return None;
    }
    let claimed = ctx.name(ctx.sender());
    let mut ev = Vec::new();
    for seen in ctx.baseline.values() {
        ev.push(Evidence {
            frame: seen.first.frame_number(),
            what: format!(
                "{claimed} sends with TTL {} ({}; {} packets)",
                seen.ttl,
                hops_from(seen.ttl),
                seen.packets
            ),
        });
    }
    let ip_id = fact
        .ip_id
        .map(|id| format!(", IP ID {id:#06x}"))
        .unwrap_or_default();
    ev.push(ctx.rst_evidence(format!(
        "the RST claiming to come from {claimed} has TTL {}{ip_id} ({}): another device sent it",
        fact.ttl,
        hops_from(fact.ttl)
    )));
    Some(Forgery {
        evidence: ev,
        ttl: fact.ttl,
    })
}

/// `no_connection`: the capture holds nothing of the connection but RSTs, so there is nothing
/// to explain them with.
pub fn no_connection(ctx: &Context<'_>) -> Option<Match> {
    if !ctx.only_rsts {
        return None;
    }
    Some(Match {
        cause: Cause::NoConnection,
        summary: format!(
            "A RST from {} to {}, and nothing else of this connection in the capture: it \
             started before the capture, or its other packets took another path.",
            ctx.name(ctx.sender()),
            ctx.name(ctx.receiver())
        ),
        next_step: "Capture earlier, or where both directions of the connection pass, to see \
                    the connection this reset belongs to."
            .into(),
        evidence: vec![ctx.rst_evidence("no other packet of this connection is in the capture")],
    })
}

/// `out_of_window`: RFC 9293 section 3.10.7.4 (with RFC 5961 section 3) accepts a RST only
/// when its sequence number lies in the receiver's window, `RCV.NXT <= SEG.SEQ < RCV.NXT +
/// RCV.WND`; any other is discarded. The receiver's `RCV.NXT` is at least the highest ACK it
/// sent, and at most where the sender's data had reached; its window at most the largest it
/// advertised. A RST below that ACK, or at or beyond the furthest right edge, is outside the
/// window whatever happened out of sight. Needs an ACK from the receiver, and a connection
/// still open: after both FINs the receiver has no window left (that is [`after_close`]).
pub fn out_of_window(ctx: &Context<'_>, phase: Phase) -> Option<Match> {
    if matches!(phase, Phase::AfterClose | Phase::NoConnection) {
        return None;
    }
    let t = ctx.before;
    let (me, peer) = (ctx.sender().index(), ctx.receiver().index());
    let acked = t.ack_from[peer]?;
    let window = t.max_window[peer];
    if window > MAX_CHECKABLE_WINDOW {
        return None;
    }
    let reach = t.seq_end[me].map_or(acked.ack, |end| end.max(acked.ack));
    // `window` is at most 2^30 here, so the cast is exact.
    let right = reach.wrapping_add(window as u32);
    let seq = ctx.rst.seq;
    let (side, how_far) = if seq.is_before(acked.ack) {
        ("below", acked.ack.forward_from(seq))
    } else if seq.is_at_or_after(right) {
        ("beyond", seq.forward_from(right))
    } else {
        return None;
    };
    let receiver = ctx.name(ctx.receiver());
    Some(Match {
        cause: Cause::OutOfWindow,
        summary: format!(
            "The RST's sequence number is {how_far} bytes {side} the window of {receiver}, \
             so a real TCP stack ignores it: a stale or blind reset."
        ),
        next_step: "Usually nothing to do: the receiver discarded it. If such resets are \
                    frequent, find the device that sends them (see its TTL)."
            .into(),
        evidence: vec![
            evidence(
                acked.at,
                format!(
                    "{receiver} acknowledges up to relative sequence {} with a window of at \
                     most {window} bytes",
                    acked.ack
                ),
            ),
            ctx.rst_evidence(format!(
                "RST with relative sequence {seq}, {how_far} bytes {side} the acceptable range"
            )),
        ],
    })
}

/// `idle_timeout` (forged): a forged RST after a long quiet is a stateful device (NAT,
/// firewall, load balancer) that forgot the idle connection and rejected its next packet.
pub fn forged_after_idle(ctx: &Context<'_>, forgery: &Forgery) -> Option<Match> {
    let quiet = idle(ctx).filter(|i| i.gap_ns >= IDLE_MIN_NS)?;
    let mut ev = forgery.evidence.clone();
    ev.extend(quiet_evidence(&quiet));
    Some(Match {
        cause: Cause::IdleTimeout,
        summary: format!(
            "A device between {} and {} forged this RST after the connection had been idle for \
             {}: its idle timer had expired and it no longer knew the connection.",
            ctx.name(Role::Client),
            ctx.name(Role::Server),
            duration(quiet.gap_ns)
        ),
        next_step: format!(
            "Find the NAT, firewall or load balancer in the path whose idle timeout is at most \
             {}, and keep the connection busy below it (TCP keepalive, application pings) or \
             raise the timer; the idle time is {}.",
            duration(quiet.gap_ns),
            timer_comparison(quiet.gap_ns)
        ),
        evidence: ev,
    })
}

/// `middlebox`: a forged RST without a long quiet before it: a firewall rule, IPS, content
/// filter or injector that decided to cut the connection.
pub fn middlebox(ctx: &Context<'_>, forgery: &Forgery) -> Option<Match> {
    Some(Match {
        cause: Cause::Middlebox,
        summary: format!(
            "{} did not send this RST: its TTL ({}) matches none of that host's packets, so a \
             device in the path forged it.",
            capitalise(&ctx.name(ctx.sender())),
            forgery.ttl
        ),
        next_step: format!(
            "Find the firewall, IPS or proxy between {} and {} that injects resets, and check \
             its logs and rules for this connection.",
            ctx.name(Role::Client),
            ctx.name(Role::Server)
        ),
        evidence: forgery.evidence.clone(),
    })
}

/// `refused`: a RST from the server while the handshake is under way answers the SYN: nothing
/// listens on the port, or a firewall rejects the connection (RFC 9293 section 3.10.7.1: a
/// segment to a closed port is answered with RST).
pub fn refused(ctx: &Context<'_>, phase: Phase) -> Option<Match> {
    if phase != Phase::Handshake || ctx.sender() != Role::Server {
        return None;
    }
    let mut ev = Vec::new();
    if let Some(syn) = ctx.before.syn {
        ev.push(evidence(
            syn,
            format!("SYN from {}", ctx.name(Role::Client)),
        ));
    }
    let answer = if ctx.rst.flags.ack() {
        "RST+ACK answering the SYN"
    } else {
        "RST answering the connection attempt"
    };
    ev.push(ctx.rst_evidence(answer));
    Some(Match {
        cause: Cause::Refused,
        summary: format!(
            "{} refused the connection: it answered the SYN with a reset (nothing listens on \
             port {}, or a firewall rejects it).",
            capitalise(&ctx.name(Role::Server)),
            ctx.server.port()
        ),
        next_step: format!(
            "Check that a program listens on port {} of {} (`ss -ltn`) and that no firewall \
             rejects it with a TCP reset.",
            ctx.server.port(),
            ctx.server.ip()
        ),
        evidence: ev,
    })
}

/// `after_close`: both sides had sent their FIN, so the connection was over; the RST answers a
/// late or duplicated segment that reached a socket that no longer exists (TIME-WAIT or gone).
pub fn after_close(ctx: &Context<'_>, phase: Phase) -> Option<Match> {
    if phase != Phase::AfterClose {
        return None;
    }
    let mut ev: Vec<Evidence> = ctx
        .before
        .fin
        .iter()
        .zip([Role::Client, Role::Server])
        .filter_map(|(fin, role)| {
            fin.map(|at| evidence(at, format!("FIN from the {}", role.name())))
        })
        .collect();
    if let Some(trigger) = idle(ctx).and_then(|i| i.trigger) {
        ev.push(evidence(
            trigger.at,
            format!(
                "a late segment from the {} after both FINs",
                trigger.role.name()
            ),
        ));
    }
    ev.push(ctx.rst_evidence("RST answering it"));
    Some(Match {
        cause: Cause::AfterClose,
        summary: format!(
            "Both sides had already closed the connection; {} answered a late segment with a \
             reset. Usually harmless.",
            ctx.name(ctx.sender())
        ),
        next_step: "Nothing to do unless such late segments are frequent; then look for \
                    duplication or long delays in the path."
            .into(),
        evidence: ev,
    })
}

/// `zero_window_stall`: a receive window that had been zero for at least
/// [`ZERO_WINDOW_STALL_MIN_NS`] and never reopened before the RST: the receiving application
/// stopped reading and one side gave up. Either side's zero window counts (the sender of data
/// aborting, or the stalled receiver closing with unread data).
pub fn zero_window_stall(ctx: &Context<'_>) -> Option<Match> {
    let t = ctx.before;
    let (role, since) = [ctx.receiver(), ctx.sender()]
        .into_iter()
        .find_map(|role| t.zero_window[role.index()].map(|at| (role, at)))?;
    let stalled = ns_between(since, ctx.rst.at);
    if stalled < ZERO_WINDOW_STALL_MIN_NS {
        return None;
    }
    let stalled_name = ctx.name(role);
    let mut ev = vec![evidence(
        since,
        format!("{stalled_name} advertises a zero window"),
    )];
    if let Some(last) = t.last_from[role.index()].filter(|l| *l != since) {
        ev.push(evidence(last, "the window is still zero"));
    }
    ev.push(ctx.rst_evidence(format!("RST {} after the window closed", duration(stalled))));
    Some(Match {
        cause: Cause::ZeroWindowStall,
        summary: format!(
            "{} had advertised a zero window for {} (its application stopped reading), and {} \
             gave up with a reset.",
            capitalise(&stalled_name),
            duration(stalled),
            ctx.name(ctx.sender())
        ),
        next_step: format!(
            "Find out why the application behind {stalled_name} stopped reading from the socket \
             (blocked thread, slow consumer, deadlock)."
        ),
        evidence: ev,
    })
}

/// `retransmission_timeout` (seen): the RST's sender had retransmitted data that the peer
/// never acknowledged: it gave up on the path (Windows resets after
/// `TcpMaxDataRetransmissions`; Linux drops silently and resets the peer's next segment).
pub fn unacknowledged_retransmissions(ctx: &Context<'_>) -> Option<Match> {
    let r = ctx.before.retrans[ctx.sender().index()]?;
    let sender = ctx.name(ctx.sender());
    let mut ev = vec![evidence(r.first, "retransmission, never acknowledged")];
    if r.last != r.first {
        ev.push(evidence(
            r.last,
            format!("retransmission {} of the same data", r.count),
        ));
    }
    ev.push(ctx.rst_evidence("RST after the retransmissions"));
    Some(Match {
        cause: Cause::RetransmissionTimeout,
        summary: format!(
            "{} retransmitted data {} times over {} without an acknowledgement, then the \
             connection was reset: it gave up on the path.",
            capitalise(&sender),
            r.count,
            duration(ns_between(r.first, r.last))
        ),
        next_step: format!(
            "Find where packets from {sender} to {} are lost (capture on both sides of the \
             path): a route change, a full queue, an MTU black hole or a dead peer.",
            ctx.name(ctx.receiver())
        ),
        evidence: ev,
    })
}

/// `data_after_close`: the RST's sender had closed (sent FIN) and the peer sent data after
/// it; the closed socket answered that data with a reset. The keep-alive race: a pooled
/// connection reused just as the server's idle timeout closed it.
pub fn data_after_close(ctx: &Context<'_>) -> Option<Match> {
    let t = ctx.before;
    let fin = t.fin[ctx.sender().index()]?;
    let data = t.data_after_peer_fin[ctx.receiver().index()]?;
    let sender = ctx.name(ctx.sender());
    let quiet = t.fin_after_quiet_ns[ctx.sender().index()].unwrap_or(0);
    let mut ev = vec![evidence(
        fin,
        format!("{sender} closes (FIN) after {} of quiet", duration(quiet)),
    )];
    ev.push(evidence(
        data,
        format!(
            "{} sends data {} after that FIN",
            ctx.name(ctx.receiver()),
            duration(ns_between(fin, data))
        ),
    ));
    ev.push(ctx.rst_evidence("RST from the closed socket"));
    Some(Match {
        cause: Cause::DataAfterClose,
        summary: format!(
            "{} had closed the connection after {} idle, and {} still sent data {} later: \
             the keep-alive race of a pooled connection reused as it was being closed.",
            capitalise(&sender),
            duration(quiet),
            ctx.name(ctx.receiver()),
            duration(ns_between(fin, data))
        ),
        next_step: format!(
            "Make the {}'s pool idle timeout shorter than the keep-alive timeout of {} (about \
             {}), and retry idempotent requests that fail with a reset.",
            ctx.receiver().name(),
            sender,
            duration(quiet)
        ),
        evidence: ev,
    })
}

/// `retransmission_timeout` (inferred): a bare RST (no ACK: the answer of a stack that has no
/// socket, RFC 9293 section 3.10.7.1) to the peer's segment, from a side that never closed the
/// connection and had been silent for at least [`SILENT_DROP_MIN_NS`]: it dropped the
/// connection without a FIN or RST, which Linux does when retransmissions time out
/// (`tcp_retries2`), here out of the capture's sight.
pub fn silently_dropped(ctx: &Context<'_>, phase: Phase) -> Option<Match> {
    let t = ctx.before;
    let me = ctx.sender().index();
    if phase != Phase::Established || ctx.rst.flags.ack() || t.fin[me].is_some() {
        return None;
    }
    let trigger = idle(ctx)?.trigger?;
    let last = t.last_from[me]?;
    let silent = ns_between(last, trigger.at);
    if silent < SILENT_DROP_MIN_NS {
        return None;
    }
    let sender = ctx.name(ctx.sender());
    Some(Match {
        cause: Cause::RetransmissionTimeout,
        summary: format!(
            "{} no longer had the connection although it never closed it: after {} of silence \
             it answered a segment from {} with a bare RST. It most likely gave up after \
             retransmissions that never reached this capture point.",
            capitalise(&sender),
            duration(silent),
            ctx.name(ctx.receiver())
        ),
        next_step: format!(
            "Capture next to {sender} to see its retransmissions, and look for packet loss \
             between the two (route change, black hole); if it restarted instead, its logs will \
             say so."
        ),
        evidence: vec![
            evidence(last, format!("last packet from {sender}")),
            evidence(
                trigger.at,
                format!(
                    "{} sends after {} of silence",
                    ctx.name(ctx.receiver()),
                    duration(silent)
                ),
            ),
            ctx.rst_evidence("bare RST (no ACK): the sender has no socket for the connection"),
        ],
    })
}

/// `idle_timeout` (genuine): the RST itself broke a quiet of at least [`IDLE_MIN_NS`] on a
/// connection its sender had not closed: an idle timer of the sender (a server's keep-alive
/// timeout closing with a reset, a load balancer resetting idle connections) fired.
pub fn idle_then_reset(ctx: &Context<'_>, phase: Phase) -> Option<Match> {
    if !matches!(phase, Phase::Established | Phase::Closing) {
        return None;
    }
    let quiet = idle(ctx).filter(|i| i.trigger.is_none() && i.gap_ns >= IDLE_MIN_NS)?;
    let mut ev = quiet_evidence(&quiet);
    ev.push(ctx.rst_evidence("RST ending the quiet"));
    Some(Match {
        cause: Cause::IdleTimeout,
        summary: format!(
            "{} reset the connection after it had been idle for {}: an idle timer expired.",
            capitalise(&ctx.name(ctx.sender())),
            duration(quiet.gap_ns)
        ),
        next_step: format!(
            "Find the idle timeout of at most {} on the side of {} and keep the connection \
             busy below it, or raise it; the idle time is {}.",
            duration(quiet.gap_ns),
            ctx.name(ctx.sender()),
            timer_comparison(quiet.gap_ns)
        ),
        evidence: ev,
    })
}

/// `abortive_close`: an endpoint that had not sent a FIN ended the open connection with a RST
/// (SO_LINGER 0, an application abort, or closing a socket with unread data: RFC 2525 section
/// 2.17, RFC 9293 section 3.10.4).
pub fn abortive_close(ctx: &Context<'_>, phase: Phase) -> Option<Match> {
    let open = matches!(phase, Phase::Established | Phase::Closing)
        || (phase == Phase::Handshake && ctx.sender() == Role::Client);
    if !open || ctx.before.fin[ctx.sender().index()].is_some() {
        return None;
    }
    Some(fallback(ctx))
}

/// What is said of a genuine RST no rule explains: the sender ended the connection abortively.
pub fn fallback(ctx: &Context<'_>) -> Match {
    let sender = ctx.name(ctx.sender());
    let mut ev = Vec::new();
    if let Some(last) = ctx.before.recent[0] {
        ev.push(evidence(
            last.at,
            format!("last packet before the RST, from the {}", last.role.name()),
        ));
    }
    let unread = if ctx.rst.flags.ack() {
        "RST+ACK"
    } else {
        "RST"
    };
    ev.push(ctx.rst_evidence(format!("{unread} instead of FIN from {sender}")));
    Match {
        cause: Cause::AbortiveClose,
        summary: format!(
            "{} ended the connection with a reset instead of a FIN: an abortive close \
             (SO_LINGER 0, an application abort, or closing with unread data).",
            capitalise(&sender)
        ),
        next_step: format!(
            "Check the application of {sender} at this moment: does it abort on an error or \
             timeout, set SO_LINGER 0, or close before reading the whole request? Its logs will \
             say which."
        ),
        evidence: ev,
    }
}

fn quiet_evidence(quiet: &Idle) -> Vec<Evidence> {
    let mut ev = vec![evidence(
        quiet.quiet_from,
        format!("last packet before {} of quiet", duration(quiet.gap_ns)),
    )];
    if let Some(trigger) = quiet.trigger {
        ev.push(evidence(
            trigger.at,
            format!("the {} speaks again after the quiet", trigger.role.name()),
        ));
    }
    ev
}

/// The idle time compared with [`COMMON_IDLE_TIMERS`]: which defaults it reaches (one of them
/// may have expired) and the next one above.
pub fn timer_comparison(gap_ns: i64) -> String {
    let gap_s = gap_ns as f64 / 1e9;
    let reached = COMMON_IDLE_TIMERS
        .iter()
        .rev()
        .find(|t| t.seconds as f64 <= gap_s)
        .map(|t| t.seconds);
    let above = COMMON_IDLE_TIMERS
        .iter()
        .find(|t| t.seconds as f64 > gap_s)
        .map(|t| t.seconds);
    let names = |secs: u64| {
        let names: Vec<&str> = COMMON_IDLE_TIMERS
            .iter()
            .filter(|t| t.seconds == secs)
            .map(|t| t.name)
            .collect();
        let shown = COMMON_IDLE_TIMERS
            .iter()
            .find(|t| t.seconds == secs)
            .map_or("", |t| t.shown);
        format!("{}, {shown}", names.join(" and "))
    };
    match (reached, above) {
        (None, Some(first)) => format!(
            "shorter than every common default (the shortest: {}), so a custom timer",
            names(first)
        ),
        (Some(r), Some(a)) => format!(
            "as long as {} or longer, which may have expired, and shorter than {}",
            names(r),
            names(a)
        ),
        (Some(r), None) => format!("as long as {} or longer, which may have expired", names(r)),
        (None, None) => "not comparable with a common default".into(),
    }
}

/// "the server" -> "The server".
fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
