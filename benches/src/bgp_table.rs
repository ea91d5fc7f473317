//! A deterministic, realistic full BGP table on the wire, and three decoders of it.
//!
//! [`generate`] builds, from a seed, the UPDATE stream a 4-octet-AS peer without
//! ADD-PATH would send for a full table: 1,000,000 IPv4 and 200,000 IPv6 prefixes,
//! grouped by shared path attributes and packed into messages of at most 4,096 bytes,
//! every message encoded by `bgp-codec`.
//!
//! The `digest_*` functions walk such a stream message by message, each with one
//! library's own message parser (`bgp-codec`, `bgpkit-parser`, `zettabgp`), and fold
//! every decoded field into a [`Digest`]: each prefix, ORIGIN, every AS of the path in
//! order, the next hop, MED, each community and large community, and the
//! MP_REACH_NLRI family. The three digests of one stream are equal, which shows that
//! each decoder produced its public representation of everything, with nothing
//! skipped.
//!
//! The fold is order-dependent except for COMMUNITIES and LARGE_COMMUNITY: `zettabgp`
//! keeps those in a `BTreeSet` (sorted, duplicates merged), so they are folded as an
//! order-independent sum and the generator never repeats a value within one attribute.
//! IPv6 next hops are 16 bytes (global only): `zettabgp` keeps one IPv6 address of an
//! MP_REACH_NLRI next hop, so a 32-byte one (global and link-local) could not agree.
//!
//! Every decoder is set to the session the stream was written for: 4-octet AS numbers,
//! no ADD-PATH (`zettabgp` with path-identifier guessing off, see [`zettabgp_params`]).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_codec::{
    AsPath, Attribute, AttributeValue, Community, Family, HEADER_LEN, LargeCommunity, Message,
    MpNlri, MpReach, NextHop, Nlri, Origin, Prefix, SegmentType, SessionContext, Update,
    UpdateDecoder, flags, frame,
};

/// The IPv4 prefix count of the full table.
pub const FULL_IPV4: usize = 1_000_000;
/// The IPv6 prefix count of the full table.
pub const FULL_IPV6: usize = 200_000;
/// The seed the benches use.
pub const SEED: u64 = 0x6267_705f_7461_626c;
/// The largest UPDATE the generator writes (RFC 4271, no extended messages).
pub const MAX_UPDATE_LEN: usize = bgp_codec::MAX_MESSAGE_LEN;

/// An encoded UPDATE stream and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The messages, back to back, as they would come off the wire.
    pub bytes: Vec<u8>,
    /// How many UPDATE messages.
    pub messages: usize,
    /// How many IPv4 prefixes are announced (in the NLRI field).
    pub ipv4: usize,
    /// How many IPv6 prefixes are announced (in MP_REACH_NLRI).
    pub ipv6: usize,
}

/// The full table: [`FULL_IPV4`] IPv4 and [`FULL_IPV6`] IPv6 prefixes.
pub fn generate(seed: u64) -> Table {
    generate_sized(seed, FULL_IPV4, FULL_IPV6)
}

/// A table of `ipv4` distinct IPv4 and `ipv6` distinct IPv6 prefixes.
///
/// Prefixes come in groups that share their attributes: ORIGIN, an AS_PATH of one
/// AS_SEQUENCE of 2 to 10 four-octet AS numbers, NEXT_HOP (IPv4) or MP_REACH_NLRI with
/// a 16-byte next hop (IPv6), sometimes MED, 0 to 10 distinct COMMUNITIES and, in
/// about one group in ten, 1 to 3 distinct LARGE_COMMUNITY values. Each group fills as
/// few UPDATEs of at most [`MAX_UPDATE_LEN`] bytes as it can.
///
/// # Panics
///
/// Never for counts that fit the address space; a panic would be a generator bug
/// (an UPDATE that `bgp-codec` refuses to encode).
pub fn generate_sized(seed: u64, ipv4: usize, ipv6: usize) -> Table {
    let mut g = Generator {
        rng: Rng::new(seed),
        ctx: SessionContext::modern(),
        seen_v4: HashSet::with_capacity(ipv4),
        seen_v6: HashSet::with_capacity(ipv6),
        table: Table {
            bytes: Vec::with_capacity(ipv4 * 18 + ipv6 * 22 + 4096),
            messages: 0,
            ipv4: 0,
            ipv6: 0,
        },
    };
    let (mut left4, mut left6) = (ipv4, ipv6);
    let mut prefixes = Vec::new();
    while left4 + left6 > 0 {
        let v6 = g.rng.below((left4 + left6) as u64) < left6 as u64;
        let left = if v6 { &mut left6 } else { &mut left4 };
        let size = g.rng.group_size().min(*left);
        *left -= size;
        prefixes.clear();
        for _ in 0..size {
            let prefix = if v6 { g.fresh_v6() } else { g.fresh_v4() };
            prefixes.push(Nlri::new(prefix));
        }
        let attributes = g.group_attributes(v6);
        if v6 {
            g.emit_v6(attributes, &prefixes);
        } else {
            g.emit_v4(attributes, &prefixes);
        }
    }
    g.table
}

