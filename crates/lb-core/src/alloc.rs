//! Per-pool address allocation in O(log n) of the allocated addresses.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::pool::{ExclusionReason, FamilyIndex, Pool};
use crate::range::{AddressFamily, to_u128};

/// Why an address could not be allocated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AllocError {
    /// The address is in none of the pool's ranges.
    #[error("{addr} is not in pool {pool:?}")]
    NotInPool {
        /// The requested address.
        addr: IpAddr,
        /// The pool name.
        pool: String,
    },
    /// The address is in the pool's ranges but excluded.
    #[error("{addr} is excluded from pool {pool:?}: {reason}")]
    Excluded {
        /// The requested address.
        addr: IpAddr,
        /// The pool name.
        pool: String,
        /// Why it is excluded.
        reason: ExclusionReason,
    },
    /// The address is already allocated.
    #[error("{addr} is already allocated in pool {pool:?}")]
    AlreadyAllocated {
        /// The requested address.
        addr: IpAddr,
        /// The pool name.
        pool: String,
    },
    /// No allowed address of the family is free.
    #[error("pool {pool:?} has no free {family} address")]
    Exhausted {
        /// The pool name.
        pool: String,
        /// The requested family.
        family: AddressFamily,
    },
}

/// Allocated addresses of one family, as merged inclusive intervals of dense indices
/// (the position of an address among the pool's allowed addresses of that family).
///
/// Because excluded addresses have no index, adjacent allowed addresses around an
/// exclusion are adjacent indices and merge, and skipping exclusions costs nothing.
#[derive(Debug, Clone, Default)]
struct Taken {
    /// `start -> end`, disjoint and non-adjacent.
    intervals: BTreeMap<u128, u128>,
    count: u128,
}

impl Taken {
    /// The interval containing `k`, if any.
    fn containing(&self, k: u128) -> Option<(u128, u128)> {
        let (&s, &e) = self.intervals.range(..=k).next_back()?;
        (k <= e).then_some((s, e))
    }

    /// The lowest index not taken.
    fn lowest_free(&self) -> u128 {
        match self.intervals.first_key_value() {
            Some((&0, &end)) => end + 1,
            _ => 0,
        }
    }

    /// The highest index below `total` not taken, if any.
    ///
    /// Intervals are merged and non-adjacent, so only the last one matters: either it
    /// stops short of `total - 1`, or the index just before its start is free.
    fn highest_free(&self, total: u128) -> Option<u128> {
        let top = total.checked_sub(1)?;
        match self.intervals.last_key_value() {
            Some((&start, &end)) if end >= top => start.checked_sub(1),
            _ => Some(top),
        }
    }

    /// Marks free index `k` as taken, merging with neighbours.
    fn insert(&mut self, k: u128) {
        let mut start = k;
        let mut end = k;
        if let Some((&s, &e)) = self.intervals.range(..k).next_back()
            && e.checked_add(1) == Some(k)
        {
            start = s;
        }
        if let Some(next) = k.checked_add(1)
            && let Some(e) = self.intervals.remove(&next)
        {
            end = e;
        }
        self.intervals.insert(start, end);
        self.count += 1;
    }

    /// Frees index `k`; returns whether it was taken.
    fn remove(&mut self, k: u128) -> bool {
        let Some((s, e)) = self.containing(k) else {
            return false;
        };
        self.intervals.remove(&s);
        if s < k {
            self.intervals.insert(s, k - 1);
        }
        if k < e {
            self.intervals.insert(k + 1, e);
        }
        self.count -= 1;
        true
    }
}

/// Hands out a pool's addresses: deterministic, lowest free allowed address first, or
/// highest first when the pool's [`PoolOptions::highest_first`](crate::PoolOptions::highest_first) is set.
///
/// Every operation costs O(log n) in the number of allocated addresses (plus
/// O(log r) in the number of the pool's ranges); excluded addresses are skipped
/// arithmetically, never by scanning.
#[derive(Debug, Clone)]
pub struct Allocator {
    pool: Pool,
    v4: Taken,
    v6: Taken,
}

