//! The command-line tool as a user runs it: exit statuses, the JSON contract, and its counts
//! and stream numbering against tshark's oracles on real captures.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn rstscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rstscope"))
        .args(args)
        .output()
        .expect("rstscope runs")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn json_of(path: &Path) -> Value {
    let out = rstscope(&["analyze", path.to_str().unwrap(), "--format", "json"]);
    assert!(
        out.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

#[test]
fn help_and_version_exit_zero() {
    let help = rstscope(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("rstscope analyze FILE"), "{text}");
    assert!(text.contains("EXIT STATUS"), "{text}");
    let version = rstscope(&["--version"]);
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("rstscope "));
}

#[test]
fn a_wrong_command_line_exits_one() {
    for args in [
        &["frobnicate"][..],
        &["analyze"],
        &["analyze", "a", "b"],
        &["analyze", "a", "--format", "xml"],
    ] {
        let out = rstscope(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("rstscope --help"));
    }
}

#[test]
fn an_unreadable_file_exits_two_with_one_line() {
    let not_a_capture = fixture("formats/not-a-capture.bin");
    let missing = fixture("formats/no-such-file.pcap");
    for path in [not_a_capture, missing] {
        let out = rstscope(&["analyze", path.to_str().unwrap(), "--format", "json"]);
        assert_eq!(out.status.code(), Some(2), "{}", path.display());
        assert!(out.stdout.is_empty(), "nothing on stdout");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.starts_with("rstscope: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// A full disk (`/dev/full`) fails the run with status 3 and a sentence; a pipe closed early
/// (`| head`) does not.
#[test]
fn output_that_cannot_be_written_exits_three() {
    let capture = fixture("scenarios/abortive_close.client.pcap");
    let capture = capture.to_str().unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    for format in ["json", "text"] {
        let out = Command::new(env!("CARGO_BIN_EXE_rstscope"))
            .args(["analyze", capture, "--format", format])
            .stdout(full.try_clone().unwrap())
            .output()
            .expect("rstscope runs");
        assert_eq!(out.status.code(), Some(3), "--format {format}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("rstscope: cannot write the output"),
            "{stderr}"
        );
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_rstscope"))
        .args(["analyze", capture, "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rstscope runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_truncated_file_exits_zero_with_a_warning() {
    let report = json_of(&fixture("formats/pcap-truncated-mid-packet.pcap"));
    let warnings = report["capture"]["warnings"].as_array().unwrap();
    assert!(!warnings.is_empty());
    assert!(
        warnings[0].as_str().unwrap().contains("byte"),
        "{warnings:?}"
    );
}

/// `--one-thread` (everything on one thread, the file read) and `--no-map` (the file read on a
/// thread of its own, not mapped) print what the default (the file mapped, several threads)
/// prints.
#[test]
fn one_thread_and_no_map_print_the_same_as_the_default() {
    for name in [
        "scenarios/everyday.client.pcap",
        "scenarios/middlebox_inject.server.pcap",
        "scenarios/mass_reset.client.pcap",
        "formats/pcap-truncated-mid-packet.pcap",
        "formats/not-a-capture.bin",
    ] {
        let path = fixture(name);
        let path = path.to_str().unwrap();
        for args in [
            &["analyze", path, "--format", "json"][..],
            &["analyze", path, "--format", "text"],
            &["analyze", path, "--packets"],
        ] {
            let several = rstscope(args);
            let readable = !name.ends_with(".bin");
            assert_eq!(several.status.success(), readable, "{args:?}");
            for flag in ["--one-thread", "--no-map"] {
                let other = rstscope(&[args, &[flag]].concat());
                assert_eq!(
                    other.status.code(),
                    several.status.code(),
                    "{args:?} {flag}"
                );
                assert!(
                    other.stdout == several.stdout,
                    "{args:?} {flag}: different output"
                );
                assert!(
                    other.stderr == several.stderr,
                    "{args:?} {flag}: different errors"
                );
            }
        }
    }
}

/// A capture given as a pipe (`/dev/stdin`), which cannot be mapped, is read, with the same
/// report as from the file.
#[test]
fn a_capture_from_a_pipe_reads_as_from_the_file() {
    use std::io::Write as _;
    let path = fixture("scenarios/mass_reset.client.pcap");
    let bytes = std::fs::read(&path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rstscope"))
        .args(["analyze", "/dev/stdin", "--format", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let piped = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(piped.status.success());
    let from_file = rstscope(&["analyze", path.to_str().unwrap(), "--format", "json"]);
    let (piped, from_file): (Value, Value) = (
        serde_json::from_slice(&piped.stdout).unwrap(),
        serde_json::from_slice(&from_file.stdout).unwrap(),
    );
    assert!(piped["summary"]["resets"].as_u64().unwrap() > 5);
    assert_eq!(piped, from_file);
}

#[test]
fn one_thread_prints_the_same_on_the_composites() {
    let Some(dir) = common::corpus_dir("one_thread_prints_the_same_on_the_composites") else {
        return;
    };
    for name in [
        "ndpi-480-real-captures-merged.pcap",
        "zeek-traces-real-merged.pcap",
    ] {
        let path = dir.join("composite").join(name);
        let path = path.to_str().unwrap();
        let several = rstscope(&["analyze", path, "--format", "json"]);
        let one = rstscope(&["analyze", path, "--format", "json", "--one-thread"]);
        assert!(several.status.success(), "{name}");
        // Hundreds of resets, so the diagnosis's two halves are put back together.
        let report: Value = serde_json::from_slice(&several.stdout).unwrap();
        assert!(
            report["summary"]["resets"].as_u64().unwrap() > 100,
            "{name}"
        );
        assert!(one.stdout == several.stdout, "{name}: different output");
    }
}

#[test]
fn json_has_the_documented_shape() {
    let report = json_of(&fixture("scenarios/everyday.client.pcap"));
    assert_eq!(report["schema"], 1);
    let capture = &report["capture"];
    for key in [
        "format",
        "packets",
        "tcp_packets",
        "link_types",
        "warnings",
        "first_time",
        "last_time",
        "duration",
    ] {
        assert!(!capture[key].is_null(), "capture.{key} missing");
    }
    assert_eq!(capture["format"], "pcap");
    let connections = report["connections"].as_array().unwrap();
    assert!(!connections.is_empty());
    for (i, conn) in connections.iter().enumerate() {
        assert_eq!(conn["stream"], i as u64, "streams in order from 0");
        for key in [
            "client",
            "server",
            "first_frame",
            "last_frame",
            "packets",
            "from_client",
            "from_server",
        ] {
            assert!(!conn[key].is_null(), "connection.{key} missing");
        }
        // The scenario's clients are 10.77.1.x talking to servers on 10.77.2.x.
        assert!(
            conn["client"].as_str().unwrap().starts_with("10.77.1."),
            "{conn}"
        );
        assert!(
            conn["server"].as_str().unwrap().starts_with("10.77.2."),
            "{conn}"
        );
    }
    let text = rstscope(&[
        "analyze",
        fixture("scenarios/everyday.client.pcap").to_str().unwrap(),
    ]);
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("TCP connections: "));
}

/// Frame number -> `tcp.stream` from a tshark oracle.
fn oracle_streams(capture: &Path) -> BTreeMap<u64, u64> {
    let mut tsv = capture.as_os_str().to_owned();
    tsv.push(".tshark.tsv");
    let text = std::fs::read_to_string(&tsv).expect("oracle");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (frame, stream) = (col("frame.number"), col("tcp.stream"));
    lines
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .filter(|cells| !cells[stream].is_empty())
        .map(|cells| {
            (
                cells[frame].parse().unwrap(),
                cells[stream].parse().unwrap(),
            )
        })
        .collect()
}

/// Total records tshark read, from the corpus's describe.jsonl.
fn tshark_frames(corpus: &Path, capture: &Path) -> u64 {
    let rel = capture.strip_prefix(corpus).unwrap().to_str().unwrap();
    let text = std::fs::read_to_string(corpus.join("describe.jsonl")).unwrap();
    text.lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|v| v["path"] == rel)
        .and_then(|v| {
            v["frames"]
                .as_u64()
                .or_else(|| v["frames"].as_str()?.parse().ok())
        })
        .unwrap_or_else(|| panic!("{rel} not in describe.jsonl"))
}

/// The CLI on a pcap and on pcapng files of the corpus: the packet counts tshark reports, and
/// every connection's first and last frame where tshark's `tcp.stream` puts them.
#[test]
fn corpus_counts_and_stream_numbering_match_tshark() {
    let Some(corpus) = common::corpus_dir("cli::corpus_counts_and_stream_numbering_match_tshark")
    else {
        return;
    };
    let files = [
        "zeek/http-vlan-0.pcap",
        "zeek/pcapng-multi-interface.pcapng",
        "pcapplusplus/many_interfaces-1.pcapng",
        "zeek/tcp/ctu-64702-888.pcap",
    ];
    for rel in files {
        let path = corpus.join(rel);
        let report = json_of(&path);
        let streams = oracle_streams(&path);
        assert_eq!(
            report["capture"]["packets"].as_u64().unwrap(),
            tshark_frames(&corpus, &path),
            "{rel}: packets"
        );
        assert_eq!(
            report["capture"]["tcp_packets"].as_u64().unwrap(),
            streams.len() as u64,
            "{rel}: TCP packets"
        );
        let mut first_last: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        for (&frame, &stream) in &streams {
            let entry = first_last.entry(stream).or_insert((frame, frame));
            entry.1 = frame;
        }
        let connections = report["connections"].as_array().unwrap();
        assert_eq!(connections.len(), first_last.len(), "{rel}: streams");
        for conn in connections {
            let stream = conn["stream"].as_u64().unwrap();
            let (first, last) = first_last[&stream];
            assert_eq!(
                conn["first_frame"].as_u64().unwrap(),
                first,
                "{rel}: stream {stream} first frame"
            );
            assert_eq!(
                conn["last_frame"].as_u64().unwrap(),
                last,
                "{rel}: stream {stream} last frame"
            );
        }
        eprintln!(
            "{rel}: {} packets, {} streams: as tshark",
            report["capture"]["packets"],
            connections.len()
        );
    }
}

/// Every capture of the corpus, including the deliberately malformed ones: the CLI exits 0 or
/// 2 (never a panic or a signal), and a 2 comes with one line on stderr.
#[test]
fn corpus_every_file_exits_cleanly() {
    let Some(corpus) = common::corpus_dir("cli::corpus_every_file_exits_cleanly") else {
        return;
    };
    // describe.jsonl lists every capture, those without a tshark oracle too.
    let describe = std::fs::read_to_string(corpus.join("describe.jsonl")).unwrap();
    let files: Vec<PathBuf> = describe
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .map(|v| corpus.join(v["path"].as_str().unwrap()))
        .collect();
    assert!(files.len() > 170, "the corpus has its captures");
    let mut unreadable = Vec::new();
    for path in &files {
        let out = rstscope(&["analyze", path.to_str().unwrap(), "--format", "json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => {
                serde_json::from_slice::<Value>(&out.stdout).expect("valid JSON");
            }
            Some(2) => {
                assert_eq!(
                    stderr.trim_end().lines().count(),
                    1,
                    "{}: {stderr}",
                    path.display()
                );
                unreadable.push(path.strip_prefix(&corpus).unwrap().display().to_string());
            }
            other => panic!("{}: exit {other:?}: {stderr}", path.display()),
        }
        assert!(!stderr.contains("panicked"), "{}: {stderr}", path.display());
    }
    eprintln!(
        "{} captures analysed, {} unreadable: {unreadable:?}",
        files.len(),
        unreadable.len()
    );
    // The snoop file is the one capture in the corpus that is not pcap or pcapng.
    assert_eq!(unreadable, ["pcapplusplus/solaris.snoop"]);
}

/// The strings a capture carries (comments, names, descriptions: hostile ones here) come out
/// as data: JSON-escaped in the JSON, inert in the text (no control character reaches the
/// terminal, no newline fakes a line of the report).
#[test]
fn hostile_strings_come_out_escaped() {
    let path = fixture("formats/hostile-strings.pcapng");
    let out = rstscope(&["analyze", path.to_str().unwrap(), "--format", "json"]);
    assert!(out.status.success());
    let raw = String::from_utf8(out.stdout).expect("UTF-8");
    let report: Value = serde_json::from_str(&raw).expect("valid JSON");
    let capture = &report["capture"];
    let os = "\"><svg onload=window.__rstscope_pwned=3> \u{1b}[31mred\u{fffd}\u{fffd}";
    let expected = [
        (
            &capture["hardware"],
            "<script>window.__rstscope_pwned=2</script>",
        ),
        (&capture["os"], os),
        (
            &capture["application"],
            "javascript:window.__rstscope_pwned=4 &lt;b&gt;",
        ),
        (
            &capture["comments"][0]["text"],
            r#"<img src=x onerror="window.__rstscope_pwned=1">"#,
        ),
        (
            &capture["interfaces"][0]["name"],
            r#"<iframe src="javascript:window.__rstscope_pwned=5"></iframe>"#,
        ),
        (
            &capture["comments"][2]["text"],
            r#""><svg onload=window.__rstscope_pwned=7> on the RST"#,
        ),
    ];
    for (value, text) in expected {
        assert_eq!(value, text);
        // Written with JSON's escapes: quotes and the escape character never appear bare.
        let escaped = serde_json::to_string(text).unwrap();
        assert!(raw.contains(&escaped), "{escaped} not in the JSON");
    }
    assert!(raw.contains(r#"\"><svg onload"#) && raw.contains(r"\u001b[31m"));
    assert!(!raw.contains('\u{1b}'));
    assert_eq!(capture["comments"][0]["frame"], Value::Null);
    assert_eq!(capture["comments"][2]["frame"], 5);
    let long = capture["comments"][1]["text"].as_str().unwrap();
    assert!(long.len() <= 1024 + 3 && long.ends_with('…'), "{long}");
    assert_eq!(capture["interfaces"][0]["link_type"], 1);
    assert!(capture["interfaces"][0]["description"]
        .as_str()
        .unwrap()
        .ends_with("line one\nline two"));

    let out = rstscope(&["analyze", path.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    for line in [
        "Hardware: <script>window.__rstscope_pwned=2</script>\n",
        "OS: \"><svg onload=window.__rstscope_pwned=3> \\u{1b}[31mred\u{fffd}\u{fffd}\n",
        "Application: javascript:window.__rstscope_pwned=4 &lt;b&gt;\n",
        "Comment: <img src=x onerror=\"window.__rstscope_pwned=1\">\n",
        "Comment on frame 5: \"><svg onload=window.__rstscope_pwned=7> on the RST\n",
        "name \"<iframe src=\"javascript:window.__rstscope_pwned=5\"></iframe>\"",
        "( line one\\u{a}line two\"\n",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "a control character reaches the terminal"
    );
    assert!(!text.lines().any(|l| l.starts_with("line two")));
}