/// splitmix64: small, fast and good enough for synthetic data.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.0)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-high.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// An index into `weights`, drawn in proportion to the weights.
    fn weighted(&mut self, weights: &[(u8, u32)]) -> u8 {
        let total: u32 = weights.iter().map(|&(_, w)| w).sum();
        let mut pick = self.below(u64::from(total)) as u32;
        for &(value, w) in weights {
            if pick < w {
                return value;
            }
            pick -= w;
        }
        unreachable!("pick < total")
    }

    /// How many prefixes share one set of attributes: mostly one or a few, with a
    /// long tail of large aggregating origins (mean about 8).
    fn group_size(&mut self) -> usize {
        let r = self.below(1000);
        let size = match r {
            0..530 => 1,
            530..780 => self.range(2, 4),
            780..915 => self.range(5, 16),
            915..990 => self.range(17, 64),
            _ => self.range(65, 400),
        };
        size as usize
    }
}

/// The splitmix64 finaliser: a bijective 64-bit mix.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// IPv4 prefix lengths and their weights (per mille), after the shape of the public
/// table: half and more /24, then /22, /23, /21, /20, /16 and a thin short tail.
const V4_LENGTHS: &[(u8, u32)] = &[
    (24, 580),
    (23, 90),
    (22, 120),
    (21, 50),
    (20, 45),
    (19, 35),
    (18, 20),
    (17, 15),
    (16, 30),
    (15, 3),
    (14, 3),
    (13, 3),
    (12, 2),
    (11, 2),
    (10, 1),
    (9, 1),
];

/// IPv6 prefix lengths and their weights: mostly /48, then /32, /44, /40, /36, /29.
const V6_LENGTHS: &[(u8, u32)] = &[
    (48, 480),
    (32, 120),
    (44, 70),
    (40, 60),
    (36, 30),
    (29, 30),
    (46, 30),
    (47, 20),
    (45, 20),
    (42, 20),
    (33, 10),
    (34, 10),
    (35, 10),
    (38, 10),
    (41, 10),
    (43, 10),
    (28, 10),
    (56, 20),
    (64, 15),
    (24, 5),
];

/// The neighbour ASes a path starts with (transit providers; two 4-octet ones).
const PEERS: &[u32] = &[
    174, 1299, 2914, 3257, 3356, 6453, 6762, 6939, 207_301, 398_465,
];

/// AS path lengths and their weights.
const PATH_LENGTHS: &[(u8, u32)] = &[
    (2, 10),
    (3, 22),
    (4, 25),
    (5, 18),
    (6, 11),
    (7, 6),
    (8, 4),
    (9, 2),
    (10, 2),
];

#[derive(Debug)]
struct Generator {
    rng: Rng,
    ctx: SessionContext,
    seen_v4: HashSet<u64>,
    seen_v6: HashSet<u128>,
    table: Table,
}

impl Generator {
    /// A new IPv4 prefix, host bits clear, in 1.0.0.0–223.255.255.255 without 10/8
    /// and 127/8. On a repeat both the length and the address are drawn again, so
    /// that short lengths, whose space is small, cannot stall the loop.
    fn fresh_v4(&mut self) -> Prefix {
        loop {
            let len = self.rng.weighted(V4_LENGTHS);
            let first = self.rng.range(1, 223) as u32;
            if first == 10 || first == 127 {
                continue;
            }
            let addr = (first << 24) | (self.rng.next_u64() as u32 & 0x00ff_ffff);
            let addr = addr & (u32::MAX << (32 - u32::from(len)));
            if self.seen_v4.insert((u64::from(addr) << 8) | u64::from(len)) {
                return Prefix::new(IpAddr::V4(Ipv4Addr::from(addr)), len).expect("len <= 32");
            }
        }
    }

