//! The plain data the diagnosis produces, with stable snake_case ids, and the plain-language
//! texts of each cause.

use serde::{Deserialize, Serialize};

/// Who sent a RST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    /// The client's TCP stack.
    Client,
    /// The server's TCP stack.
    Server,
    /// A device in the path forged it in the name of the client or the server.
    Middlebox,
}

impl Sender {
    /// The stable id.
    pub fn id(self) -> &'static str {
        match self {
            Sender::Client => "client",
            Sender::Server => "server",
            Sender::Middlebox => "middlebox",
        }
    }
}

/// Where in the connection's life a RST came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// A SYN was seen and the handshake had not completed.
    Handshake,
    /// The connection was open (handshake done, or seen mid-stream), no FIN yet.
    Established,
    /// One side had sent a FIN.
    Closing,
    /// Both sides had sent a FIN.
    AfterClose,
    /// Nothing else of the connection is in the capture.
    NoConnection,
}

impl Phase {
    /// The stable id.
    pub fn id(self) -> &'static str {
        match self {
            Phase::Handshake => "handshake",
            Phase::Established => "established",
            Phase::Closing => "closing",
            Phase::AfterClose => "after_close",
            Phase::NoConnection => "no_connection",
        }
    }
}

/// Why a RST was sent. See [`Cause::explanation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Refused,
    AbortiveClose,
    DataAfterClose,
    IdleTimeout,
    Middlebox,
    MassReset,
    RetransmissionTimeout,
    ZeroWindowStall,
    OutOfWindow,
    AfterClose,
    NoConnection,
}

impl Cause {
    /// Every cause, in the order the page and the README list them.
    pub const ALL: [Cause; 11] = [
        Cause::Refused,
        Cause::AbortiveClose,
        Cause::DataAfterClose,
        Cause::IdleTimeout,
        Cause::Middlebox,
        Cause::MassReset,
        Cause::RetransmissionTimeout,
        Cause::ZeroWindowStall,
        Cause::OutOfWindow,
        Cause::AfterClose,
        Cause::NoConnection,
    ];

    /// The stable id (as serialised).
    pub fn id(self) -> &'static str {
        match self {
            Cause::Refused => "refused",
            Cause::AbortiveClose => "abortive_close",
            Cause::DataAfterClose => "data_after_close",
            Cause::IdleTimeout => "idle_timeout",
            Cause::Middlebox => "middlebox",
            Cause::MassReset => "mass_reset",
            Cause::RetransmissionTimeout => "retransmission_timeout",
            Cause::ZeroWindowStall => "zero_window_stall",
            Cause::OutOfWindow => "out_of_window",
            Cause::AfterClose => "after_close",
            Cause::NoConnection => "no_connection",
        }
    }

    /// The cause with this id.
    pub fn from_id(id: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.id() == id)
    }

    /// A short title for tables.
    pub fn title(self) -> &'static str {
        match self {
            Cause::Refused => "Connection refused",
            Cause::AbortiveClose => "Abortive close",
            Cause::DataAfterClose => "Data after close (keep-alive race)",
            Cause::IdleTimeout => "Idle timeout",
            Cause::Middlebox => "Forged by a middlebox",
            Cause::MassReset => "Mass reset (crash or restart)",
            Cause::RetransmissionTimeout => "Retransmission timeout",
            Cause::ZeroWindowStall => "Zero-window stall",
            Cause::OutOfWindow => "Out of window (ignored)",
            Cause::AfterClose => "After close (late segment)",
            Cause::NoConnection => "No connection in the capture",
        }
    }

    /// What the cause means, in plain words, for the page and the README's user guide.
    pub fn explanation(self) -> &'static str {
        match self {
            Cause::Refused => {
                "The answer to a connection attempt (SYN) was a reset: nothing listens on that \
                 port, or a firewall rejects the connection on the host's behalf. The connection \
                 never opened."
            }
            Cause::AbortiveClose => {
                "An endpoint ended an open connection with a reset instead of the normal FIN. \
                 Applications do this on purpose (SO_LINGER with a zero timeout, an explicit \
                 abort), and operating systems do it when a program closes a socket that still \
                 has unread data, or when the program exits or crashes with such a socket."
            }
            Cause::DataAfterClose => {
                "One side had already closed the connection (sent FIN) and the other side then \
                 sent more data, which the closed socket answered with a reset. The classic case \
                 is a pooled keep-alive connection that a client reuses at the very moment the \
                 server's idle timeout closes it: the request is lost and must be retried."
            }
            Cause::IdleTimeout => {
                "The reset came after the connection had been idle for a long time. Load \
                 balancers, NAT gateways and firewalls forget idle connections after a timer \
                 expires, then reset (or drop) the next packet; servers close idle keep-alive \
                 connections the same way. Compare the idle time with the timers in the path."
            }
            Cause::Middlebox => {
                "The reset was not sent by the host it claims to come from: its IP TTL (hop \
                 limit) differs from every other packet that host sent in this connection, so a \
                 device in the path (firewall, IPS, proxy, load balancer) forged it."
            }
            Cause::MassReset => {
                "One host reset many connections within a few milliseconds. That is what happens \
                 when a process crashes, is killed or restarts: the operating system resets every \
                 connection the process had."
            }
            Cause::RetransmissionTimeout => {
                "A side sent data that was never acknowledged, retransmitted it until it gave up, \
                 and the connection was torn down: the reset is the visible end of a path that \
                 stopped delivering packets (a black hole, a dead peer, a full queue)."
            }
            Cause::ZeroWindowStall => {
                "The receiver advertised a zero window (its application stopped reading) for a \
                 long time, and one side gave up and reset the connection."
            }
            Cause::OutOfWindow => {
                "The reset's sequence number lies outside the receiver's window, so a real TCP \
                 stack ignores it (RFC 5961). It is a stale reset for an old connection, or a \
                 blind reset attempt by a device or attacker that does not know the sequence \
                 numbers. It usually changes nothing."
            }
            Cause::AfterClose => {
                "Both sides had already closed the connection; a late or duplicated segment \
                 reached a socket that no longer exists and was answered with a reset. Usually \
                 harmless."
            }
            Cause::NoConnection => {
                "Nothing else of this connection is in the capture, so there is no context to say \
                 why the reset was sent: the connection started before the capture or its other \
                 packets took another path."
            }
        }
    }
}

