//! Capturing frames inside a namespace with `tcpdump`, returned with timestamps.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use crate::process::NsProcess;
use crate::{Error, Netns, Result, TempDir, require};

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// When the kernel saw it.
    pub at: SystemTime,
    /// The frame's length on the wire.
    pub wire_len: u32,
    /// The captured bytes (starting with the Ethernet header on an Ethernet link).
    pub data: Vec<u8>,
}

/// `tcpdump` running on one interface of a namespace, writing a pcap file.
#[derive(Debug)]
pub struct Capture {
    process: NsProcess,
    file: std::path::PathBuf,
    _dir: TempDir,
}

impl Capture {
    /// Starts capturing on `ifname` in `ns` with a pcap `filter` (e.g. `arp or icmp6`,
    /// empty for everything) and returns once tcpdump is listening.
    pub fn start(ns: &Netns, ifname: &str, filter: &str) -> Result<Capture> {
        require("tcpdump")?;
        let dir = TempDir::new("capture")?;
        let file = dir.join("capture.pcap");
        let mut cmd = ns.command("tcpdump");
        cmd.args([
            "-i",
            ifname,
            "-n",
            "-U",
            "--immediate-mode",
            "-Z",
            "root",
            "-w",
        ])
        .arg(&file)
        .args(filter.split_whitespace())
        .stderr(Stdio::piped());
        let mut process = NsProcess::spawn(cmd, None)?;
        let stderr = process
            .child_mut()
            .stderr
            .take()
            .ok_or_else(|| Error::Invalid("tcpdump without standard error".into()))?;
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = String::new();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("listening on") => break,
                Some(Ok(line)) => {
                    seen.push_str(&line);
                    seen.push('\n');
                }
                _ => {
                    return Err(Error::Command {
                        command: process.command().to_owned(),
                        status: format!("{:?}", process.try_status()?),
                        stderr: seen,
                    });
                }
            }
        }
        // Keep draining tcpdump's standard error so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Capture {
            process,
            file,
            _dir: dir,
        })
    }

    /// The frames captured so far (tcpdump writes each packet at once).
    pub fn frames(&self) -> Result<Vec<Frame>> {
        let bytes = std::fs::read(&self.file).map_err(|e| Error::io("reading the capture", e))?;
        if bytes.is_empty() {
            return Ok(Vec::new());
        }
        parse_pcap(&bytes)
    }

    /// Waits until at least `n` frames were captured, then returns them all.
    pub fn wait_frames(&self, n: usize, timeout: Duration) -> Result<Vec<Frame>> {
        crate::process::wait_until(
            &format!("{n} captured frames"),
            timeout,
            || Ok(Some(self.frames()?).filter(|f| f.len() >= n)),
            || format!("{} frames", self.frames().map(|f| f.len()).unwrap_or(0)),
        )
    }

    /// Stops tcpdump and returns the capture file's bytes (classic pcap).
    pub fn stop_pcap(mut self) -> Result<Vec<u8>> {
        self.process.stop()?;
        std::fs::read(&self.file).map_err(|e| Error::io("reading the capture", e))
    }

    /// Stops tcpdump and returns every captured frame.
    pub fn stop(mut self) -> Result<Vec<Frame>> {
        self.process.stop()?;
        self.frames()
    }
}

/// Parses a classic pcap file (micro- or nanosecond timestamps, either byte order).
/// A record cut short at the end (a capture still being written) is left out.
pub fn parse_pcap(bytes: &[u8]) -> Result<Vec<Frame>> {
    let bad = |detail: String| Error::Parse {
        what: "a pcap file".into(),
        detail,
    };
    let header = bytes
        .get(..24)
        .ok_or_else(|| bad(format!("{} bytes, no header", bytes.len())))?;
    let magic = [header[0], header[1], header[2], header[3]];
    let (big_endian, nanos) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
        [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
        other => return Err(bad(format!("unknown magic {other:02x?}"))),
    };
    let u32_at = |b: &[u8], i: usize| {
        let w = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    };
    let mut frames = Vec::new();
    let mut rest = &bytes[24..];
    while rest.len() >= 16 {
        let (secs, frac, incl, orig) = (
            u32_at(rest, 0),
            u32_at(rest, 4),
            u32_at(rest, 8),
            u32_at(rest, 12),
        );
        let Some(data) = rest.get(16..16 + incl as usize) else {
            break;
        };
        let frac_nanos = if nanos {
            frac
        } else {
            frac.saturating_mul(1000)
        };
        if frac_nanos >= 1_000_000_000 {
            return Err(bad(format!("fraction {frac} out of range")));
        }
        frames.push(Frame {
            at: SystemTime::UNIX_EPOCH + Duration::new(u64::from(secs), frac_nanos),
            wire_len: orig,
            data: data.to_vec(),
        });
        rest = &rest[16 + incl as usize..];
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pcap_file_is_parsed() {
        #[rustfmt::skip]
        let mut file = vec![
            0xd4, 0xc3, 0xb2, 0xa1, // magic: little endian, microseconds
            2, 0, 4, 0,             // version 2.4
            0, 0, 0, 0, 0, 0, 0, 0, // zone, accuracy
            0xff, 0xff, 0, 0,       // snap length
            1, 0, 0, 0,             // link type Ethernet
            10, 0, 0, 0,            // seconds
            0x40, 0x42, 0x0f, 0,    // 1,000,000 microseconds: out of range
            3, 0, 0, 0,             // captured length
            60, 0, 0, 0,            // wire length
            0xaa, 0xbb, 0xcc,
        ];
        // 1,000,000 µs is not a valid fraction.
        assert!(parse_pcap(&file).is_err());
        file[28..32].copy_from_slice(&7u32.to_le_bytes());
        let frames = parse_pcap(&file).unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].data, vec![0xaa, 0xbb, 0xcc]);
        assert_eq!(frames[0].wire_len, 60);
        assert_eq!(
            frames[0].at,
            SystemTime::UNIX_EPOCH + Duration::new(10, 7000)
        );
        // A record cut short is left out; garbage is an error, never a panic.
        assert_eq!(parse_pcap(&file[..file.len() - 1]).unwrap().len(), 0);
        assert!(parse_pcap(&[1, 2, 3]).is_err());
        assert!(parse_pcap(&[0u8; 40]).is_err());
    }
}
