//! Benches of the metalkit workspace.
//!
//! Two kinds live here:
//!
//! - criterion benches under `benches/` (`cargo bench -p benches`), for the pure code of
//!   the crates: codecs, allocators, parsers;
//! - bench programs under `src/bin/` that run a peer tool (BIRD, GoBGP, bmaptool, …) and
//!   our component on the same input in the same run, and print medians and the ratio,
//!   because absolute numbers on a shared machine mean little.
//!
//! This library holds what the bench programs share: summary statistics of repeated runs,
//! and [`bgp_table`], the generated full BGP table and the peer decoders' checksums that
//! the `bgp_decode` bench and the `bgp-decode-ratio` program measure.

pub mod bgp_table;
pub mod lb_reference;

use std::time::Duration;

/// Median, minimum and maximum of repeated measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// The median (the mean of the two middle values for an even count).
    pub median: Duration,
    /// The fastest run.
    pub min: Duration,
    /// The slowest run.
    pub max: Duration,
    /// How many runs.
    pub runs: usize,
}

impl Summary {
    /// Summarises `samples`; `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        let mut sorted = samples.to_vec();
        sorted.sort();
        let n = sorted.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
        };
        Some(Summary {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            runs: n,
        })
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "median {:.3} s (min {:.3} s, max {:.3} s, {} runs)",
            self.median.as_secs_f64(),
            self.min.as_secs_f64(),
            self.max.as_secs_f64(),
            self.runs
        )
    }
}

/// The resident set size of process `pid` in bytes (`VmRSS`), when readable.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        let odd = Summary::of(&[ms(30), ms(10), ms(20)]).unwrap();
        assert_eq!(
            (odd.median, odd.min, odd.max, odd.runs),
            (ms(20), ms(10), ms(30), 3)
        );
        let even = Summary::of(&[ms(40), ms(10), ms(20), ms(30)]).unwrap();
        assert_eq!(even.median, ms(25));
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn our_own_rss_is_readable() {
        let rss = rss_bytes(std::process::id()).unwrap();
        assert!(
            rss > 1024 * 1024,
            "a test process uses more than 1 MiB: {rss}"
        );
        assert_eq!(rss_bytes(u32::MAX), None);
    }
}
