//! Address pools: named sets of ranges minus the excluded addresses.

use std::fmt;
use std::net::IpAddr;

use crate::range::{AddressFamily, AddressRange, from_u128, to_u128};

/// How a pool trims its ranges and in which order it hands out addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PoolOptions {
    /// Exclude IPv4 addresses ending in `.0` and `.255` (MetalLB `avoidBuggyIPs`).
    pub avoid_buggy_ips: bool,
    /// Exclude the network and broadcast address of IPv4 CIDR ranges shorter than /31.
    pub skip_network_and_broadcast: bool,
    /// Allocation order of [`Allocator::allocate_next`](crate::Allocator::allocate_next):
    /// `false` (the default) hands out the lowest free allowed address of a family
    /// first, `true` the highest (kube-vip `search-order=desc`, our `AddressPool`
    /// `allocationOrder: HighestFirst`). Either way excluded addresses are never
    /// handed out, and the order does not change which addresses are allowed.
    pub highest_first: bool,
}

/// Why an address inside a pool's ranges may not be allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExclusionReason {
    /// The network address of an IPv4 CIDR range, with `skip_network_and_broadcast`.
    NetworkAddress,
    /// The broadcast address of an IPv4 CIDR range, with `skip_network_and_broadcast`.
    BroadcastAddress,
    /// An IPv4 address ending in `.0` or `.255`, with `avoid_buggy_ips`.
    BuggyIp,
}

impl fmt::Display for ExclusionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NetworkAddress => "it is the network address of its CIDR",
            Self::BroadcastAddress => "it is the broadcast address of its CIDR",
            Self::BuggyIp => "it ends in .0 or .255 and the pool avoids buggy IPs",
        })
    }
}

/// Why a pool could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// Two ranges of the pool share addresses.
    #[error("pool {pool:?}: ranges {first} and {second} overlap")]
    OverlappingRanges {
        /// The pool name.
        pool: String,
        /// One of the overlapping ranges (boxed to keep the error small).
        first: Box<AddressRange>,
        /// The other overlapping range.
        second: Box<AddressRange>,
    },
    /// The pool holds 2^128 addresses of one family, which cannot be counted in a `u128`.
    #[error("pool {pool:?}: too many {family} addresses to count")]
    TooManyAddresses {
        /// The pool name.
        pool: String,
        /// The family that overflows.
        family: AddressFamily,
    },
}

/// A run of allowed addresses: `lo..=hi`, minus `.0`/`.255` when `avoid_buggy` is set.
#[derive(Debug, Clone, Copy)]
struct Segment {
    lo: u128,
    hi: u128,
    avoid_buggy: bool,
    /// Index of the first allowed address of this segment among the family's allowed
    /// addresses.
    base: u128,
}

/// Number of values below `x` whose low byte is neither 0 nor 255.
fn non_buggy_below(x: u128) -> u128 {
    254 * (x / 256) + (x % 256).saturating_sub(1).min(254)
}

/// The `j`-th (0-based) value whose low byte is neither 0 nor 255.
fn nth_non_buggy(j: u128) -> u128 {
    256 * (j / 254) + j % 254 + 1
}

fn is_buggy(v: u128) -> bool {
    matches!(v % 256, 0 | 255)
}

impl Segment {
    fn contains_allowed(&self, v: u128) -> bool {
        (self.lo..=self.hi).contains(&v) && !(self.avoid_buggy && is_buggy(v))
    }

    /// Index of allowed `v` within the family (caller checked `contains_allowed`).
    fn rank(&self, v: u128) -> u128 {
        let off = if self.avoid_buggy {
            non_buggy_below(v) - non_buggy_below(self.lo)
        } else {
            v - self.lo
        };
        self.base + off
    }

    /// The allowed address at family index `k` (caller checked `k` is in this segment).
    fn unrank(&self, k: u128) -> u128 {
        let off = k - self.base;
        if self.avoid_buggy {
            nth_non_buggy(non_buggy_below(self.lo) + off)
        } else {
            self.lo + off
        }
    }
}

/// The allowed addresses of one family, as sorted segments with prefix counts.
#[derive(Debug, Clone, Default)]
pub(crate) struct FamilyIndex {
    segments: Vec<Segment>,
    total: u128,
}

impl FamilyIndex {
    /// Number of allowed addresses.
    pub(crate) fn total(&self) -> u128 {
        self.total
    }

    /// The dense index of an allowed address, or `None` when it is not allowed.
    pub(crate) fn rank(&self, v: u128) -> Option<u128> {
        let i = self
            .segments
            .partition_point(|s| s.lo <= v)
            .checked_sub(1)?;
        let seg = &self.segments[i];
        seg.contains_allowed(v).then(|| seg.rank(v))
    }

    /// The allowed address at dense index `k < total`.
    pub(crate) fn unrank(&self, k: u128) -> u128 {
        let i = self.segments.partition_point(|s| s.base <= k) - 1;
        self.segments[i].unrank(k)
    }
}

/// A named set of allocatable addresses: its ranges minus the excluded addresses.
///
/// Ranges inside one pool may not overlap. Build with [`Pool::new`].
#[derive(Debug, Clone)]
pub struct Pool {
    name: String,
    ranges: Vec<AddressRange>,
    options: PoolOptions,
    v4: FamilyIndex,
    v6: FamilyIndex,
}

