//! Across connections: mass resets (one host resetting many connections at once), and the
//! capture-level summary (by cause, by peer pair, over time, and the findings that matter most
//! as sentences).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use crate::capture::Timestamp;
use crate::flow::StreamId;

use super::model::{
    Cause, CauseCount, ConnectionDiagnosis, Evidence, Outcome, OutcomeCount, PeerPairCount,
    ResetVerdict, Sender, Summary, TimeHistogram,
};
use super::text::{clock, duration};
use super::timeline::{At, Role};

/// A host that resets at least this many connections within [`MASS_RESET_WINDOW_NS`] crashed
/// or restarted: two at once happen by chance (a client closing two pooled connections), three
/// or more distinct connections within a few milliseconds is the kernel cleaning up after a
/// process that died (the "many connections within a few ms").
pub const MASS_RESET_MIN_CONNECTIONS: usize = 3;

/// The "few milliseconds" a mass reset spans, measured from its first RST: a dying process's
/// sockets are reset by its kernel within microseconds; resets triggered by the peers' next
/// segments arrive as fast as those come.
pub const MASS_RESET_WINDOW_NS: i64 = 5_000_000;

/// How many other RSTs of a mass reset are cited as evidence on each of its verdicts.
const MASS_RESET_EVIDENCE: usize = 8;

/// How many peer pairs the summary lists.
pub const MAX_PEER_PAIRS: usize = 20;

/// How many findings the summary states.
pub const MAX_FINDINGS: usize = 5;

/// The time histogram has at most this many buckets.
pub const MAX_TIME_BUCKETS: i64 = 60;

/// Bucket widths the histogram chooses from, in seconds: 1-2-5 steps, then minutes, hours,
/// days, years.
const BUCKET_WIDTHS_S: [f64; 27] = [
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    1800.0,
    3600.0,
    7200.0,
    21600.0,
    43200.0,
    86400.0,
    604_800.0,
    2_592_000.0,
    31_536_000.0,
];

/// One RST with what the summary needs beside its verdict.
#[derive(Debug, Clone)]
pub struct Found {
    pub stream: StreamId,
    pub at: At,
    pub claimed: Role,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Whole until [`mark_mass_resets`] is done; then it moves to its connection, and only
    /// its scalar fields (cause, sender, phase, frame) stay here for [`summarise`].
    pub verdict: ResetVerdict,
}

impl Found {
    fn sender_ip(&self) -> IpAddr {
        match self.claimed {
            Role::Client => self.client.ip(),
            Role::Server => self.server.ip(),
        }
    }
}

/// A mass reset: the RSTs (positions in the `Found` list) of one host within the window.
#[derive(Debug, Clone)]
pub struct Burst {
    pub members: Vec<usize>,
    pub role: Role,
    pub start: Timestamp,
    pub span_ns: i64,
}

/// Whether a verdict may be part of a mass reset: a genuine RST that ended an open connection
/// (abortive close, data after close, or a genuine reset after a quiet spell), which is what a
/// dying process leaves behind. An endpoint's own idle timers run per connection and do not
/// fire on many connections within milliseconds: when they seem to, the process went away.
fn joins_mass_reset(f: &Found) -> bool {
    f.verdict.sender != Sender::Middlebox
        && matches!(
            f.verdict.cause,
            Cause::AbortiveClose | Cause::DataAfterClose | Cause::IdleTimeout
        )
}

/// `mass_reset`: at least [`MASS_RESET_MIN_CONNECTIONS`] distinct connections reset by the
/// same host (the RSTs' source address) within [`MASS_RESET_WINDOW_NS`] of the first. Marks
/// their verdicts (the earlier cause moves to `also`) and returns the bursts.
pub fn mark_mass_resets(found: &mut [Found]) -> Vec<Burst> {
    let mut order: Vec<usize> = (0..found.len())
        .filter(|&i| joins_mass_reset(&found[i]))
        .collect();
    order.sort_by_key(|&i| (found[i].sender_ip(), found[i].at.ts, i));
    let mut bursts = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let first = &found[order[i]];
        let mut j = i;
        while j < order.len()
            && found[order[j]].sender_ip() == first.sender_ip()
            && found[order[j]].at.ts.0.saturating_sub(first.at.ts.0) <= MASS_RESET_WINDOW_NS
        {
            j += 1;
        }
        // Fewer resets than that cannot come from enough connections.
        if j - i >= MASS_RESET_MIN_CONNECTIONS {
            let members = &order[i..j];
            let streams: BTreeSet<StreamId> = members.iter().map(|&m| found[m].stream).collect();
            if streams.len() >= MASS_RESET_MIN_CONNECTIONS {
                let last = members.iter().map(|&m| found[m].at.ts.0).max().unwrap_or(0);
                bursts.push(Burst {
                    role: first.claimed,
                    start: first.at.ts,
                    span_ns: last.saturating_sub(first.at.ts.0),
                    members: members.to_vec(),
                });
                i = j;
                continue;
            }
        }
        i += 1;
    }
    for burst in &bursts {
        mark_burst(found, burst);
    }
    bursts
}

