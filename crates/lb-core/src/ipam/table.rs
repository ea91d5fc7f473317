//! Who holds what, compactly: one slot per Service, indexed by key and by address.
//!
//! The IPAM keeps one entry per Service, so this is where its memory goes. Each
//! Service is a [`Slot`] of 40 bytes in a chunked slab (the key stored once, as one
//! boxed `namespace + name` string, and the common single address inline), found
//! through two hash tables of 32-bit slot ids: by key, and by held address. Addresses
//! held by several Services (sharing) or held at a third or later position of a
//! Service's list live in a small ordered side map instead.
//!
//! The hash tables are never iterated, so their random hashing never shows in a
//! result: every output is ordered by Service key or by address.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;

use hashbrown::HashTable;

use crate::service::ServiceKey;

/// The id of a Service's slot: its position in the slab.
pub(super) type SlotId = u32;

/// Slots per slab chunk (a power of two): the slab grows by whole chunks, so that at
/// most one chunk is partly empty instead of up to half of one large vector.
const CHUNK_BITS: u32 = 10;
const CHUNK: usize = 1 << CHUNK_BITS;
const CHUNK_MASK: SlotId = (1 << CHUNK_BITS) - 1;

/// Slot ids stay below this, so that an address entry (`id << 1 | position`) fits in
/// 32 bits.
const MAX_SLOTS: SlotId = 1 << 31;

/// A Service's addresses, and where its namespace ends in the stored key.
///
/// The namespace length sits in both variants (not beside them) so that it uses the
/// padding of the enum: a [`Slot`] stays at 40 bytes.
#[derive(Debug, Clone)]
enum Addrs {
    /// The common case: one address, inline.
    One { addr: IpAddr, ns_len: u32 },
    /// Two or more addresses.
    Many { addrs: Box<[IpAddr]>, ns_len: u32 },
}

/// One Service: its key and its addresses.
#[derive(Debug, Clone)]
struct Slot {
    /// The namespace followed by the name, without a separator.
    key: Box<str>,
    addrs: Addrs,
}

impl Slot {
    fn new(key: &ServiceKey, addrs: Vec<IpAddr>) -> Self {
        let ns_len = u32::try_from(key.namespace.len()).expect("a namespace is shorter than 4 GiB");
        let mut joined = String::with_capacity(key.namespace.len() + key.name.len());
        joined.push_str(&key.namespace);
        joined.push_str(&key.name);
        let addrs = match *addrs {
            [addr] => Addrs::One { addr, ns_len },
            _ => Addrs::Many {
                addrs: addrs.into_boxed_slice(),
                ns_len,
            },
        };
        Self {
            key: joined.into_boxed_str(),
            addrs,
        }
    }

    /// `(namespace, name)`, which orders like [`ServiceKey`].
    fn parts(&self) -> (&str, &str) {
        let ns_len = match self.addrs {
            Addrs::One { ns_len, .. } | Addrs::Many { ns_len, .. } => ns_len,
        };
        self.key.split_at(ns_len as usize)
    }

    fn addrs(&self) -> &[IpAddr] {
        match &self.addrs {
            Addrs::One { addr, .. } => std::slice::from_ref(addr),
            Addrs::Many { addrs, .. } => addrs,
        }
    }

    fn is(&self, key: &ServiceKey) -> bool {
        self.parts() == (key.namespace.as_str(), key.name.as_str())
    }
}

/// The slots, in chunks of [`CHUNK`]; freed ids are reused last freed first.
#[derive(Debug, Clone, Default)]
struct Slab {
    chunks: Vec<Vec<Option<Slot>>>,
    free: Vec<SlotId>,
}

impl Slab {
    fn get(&self, id: SlotId) -> &Slot {
        self.chunks[(id >> CHUNK_BITS) as usize][(id & CHUNK_MASK) as usize]
            .as_ref()
            .expect("the id of a live slot")
    }