    /// A new IPv6 prefix in 2000::/3, host bits clear (lengths are at most 64).
    fn fresh_v6(&mut self) -> Prefix {
        loop {
            let len = self.rng.weighted(V6_LENGTHS);
            let hi = 0x2000_0000_0000_0000 | (self.rng.next_u64() >> 3);
            let hi = hi & (u64::MAX << (64 - u32::from(len)));
            let addr = u128::from(hi) << 64;
            if self.seen_v6.insert((addr) | u128::from(len)) {
                return Prefix::new(IpAddr::V6(Ipv6Addr::from(addr)), len).expect("len <= 128");
            }
        }
    }

    /// A four-octet AS number: mostly 16-bit ones, a third from the 32-bit range;
    /// never 0 or AS_TRANS.
    fn asn(&mut self) -> u32 {
        if self.rng.chance(330) {
            self.rng.range(131_072, 4_199_999_999) as u32
        } else {
            loop {
                let asn = self.rng.range(1, 64_495) as u32;
                if asn != bgp_codec::AS_TRANS {
                    return asn;
                }
            }
        }
    }

    /// The attributes of one group, in type-code order. The IPv6 group's
    /// MP_REACH_NLRI has no prefixes yet.
    fn group_attributes(&mut self, v6: bool) -> Vec<Attribute> {
        let rng = &mut self.rng;
        let mut attributes = Vec::with_capacity(7);
        let origin = match rng.below(100) {
            0..80 => Origin::Igp,
            80..95 => Origin::Incomplete,
            _ => Origin::Egp,
        };
        attributes.push(Attribute::new(AttributeValue::Origin(origin)));

        // The neighbour is one of a few peers, then transit, then the origin.
        let hops = usize::from(self.rng.weighted(PATH_LENGTHS));
        let mut path = Vec::with_capacity(hops);
        path.push(PEERS[self.rng.below(PEERS.len() as u64) as usize]);
        while path.len() < hops {
            let asn = self.asn();
            path.push(asn);
        }
        attributes.push(Attribute::new(AttributeValue::AsPath(AsPath::sequence(
            path.clone(),
        ))));

        let rng = &mut self.rng;
        if !v6 {
            let hop = Ipv4Addr::new(198, 51, 100, 1 + rng.below(32) as u8);
            attributes.push(Attribute::new(AttributeValue::NextHop(hop)));
        }
        if rng.chance(350) {
            let med = if rng.chance(700) {
                rng.below(1000) as u32
            } else {
                rng.next_u64() as u32
            };
            attributes.push(Attribute::new(AttributeValue::MultiExitDisc(med)));
        }

        // Distinct values only (see the module documentation).
        let count = if rng.chance(300) { 0 } else { rng.range(1, 10) };
        let mut communities: Vec<Community> = Vec::with_capacity(count as usize);
        while communities.len() < count as usize {
            let high = match path[rng.below(path.len() as u64) as usize] {
                asn @ 1..=64_495 => asn as u16,
                _ => rng.range(1, 64_495) as u16,
            };
            let low = if rng.chance(500) {
                rng.below(1000) as u16
            } else {
                rng.next_u64() as u16
            };
            let c = Community::new(high, low);
            if !communities.contains(&c) {
                communities.push(c);
            }
        }
        if !communities.is_empty() {
            attributes.push(Attribute::new(AttributeValue::Communities(communities)));
        }

        if v6 {
            let global = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1 + rng.below(32) as u16);
            attributes.push(Attribute::new(AttributeValue::MpReach(Box::new(MpReach {
                family: Family::IPV6_UNICAST,
                next_hop: NextHop::V6 {
                    global,
                    link_local: None,
                },
                reserved: 0,
                nlri: MpNlri::Prefixes(Vec::new()),
            }))));
        }

