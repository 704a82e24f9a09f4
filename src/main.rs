//! `rstscope`, the command-line tool: the same core as the page, for scripts and CI.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::run(std::env::args_os().skip(1).collect()));
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::ffi::OsString;
    use std::fmt::Write as _;
    use std::fs::File;
    use std::io::{BufWriter, ErrorKind, IsTerminal, Read, Write};
    use std::path::PathBuf;
    use std::sync::mpsc;

    use rstscope::flow::Direction;
    use rstscope::pipeline::{Analysis, Analyzer};
    use rstscope::report::Report;

    /// Exit status for a bad command line.
    const EXIT_USAGE: i32 = 1;
    /// Exit status for a file that cannot be read as a capture.
    const EXIT_UNREADABLE: i32 = 2;
    /// Exit status for output that could not be written (a full disk; not a closed pipe).
    const EXIT_UNWRITABLE: i32 = 3;
    /// How much of the file is read at a time; memory stays bounded whatever the file size.
    const CHUNK: usize = 1 << 20;
    /// How many chunks the reading thread may be ahead of the analysis.
    const CHUNKS_AHEAD: usize = 4;

    const HELP: &str = "\
rstscope: who reset this TCP connection, and why?

USAGE:
    rstscope analyze FILE [--format json|text] [--one-thread]
    rstscope analyze FILE --packets [--format tsv] [--one-thread]
    rstscope --help | --version

COMMANDS:
    analyze     Read a pcap or pcapng capture (optionally gzip- or zstd-compressed; the
                format is detected from the bytes), rebuild its TCP connections and report
                on them.

OPTIONS:
    --format json|text   Output format (default: text). The JSON shape is documented in
                         README.md and is a stable contract (field `schema` is its version);
                         it is indented on a terminal and one line otherwise (pipe it to
                         `jq .` to read it).
    --packets            One line per TCP packet instead of the report, as tab-separated
                         values with a header line (--format tsv, the default with --packets):
                         frame (1-based, as Wireshark numbers it), stream (tcp.stream),
                         findings (comma-separated tcp.analysis.* names: retransmission,
                         fast_retransmission, spurious_retransmission, out_of_order,
                         lost_segment, ack_lost_segment, duplicate_ack, zero_window,
                         zero_window_probe, zero_window_probe_ack, keep_alive, keep_alive_ack,
                         window_update, window_full, reused_ports), then dup_ack_num,
                         ack_rtt (seconds), acks_frame, bytes_in_flight, direction (c2s or
                         s2c), flags, seq, ack (relative), len, window (scaled when known).
    --one-thread         Do all the work on one thread, as the page does. By default the file
                         is read, the packets dissected and the connections analysed on
                         threads of their own (the same result, sooner with two cores).
    -h, --help           Show this help.
    -V, --version        Show the version.

EXIT STATUS:
    0   the capture was analysed (warnings about unreadable parts are in the output)
    1   the command line is wrong
    2   the file cannot be read as a capture (a one-line reason is printed on stderr)
    3   the output could not be written (a full disk, say; a closed pipe is not an error)
