//! How much memory the analysis keeps per TCP packet: runs the `Analyzer` over a capture and
//! counts every heap byte through a counting global allocator (so vector capacity, hash-table
//! slack and per-connection state are all included), then divides by the TCP packets.
//!
//! ```sh
//! cargo run --release --example mem_per_packet -- FILE [FILE...]
//! ```
//!
//! Printed per file: the heap still held by the finished `Analysis` (retained), the peak heap
//! while analysing, both per TCP packet, and the process's peak RSS for comparison.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs::File;
use std::io::Read;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use rstscope::pipeline::Analyzer;

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated around it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The CLI's chunk size.
const CHUNK: usize = 1 << 20;

/// Peak resident set size of this process, from /proc (Linux), in bytes.
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn measure(path: &str) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut buf = vec![0u8; CHUNK];
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    // As the page's worker does: room made ahead for a file this size.
    let size = file.metadata().map_or(0, |m| m.len());
    let mut analyzer = Analyzer::expecting(size);
    loop {
        let n = file.read(&mut buf).map_err(|e| format!("{path}: {e}"))?;
        if n == 0 {
            break;
        }
        analyzer
            .feed(&buf[..n])
            .map_err(|e| format!("{path}: {e}"))?;
    }
    let analysis = analyzer.finish().map_err(|e| format!("{path}: {e}"))?;
    let retained = LIVE.load(Ordering::Relaxed) - base;
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let tcp = analysis.capture.tcp_packets.max(1) as f64;
    let connections = analysis.flows.connections().len();
    println!(
        "{path}: {} packets, {} TCP, {connections} connections; heap retained {:.1} MB \
         = {:.1} bytes/TCP packet; heap peak {:.1} MB = {:.1} bytes/TCP packet; \
         process peak RSS {:.1} MB",
        analysis.capture.packets,
        analysis.capture.tcp_packets,
        retained as f64 / 1e6,
        retained as f64 / tcp,
        peak as f64 / 1e6,
        peak as f64 / tcp,
        peak_rss().unwrap_or(0) as f64 / 1e6,
    );
    // Where the retained bytes are: free each part and see how much the heap shrinks.
    let mut parts = Vec::new();
    let mut free = |name: &str, part: Box<dyn std::any::Any>| {
        let before = LIVE.load(Ordering::Relaxed);
        drop(part);
        let freed = before - LIVE.load(Ordering::Relaxed);
        parts.push(format!("{name} {:.1}", freed as f64 / tcp));
    };
    free(
        "tcp (records, sparse values, per-connection state)",
        Box::new(analysis.tcp),
    );
    free("locations", Box::new(analysis.locations));
    free("flows", Box::new(analysis.flows));
    free("zeek", Box::new(analysis.zeek));
    free("capture summary", Box::new(analysis.capture));
    println!("  bytes/TCP packet by part: {}", parts.join("; "));
    Ok(())
}

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: mem_per_packet FILE [FILE...]");
        return ExitCode::from(1);
    }
    for f in &files {
        if let Err(e) = measure(f) {
            eprintln!("mem_per_packet: {e}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
