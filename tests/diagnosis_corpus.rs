//! The reset diagnosis over the capture corpus (`RSTSCOPE_CORPUS`, `../shared/captures`):
//! every capture is diagnosed without a panic, every RST gets exactly one verdict with a cause,
//! and the two causes that claim a fact about the packets are checked against the packets
//! themselves, independently of the rules: `no_connection` only where the capture holds nothing
//! but RSTs of the connection, `out_of_window` only where the RST's sequence number really lies
//! outside the receiver's window. Prints the table of causes over the corpus.

mod common;
mod diagnosis_support;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rstscope::analysis::{WindowScale, MAX_WINDOW_SHIFT};
use rstscope::diagnosis::{Cause, Diagnosis, ResetVerdict};
use rstscope::pipeline::Analysis;
use rstscope::seq::SeqNum;

/// The receiver's acceptable range for the RST at frame `frame`, recomputed from the records:
/// from the highest ACK the receiver sent before it, to the furthest the sender's data had
/// reached plus the largest window the receiver advertised (scaled by the largest legal shift
/// when the handshake is unknown). Returns whether the RST's sequence number lies outside.
fn really_out_of_window(analysis: &Analysis, v: &ResetVerdict) -> Result<bool, String> {
    let records = analysis.tcp.records().as_slice();
    let rst_pos = records
        .iter()
        .position(|r| r.frame_number() == v.frame)
        .ok_or("no record for the RST")?;
    let rst = records[rst_pos];
    let ca = analysis
        .tcp
        .connection(rst.stream)
        .ok_or("no connection analysis")?;
    let sender = rst.side();
    let mut highest_ack: Option<SeqNum> = None;
    let mut max_window: u64 = 0;
    let mut reach: Option<SeqNum> = None;
    for r in records[..rst_pos]
        .iter()
        .filter(|r| r.stream == rst.stream && !r.flags().rst())
    {
        let f = r.flags();
        if r.side() == sender {
            let end = SeqNum(r.seq)
                .wrapping_add(r.len)
                .wrapping_add(u32::from(f.syn()) + u32::from(f.fin()));
            reach = Some(reach.map_or(end, |e| if end.is_after(e) { end } else { e }));
        } else {
            if f.ack() {
                let ack = SeqNum(r.ack);
                highest_ack =
                    Some(highest_ack.map_or(ack, |a| if ack.is_after(a) { ack } else { a }));
            }
            let shift = if f.syn() {
                0
            } else {
                match ca.endpoint(r.side()).window_scale {
                    WindowScale::Shift(s) => s,
                    WindowScale::NotUsed => 0,
                    WindowScale::Unknown => MAX_WINDOW_SHIFT,
                }
            };
            max_window = max_window.max(u64::from(r.window) << shift);
        }
    }
    let ack = highest_ack.ok_or("the receiver sent no ACK before the RST")?;
    let reach = reach.map_or(ack, |r| if r.is_after(ack) { r } else { ack });
    let window = u32::try_from(max_window).map_err(|_| "window too large to check")?;
    let right = reach.wrapping_add(window);
    let seq = SeqNum(rst.seq);
    Ok(seq.is_before(ack) || seq.is_at_or_after(right))
}

/// Checks one capture; returns the problems found.
fn check(analysis: &Analysis, diagnosis: &Diagnosis) -> Vec<String> {
    let mut problems = Vec::new();
    let rst_records = analysis
        .tcp
        .records()
        .as_slice()
        .iter()
        .filter(|r| r.flags().rst())
        .count();
    let verdicts = diagnosis.resets().count();
    if rst_records != verdicts {
        problems.push(format!("{rst_records} RST packets but {verdicts} verdicts"));
    }
    for (conn, d) in analysis
        .flows
        .connections()
        .iter()
        .zip(&diagnosis.connections)
    {
        for v in &d.resets {
            if v.summary.is_empty() || v.next_step.is_empty() || v.evidence.is_empty() {
                problems.push(format!(
                    "frame {}: verdict without words or evidence",
                    v.frame
                ));
            }
            if !v.evidence.iter().any(|e| e.frame == v.frame) {
                problems.push(format!("frame {}: evidence does not cite the RST", v.frame));
            }
            match v.cause {
                Cause::NoConnection => {
                    let rsts = u64::from(conn.to_server.rst) + u64::from(conn.to_client.rst);
                    if conn.to_server.packets + conn.to_client.packets != rsts {
                        problems.push(format!(
                            "frame {}: no_connection, but the connection has other packets",
                            v.frame
                        ));
                    }
                }
                Cause::OutOfWindow => match really_out_of_window(analysis, v) {
                    Ok(true) => {}
                    Ok(false) => problems.push(format!(
                        "frame {}: out_of_window, but the sequence number is in the window",
                        v.frame
                    )),
                    Err(e) => problems.push(format!("frame {}: out_of_window, but {e}", v.frame)),
                },
                _ => {}
            }
        }
    }
    problems
}

#[test]
fn every_corpus_reset_gets_a_cause_backed_by_its_packets() {
    let Some(dir) = common::corpus_dir("diagnosis_corpus") else {
        return;
    };
    let mut causes: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    let mut per_file: Vec<(String, BTreeMap<&'static str, u64>)> = Vec::new();
    let mut problems = Vec::new();
    let (mut files, mut resets) = (0, 0);
    for path in common::corpus_captures(&dir) {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let name = path
            .strip_prefix(&dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        let Ok((analysis, diagnosis)) = diagnosis_support::diagnose_bytes(&bytes) else {
            continue;
        };
        files += 1;
        let mut here: BTreeMap<&'static str, u64> = BTreeMap::new();
        for v in diagnosis.resets() {
            resets += 1;
            *causes.entry((v.cause.id(), v.sender.id())).or_default() += 1;
            *here.entry(v.cause.id()).or_default() += 1;
        }
        if !here.is_empty() {
            per_file.push((name.clone(), here));
        }
        problems.extend(
            check(&analysis, &diagnosis)
                .into_iter()
                .map(|p| format!("{name}: {p}")),
        );
    }
    let mut table = String::new();
    let _ = writeln!(
        table,
        "\nresets by primary cause and sender over {files} captures:"
    );
    let mut by_cause: BTreeMap<&str, u64> = BTreeMap::new();
    for ((cause, _), n) in &causes {
        *by_cause.entry(cause).or_default() += n;
    }
    let mut rows: Vec<_> = by_cause.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    for (cause, n) in rows {
        let senders: Vec<String> = causes
            .iter()
            .filter(|((c, _), _)| *c == cause)
            .map(|((_, s), k)| format!("{s} {k}"))
            .collect();
        let _ = writeln!(table, "  {cause:<24} {n:>6}   ({})", senders.join(", "));
    }
    let _ = writeln!(table, "  {:<24} {resets:>6}", "total");
    let _ = writeln!(table, "\nper capture:");
    for (name, here) in &per_file {
        let row: Vec<String> = here.iter().map(|(c, n)| format!("{c} {n}")).collect();
        let _ = writeln!(table, "  {name}: {}", row.join(", "));
    }
    println!("{table}");
    assert!(resets > 0, "the corpus has resets; none were diagnosed");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
