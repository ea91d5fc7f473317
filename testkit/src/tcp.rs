//! Reassembling TCP byte streams from captured Ethernet frames (IPv4 and IPv6), for
//! tests that check what a daemon really sent (e.g. BGP messages).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::Frame;

/// The payload one side of a TCP connection sent, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpStream {
    /// The sender.
    pub from: SocketAddr,
    /// The receiver.
    pub to: SocketAddr,
    /// The bytes, retransmissions removed.
    pub data: Vec<u8>,
}

/// One TCP segment taken out of a frame.
struct Segment {
    from: SocketAddr,
    to: SocketAddr,
    seq: u32,
    syn: bool,
    payload: Vec<u8>,
}

fn segment(frame: &[u8]) -> Option<Segment> {
    let mut ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let mut offset = 14;
    if ethertype == 0x8100 {
        ethertype = u16::from_be_bytes([*frame.get(16)?, *frame.get(17)?]);
        offset = 18;
    }
    let ip = frame.get(offset..)?;
    let (src, dst, proto, tcp) = match ethertype {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            let src = IpAddr::V4(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]));
            let dst = IpAddr::V4(Ipv4Addr::new(*ip.get(16)?, ip[17], ip[18], ip[19]));
            (src, dst, ip[9], ip.get(ihl..total.min(ip.len()))?)
        }
        0x86dd => {
            let payload_len = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            let end = (40 + payload_len).min(ip.len());
            (
                IpAddr::V6(Ipv6Addr::from(src)),
                IpAddr::V6(Ipv6Addr::from(dst)),
                ip[6],
                ip.get(40..end)?,
            )
        }
        _ => return None,
    };
    if proto != 6 {
        return None;
    }
    let sport = u16::from_be_bytes([*tcp.first()?, *tcp.get(1)?]);
    let dport = u16::from_be_bytes([*tcp.get(2)?, *tcp.get(3)?]);
    let seq = u32::from_be_bytes([*tcp.get(4)?, tcp[5], tcp[6], tcp[7]]);
    let data_offset = usize::from(tcp.get(12)? >> 4) * 4;
    let syn = tcp.get(13)? & 0x02 != 0;
    Some(Segment {
        from: SocketAddr::new(src, sport),
        to: SocketAddr::new(dst, dport),
        seq,
        syn,
        payload: tcp.get(data_offset..)?.to_vec(),
    })
}

/// The TCP streams in `frames`, one per direction of each connection, in the order
/// their first segment was seen. Segments are placed by sequence number relative to
/// the SYN (or the first segment seen); retransmitted bytes are kept once.
pub fn tcp_streams(frames: &[Frame]) -> Vec<TcpStream> {
    let mut order: Vec<(SocketAddr, SocketAddr)> = Vec::new();
    let mut base: BTreeMap<(SocketAddr, SocketAddr), u32> = BTreeMap::new();
    let mut pieces: BTreeMap<(SocketAddr, SocketAddr), BTreeMap<u32, Vec<u8>>> = BTreeMap::new();
    for frame in frames {
        let Some(seg) = segment(&frame.data) else {
            continue;
        };
        let key = (seg.from, seg.to);
        if !order.contains(&key) {
            order.push(key);
        }
        let start = *base.entry(key).or_insert(if seg.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        });
        if seg.payload.is_empty() {
            continue;
        }
        let rel = seg.seq.wrapping_sub(start);
        pieces
            .entry(key)
            .or_default()
            .entry(rel)
            .or_insert(seg.payload);
    }
    order
        .into_iter()
        .map(|key| {
            let mut data: Vec<u8> = Vec::new();
            for (rel, bytes) in pieces.remove(&key).unwrap_or_default() {
                let rel = rel as usize;
                if rel + bytes.len() <= data.len() {
                    continue; // a retransmission of bytes we have
                }
                if rel > data.len() {
                    break; // a gap: the capture missed a segment
                }
                data.extend_from_slice(&bytes[data.len() - rel..]);
            }
            TcpStream {
                from: key.0,
                to: key.1,
                data,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn frame(seq: u32, flags: u8, payload: &[u8]) -> Frame {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]); // IPv4
        let total = (20 + 20 + payload.len()) as u16;
        #[rustfmt::skip]
        f.extend_from_slice(&[
            0x45, 0, (total >> 8) as u8, total as u8, 0, 0, 0, 0, 64, 6, 0, 0,
            10, 0, 0, 1, 10, 0, 0, 2,
        ]);
        f.extend_from_slice(&179u16.to_be_bytes());
        f.extend_from_slice(&40000u16.to_be_bytes());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0, 0, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        Frame {
            at: SystemTime::UNIX_EPOCH,
            wire_len: f.len() as u32,
            data: f,
        }
    }

    #[test]
    fn segments_are_ordered_and_retransmissions_dropped() {
        let frames = [
            frame(99, 0x02, b""), // SYN
            frame(103, 0x18, b"defg"),
            frame(100, 0x18, b"abc"),
            frame(100, 0x18, b"abc"), // retransmission
            frame(107, 0x18, b"h"),
        ];
        let streams = tcp_streams(&frames);
        assert_eq!(streams.len(), 1);
        assert_eq!(streams[0].from, "10.0.0.1:179".parse().unwrap());
        assert_eq!(streams[0].data, b"abcdefgh");
    }

    #[test]
    fn garbage_frames_are_skipped() {
        let junk = Frame {
            at: SystemTime::UNIX_EPOCH,
            wire_len: 3,
            data: vec![1, 2, 3],
        };
        assert!(tcp_streams(&[junk]).is_empty());
    }
}