";

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Format {
        Json,
        Text,
        Tsv,
    }

    struct Args {
        file: PathBuf,
        format: Option<Format>,
        packets: bool,
        one_thread: bool,
    }

    pub fn run(args: Vec<OsString>) -> i32 {
        let args = match parse(args) {
            Ok(Some(args)) => args,
            Ok(None) => return 0,
            Err(message) => {
                eprintln!("rstscope: {message}\nTry 'rstscope --help'.");
                return EXIT_USAGE;
            }
        };
        match analyze(&args) {
            Ok(analysis) => {
                let stdout = std::io::stdout();
                let pretty = stdout.is_terminal();
                let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
                let written = match (args.packets, args.format) {
                    (true, _) => out.write_all(packets_tsv(&analysis).as_bytes()),
                    (false, Some(Format::Json)) if !pretty => {
                        Report::write_json_of(&analysis, &mut out)
                            .and_then(|()| out.write_all(b"\n"))
                    }
                    (false, Some(Format::Json)) => {
                        let report = Report::new(&analysis);
                        let written = report
                            .write_json(&mut out, pretty)
                            .and_then(|()| out.write_all(b"\n"));
                        // See `analysis` below.
                        std::mem::forget(report);
                        written
                    }
                    (false, _) => out.write_all(Report::new(&analysis).to_text().as_bytes()),
                };
                // The process ends now: freeing millions of small allocations one by one
                // would only delay the exit (by about a tenth of the analysis time).
                std::mem::forget(analysis);
                match written.and_then(|()| out.flush()) {
                    // A closed pipe (`| head`) is not an error worth a message.
                    Err(e) if e.kind() != ErrorKind::BrokenPipe => {
                        eprintln!("rstscope: cannot write the output: {e}");
                        EXIT_UNWRITABLE
                    }
                    _ => 0,
                }
            }
            Err(message) => {
                eprintln!("rstscope: {}: {message}", args.file.display());
                EXIT_UNREADABLE
            }
        }
    }

    fn parse(args: Vec<OsString>) -> Result<Option<Args>, String> {
        let mut args = args.into_iter();
        let mut file = None;
        let mut format = None;
        let mut packets = false;
        let mut one_thread = false;
        match args.next().as_ref().and_then(|a| a.to_str()) {
            Some("analyze") => {}
            Some("-h" | "--help" | "help") | None => {
                print!("{HELP}");
                return Ok(None);
            }
            Some("-V" | "--version") => {
                println!("rstscope {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            Some(other) => return Err(format!("unknown command '{other}'")),
        }
        while let Some(arg) = args.next() {
            match arg.to_str() {
                Some("--format") => {
                    format = match args.next().as_ref().and_then(|a| a.to_str()) {
                        Some("json") => Some(Format::Json),
                        Some("text") => Some(Format::Text),
                        Some("tsv") => Some(Format::Tsv),
                        _ => return Err("--format takes json, text or tsv".to_string()),
                    }
                }
                Some("--packets") => packets = true,
                Some("--one-thread") => one_thread = true,
                Some("-h" | "--help") => {
                    print!("{HELP}");
                    return Ok(None);
                }
                Some(flag) if flag.starts_with('-') && flag != "-" => {
                    return Err(format!("unknown option '{flag}'"))
                }
                _ if file.is_none() => file = Some(PathBuf::from(arg)),
                _ => return Err("analyze takes one FILE".to_string()),
            }
        }
        let file = file.ok_or("analyze needs a FILE")?;
        match (packets, format) {
            (true, Some(Format::Json | Format::Text)) => {
                return Err("--packets prints tsv only".to_string())
            }
            (false, Some(Format::Tsv)) => return Err("--format tsv needs --packets".to_string()),
            _ => {}
        }
        Ok(Some(Args {
            file,
            format,
            packets,
            one_thread,
        }))
    }

    fn analyze(args: &Args) -> Result<Analysis, String> {
        let file = File::open(&args.file).map_err(|e| e.to_string())?;
        // Only a hint (0 for a pipe): room for the records is made ahead.
        let size = file.metadata().map_or(0, |m| m.len());
        if args.one_thread {
            rstscope::pipeline::use_one_thread();
            return analyze_here(file, size);
        }
        let mut analyzer = Analyzer::on_two_threads(size);
        // The file is read on a thread of its own, a few chunks ahead of the analysis.
        let (full_tx, full) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(CHUNKS_AHEAD);
        let (empty, empty_rx) = mpsc::channel::<Vec<u8>>();
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("rstscope-read".into())
                .spawn_scoped(scope, move || read_chunks(file, &full_tx, &empty_rx))
                .map_err(|e| e.to_string())?;
            for chunk in full {
                let chunk = chunk
                    .map_err(|e| format!("read error after {} bytes: {e}", analyzer.bytes_fed()))?;
                analyzer.feed(&chunk).map_err(|e| e.to_string())?;
                // The reader may have stopped already; then the buffer is just dropped.
                let _ = empty.send(chunk);
            }
            Ok::<(), String>(())
            // On an error, `full` is dropped here, so the reader stops at its next send.
        })?;
        analyzer.finish().map_err(|e| e.to_string())
    }

    /// [`analyze`] on this thread alone.
    fn analyze_here(mut file: File, size: u64) -> Result<Analysis, String> {
        let mut analyzer = Analyzer::expecting(size);
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    let fed = analyzer.bytes_fed();
                    return Err(format!("read error after {fed} bytes: {e}"));
                }
            };
            analyzer.feed(&buf[..n]).map_err(|e| e.to_string())?;
        }
        analyzer.finish().map_err(|e| e.to_string())
    }

    /// Reads `file` in chunks of up to [`CHUNK`] bytes into `full`, reusing the buffers that
    /// come back on `empty`; stops at the end of the file, after a read error (sent on), or
    /// when nobody listens any more.
    fn read_chunks(
        mut file: File,
        full: &mpsc::SyncSender<std::io::Result<Vec<u8>>>,
        empty: &mpsc::Receiver<Vec<u8>>,
    ) {
        loop {
            let mut buf = empty.try_recv().unwrap_or_default();
            buf.resize(CHUNK, 0);
            let n = loop {
                match file.read(&mut buf) {
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let stop = !matches!(n, Ok(n) if n > 0);
            let sent = match n {
                Ok(0) => Ok(()),
                Ok(n) => {
                    buf.truncate(n);
                    full.send(Ok(buf))
                }
                Err(e) => full.send(Err(e)),
            };
            if stop || sent.is_err() {
                return;
            }
        }
    }

    /// `--packets`: the header line, then one line per TCP packet in file order.
    fn packets_tsv(analysis: &Analysis) -> String {
        let mut out = String::from(PACKETS_HEADER);
        out.push('\n');
        let records = analysis.tcp.records();
        for (pos, r) in records.as_slice().iter().enumerate() {
            let pos = u32::try_from(pos).unwrap_or(u32::MAX);
            let conn = analysis.flows.connection(r.stream);
            let state = analysis.tcp.connection(r.stream);
            let direction = match (conn, state) {
                (Some(conn), Some(state)) => match state.direction(conn, r.side()) {
                    Direction::ToServer => "c2s",
                    Direction::ToClient => "s2c",
                },
                _ => "",
            };
            let window = match state {
                Some(state) if r.window_scaled() => {
                    state.endpoint(r.side()).scaled_window(r.window)
                }
                _ => u32::from(r.window),
            };
            let opt = |v: Option<u32>| v.map_or(String::new(), |v| v.to_string());
            let _ = writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t0x{:03x}\t{}\t{}\t{}\t{}",
                r.frame_number(),
                r.stream.0,
                r.findings,
                opt(records.dup_ack_num(pos)),
                records
                    .ack_rtt_ns(pos)
                    .map_or(String::new(), |ns| format!("{:.9}", ns as f64 / 1e9)),
                records
                    .acked(pos)
                    .and_then(|a| records.get(a))
                    .map_or(String::new(), |a| a.frame_number().to_string()),
                opt(records.bytes_in_flight(pos)),
                direction,
                r.flags().0,
                r.seq,
                r.ack,
                r.len,
                window,
            );
        }
        out
    }

    /// The columns of `--packets`.
    const PACKETS_HEADER: &str = "frame\tstream\tfindings\tdup_ack_num\tack_rtt\tacks_frame\tbytes_in_flight\tdirection\tflags\tseq\tack\tlen\twindow";
}
