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
    use std::fs::File;
    use std::io::{ErrorKind, Read, Write};
    use std::path::PathBuf;

    use rstscope::pipeline::Analyzer;
    use rstscope::report::Report;

    /// Exit status for a bad command line.
    const EXIT_USAGE: i32 = 1;
    /// Exit status for a file that cannot be read as a capture.
    const EXIT_UNREADABLE: i32 = 2;
    /// How much of the file is read at a time; memory stays bounded whatever the file size.
    const CHUNK: usize = 1 << 20;

    const HELP: &str = "\
rstscope: who reset this TCP connection, and why?

USAGE:
    rstscope analyze FILE [--format json|text]
    rstscope --help | --version

COMMANDS:
    analyze     Read a pcap or pcapng capture (optionally gzip- or zstd-compressed; the
                format is detected from the bytes), rebuild its TCP connections and report
                on them.

OPTIONS:
    --format json|text   Output format (default: text). The JSON shape is documented in
                         README.md and is a stable contract (field `schema` is its version).
    -h, --help           Show this help.
    -V, --version        Show the version.

EXIT STATUS:
    0   the capture was analysed (warnings about unreadable parts are in the output)
    1   the command line is wrong
    2   the file cannot be read as a capture (a one-line reason is printed on stderr)
";

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Format {
        Json,
        Text,
    }

    struct Args {
        file: PathBuf,
        format: Format,
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
            Ok(report) => {
                let text = match args.format {
                    Format::Json => report.to_json() + "\n",
                    Format::Text => report.to_text(),
                };
                let mut stdout = std::io::stdout().lock();
                // A closed pipe (`| head`) is not an error worth a message.
                let _ = stdout
                    .write_all(text.as_bytes())
                    .and_then(|()| stdout.flush());
                0
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
        let mut format = Format::Text;
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
                        Some("json") => Format::Json,
                        Some("text") => Format::Text,
                        _ => return Err("--format takes json or text".to_string()),
                    }
                }
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
        Ok(Some(Args { file, format }))
    }

    fn analyze(args: &Args) -> Result<Report, String> {
        let mut file = File::open(&args.file).map_err(|e| e.to_string())?;
        let mut analyzer = Analyzer::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(format!(
                        "read error after {} bytes: {e}",
                        analyzer.bytes_fed()
                    ))
                }
            };
            analyzer.feed(&buf[..n]).map_err(|e| e.to_string())?;
        }
        let analysis = analyzer.finish().map_err(|e| e.to_string())?;
        Ok(Report::new(&analysis))
    }
}
