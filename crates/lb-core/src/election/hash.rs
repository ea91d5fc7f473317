//! The rendezvous (highest-random-weight) hash: fixed, documented, platform-independent.

use std::net::IpAddr;

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64: for each byte, xor it in, then multiply by the FNV prime (mod 2^64).
fn fnv1a(mut state: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        state ^= u64::from(byte);
        state = state.wrapping_mul(FNV_PRIME);
    }
    state
}

/// The splitmix64 finaliser (Steele, Lea and Flood): a bijection with full avalanche,
/// so that names differing in their last byte get unrelated weights.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The rendezvous weight of `node` for `addr`; the layer-2 owner of an address is the
/// eligible node with the highest weight.
///
/// Definition (stable: every speaker of a cluster must compute the same value):
/// FNV-1a 64 (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`) over the bytes
/// `4` followed by the 4 address octets for IPv4, or `6` followed by the 16 octets for
/// IPv6 (network order), then the UTF-8 bytes of the node name; the result is passed
/// through the splitmix64 finaliser (add `0x9e3779b97f4a7c15`; `z ^= z >> 30`,
/// `z *= 0xbf58476d1ce4e5b9`; `z ^= z >> 27`, `z *= 0x94d049bb133111eb`;
/// `z ^= z >> 31`, all mod 2^64). The family byte fixes the address length, so the
/// encoding is unambiguous.
///
/// An IPv4-mapped IPv6 address is hashed as IPv6: it is a different address.
pub fn rendezvous_weight(addr: IpAddr, node: &str) -> u64 {
    let state = match addr {
        IpAddr::V4(v4) => fnv1a(fnv1a(FNV_OFFSET_BASIS, &[4]), &v4.octets()),
        IpAddr::V6(v6) => fnv1a(fnv1a(FNV_OFFSET_BASIS, &[6]), &v6.octets()),
    };
    splitmix64(fnv1a(state, node.as_bytes()))
}

/// The node among `nodes` with the highest [`rendezvous_weight`] for `addr`; on equal
/// weights the smaller name wins. `None` when `nodes` is empty.
///
/// The answer depends only on the set of names, not on their order or repeats.
pub fn rendezvous_owner<'a, I, S>(addr: IpAddr, nodes: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a S>,
    S: AsRef<str> + ?Sized + 'a,
{
    let mut best: Option<(u64, &'a str)> = None;
    for node in nodes {
        let name = node.as_ref();
        let weight = rendezvous_weight(addr, name);
        let better = match best {
            None => true,
            Some((w, n)) => weight > w || (weight == w && name < n),
        };
        if better {
            best = Some((weight, name));
        }
    }
    best.map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_vectors() {
        // From the FNV reference test suite.
        assert_eq!(fnv1a(FNV_OFFSET_BASIS, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(FNV_OFFSET_BASIS, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(FNV_OFFSET_BASIS, b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn splitmix64_matches_the_reference_generator() {
        // The first output of the reference splitmix64 generator seeded with 0 is the
        // finaliser applied to 0 (the increment is part of `splitmix64`).
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
    }
}