impl Pool {
    /// A pool named `name` over `ranges`, trimmed as `options` says.
    ///
    /// Fails when two ranges overlap. The ranges are kept sorted by family and start.
    pub fn new(
        name: impl Into<String>,
        mut ranges: Vec<AddressRange>,
        options: PoolOptions,
    ) -> Result<Self, PoolError> {
        let name = name.into();
        ranges.sort_by_key(|r| (r.family(), r.numeric()));
        for pair in ranges.windows(2) {
            if pair[0].overlaps(&pair[1]) {
                return Err(PoolError::OverlappingRanges {
                    pool: name,
                    first: Box::new(pair[0]),
                    second: Box::new(pair[1]),
                });
            }
        }
        let v4 = Self::index(&name, &ranges, options, AddressFamily::V4)?;
        let v6 = Self::index(&name, &ranges, options, AddressFamily::V6)?;
        Ok(Self {
            name,
            ranges,
            options,
            v4,
            v6,
        })
    }

    fn index(
        name: &str,
        ranges: &[AddressRange],
        options: PoolOptions,
        family: AddressFamily,
    ) -> Result<FamilyIndex, PoolError> {
        let too_many = || PoolError::TooManyAddresses {
            pool: name.to_owned(),
            family,
        };
        let v4 = family == AddressFamily::V4;
        let mut index = FamilyIndex::default();
        for range in ranges.iter().filter(|r| r.family() == family) {
            let (mut lo, mut hi) = range.numeric();
            if v4 && options.skip_network_and_broadcast && skips_ends(range) {
                lo += 1;
                hi -= 1;
            }
            let avoid_buggy = v4 && options.avoid_buggy_ips;
            let count = if avoid_buggy {
                non_buggy_below(hi + 1) - non_buggy_below(lo)
            } else {
                (hi - lo).checked_add(1).ok_or_else(too_many)?
            };
            if count == 0 {
                continue;
            }
            index.segments.push(Segment {
                lo,
                hi,
                avoid_buggy,
                base: index.total,
            });
            index.total = index.total.checked_add(count).ok_or_else(too_many)?;
        }
        Ok(index)
    }

    /// The pool name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ranges, sorted by family then start.
    pub fn ranges(&self) -> &[AddressRange] {
        &self.ranges
    }

    /// The trimming options.
    pub fn options(&self) -> PoolOptions {
        self.options
    }

    /// Whether `addr` lies in one of the ranges (allowed or excluded).
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.range_of(addr).is_some()
    }

    /// Whether `addr` may be allocated from this pool.
    pub fn is_allowed(&self, addr: IpAddr) -> bool {
        self.family_index(AddressFamily::of(addr))
            .rank(to_u128(addr))
            .is_some()
    }

    /// Why `addr`, inside the ranges, is excluded; `None` when it is allowed or outside.
    pub fn exclusion(&self, addr: IpAddr) -> Option<ExclusionReason> {
        let range = self.range_of(addr)?;
        if self.is_allowed(addr) {
            return None;
        }
        let v = to_u128(addr);
        let (start, end) = range.numeric();
        let skip = self.options.skip_network_and_broadcast && skips_ends(range);
        Some(if skip && v == start {
            ExclusionReason::NetworkAddress
        } else if skip && v == end {
            ExclusionReason::BroadcastAddress
        } else {
            ExclusionReason::BuggyIp
        })
    }

    /// Number of allowed addresses of `family`, computed without enumerating them.
    pub fn allowed_count(&self, family: AddressFamily) -> u128 {
        self.family_index(family).total()
    }

    /// The allowed address of `family` at dense index `k`, if `k` is below the count.
    pub(crate) fn nth_allowed(&self, family: AddressFamily, k: u128) -> Option<IpAddr> {
        let index = self.family_index(family);
        (k < index.total()).then(|| from_u128(family, index.unrank(k)))
    }

    pub(crate) fn family_index(&self, family: AddressFamily) -> &FamilyIndex {
        match family {
            AddressFamily::V4 => &self.v4,
            AddressFamily::V6 => &self.v6,
        }
    }

    fn range_of(&self, addr: IpAddr) -> Option<&AddressRange> {
        let key = (AddressFamily::of(addr), to_u128(addr));
        let i = self
            .ranges
            .partition_point(|r| (r.family(), r.numeric().0) <= key)
            .checked_sub(1)?;
        let range = &self.ranges[i];
        range.contains(addr).then_some(range)
    }
}

/// Whether `skip_network_and_broadcast` trims this range: IPv4 CIDRs shorter than /31.
fn skips_ends(range: &AddressRange) -> bool {
    range.family() == AddressFamily::V4 && range.prefix_len().is_some_and(|p| p < 31)
}

/// The address spans shared by the ranges of two pools, as sorted `(first, last)` pairs.
///
/// Exclusions are ignored: two pools that both list `10.0.0.0/24` overlap even when
/// both skip the network address.
pub fn pools_overlap(a: &Pool, b: &Pool) -> Vec<(IpAddr, IpAddr)> {
    let (ra, rb) = (a.ranges(), b.ranges());
    let key = |r: &AddressRange| (r.family(), r.numeric().1);
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < ra.len() && j < rb.len() {
        if let Some(span) = ra[i].intersection(&rb[j]) {
            out.push(span);
        }
        // Advance whichever range ends first; the other may still meet later ranges.
        if key(&ra[i]) <= key(&rb[j]) {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}