    fn insert(&mut self, slot: Slot) -> SlotId {
        if let Some(id) = self.free.pop() {
            self.chunks[(id >> CHUNK_BITS) as usize][(id & CHUNK_MASK) as usize] = Some(slot);
            return id;
        }
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            // The first chunk grows by doubling (small IPAMs stay small); later ones are
            // allocated whole.
            let capacity = if self.chunks.is_empty() { 0 } else { CHUNK };
            self.chunks.push(Vec::with_capacity(capacity));
        }
        let chunk = self.chunks.len() - 1;
        let last = &mut self.chunks[chunk];
        last.push(Some(slot));
        let id = chunk * CHUNK + last.len() - 1;
        SlotId::try_from(id)
            .ok()
            .filter(|&id| id < MAX_SLOTS)
            .expect("fewer than 2^31 Services")
    }

    fn remove(&mut self, id: SlotId) -> Slot {
        let slot = self.chunks[(id >> CHUNK_BITS) as usize][(id & CHUNK_MASK) as usize]
            .take()
            .expect("the id of a live slot");
        self.free.push(id);
        slot
    }

    fn ids(&self) -> impl Iterator<Item = SlotId> + '_ {
        self.chunks.iter().enumerate().flat_map(|(c, chunk)| {
            chunk.iter().enumerate().filter_map(move |(i, s)| {
                s.as_ref()
                    .map(|_| SlotId::try_from(c * CHUNK + i).expect("ids fit in 32 bits"))
            })
        })
    }

    /// Orders two slots by key.
    fn cmp(&self, a: SlotId, b: SlotId) -> Ordering {
        self.get(a).parts().cmp(&self.get(b).parts())
    }

    /// The address an entry of [`Table::by_addr`] stands for.
    fn entry_addr(&self, entry: u32) -> IpAddr {
        self.get(entry >> 1).addrs()[(entry & 1) as usize]
    }
}

/// The Services and the addresses they hold.
///
/// Each held address is in exactly one of `by_addr` (one holder, the address at
/// position 0 or 1 of its list: almost every address) and `side` (anything else).
#[derive(Clone)]
pub(super) struct Table {
    slab: Slab,
    hasher: RandomState,
    /// Slot ids, hashed by key.
    by_key: HashTable<SlotId>,
    /// `id << 1 | position`, hashed by the address at `position` of slot `id`'s list.
    by_addr: HashTable<u32>,
    /// The holders of every other held address, ordered by key.
    side: BTreeMap<IpAddr, Vec<SlotId>>,
}

impl Default for Table {
    fn default() -> Self {
        Self {
            slab: Slab::default(),
            hasher: RandomState::new(),
            by_key: HashTable::new(),
            by_addr: HashTable::new(),
            side: BTreeMap::new(),
        }
    }
}

/// Ordered by key, like every output of the IPAM; the hash tables are left out.
impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.ids_by_key().into_iter().map(|id| {
                let (ns, name) = self.slab.get(id).parts();
                (format!("{ns}/{name}"), self.addrs(id))
            }))
            .finish()
    }
}

impl Table {
    fn hash_key(&self, namespace: &str, name: &str) -> u64 {
        self.hasher.hash_one((namespace, name))
    }

    fn hash_addr(&self, addr: IpAddr) -> u64 {
        self.hasher.hash_one(addr)
    }

    /// The slot of `key`, if it holds addresses.
    pub(super) fn find(&self, key: &ServiceKey) -> Option<SlotId> {
        let hash = self.hash_key(&key.namespace, &key.name);
        self.by_key
            .find(hash, |&id| self.slab.get(id).is(key))
            .copied()
    }

    /// The addresses of slot `id`, in the order given when it was inserted.
    pub(super) fn addrs(&self, id: SlotId) -> &[IpAddr] {
        self.slab.get(id).addrs()
    }

    /// The key of slot `id`.
    pub(super) fn key(&self, id: SlotId) -> ServiceKey {
        let (ns, name) = self.slab.get(id).parts();
        ServiceKey::new(ns, name)
    }

    /// Whether slot `id` is `key`'s.
    pub(super) fn is(&self, id: SlotId, key: &ServiceKey) -> bool {
        self.slab.get(id).is(key)
    }