fn mark_burst(found: &mut [Found], burst: &Burst) {
    let n = burst.members.len();
    let frames: Vec<(usize, u64)> = burst
        .members
        .iter()
        .map(|&m| (m, found[m].at.frame()))
        .collect();
    for &m in &burst.members {
        let f = &mut found[m];
        let host = match f.claimed {
            Role::Client => f.client,
            Role::Server => f.server,
        };
        let role = f.claimed.name();
        let v = &mut f.verdict;
        let earlier = v.cause;
        v.also.retain(|c| *c != earlier && *c != Cause::MassReset);
        v.also.insert(0, earlier);
        v.cause = Cause::MassReset;
        v.summary = format!(
            "The {role} {host} reset this connection together with {} others within {} at {}: \
             the {role} process most likely exited, crashed or was restarted.",
            n - 1,
            duration(burst.span_ns),
            clock(burst.start)
        );
        v.next_step = format!(
            "Check {} at {} for a crash, an OOM kill, a restart or a deployment (process \
             uptime, service manager and kernel logs).",
            host.ip(),
            clock(burst.start)
        );
        for &(other, frame) in frames
            .iter()
            .filter(|(o, _)| *o != m)
            .take(MASS_RESET_EVIDENCE)
        {
            let _ = other;
            v.evidence.push(Evidence {
                frame,
                what: format!("RST from the same {role} host on another connection"),
            });
        }
        v.evidence.sort_by_key(|e| e.frame);
    }
}

/// The capture-level summary.
pub fn summarise(
    found: &[Found],
    bursts: &[Burst],
    connections: &[ConnectionDiagnosis],
    conn_peers: &[(SocketAddr, SocketAddr)],
    span: Option<(Timestamp, Timestamp)>,
) -> Summary {
    Summary {
        resets: u32::try_from(found.len()).unwrap_or(u32::MAX),
        connections: u32::try_from(connections.len()).unwrap_or(u32::MAX),
        by_cause: count_causes(found.iter()),
        outcomes: count_outcomes(connections),
        by_peers: by_peers(found),
        by_time: by_time(found, span),
        findings: findings(found, bursts, connections, conn_peers),
    }
}

fn count_causes<'a>(found: impl Iterator<Item = &'a Found>) -> Vec<CauseCount> {
    let mut counts: BTreeMap<Cause, u32> = BTreeMap::new();
    for f in found {
        *counts.entry(f.verdict.cause).or_default() += 1;
    }
    let mut out: Vec<CauseCount> = counts
        .into_iter()
        .map(|(cause, resets)| CauseCount { cause, resets })
        .collect();
    out.sort_by(|a, b| b.resets.cmp(&a.resets).then(a.cause.cmp(&b.cause)));
    out
}

fn count_outcomes(connections: &[ConnectionDiagnosis]) -> Vec<OutcomeCount> {
    let mut counts: BTreeMap<Outcome, u32> = BTreeMap::new();
    for c in connections {
        *counts.entry(c.outcome).or_default() += 1;
    }
    let mut out: Vec<OutcomeCount> = counts
        .into_iter()
        .map(|(outcome, connections)| OutcomeCount {
            outcome,
            connections,
        })
        .collect();
    out.sort_by(|a, b| {
        b.connections
            .cmp(&a.connections)
            .then(a.outcome.cmp(&b.outcome))
    });
    out
}

fn by_peers(found: &[Found]) -> Vec<PeerPairCount> {
    let mut groups: BTreeMap<(IpAddr, SocketAddr), Vec<&Found>> = BTreeMap::new();
    for f in found {
        groups.entry((f.client.ip(), f.server)).or_default().push(f);
    }
    let resets = |members: &[&Found]| u32::try_from(members.len()).unwrap_or(u32::MAX);
    // The pairs with the most resets first (a stable sort: among equals, in address order);
    // only those kept are written out.
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by_key(|(_, members)| std::cmp::Reverse(resets(members)));
    groups.truncate(MAX_PEER_PAIRS);
    groups
        .into_iter()
        .map(|((client, server), members)| PeerPairCount {
            client: client.to_string(),
            server: server.to_string(),
            resets: resets(&members),
            by_cause: count_causes(members.into_iter()),
        })
        .collect()
}

