//! The reset diagnosis against the project's own scenario captures (`tests/fixtures/scenarios`,
//! real Linux stacks in network namespaces; `truth.json` says who sent every RST and why, and
//! how every connection ended, at each capture point). Every RST must get the true sender and
//! primary cause, every connection the true outcome; the test prints a table and fails on any
//! difference. `RSTSCOPE_DIAGNOSIS_OUT=<dir>` writes each diagnosis there as
//! JSON.

mod diagnosis_support;

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use rstscope::diagnosis::{Cause, Outcome};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/scenarios");

/// The truth file's outcome ids in ours: `unfinished` is our `open`; `absent` means the
/// capture point has no packet of the connection.
fn truth_outcome(id: &str) -> Option<Outcome> {
    match id {
        "completed" => Some(Outcome::Completed),
        "reset" => Some(Outcome::Reset),
        "refused" => Some(Outcome::Refused),
        "timeout" => Some(Outcome::Timeout),
        "unfinished" => Some(Outcome::Open),
        _ => None,
    }
}

#[test]
fn every_scenario_reset_and_outcome_is_diagnosed_as_the_truth_says() {
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(DIR).join("truth.json")).expect("truth.json"),
    )
    .expect("truth.json is JSON");
    let scenarios = truth["scenarios"].as_object().expect("scenarios");
    let mut table = String::new();
    let mut failures = Vec::new();
    let mut checked = (0, 0);
    let _ = writeln!(
        table,
        "{:<24} {:<6} {:>5}  {:<10} {:<24} {:<10} {:<24} ok",
        "scenario", "point", "frame", "sender", "cause", "ours", "ours"
    );
    for (name, scenario) in scenarios {
        for (point, capture) in scenario["captures"].as_object().expect("captures") {
            let file = capture["file"].as_str().expect("file");
            let bytes = std::fs::read(Path::new(DIR).join(file)).expect("capture file");
            let (analysis, diagnosis) = match diagnosis_support::diagnose_bytes(&bytes) {
                Ok(d) => d,
                Err(e) if capture["packets"].as_u64() == Some(0) => {
                    // An empty pcap (no packet at this point) may carry just a header.
                    let _ = e;
                    assert!(
                        capture["connections"]
                            .as_array()
                            .is_none_or(|c| c.iter().all(|c| c["outcome"] == "absent")),
                        "{file}: unreadable"
                    );
                    continue;
                }
                Err(e) => panic!("{file}: {e}"),
            };
            if let Some(dir) = std::env::var_os("RSTSCOPE_DIAGNOSIS_OUT") {
                let json = serde_json::to_string_pretty(&diagnosis).expect("serialisable");
                std::fs::write(Path::new(&dir).join(format!("{file}.json")), json)
                    .expect("write the diagnosis");
            }
            let truth_rsts = capture["rsts"].as_array().expect("rsts");
            let ours: Vec<_> = diagnosis.resets().collect();
            if ours.len() != truth_rsts.len() {
                failures.push(format!(
                    "{file}: {} RSTs diagnosed, truth has {}",
                    ours.len(),
                    truth_rsts.len()
                ));
            }
            for t in truth_rsts {
                checked.0 += 1;
                let frame = t["frame"].as_u64().expect("frame");
                let sender = t["sender"].as_str().expect("sender");
                let cause = t["primary_cause"].as_str().expect("primary_cause");
                let v = ours.iter().find(|v| v.frame == frame);
                let (our_sender, our_cause) =
                    v.map_or(("-", "-"), |v| (v.sender.id(), v.cause.id()));
                let ok = our_sender == sender && our_cause == cause;
                let _ = writeln!(
                    table,
                    "{name:<24} {point:<6} {frame:>5}  {sender:<10} {cause:<24} {our_sender:<10} \
                     {our_cause:<24} {}",
                    if ok { "yes" } else { "NO" }
                );
                if !ok {
                    failures.push(format!(
                        "{file} frame {frame}: truth {sender}/{cause}, ours {our_sender}/{our_cause}: {}",
                        v.map_or(String::new(), |v| format!("{v:#?}"))
                    ));
                }
                assert!(Cause::from_id(cause).is_some(), "unknown cause id {cause}");
            }
            for t in capture["connections"].as_array().expect("connections") {
                checked.1 += 1;
                let (cp, sp) = (t["client_port"].as_u64(), t["server_port"].as_u64());
                let want = t["outcome"].as_str().expect("outcome");
                let ours = analysis.flows.connections().iter().find(|c| {
                    Some(u64::from(c.client.port())) == cp && Some(u64::from(c.server.port())) == sp
                });
                let got = ours
                    .and_then(|c| diagnosis.connections.get(c.stream.index()))
                    .map(|d| d.outcome);
                let ok = match truth_outcome(want) {
                    Some(o) => got == Some(o),
                    None => got.is_none(),
                };
                let _ = writeln!(
                    table,
                    "{name:<24} {point:<6} conn {}->{}  outcome {want:<10} ours {:<10} {}",
                    cp.unwrap_or(0),
                    sp.unwrap_or(0),
                    got.map_or("absent", |o| o.id()),
                    if ok { "yes" } else { "NO" }
                );
                if !ok {
                    failures.push(format!(
                        "{file} connection {cp:?}->{sp:?}: truth {want}, ours {got:?}"
                    ));
                }
            }
        }
    }
    println!("{table}");
    println!("checked {} RSTs and {} connections", checked.0, checked.1);
    assert!(checked.0 > 0 && checked.1 > 0, "nothing checked");
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
