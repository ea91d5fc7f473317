//! Unique, recognisable names for everything the kit creates.

use std::sync::atomic::{AtomicU32, Ordering};

/// The prefix of every namespace, temporary directory and process label the kit
/// creates. Names are `PREFIX-<pid>-<n>-<label>`: the PID of the creating process lets
/// [`sweep()`](crate::sweep()) tell a killed test's leftovers from a live test's resources.
pub const PREFIX: &str = "mktk";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh name `mktk-<pid>-<n>-<label>`; `label` is reduced to `[a-z0-9]` and 12 characters.
pub(crate) fn unique(label: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let clean: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .take(12)
        .collect();
    format!("{PREFIX}-{}-{n}-{clean}", std::process::id())
}

/// The PID encoded in one of the kit's names, or `None` when the name is not ours.
pub(crate) fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?.strip_prefix('-')?;
    let (pid, rest) = rest.split_once('-')?;
    let (seq, _label) = rest.split_once('-')?;
    seq.parse::<u32>().ok()?;
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_carry_the_pid() {
        let a = unique("Router-1!");
        let b = unique("Router-1!");
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("{PREFIX}-{}-", std::process::id())));
        assert!(a.ends_with("-router1"));
        assert_eq!(owner_pid(&a), Some(std::process::id()));
    }

    #[test]
    fn foreign_names_have_no_owner() {
        assert_eq!(owner_pid("mktk"), None);
        assert_eq!(owner_pid("other-12-3-x"), None);
        assert_eq!(owner_pid("mktk-abc-1-x"), None);
        assert_eq!(owner_pid("mktk-12-x-y"), None);
        assert_eq!(owner_pid("mktk-12-3-lab"), Some(12));
    }
}