/// Resets over time, in at most [`MAX_TIME_BUCKETS`] buckets of a round width.
fn by_time(found: &[Found], span: Option<(Timestamp, Timestamp)>) -> TimeHistogram {
    let Some((first, last)) = span else {
        return TimeHistogram {
            bucket_seconds: 1.0,
            resets: Vec::new(),
        };
    };
    let total_ns = last.0.saturating_sub(first.0).max(0);
    let width_ns = BUCKET_WIDTHS_S
        .iter()
        .map(|s| (s * 1e9) as i64)
        .find(|w| total_ns / w < MAX_TIME_BUCKETS)
        .unwrap_or_else(|| (total_ns / (MAX_TIME_BUCKETS - 1)).max(1));
    let buckets = (total_ns / width_ns + 1).clamp(1, MAX_TIME_BUCKETS);
    let mut resets = vec![0u32; usize::try_from(buckets).unwrap_or(1)];
    for f in found {
        let offset = f.at.ts.0.saturating_sub(first.0).max(0);
        let i = usize::try_from((offset / width_ns).min(buckets - 1)).unwrap_or(0);
        if let Some(slot) = resets.get_mut(i) {
            *slot = slot.saturating_add(1);
        }
    }
    TimeHistogram {
        bucket_seconds: width_ns as f64 / 1e9,
        resets,
    }
}

/// "10.0.0.1" when all are one host, else "3 clients".
fn hosts(addrs: &BTreeSet<IpAddr>, what: &str) -> String {
    match (addrs.len(), addrs.iter().next()) {
        (1, Some(a)) => a.to_string(),
        (n, _) => format!("{n} {what}s"),
    }
}

/// "10.0.0.2:80" when all are one endpoint, else "10.0.0.2" (one host), else "3 servers".
fn endpoints(addrs: &BTreeSet<SocketAddr>, what: &str) -> String {
    let ips: BTreeSet<IpAddr> = addrs.iter().map(|a| a.ip()).collect();
    match (addrs.len(), addrs.iter().next(), ips.len()) {
        (1, Some(a), _) => a.to_string(),
        (_, _, 1) => hosts(&ips, what),
        (n, _, _) => format!("{n} {what}s"),
    }
}

/// A finding and how much it matters (higher first).
struct Finding<'a> {
    weight: u64,
    sentence: Sentence<'a>,
}

/// A finding's sentence, written only for the few findings kept.
enum Sentence<'a> {
    Written(String),
    /// Resets of one cause towards one server (see [`cause_sentence`]).
    Cause {
        cause: Cause,
        forged: bool,
        server: SocketAddr,
        members: Vec<&'a Found>,
    },
}

/// The few findings that matter most: mass resets first, then forged resets, then each cause
/// per server endpoint, unanswered connection attempts, harmless resets last.
fn findings(
    found: &[Found],
    bursts: &[Burst],
    connections: &[ConnectionDiagnosis],
    conn_peers: &[(SocketAddr, SocketAddr)],
) -> Vec<String> {
    let mut out: Vec<Finding> = Vec::new();
    for b in bursts {
        let members: Vec<&Found> = b.members.iter().filter_map(|&m| found.get(m)).collect();
        let clients: BTreeSet<IpAddr> = members.iter().map(|f| f.client.ip()).collect();
        let servers: BTreeSet<SocketAddr> = members.iter().map(|f| f.server).collect();
        let streams: BTreeSet<StreamId> = members.iter().map(|f| f.stream).collect();
        let role = b.role.name();
        out.push(Finding {
            weight: 3_000_000 + streams.len() as u64,
            sentence: Sentence::Written(format!(
                "{} connections from {} to {} were reset by the {role} within {} at {}: a crash \
                 or restart of the {role} process.",
                streams.len(),
                hosts(&clients, "client"),
                endpoints(&servers, "server"),
                duration(b.span_ns),
                clock(b.start)
            )),
        });
    }
    let mut groups: BTreeMap<(Cause, bool, SocketAddr), Vec<&Found>> = BTreeMap::new();
    for f in found.iter().filter(|f| f.verdict.cause != Cause::MassReset) {
        let forged = f.verdict.sender == Sender::Middlebox;
        groups
            .entry((f.verdict.cause, forged, f.server))
            .or_default()
            .push(f);
    }
    for ((cause, forged, server), members) in groups {
        out.push(Finding {
            weight: cause_rank(cause, forged) * 1_000_000 + members.len() as u64,
            sentence: Sentence::Cause {
                cause,
                forged,
                server,
                members,
            },
        });
    }
    let mut timeouts: BTreeMap<SocketAddr, (usize, BTreeSet<IpAddr>)> = BTreeMap::new();
    for (c, (client, server)) in connections.iter().zip(conn_peers) {
        if c.outcome == Outcome::Timeout {
            let e = timeouts.entry(*server).or_default();
            e.0 += 1;
            e.1.insert(client.ip());
        }
    }
    for (server, (n, clients)) in timeouts {
        out.push(Finding {
            weight: 1_000_000 + n as u64,
            sentence: Sentence::Written(format!(
                "{n} connection attempt{} from {} to {server} {} never answered (SYN timeout): \
                 the server is down or a firewall drops the SYNs.",
                plural(n),
                hosts(&clients, "client"),
                were(n)
            )),
        });
    }
    // A stable sort: among equal weights, in the order above.
    out.sort_by_key(|f| std::cmp::Reverse(f.weight));
    out.truncate(MAX_FINDINGS);
    out.into_iter()
        .map(|f| match f.sentence {
            Sentence::Written(sentence) => sentence,
            Sentence::Cause {
                cause,
                forged,
                server,
                members,
            } => {
                let clients: BTreeSet<IpAddr> = members.iter().map(|f| f.client.ip()).collect();
                cause_sentence(
                    cause,
                    forged,
                    members.len(),
                    &hosts(&clients, "client"),
                    server,
                    &members,
                )
            }
        })
        .collect()
}