        if rng.chance(100) {
            let count = rng.range(1, 3) as usize;
            let mut large: Vec<LargeCommunity> = Vec::with_capacity(count);
            while large.len() < count {
                let c = LargeCommunity {
                    global: path[rng.below(path.len() as u64) as usize],
                    local1: rng.range(1, 20) as u32,
                    local2: rng.next_u64() as u32,
                };
                if !large.contains(&c) {
                    large.push(c);
                }
            }
            attributes.push(Attribute::new(AttributeValue::LargeCommunities(large)));
        }
        attributes
    }

    fn push(&mut self, update: Update) {
        let start = self.table.bytes.len();
        Message::Update(update)
            .encode(&self.ctx, &mut self.table.bytes)
            .expect("the generator writes valid UPDATEs of at most 4,096 bytes");
        debug_assert!(self.table.bytes.len() - start <= MAX_UPDATE_LEN);
        self.table.messages += 1;
    }

    /// The encoded length of an UPDATE with `attributes` and no NLRI.
    fn base_len(&self, attributes: &[Attribute]) -> usize {
        let update = Update {
            attributes: attributes.to_vec(),
            ..Update::default()
        };
        Message::Update(update)
            .to_bytes(&self.ctx)
            .expect("valid attributes")
            .len()
    }

    /// IPv4: the prefixes go in the NLRI field, as many per message as fit.
    fn emit_v4(&mut self, attributes: Vec<Attribute>, prefixes: &[Nlri]) {
        let base = self.base_len(&attributes);
        let mut rest = prefixes;
        while !rest.is_empty() {
            let mut len = base;
            let take = rest
                .iter()
                .take_while(|n| {
                    len += n.wire_len();
                    len <= MAX_UPDATE_LEN
                })
                .count();
            let (now, later) = rest.split_at(take);
            rest = later;
            self.table.ipv4 += now.len();
            self.push(Update {
                attributes: attributes.clone(),
                nlri: now.to_vec(),
                ..Update::default()
            });
        }
    }

    /// IPv6: the prefixes go in MP_REACH_NLRI, whose length field takes two octets
    /// (the Extended Length flag) once its value passes 255 bytes.
    fn emit_v6(&mut self, attributes: Vec<Attribute>, prefixes: &[Nlri]) {
        let base = self.base_len(&attributes);
        let mp_at = attributes
            .iter()
            .position(|a| matches!(a.value, AttributeValue::MpReach(_)))
            .expect("an IPv6 group has MP_REACH_NLRI");
        // AFI, SAFI, next-hop length, 16-byte next hop, reserved octet.
        const MP_FIXED: usize = 2 + 1 + 1 + 16 + 1;
        let mut rest = prefixes;
        while !rest.is_empty() {
            let mut value = MP_FIXED;
            let take = rest
                .iter()
                .take_while(|n| {
                    value += n.wire_len();
                    let extended = usize::from(value > 255);
                    base + extended + value - MP_FIXED <= MAX_UPDATE_LEN
                })
                .count();
            let (now, later) = rest.split_at(take);
            rest = later;
            let value_len = MP_FIXED + now.iter().map(Nlri::wire_len).sum::<usize>();
            let mut attrs = attributes.clone();
            let mp = &mut attrs[mp_at];
            if value_len > 255 {
                mp.flags |= flags::EXTENDED_LENGTH;
            }
            if let AttributeValue::MpReach(reach) = &mut mp.value {
                reach.nlri = MpNlri::Prefixes(now.to_vec());
            }
            self.table.ipv6 += now.len();
            self.push(Update {
                attributes: attrs,
                ..Update::default()
            });
        }
    }
}

/// What a decoder saw: the fold of every decoded field and the counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Digest {
    /// The fold of every decoded field (see the module documentation).
    pub checksum: u64,
    /// How many UPDATE messages.
    pub messages: usize,
    /// How many IPv4 prefixes announced and withdrawn.
    pub ipv4: usize,
    /// How many IPv6 prefixes announced.
    pub ipv6: usize,
}

/// Tags that keep one field from being taken for another in the fold.
mod tag {
    pub(super) const ORIGIN: u64 = 1 << 56;
    pub(super) const AS_PATH: u64 = 2 << 56;
    pub(super) const NEXT_HOP: u64 = 3 << 56;
    pub(super) const MED: u64 = 4 << 56;
    pub(super) const COMMUNITIES: u64 = 8 << 56;
    pub(super) const MP_REACH: u64 = 14 << 56;
    pub(super) const LARGE: u64 = 32 << 56;
    pub(super) const WITHDRAWN: u64 = 0x80 << 56;
    pub(super) const MESSAGE: u64 = 0x81 << 56;
}