impl Allocator {
    /// An allocator over `pool` with nothing allocated.
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            v4: Taken::default(),
            v6: Taken::default(),
        }
    }

    /// The pool this allocator hands out.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Allocates the lowest free allowed address of `family`, or the highest when the
    /// pool's [`PoolOptions::highest_first`](crate::PoolOptions::highest_first) is set.
    pub fn allocate_next(&mut self, family: AddressFamily) -> Result<IpAddr, AllocError> {
        let taken = self.taken(family);
        let k = if self.pool.options().highest_first {
            taken.highest_free(self.pool.allowed_count(family))
        } else {
            Some(taken.lowest_free())
        };
        let Some((k, addr)) = k.and_then(|k| Some((k, self.pool.nth_allowed(family, k)?))) else {
            return Err(AllocError::Exhausted {
                pool: self.pool.name().to_owned(),
                family,
            });
        };
        self.taken_mut(family).insert(k);
        Ok(addr)
    }

    /// Allocates `addr`, which must be an allowed, free address of the pool.
    pub fn allocate(&mut self, addr: IpAddr) -> Result<(), AllocError> {
        let family = AddressFamily::of(addr);
        let Some(k) = self.index(addr) else {
            let pool = self.pool.name().to_owned();
            return Err(match self.pool.exclusion(addr) {
                Some(reason) => AllocError::Excluded { addr, pool, reason },
                None => AllocError::NotInPool { addr, pool },
            });
        };
        if self.taken(family).containing(k).is_some() {
            return Err(AllocError::AlreadyAllocated {
                addr,
                pool: self.pool.name().to_owned(),
            });
        }
        self.taken_mut(family).insert(k);
        Ok(())
    }

    /// Frees `addr`; returns whether it was allocated.
    pub fn release(&mut self, addr: IpAddr) -> bool {
        match self.index(addr) {
            Some(k) => self.taken_mut(AddressFamily::of(addr)).remove(k),
            None => false,
        }
    }

    /// Whether `addr` is allocated.
    pub fn is_allocated(&self, addr: IpAddr) -> bool {
        self.index(addr)
            .is_some_and(|k| self.taken(AddressFamily::of(addr)).containing(k).is_some())
    }

    /// Number of allocated addresses of `family`.
    pub fn allocated_count(&self, family: AddressFamily) -> u128 {
        self.taken(family).count
    }

    /// Number of free allowed addresses of `family`, computed without enumerating.
    pub fn free_count(&self, family: AddressFamily) -> u128 {
        self.pool.allowed_count(family) - self.taken(family).count
    }

    /// The allocated addresses, IPv4 first, each family in ascending order.
    pub fn allocated(&self) -> impl Iterator<Item = IpAddr> + '_ {
        [AddressFamily::V4, AddressFamily::V6]
            .into_iter()
            .flat_map(move |family| {
                self.taken(family)
                    .intervals
                    .iter()
                    .flat_map(move |(&s, &e)| {
                        (s..=e).map(move |k| {
                            self.pool
                                .nth_allowed(family, k)
                                .expect("allocated index is below the allowed count")
                        })
                    })
            })
    }

    fn index(&self, addr: IpAddr) -> Option<u128> {
        self.family_index(AddressFamily::of(addr))
            .rank(to_u128(addr))
    }

    fn family_index(&self, family: AddressFamily) -> &FamilyIndex {
        self.pool.family_index(family)
    }

    fn taken(&self, family: AddressFamily) -> &Taken {
        match family {
            AddressFamily::V4 => &self.v4,
            AddressFamily::V6 => &self.v6,
        }
    }

    fn taken_mut(&mut self, family: AddressFamily) -> &mut Taken {
        match family {
            AddressFamily::V4 => &mut self.v4,
            AddressFamily::V6 => &mut self.v6,
        }
    }
}