fn were(n: usize) -> &'static str {
    if n == 1 {
        "was"
    } else {
        "were"
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// How much resets of `cause` matter (forged ones as much as any): 2 acts on the service, 1
/// worth knowing, 0 harmless.
fn cause_rank(cause: Cause, forged: bool) -> u64 {
    match cause {
        _ if forged => 2,
        Cause::Refused
        | Cause::DataAfterClose
        | Cause::IdleTimeout
        | Cause::RetransmissionTimeout
        | Cause::ZeroWindowStall => 2,
        Cause::AbortiveClose | Cause::MassReset | Cause::Middlebox => 1,
        Cause::OutOfWindow | Cause::AfterClose | Cause::NoConnection => 0,
    }
}

/// The sentence for `n` resets of one cause towards one server.
fn cause_sentence(
    cause: Cause,
    forged: bool,
    n: usize,
    clients: &str,
    server: SocketAddr,
    members: &[&Found],
) -> String {
    let s = plural(n);
    let were = were(n);
    let roles: BTreeSet<&str> = members.iter().map(|f| f.claimed.name()).collect();
    let by = roles.into_iter().collect::<Vec<_>>().join(" and the ");
    if forged {
        let what = match cause {
            Cause::Middlebox => String::new(),
            other => format!(": {}", other.title().to_lowercase()),
        };
        return format!(
            "{n} reset{s} between {clients} and {server} {were} forged by a device in the path \
             (TTL unlike the real sender's){what}."
        );
    }
    match cause {
        Cause::Refused => format!(
            "{n} connection attempt{s} from {clients} to {server} {were} refused with a reset."
        ),
        Cause::DataAfterClose => format!(
            "{n} keep-alive connection{s} from {clients} to {server} {were} reset because data \
             came after the {by} had closed: retry idempotent requests, or make the client's \
             idle timeout shorter than the server's."
        ),
        Cause::IdleTimeout => format!(
            "{n} connection{s} from {clients} to {server} {were} reset by the {by} after a long \
             idle period: an idle timer."
        ),
        Cause::RetransmissionTimeout => format!(
            "{n} connection{s} from {clients} to {server} {were} reset after unanswered \
             retransmissions: packets lost on the path, or a dead peer."
        ),
        Cause::ZeroWindowStall => format!(
            "{n} connection{s} from {clients} to {server} {were} reset after a long zero window: \
             an application stopped reading."
        ),
        Cause::AbortiveClose | Cause::MassReset | Cause::Middlebox => format!(
            "{n} connection{s} from {clients} to {server} {were} ended abortively by the {by} \
             (reset instead of FIN)."
        ),
        Cause::OutOfWindow => format!(
            "{n} reset{s} between {clients} and {server} {were} outside the receiver's window, \
             ignored by it."
        ),
        Cause::AfterClose => format!(
            "{n} reset{s} between {clients} and {server} answered late segments after the \
             connection had closed (harmless)."
        ),
        Cause::NoConnection => format!(
            "{n} reset{s} between {clients} and {server} {were} for connections the capture does \
             not show."
        ),
    }
}
