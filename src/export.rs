//! Exporting connections as a capture file that Wireshark opens: which packets (every TCP
//! packet of the chosen connections, in file order, with their original time stamps and
//! lengths and where their bytes are) and the file itself, written from the original bytes.
//!
//! The bytes are not kept by the analysis: the caller reads each packet's captured bytes back
//! from the capture at its [`PacketLocation`] (the page's worker from the `File`), so an
//! exported packet is byte for byte the packet in the original file. One link type makes a
//! classic pcap file; several (a pcapng capture with different interfaces) make a pcapng file
//! with one interface per link type. Time stamps are written in microseconds when that loses
//! nothing, else in nanoseconds.

use crate::capture::write::{timestamp_units, PcapNgWriter, PcapWriter, DEFAULT_SNAPLEN};
use crate::capture::{LinkType, PacketIdx, Timestamp};
use crate::flow::StreamId;
use crate::pipeline::{Analysis, PacketLocation};

/// One packet to export: which it is, when it was captured, and where its bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    /// The packet's index in the capture (its frame number - 1).
    pub index: PacketIdx,
    /// Its original time stamp.
    pub ts: Timestamp,
    /// Where its captured bytes are, its link type and its lengths.
    pub location: PacketLocation,
}

/// Every TCP packet of `streams` in `analysis`, in file order.
pub fn plan(analysis: &Analysis, streams: &[StreamId]) -> Vec<Planned> {
    let mut wanted = streams.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    analysis
        .tcp
        .records()
        .as_slice()
        .iter()
        .zip(&analysis.locations)
        .filter(|(r, _)| wanted.binary_search(&r.stream).is_ok())
        .filter_map(|(r, location)| {
            let start = analysis.tcp.connection(r.stream)?.first_ts;
            Some(Planned {
                index: r.index,
                ts: r.ts(start),
                location: *location,
            })
        })
        .collect()
}

/// What the written file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap: every packet has the same link type.
    Pcap,
    /// pcapng, one interface per link type.
    PcapNg,
}

impl Format {
    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pcap => "pcap",
            Format::PcapNg => "pcapng",
        }
    }
}

/// The format [`write`] chooses for `planned`: pcap unless the link types differ.
pub fn format_for(planned: &[Planned]) -> Format {
    let first = planned.first().map(|p| p.location.link_type());
    if planned
        .iter()
        .all(|p| Some(p.location.link_type()) == first)
    {
        Format::Pcap
    } else {
        Format::PcapNg
    }
}

/// The capture file of `packets` (each planned packet with its captured bytes, in the order to
/// write them). Bytes longer than the location's captured length are cut to it.
pub fn write(packets: &[(Planned, &[u8])]) -> Vec<u8> {
    let planned: Vec<Planned> = packets.iter().map(|(p, _)| *p).collect();
    let nanos = packets.iter().any(|(p, _)| p.ts.0.rem_euclid(1000) != 0);
    let size: usize = packets.iter().map(|(_, d)| d.len() + 40).sum();
    let mut out = Vec::with_capacity(64 + size);
    let data = |p: &Planned, d: &'_ [u8]| -> Vec<u8> {
        d[..d.len().min(p.location.captured as usize)].to_vec()
    };
    match format_for(&planned) {
        Format::Pcap => {
            let link = planned
                .first()
                .map_or(LinkType::ETHERNET, |p| p.location.link_type());
            let writer = PcapWriter::new(link, nanos).snaplen(snaplen(&planned));
            out.extend(writer.header());
            for (p, d) in packets {
                writer.write_record(&mut out, p.ts, p.location.orig_len, &data(p, d));
            }
        }
        Format::PcapNg => {
            let writer = PcapNgWriter::new(false);
            out.extend(writer.section_header());
            let mut links: Vec<LinkType> = Vec::new();
            for p in &planned {
                if !links.contains(&p.location.link_type()) {
                    links.push(p.location.link_type());
                }
            }
            // if_tsresol: 10^-9 or 10^-6 (the default, so not written).
            let (resolution, per_second) = if nanos {
                (Some(9), 1_000_000_000)
            } else {
                (None, 1_000_000)
            };
            for link in &links {
                out.extend(writer.interface(*link, snaplen(&planned), resolution, None));
            }
            for (p, d) in packets {
                let interface = links
                    .iter()
                    .position(|l| *l == p.location.link_type())
                    .unwrap_or(0) as u32;
                out.extend(writer.enhanced_packet(
                    interface,
                    timestamp_units(p.ts, per_second),
                    p.location.orig_len,
                    &data(p, d),
                ));
            }
        }
    }
    out
}

