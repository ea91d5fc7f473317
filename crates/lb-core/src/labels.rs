//! Kubernetes label selectors (`matchLabels` and `matchExpressions`).

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// The operator of a [`LabelRequirement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum SelectorOperator {
    /// The label is present and its value is one of `values`.
    In,
    /// The label is absent, or its value is none of `values`.
    NotIn,
    /// The label is present (any value); `values` must be empty.
    Exists,
    /// The label is absent; `values` must be empty.
    DoesNotExist,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelRequirement {
    /// The label key.
    pub key: String,
    /// How the label is tested.
    pub operator: SelectorOperator,
    /// The values for `In` and `NotIn`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// A Kubernetes `LabelSelector`: every `matchLabels` pair and every expression must
/// hold. An empty selector matches everything, as in Kubernetes.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    /// Labels that must all be present with these values.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Requirements that must all hold.
    #[serde(default)]
    pub match_expressions: Vec<LabelRequirement>,
}

impl LabelSelector {
    /// A selector of `matchLabels` only.
    pub fn from_labels<K: Into<String>, V: Into<String>>(
        labels: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            match_labels: labels
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            match_expressions: Vec::new(),
        }
    }

    /// Whether the selector is empty (matches everything).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Checks the rules the API server enforces: `In`/`NotIn` need values,
    /// `Exists`/`DoesNotExist` take none, keys are not empty.
    pub fn validate(&self) -> Result<(), String> {
        for r in &self.match_expressions {
            if r.key.is_empty() {
                return Err("a matchExpressions entry has an empty key".into());
            }
            match (r.operator, r.values.is_empty()) {
                (SelectorOperator::In | SelectorOperator::NotIn, true) => {
                    return Err(format!(
                        "matchExpressions key {:?}: operator {:?} needs at least one value",
                        r.key, r.operator
                    ));
                }
                (SelectorOperator::Exists | SelectorOperator::DoesNotExist, false) => {
                    return Err(format!(
                        "matchExpressions key {:?}: operator {:?} takes no values",
                        r.key, r.operator
                    ));
                }
                _ => {}
            }
        }
        if self.match_labels.keys().any(String::is_empty) {
            return Err("matchLabels has an empty key".into());
        }
        Ok(())
    }

    /// Whether `labels` satisfy the selector.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| {
                let value = labels.get(&r.key);
                match r.operator {
                    SelectorOperator::In => value.is_some_and(|v| r.values.contains(v)),
                    SelectorOperator::NotIn => value.is_none_or(|v| !r.values.contains(v)),
                    SelectorOperator::Exists => value.is_some(),
                    SelectorOperator::DoesNotExist => value.is_none(),
                }
            })
    }
}

/// The `kubectl` form: `a=b,tier in (web,api),!legacy`.
impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| {
            if first {
                first = false;
                Ok(())
            } else {
                f.write_str(",")
            }
        };
        for (k, v) in &self.match_labels {
            sep(f)?;
            write!(f, "{k}={v}")?;
        }
        for r in &self.match_expressions {
            sep(f)?;
            match r.operator {
                SelectorOperator::In => write!(f, "{} in ({})", r.key, r.values.join(","))?,
                SelectorOperator::NotIn => write!(f, "{} notin ({})", r.key, r.values.join(","))?,
                SelectorOperator::Exists => f.write_str(&r.key)?,
                SelectorOperator::DoesNotExist => write!(f, "!{}", r.key)?,
            }
        }
        if first {
            f.write_str("<everything>")?;
        }
        Ok(())
    }
}

/// Whether `labels` match at least one of `selectors`; an empty list matches all
/// (MetalLB's rule for `serviceSelectors` and `namespaceSelectors`).
pub(crate) fn any_matches(selectors: &[LabelSelector], labels: &BTreeMap<String, String>) -> bool {
    selectors.is_empty() || selectors.iter().any(|s| s.matches(labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn req(key: &str, operator: SelectorOperator, values: &[&str]) -> LabelRequirement {
        LabelRequirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    #[test]
    fn operators() {
        use SelectorOperator::*;
        let web = labels(&[("tier", "web"), ("env", "prod")]);
        let bare = labels(&[]);
        let cases = [
            (req("tier", In, &["web", "api"]), true, false),
            (req("tier", In, &["api"]), false, false),
            (req("tier", NotIn, &["api"]), true, true),
            (req("tier", NotIn, &["web"]), false, true),
            (req("env", Exists, &[]), true, false),
            (req("env", DoesNotExist, &[]), false, true),
        ];
        for (r, on_web, on_bare) in cases {
            let sel = LabelSelector {
                match_labels: BTreeMap::new(),
                match_expressions: vec![r.clone()],
            };
            assert_eq!(sel.matches(&web), on_web, "{r:?} on web");
            assert_eq!(sel.matches(&bare), on_bare, "{r:?} on no labels");
        }
    }

    #[test]
    fn labels_and_expressions_all_hold() {
        let sel = LabelSelector {
            match_labels: labels(&[("env", "prod")]),
            match_expressions: vec![req("tier", SelectorOperator::In, &["web"])],
        };
        assert!(sel.matches(&labels(&[("env", "prod"), ("tier", "web")])));
        assert!(!sel.matches(&labels(&[("env", "dev"), ("tier", "web")])));
        assert!(!sel.matches(&labels(&[("env", "prod")])));
        assert_eq!(sel.to_string(), "env=prod,tier in (web)");
        assert!(LabelSelector::default().matches(&labels(&[])));
        assert_eq!(LabelSelector::default().to_string(), "<everything>");
    }

    #[test]
    fn any_of_a_list() {
        let a = LabelSelector::from_labels([("a", "1")]);
        let b = LabelSelector::from_labels([("b", "1")]);
        assert!(any_matches(&[], &labels(&[])));
        assert!(any_matches(&[a.clone(), b.clone()], &labels(&[("b", "1")])));
        assert!(!any_matches(&[a, b], &labels(&[("c", "1")])));
    }

    #[test]
    fn validation() {
        use SelectorOperator::*;
        let bad = [
            req("k", In, &[]),
            req("k", NotIn, &[]),
            req("k", Exists, &["v"]),
            req("", Exists, &[]),
        ];
        for r in bad {
            let sel = LabelSelector {
                match_labels: BTreeMap::new(),
                match_expressions: vec![r.clone()],
            };
            assert!(sel.validate().is_err(), "{r:?}");
        }
        let json = r#"{"matchLabels":{"a":"b"},"matchExpressions":[{"key":"t","operator":"NotIn","values":["x"]}]}"#;
        let sel: LabelSelector = serde_json::from_str(json).expect("parses");
        assert!(sel.validate().is_ok());
        assert_eq!(sel.to_string(), "a=b,t notin (x)");
        assert!(serde_json::from_str::<LabelSelector>(r#"{"matchLabel":{}}"#).is_err());
    }
}