/// How a connection ended, as far as the capture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Handshake (or mid-stream start) and a FIN in both directions, no reset that took effect
    /// before (a late or ignored reset may follow).
    Completed,
    /// A reset ended the connection.
    Reset,
    /// The SYN was answered by a reset.
    Refused,
    /// SYNs were never answered; the client gave up (see `syn_attempts`).
    Timeout,
    /// The capture ends with the connection neither closed nor reset.
    Open,
}

impl Outcome {
    /// The stable id.
    pub fn id(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Reset => "reset",
            Outcome::Refused => "refused",
            Outcome::Timeout => "timeout",
            Outcome::Open => "open",
        }
    }
}

/// One packet that supports a verdict, and what it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// 1-based frame number, as Wireshark shows it.
    pub frame: u64,
    pub what: String,
}

/// The diagnosis of one RST packet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResetVerdict {
    /// 1-based frame number of the RST.
    pub frame: u64,
    /// Who sent it (client, server, or middlebox when the evidence says the named sender did
    /// not).
    pub sender: Sender,
    /// Who the RST claims to come from (its source address): client or server.
    pub claimed_sender: Sender,
    pub phase: Phase,
    /// The most likely cause.
    pub cause: Cause,
    /// Further causes whose rules also match, most likely first.
    pub also: Vec<Cause>,
    /// One sentence.
    pub summary: String,
    /// What to check next, one sentence.
    pub next_step: String,
    /// The packets that prove it, in frame order.
    pub evidence: Vec<Evidence>,
}

/// The diagnosis of one connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionDiagnosis {
    /// Wireshark's `tcp.stream`.
    pub stream: u32,
    pub outcome: Outcome,
    /// One sentence on how the connection ended.
    pub summary: String,
    /// For a connection attempt that was never answered: when each SYN was sent, in seconds
    /// after the first (the retry schedule). Empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub syn_attempts: Vec<f64>,
    /// Every RST of the connection, in frame order.
    pub resets: Vec<ResetVerdict>,
}

/// How many resets had one primary cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CauseCount {
    pub cause: Cause,
    pub resets: u32,
}