/// A snaplen that every packet fits in.
fn snaplen(planned: &[Planned]) -> u32 {
    planned
        .iter()
        .map(|p| p.location.captured)
        .max()
        .unwrap_or(0)
        .max(DEFAULT_SNAPLEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Decoder, Event};
    use crate::pipeline::Analyzer;

    fn fixture(path: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn analyze(bytes: &[u8]) -> Analysis {
        let mut analyzer = Analyzer::new();
        analyzer.feed(bytes).expect("a capture");
        analyzer.finish().expect("a capture")
    }

    /// Every record of a capture: (time stamp, link type, wire length, bytes).
    fn records(bytes: &[u8]) -> Vec<(Timestamp, LinkType, u32, Vec<u8>)> {
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        let mut sink = |event: Event<'_>| {
            if let Event::Packet(p) = event {
                out.push((p.ts, p.link_type, p.orig_len, p.data.to_vec()));
            }
        };
        decoder.feed(bytes, &mut sink).expect("a capture");
        decoder.finish(&mut sink).expect("a capture");
        out
    }

    /// Exports `streams` of an uncompressed capture, reading the bytes at their locations.
    fn export(file: &[u8], analysis: &Analysis, streams: &[StreamId]) -> Vec<u8> {
        let planned = plan(analysis, streams);
        let packets: Vec<(Planned, &[u8])> = planned
            .iter()
            .map(|p| {
                let start = p.location.offset() as usize;
                (*p, &file[start..start + p.location.captured as usize])
            })
            .collect();
        write(&packets)
    }

    #[test]
    fn a_connection_reads_back_with_the_same_packets_bytes_and_times() {
        let file = fixture("scenarios/mass_reset.client.pcap");
        let analysis = analyze(&file);
        let original = records(&file);
        let stream = StreamId(3);
        let conn = analysis.flows.connection(stream).expect("stream 3");
        let planned = plan(&analysis, &[stream]);
        assert_eq!(planned.len() as u64, conn.packets());
        assert_eq!(format_for(&planned), Format::Pcap);

        let exported = export(&file, &analysis, &[stream]);
        let back = records(&exported);
        assert_eq!(back.len(), planned.len());
        for (p, record) in planned.iter().zip(&back) {
            assert_eq!(
                *record,
                original[p.index.0 as usize],
                "frame {}",
                p.index.frame_number()
            );
        }
        // And the export is one connection with the same packets when analysed again.
        let again = analyze(&exported);
        assert_eq!(again.flows.len(), 1);
        assert_eq!(again.tcp.records().as_slice().len(), planned.len());
    }

    #[test]
    fn several_connections_export_in_file_order() {
        let file = fixture("scenarios/mass_reset.client.pcap");
        let analysis = analyze(&file);
        let streams = [StreamId(4), StreamId(1)];
        let planned = plan(&analysis, &streams);
        assert!(planned.windows(2).all(|w| w[0].index < w[1].index));
        let again = analyze(&export(&file, &analysis, &streams));
        assert_eq!(again.flows.len(), 2);
        assert!(plan(&analysis, &[]).is_empty());
        // Nothing to export is still a readable (empty) capture.
        assert!(records(&write(&[])).is_empty());
    }

    #[test]
    fn different_link_types_make_pcapng_with_nanoseconds_kept() {
        let file = fixture("scenarios/mass_reset.client.pcap");
        let analysis = analyze(&file);
        let mut planned = plan(&analysis, &[StreamId(0)]);
        assert!(planned.len() >= 3);
        let packets: Vec<(Planned, Vec<u8>)> = planned
            .iter_mut()
            .enumerate()
            .map(|(i, p)| {
                let start = p.location.offset() as usize;
                let bytes = file[start..start + p.location.captured as usize].to_vec();
                if i == 1 {
                    p.ts = Timestamp(p.ts.0 + 7);
                }
                (*p, bytes)
            })
            .collect();
        // The same bytes claimed as two link types: enough to check the container.
        let mut as_raw = packets[2].clone();
        as_raw.1 = as_raw.1[14..].to_vec();
        let raw = PacketLocation::new(
            0,
            LinkType::RAW,
            as_raw.1.len() as u32,
            as_raw.0.location.orig_len - 14,
        );
        as_raw.0.location = raw;
        let mut all = packets.clone();
        all.push(as_raw.clone());
        let borrowed: Vec<(Planned, &[u8])> = all.iter().map(|(p, d)| (*p, d.as_slice())).collect();
        assert_eq!(
            format_for(&borrowed.iter().map(|(p, _)| *p).collect::<Vec<_>>()),
            Format::PcapNg
        );
        let back = records(&write(&borrowed));
        assert_eq!(back.len(), all.len());
        for ((p, d), (ts, link, orig, data)) in all.iter().zip(&back) {
            assert_eq!(
                (*ts, *link, *orig, data),
                (p.ts, p.location.link_type(), p.location.orig_len, d)
            );
        }
    }
}