/// The order-dependent fold: xor in, multiply by an odd constant (one short
/// dependency chain, so the fold costs all three decoders little and alike).
#[derive(Debug)]
struct Fold {
    h: u64,
    digest: Digest,
}

impl Fold {
    fn new() -> Fold {
        Fold {
            h: 0,
            digest: Digest::default(),
        }
    }

    #[inline(always)]
    fn add(&mut self, x: u64) {
        self.h = (self.h ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    #[inline(always)]
    fn message(&mut self) {
        self.digest.messages += 1;
        self.add(tag::MESSAGE);
    }

    #[inline(always)]
    fn v4(&mut self, addr: Ipv4Addr, len: u8) {
        self.digest.ipv4 += 1;
        self.add((u64::from(addr.to_bits()) << 8) | u64::from(len));
    }

    #[inline(always)]
    fn v6(&mut self, addr: Ipv6Addr, len: u8) {
        self.digest.ipv6 += 1;
        let bits = addr.to_bits();
        self.add((bits >> 64) as u64);
        self.add(bits as u64);
        self.add(u64::from(len));
    }

    #[inline(always)]
    fn next_hop_v6(&mut self, addr: Ipv6Addr) {
        let bits = addr.to_bits();
        self.add(tag::NEXT_HOP | 6);
        self.add((bits >> 64) as u64);
        self.add(bits as u64);
    }

    /// An order-independent fold of a set: the sum of the mixed values.
    #[inline(always)]
    fn set(&mut self, tag: u64, values: impl Iterator<Item = u64>) {
        let (mut n, mut sum) = (0u64, 0u64);
        for v in values {
            n += 1;
            sum = sum.wrapping_add(mix64(v ^ tag));
        }
        self.add(tag | n);
        self.add(sum);
    }

    fn finish(self) -> Digest {
        Digest {
            checksum: self.h,
            ..self.digest
        }
    }
}

fn large_key(global: u32, local1: u32, local2: u32) -> u64 {
    mix64((u64::from(global) << 32) | u64::from(local1)) ^ u64::from(local2)
}

/// `bgp-codec`: [`frame`] finds each message, [`Message::decode`] decodes it.
///
/// # Panics
///
/// On a stream that is not a valid run of UPDATEs of the kind [`generate`] writes.
pub fn digest_metalkit(bytes: &[u8]) -> Digest {
    let ctx = SessionContext::modern();
    let mut fold = Fold::new();
    let mut rest = bytes;
    // The decoder reuses the memory of each message for the next one.
    let mut decoder = UpdateDecoder::new();
    while !rest.is_empty() {
        let len = frame(rest, &ctx)
            .expect("a valid header")
            .expect("a whole message");
        let (message, tail) = rest.split_at(len);
        rest = tail;
        assert_eq!(message[18], 2, "the table holds only UPDATEs");
        let update = decoder
            .decode(&message[HEADER_LEN..], &ctx)
            .expect("a valid UPDATE");
        fold.message();
        fold.add(tag::WITHDRAWN);
        for n in &update.withdrawn {
            metalkit_prefix(&mut fold, n);
        }
        for attribute in &update.attributes {
            match &attribute.value {
                AttributeValue::Origin(o) => fold.add(
                    tag::ORIGIN
                        | match o {
                            Origin::Igp => 0,
                            Origin::Egp => 1,
                            Origin::Incomplete => 2,
                        },
                ),
                AttributeValue::AsPath(path) => {
                    for segment in &path.segments {
                        assert_eq!(segment.kind, SegmentType::Sequence, "only AS_SEQUENCE");
                        fold.add(tag::AS_PATH | segment.asns.len() as u64);
                        for &asn in &segment.asns {
                            fold.add(u64::from(asn));
                        }
                    }
                }
                AttributeValue::NextHop(hop) => {
                    fold.add(tag::NEXT_HOP | u64::from(hop.to_bits()));
                }
                AttributeValue::MultiExitDisc(med) => fold.add(tag::MED | u64::from(*med)),
                AttributeValue::Communities(c) => {
                    fold.set(tag::COMMUNITIES, c.iter().map(|c| u64::from(c.0)));
                }
                AttributeValue::LargeCommunities(c) => fold.set(
                    tag::LARGE,
                    c.iter().map(|c| large_key(c.global, c.local1, c.local2)),
                ),
                AttributeValue::MpReach(mp) => {
                    let afi = u64::from(u16::from(mp.family.afi));
                    let safi = u64::from(u8::from(mp.family.safi));
                    fold.add(tag::MP_REACH | (afi << 8) | safi);
                    match &mp.next_hop {
                        NextHop::V6 {
                            global,
                            link_local: None,
                        } => fold.next_hop_v6(*global),
                        other => panic!("the table has 16-byte next hops, not {other:?}"),
                    }
                    for n in mp.nlri.prefixes() {
                        metalkit_prefix(&mut fold, n);
                    }
                }
                other => panic!("the table has no {:?}", other.kind()),
            }
        }
        for n in &update.nlri {
            metalkit_prefix(&mut fold, n);
        }
    }
    fold.finish()
}

#[inline(always)]
fn metalkit_prefix(fold: &mut Fold, n: &Nlri) {
    match n.prefix.addr() {
        IpAddr::V4(a) => fold.v4(a, n.prefix.prefix_len()),
        IpAddr::V6(a) => fold.v6(a, n.prefix.prefix_len()),
    }
}

/// The checksum of [`digest_metalkit`].
pub fn checksum_metalkit(bytes: &[u8]) -> u64 {
    digest_metalkit(bytes).checksum
}

/// `bgpkit-parser`: its `parse_bgp_message` frames and decodes each message, with
/// 4-octet AS numbers and no ADD-PATH. It reads from a `bytes::Bytes`; this copies the
/// stream into one first (see [`digest_bgpkit_bytes`] to leave the copy out of a
/// measurement).
///
/// # Panics
///
/// As [`digest_metalkit`].
pub fn digest_bgpkit(bytes: &[u8]) -> Digest {
    digest_bgpkit_bytes(bytes::Bytes::copy_from_slice(bytes))
}

/// [`digest_bgpkit`] on a stream already in a `Bytes` (cloning one is O(1)).
///
/// # Panics
///
/// As [`digest_metalkit`].
pub fn digest_bgpkit_bytes(mut data: bytes::Bytes) -> Digest {
    use bgpkit_parser::models::{
        AsPathSegment, AsnLength, AttributeValue as V, BgpMessage, Community as C, NetworkPrefix,
        NextHopAddress, Origin as O,
    };
    use bgpkit_parser::parser::bgp::parse_bgp_message;

    fn prefix(fold: &mut Fold, p: &NetworkPrefix) {
        match p.prefix.addr() {
            IpAddr::V4(a) => fold.v4(a, p.prefix.prefix_len()),
            IpAddr::V6(a) => fold.v6(a, p.prefix.prefix_len()),
        }
    }

    let mut fold = Fold::new();
    while !data.is_empty() {
        let message =
            parse_bgp_message(&mut data, false, &AsnLength::Bits32).expect("a valid message");
        let BgpMessage::Update(update) = message else {
            panic!("the table holds only UPDATEs");
        };
        fold.message();
        fold.add(tag::WITHDRAWN);
        for p in &update.withdrawn_prefixes {
            prefix(&mut fold, p);
        }
        for value in &update.attributes {
            match value {
                V::Origin(o) => fold.add(
                    tag::ORIGIN
                        | match o {
                            O::IGP => 0,
                            O::EGP => 1,
                            O::INCOMPLETE => 2,
                        },
                ),
                V::AsPath(path) => {
                    for segment in &path.segments {
                        let AsPathSegment::AsSequence(asns) = segment else {
                            panic!("only AS_SEQUENCE");
                        };
                        fold.add(tag::AS_PATH | asns.len() as u64);
                        for asn in asns {
                            fold.add(u64::from(asn.to_u32()));
                        }
                    }
                }
                V::NextHop(IpAddr::V4(hop)) => fold.add(tag::NEXT_HOP | u64::from(hop.to_bits())),
                V::MultiExitDiscriminator(med) => fold.add(tag::MED | u64::from(*med)),
                V::Communities(c) => fold.set(
                    tag::COMMUNITIES,
                    c.iter().map(|c| match c {
                        C::NoExport => 0xffff_ff01,
                        C::NoAdvertise => 0xffff_ff02,
                        C::NoExportSubConfed => 0xffff_ff03,
                        C::Custom(asn, value) => {
                            (u64::from(asn.to_u32()) << 16) | u64::from(*value)
                        }
                    }),
                ),
                V::LargeCommunities(c) => fold.set(
                    tag::LARGE,
                    c.iter()
                        .map(|c| large_key(c.global_admin, c.local_data[0], c.local_data[1])),
                ),
                V::MpReachNlri(nlri) => {
                    let afi = u64::from(nlri.afi as u16);
                    let safi = u64::from(nlri.safi as u8);
                    fold.add(tag::MP_REACH | (afi << 8) | safi);
                    match &nlri.next_hop {
                        Some(NextHopAddress::Ipv6(global)) => fold.next_hop_v6(*global),
                        other => panic!("the table has 16-byte next hops, not {other:?}"),
                    }
                    for p in &nlri.prefixes {
                        prefix(&mut fold, p);
                    }
                }
                other => panic!("the table has no {other:?}"),
            }
        }
        for p in &update.announced_prefixes {
            prefix(&mut fold, p);
        }
    }
    fold.finish()
}

/// The checksum of [`digest_bgpkit`].
pub fn checksum_bgpkit(bytes: &[u8]) -> u64 {
    digest_bgpkit(bytes).checksum
}

/// The session parameters `zettabgp` decodes with, set explicitly: IPv4 transport,
/// 4-octet AS numbers, IPv4 and IPv6 unicast, no ADD-PATH and no guessing of path
/// identifiers (`fuzzy_pathid` off).
pub fn zettabgp_params() -> zettabgp::BgpSessionParams {
    use zettabgp::{BgpCapability, BgpSessionParams, BgpTransportMode};
    let mut params = BgpSessionParams::new(
        64_496,
        90,
        BgpTransportMode::IPv4,
        Ipv4Addr::new(192, 0, 2, 1),
        vec![
            BgpCapability::SafiIPv4u,
            BgpCapability::SafiIPv6u,
            BgpCapability::CapASN32(64_496),
        ],
    );
    params.has_as32bit = true;
    params.fuzzy_pathid = false;
    params
}

/// `zettabgp`: its `decode_message_head` frames each message and
/// `BgpUpdateMessage::decode_from` decodes the body, under [`zettabgp_params`].
///
/// # Panics
///
/// As [`digest_metalkit`].
pub fn digest_zettabgp(bytes: &[u8]) -> Digest {
    use zettabgp::BgpMessage as _;
    use zettabgp::prelude::{
        BgpAddr, BgpAddrs, BgpAttrItem, BgpAttrOrigin, BgpMessageType, BgpUpdateMessage,
    };

    fn prefixes(fold: &mut Fold, addrs: &BgpAddrs) {
        match addrs {
            BgpAddrs::None => {}
            BgpAddrs::IPV4U(v) => v.iter().for_each(|p| fold.v4(p.addr, p.prefixlen)),
            BgpAddrs::IPV6U(v) => v.iter().for_each(|p| fold.v6(p.addr, p.prefixlen)),
            other => panic!("the table has only unicast prefixes, not {other:?}"),
        }
    }

    let params = zettabgp_params();
    let mut fold = Fold::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let (kind, body_len) = params
            .decode_message_head(&bytes[pos..])
            .expect("a valid header");
        assert_eq!(kind, BgpMessageType::Update, "the table holds only UPDATEs");
        let body = &bytes[pos + 19..pos + 19 + body_len];
        pos += 19 + body_len;
        let mut update = BgpUpdateMessage::new();
        update.decode_from(&params, body).expect("a valid UPDATE");
        fold.message();
        fold.add(tag::WITHDRAWN);
        prefixes(&mut fold, &update.withdraws);
        for attribute in &update.attrs {
            match attribute {
                BgpAttrItem::Origin(o) => fold.add(
                    tag::ORIGIN
                        | match o.value {
                            BgpAttrOrigin::Igp => 0,
                            BgpAttrOrigin::Egp => 1,
                            BgpAttrOrigin::Incomplete => 2,
                        },
                ),
                BgpAttrItem::ASPath(path) => {
                    for item in &path.value {
                        let zettabgp::prelude::BgpASitem::Seq(seq) = item else {
                            panic!("only AS_SEQUENCE");
                        };
                        fold.add(tag::AS_PATH | seq.value.len() as u64);
                        for asn in &seq.value {
                            fold.add(u64::from(asn.value));
                        }
                    }
                }
                BgpAttrItem::NextHop(hop) => match hop.value {
                    IpAddr::V4(a) => fold.add(tag::NEXT_HOP | u64::from(a.to_bits())),
                    IpAddr::V6(a) => panic!("an IPv4 NEXT_HOP, not {a}"),
                },
                BgpAttrItem::MED(med) => fold.add(tag::MED | u64::from(med.value)),
                BgpAttrItem::CommunityList(c) => {
                    fold.set(tag::COMMUNITIES, c.value.iter().map(|c| u64::from(c.value)));
                }
                BgpAttrItem::LargeCommunityList(c) => fold.set(
                    tag::LARGE,
                    c.value.iter().map(|c| large_key(c.ga, c.ldp1, c.ldp2)),
                ),
                BgpAttrItem::MPUpdates(mp) => {
                    let (afi, safi) = mp.addrs.get_afi_safi();
                    fold.add(tag::MP_REACH | (u64::from(afi) << 8) | u64::from(safi));
                    match &mp.nexthop {
                        BgpAddr::V6(global) => fold.next_hop_v6(*global),
                        other => panic!("the table has 16-byte next hops, not {other:?}"),
                    }
                    prefixes(&mut fold, &mp.addrs);
                }
                other => panic!("the table has no {other:?}"),
            }
        }
        prefixes(&mut fold, &update.updates);
    }
    fold.finish()
}

/// The checksum of [`digest_zettabgp`].
pub fn checksum_zettabgp(bytes: &[u8]) -> u64 {
    digest_zettabgp(bytes).checksum
}

/// Walks the stream with `bgp-codec`'s [`frame`] alone and counts the messages: the
/// floor under any decoder.
///
/// # Panics
///
/// On a stream that is not a run of whole, valid messages.
pub fn frame_walk(bytes: &[u8]) -> usize {
    let ctx = SessionContext::modern();
    let mut rest = bytes;
    let mut count = 0;
    while !rest.is_empty() {
        let len = frame(rest, &ctx)
            .expect("a valid header")
            .expect("a whole message");
        rest = &rest[len..];
        count += 1;
    }
    count
}

/// Every message of the stream decoded by `bgp-codec`, for [`encode_all`].
///
/// # Panics
///
/// As [`frame_walk`], and on a message that does not decode.
pub fn decode_all(bytes: &[u8]) -> Vec<Message> {
    let ctx = SessionContext::modern();
    let mut messages = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let len = frame(rest, &ctx)
            .expect("a valid header")
            .expect("a whole message");
        messages.push(Message::decode(&rest[..len], &ctx).expect("a valid message"));
        rest = &rest[len..];
    }
    messages
}

