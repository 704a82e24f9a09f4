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
    /// How much of the file is mapped at a time (see `feed_mapped`).
    const MAP_WINDOW: u64 = 64 << 20;
    /// How many chunks the reading thread may be ahead of the analysis.
    const CHUNKS_AHEAD: usize = 4;

    const HELP: &str = "\
rstscope: who reset this TCP connection, and why?

USAGE:
    rstscope analyze FILE [--format json|text] [--one-thread] [--no-map]
    rstscope analyze FILE --packets [--format tsv] [--one-thread] [--no-map]
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
                         is mapped into memory, and the packets are dissected and the
                         connections analysed on two threads (the same result, sooner with
                         two cores).
    --no-map             Read the file with read(2) instead of mapping it into memory. A
                         mapped file that another program shortens while it is analysed
                         ends the process (SIGBUS): use this for a capture that is being
                         rotated or truncated. Pipes and --one-thread always read.
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
        no_map: bool,
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
        let mut no_map = false;
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
                Some("--no-map") => no_map = true,
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
            no_map,
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
        if !args.no_map && feed_mapped(&file, &mut analyzer)? {
            return analyzer.finish().map_err(|e| e.to_string());
        }
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

    /// Feeds a regular file to `analyzer` from memory maps of [`MAP_WINDOW`] bytes at a time, so
    /// that its bytes are analysed where the kernel keeps them, without a copy or a reading
    /// thread (gen-100MB: 0.110 s -> 0.090 s, see BENCHMARKS.md), and no more of the file is
    /// mapped at once than a window. `Ok(false)`, with nothing fed, for what cannot be mapped
    /// (a pipe, a device, an empty file, a file system without maps): it is read instead.
    fn feed_mapped(file: &File, analyzer: &mut Analyzer) -> Result<bool, String> {
        let mut offset = 0;
        loop {
            // Asked again at each window: a capture still being written is read to its end.
            let size = match file.metadata() {
                Ok(meta) if meta.is_file() => meta.len(),
                _ => 0,
            };
            let len = size.saturating_sub(offset).min(MAP_WINDOW);
            if len == 0 {
                return Ok(offset > 0);
            }
            let window = match map(file, offset, len) {
                Ok(window) => window,
                Err(_) if offset == 0 => return Ok(false),
                Err(e) => return Err(format!("cannot map the bytes after {offset}: {e}")),
            };
            for chunk in window.chunks(CHUNK) {
                analyzer.feed(chunk).map_err(|e| e.to_string())?;
            }
            offset += len;
        }
    }

    /// `len` bytes of `file` from `offset` (a multiple of the page size), mapped read-only.
    fn map(file: &File, offset: u64, len: u64) -> std::io::Result<memmap2::Mmap> {
        let len = usize::try_from(len).map_err(std::io::Error::other)?;
        let mut options = memmap2::MmapOptions::new();
        options.offset(offset).len(len);
        // SAFETY: the map is only read, and read as untrusted input (every length and offset
        // in it is checked where it is used). The risk is another program changing the file
        // meanwhile: bytes written into it may change under the analysis, and a file shortened
        // makes the kernel end this process (SIGBUS). `--no-map` reads such files instead.
        unsafe { options.map(file) }
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
