//! Fuzzes lb-core's configuration readers (kube-vip ConfigMap data, MetalLB and native
//! pool objects, address ranges, label selectors) and the IPAM built from them.
//! Replayed on stable by `crates/lb-core/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../bodies/lb_core.rs");

fuzz_target!(|data: &[u8]| fuzz_lb_config(data));