/// How many connections had one outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCount {
    pub outcome: Outcome,
    pub connections: u32,
}

/// Resets between one client host and one server endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerPairCount {
    /// The client's address (no port: a client uses many).
    pub client: String,
    /// The server's `address:port`.
    pub server: String,
    pub resets: u32,
    /// Per primary cause, most frequent first.
    pub by_cause: Vec<CauseCount>,
}

/// Resets over the capture's time, in equal buckets from its first packet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeHistogram {
    /// Width of one bucket, in seconds (1, 2 or 5 times a power of ten, or minutes/hours).
    pub bucket_seconds: f64,
    /// Resets per bucket; bucket `i` starts `i * bucket_seconds` after the first packet.
    pub resets: Vec<u32>,
}

/// What the capture as a whole shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// RST packets in the capture.
    pub resets: u32,
    pub connections: u32,
    /// Per primary cause, most frequent first.
    pub by_cause: Vec<CauseCount>,
    /// Per connection outcome, most frequent first.
    pub outcomes: Vec<OutcomeCount>,
    /// Per (client host, server endpoint), most resets first (at most
    /// [`super::MAX_PEER_PAIRS`]).
    pub by_peers: Vec<PeerPairCount>,
    pub by_time: TimeHistogram,
    /// The few findings that matter most, as sentences, most important first.
    pub findings: Vec<String>,
}

/// The diagnosis of a whole capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// One per connection, indexed like the flow table (by stream).
    pub connections: Vec<ConnectionDiagnosis>,
    pub summary: Summary,
}

impl Diagnosis {
    /// Every reset verdict, in stream then frame order.
    pub fn resets(&self) -> impl Iterator<Item = &ResetVerdict> {
        self.connections.iter().flat_map(|c| c.resets.iter())
    }
}

/// A well-known idle timer: the facts the idle-timeout diagnosis compares an idle time with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleTimer {
    /// What it is, as its documentation names it.
    pub name: &'static str,
    /// Its default value.
    pub seconds: u64,
    /// The default as its documentation writes it.
    pub shown: &'static str,
}

/// Default idle timers of common devices and servers, shortest first. Each value is the
/// product's documented default:
/// - Apache HTTP Server `KeepAliveTimeout`: 5 s (httpd core documentation).
/// - Node.js `http.Server.keepAliveTimeout`: 5 s (Node.js http documentation).
/// - AWS Application / Classic Load Balancer idle timeout: 60 s (Elastic Load Balancing docs).
/// - nginx `keepalive_timeout`: 75 s (ngx_http_core_module documentation).
/// - Azure Load Balancer TCP idle timeout: 4 minutes (Azure Load Balancer docs).
/// - AWS Network Load Balancer TCP idle timeout: 350 s (Elastic Load Balancing docs).
/// - Google Cloud VPC firewall connection tracking of idle established TCP: 10 minutes (VPC
///   firewall rules documentation).
/// - Linux conntrack `nf_conntrack_tcp_timeout_established` (iptables/nftables stateful
///   firewalls and NAT): 432000 s, 5 days (kernel `nf_conntrack` sysctl documentation).
pub const COMMON_IDLE_TIMERS: [IdleTimer; 8] = [
    IdleTimer {
        name: "Apache KeepAliveTimeout",
        seconds: 5,
        shown: "5 s",
    },
    IdleTimer {
        name: "Node.js http server keepAliveTimeout",
        seconds: 5,
        shown: "5 s",
    },
    IdleTimer {
        name: "AWS ALB/ELB idle timeout",
        seconds: 60,
        shown: "60 s",
    },
    IdleTimer {
        name: "nginx keepalive_timeout",
        seconds: 75,
        shown: "75 s",
    },
    IdleTimer {
        name: "Azure Load Balancer idle timeout",
        seconds: 240,
        shown: "4 min",
    },
    IdleTimer {
        name: "AWS NLB idle timeout",
        seconds: 350,
        shown: "350 s",
    },
    IdleTimer {
        name: "Google Cloud firewall connection tracking",
        seconds: 600,
        shown: "10 min",
    },
    IdleTimer {
        name: "Linux conntrack established timeout (iptables default)",
        seconds: 432_000,
        shown: "5 days",
    },
];