/// Encodes `messages` back to back into `out` (cleared first) with `bgp-codec`,
/// on the session [`generate`] uses.
///
/// # Panics
///
/// On a message that does not encode.
pub fn encode_all(messages: &[Message], out: &mut Vec<u8>) {
    let ctx = SessionContext::modern();
    out.clear();
    for message in messages {
        message
            .encode(&ctx, out)
            .expect("a decoded message encodes");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_counts_right() {
        let a = generate_sized(7, 3_000, 600);
        let b = generate_sized(7, 3_000, 600);
        assert_eq!(a, b);
        assert_eq!((a.ipv4, a.ipv6), (3_000, 600));
        assert_ne!(a.bytes, generate_sized(8, 3_000, 600).bytes);
        assert_eq!(frame_walk(&a.bytes), a.messages);
    }

    #[test]
    fn the_prng_draws_within_bounds() {
        let mut rng = Rng::new(1);
        for _ in 0..10_000 {
            assert!(rng.below(7) < 7);
            assert!((3..=5).contains(&rng.range(3, 5)));
            assert!((1..=400).contains(&rng.group_size()));
        }
    }

    #[test]
    fn a_decoded_table_re_encodes_to_the_same_bytes() {
        let table = generate_sized(3, 2_000, 400);
        let messages = decode_all(&table.bytes);
        let mut out = Vec::new();
        encode_all(&messages, &mut out);
        assert_eq!(out, table.bytes);
    }
}