    /// The slots holding `addr`, ordered by key.
    pub(super) fn holders(&self, addr: IpAddr) -> impl Iterator<Item = SlotId> + '_ {
        let side = self.side.get(&addr);
        let one = match side {
            Some(_) => None,
            None => self
                .by_addr
                .find(self.hash_addr(addr), |&e| self.slab.entry_addr(e) == addr)
                .map(|&e| e >> 1),
        };
        side.into_iter().flatten().copied().chain(one)
    }

    /// Every slot, ordered by key (sorted on demand).
    pub(super) fn ids_by_key(&self) -> Vec<SlotId> {
        let mut ids: Vec<SlotId> = self.slab.ids().collect();
        ids.sort_unstable_by(|&a, &b| self.slab.cmp(a, b));
        ids
    }

    /// Records that `key` (holding nothing) holds `addrs` (not empty, no repeats);
    /// calls `fresh` with each address that had no holder.
    pub(super) fn insert(
        &mut self,
        key: &ServiceKey,
        addrs: Vec<IpAddr>,
        mut fresh: impl FnMut(IpAddr),
    ) -> SlotId {
        debug_assert!(self.find(key).is_none() && !addrs.is_empty());
        let id = self.slab.insert(Slot::new(key, addrs));
        let Self {
            slab,
            hasher,
            by_key,
            by_addr,
            side,
        } = self;
        let (ns, name) = slab.get(id).parts();
        by_key.insert_unique(hasher.hash_one((ns, name)), id, |&i| {
            hasher.hash_one(slab.get(i).parts())
        });
        for (pos, &addr) in slab.get(id).addrs().iter().enumerate() {
            let hash = hasher.hash_one(addr);
            if let Some(v) = side.get_mut(&addr) {
                let at = v
                    .binary_search_by(|&h| slab.cmp(h, id))
                    .expect_err("a new holder");
                v.insert(at, id);
                continue;
            }
            if let Ok(e) = by_addr.find_entry(hash, |&e| slab.entry_addr(e) == addr) {
                // Shared from now on: both holders move to the side map.
                let (other, _) = e.remove();
                let mut v = vec![other >> 1, id];
                v.sort_unstable_by(|&a, &b| slab.cmp(a, b));
                side.insert(addr, v);
                continue;
            }
            fresh(addr);
            if pos < 2 {
                let entry = id << 1 | pos as u32;
                by_addr.insert_unique(hash, entry, |&e| hasher.hash_one(slab.entry_addr(e)));
            } else {
                side.insert(addr, vec![id]);
            }
        }
        id
    }

    /// Forgets `key`; returns its slot id (free from now on) and addresses, and calls
    /// `freed` with each address no Service holds any more.
    pub(super) fn remove(
        &mut self,
        key: &ServiceKey,
        mut freed: impl FnMut(IpAddr),
    ) -> Option<(SlotId, Vec<IpAddr>)> {
        let id = self.find(key)?;
        let Self {
            slab,
            hasher,
            by_key,
            by_addr,
            side,
        } = self;
        let (ns, name) = slab.get(id).parts();
        by_key
            .find_entry(hasher.hash_one((ns, name)), |&i| i == id)
            .expect("indexed by key")
            .remove();
        for (pos, &addr) in slab.get(id).addrs().iter().enumerate() {
            if let Some(v) = side.get_mut(&addr) {
                v.retain(|&h| h != id);
                if v.is_empty() {
                    side.remove(&addr);
                    freed(addr);
                }
                continue;
            }
            let entry = id << 1 | pos as u32;
            by_addr
                .find_entry(hasher.hash_one(addr), |&e| e == entry)
                .expect("indexed by address")
                .remove();
            freed(addr);
        }
        let slot = slab.remove(id);
        let addrs = match slot.addrs {
            Addrs::One { addr, .. } => vec![addr],
            Addrs::Many { addrs, .. } => addrs.into_vec(),
        };
        Some((id, addrs))
    }
}
