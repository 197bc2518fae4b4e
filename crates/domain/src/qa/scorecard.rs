//! Scorecards: sections of weighted criteria, each rated on a binary or a points scale, or not
//! applicable (its weight leaves the denominator); a failed knock-out criterion scores the
//! whole handling 0. A scorecard is versioned: a review keeps the version it was scored with.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A criterion; its `code` (lowercase letters, digits and `_`) appears once in the scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9_]+$"))]
    pub code: String,
    pub label: String,
    /// Relative weight, above 0 and at most 100.
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0, maximum = 100))]
    pub weight: f64,
    /// The highest rating, 1 to 10 (default 1): 1 is pass/fail, 3 to 5 a points scale.
    #[serde(default = "one", deserialize_with = "crate::whole::int")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10))]
    pub max: i64,
    /// Failing it (rating 0) scores the handling 0.
    #[serde(default)]
    pub knockout: bool,
    /// What a failed knock-out opens, e.g. `privacy_complaint` (a possible breach).
    #[serde(default)]
    pub opens_case: Option<String>,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub name: String,
    pub criteria: Vec<Criterion>,
}

/// A scorecard: a name besides white space, and sections holding one criterion or more in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Scorecard {
    #[cfg_attr(feature = "openapi", schema(pattern = "[\\S\\x1c-\\x1f]"))]
    pub name: String,
    pub sections: Vec<Section>,
}

/// A rating: points from 0 to the criterion's max, or not applicable (`"na"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Rating {
    /// 0 to the criterion's max.
    Points(i64),
    /// `"na"`.
    NotApplicable(Na),
}

/// Points as an integer (also as a whole-number float), or `"na"`.
impl<'de> Deserialize<'de> for Rating {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Rating;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("points (an integer) or \"na\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Rating, E> {
                Ok(Rating::Points(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Rating, E> {
                i64::try_from(v).map(Rating::Points).map_err(|_| E::custom("points out of range"))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Rating, E> {
                crate::whole::whole_f64(v).map(Rating::Points).ok_or_else(|| E::custom("points must be an integer"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Rating, E> {
                if v == "na" {
                    Ok(Rating::NotApplicable(Na::Na))
                } else {
                    Err(E::custom("points (an integer) or \"na\""))
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Na {
    Na,
}

/// A review's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// 0 to 100.
    pub score: f64,
    /// The failed knock-out criteria.
    pub knocked_out: Vec<String>,
    /// Criteria rated below their max.
    pub failed: Vec<String>,
}

impl Scorecard {
    pub fn criteria(&self) -> impl Iterator<Item = &Criterion> {
        self.sections.iter().flat_map(|s| s.criteria.iter())
    }

    /// Checks the scorecard itself: codes unique and plain, weights positive, scales 1-10.
    pub fn check(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("name: is blank".into());
        }
        let mut seen = std::collections::HashSet::new();
        if self.criteria().next().is_none() {
            return Err("sections: at least one criterion".into());
        }
        for c in self.criteria() {
            if c.code.is_empty() || !c.code.chars().all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || x == '_') {
                return Err(format!("criteria: the code {:?} must be lowercase letters, digits and _", c.code));
            }
            if !seen.insert(c.code.clone()) {
                return Err(format!("criteria: the code {} appears twice", c.code));
            }
            if !(c.weight > 0.0 && c.weight <= 100.0) {
                return Err(format!("criteria: {} needs a weight above 0 and at most 100", c.code));
            }
            if !(1..=10).contains(&c.max) {
                return Err(format!("criteria: {} needs a max of 1 to 10", c.code));
            }
        }
        Ok(())
    }

    /// Scores ratings of every criterion. Unknown codes, missing ones and out-of-scale points
    /// are refused, naming the criterion.
    pub fn score(&self, ratings: &BTreeMap<String, Rating>) -> Result<Scored, String> {
        for code in ratings.keys() {
            if !self.criteria().any(|c| &c.code == code) {
                return Err(format!("ratings: {code} is not a criterion of this scorecard"));
            }
        }
        let (mut got, mut total) = (0.0, 0.0);
        let (mut knocked_out, mut failed) = (Vec::new(), Vec::new());
        for c in self.criteria() {
            match ratings.get(&c.code) {
                None => return Err(format!("ratings: {} is not rated", c.code)),
                Some(Rating::NotApplicable(_)) => {}
                Some(Rating::Points(p)) => {
                    if !(0..=c.max).contains(p) {
                        return Err(format!("ratings: {} must be 0 to {} or \"na\"", c.code, c.max));
                    }
                    got += c.weight * (*p as f64) / (c.max as f64);
                    total += c.weight;
                    if *p < c.max {
                        failed.push(c.code.clone());
                    }
                    if c.knockout && *p == 0 {
                        knocked_out.push(c.code.clone());
                    }
                }
            }
        }
        let score = if !knocked_out.is_empty() {
            0.0
        } else if total == 0.0 {
            100.0
        } else {
            (got / total * 1000.0).round() / 10.0
        };
        Ok(Scored { score, knocked_out, failed })
    }
}

/// The starter scorecard of a risk team (the knock-outs of qa.md).
pub fn starter() -> Scorecard {
    let c = |code: &str, label: &str, weight: f64, max: i64, knockout: bool, opens: Option<&str>| Criterion {
        code: code.into(),
        label: label.into(),
        weight,
        max,
        knockout,
        opens_case: opens.map(str::to_owned),
    };
    Scorecard {
        name: "Tier-2 risk handling".into(),
        sections: vec![
            Section {
                name: "Security".into(),
                criteria: vec![
                    c(
                        "identity_before_disclosure",
                        "Identity checked before disclosing personal data",
                        3.0,
                        1,
                        true,
                        Some("privacy_complaint"),
                    ),
                    c("refund_within_policy", "Refund or goodwill within policy", 3.0, 1, true, None),
                    c(
                        "verified_account_change",
                        "Account, address or e-mail change verified",
                        3.0,
                        1,
                        true,
                        Some("account_takeover"),
                    ),
                    c("no_tipping_off", "The customer was not told why an order was flagged", 2.0, 1, true, None),
                ],
            },
            Section {
                name: "Handling".into(),
                criteria: vec![
                    c("sop_followed", "The SOP's checks were done", 2.0, 4, false, None),
                    c("escalated_right", "Escalated when the SOP says so", 2.0, 1, false, None),
                    c("documented", "The case notes say what was done and why", 1.0, 4, false, None),
                    c("tone", "Clear and courteous", 1.0, 4, false, None),
                ],
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(card: &Scorecard, r: Rating) -> BTreeMap<String, Rating> {
        card.criteria().map(|c| (c.code.clone(), r)).collect()
    }

    #[test]
    fn weights_not_applicable_and_knockouts() {
        let card = starter();
        let mut r: BTreeMap<String, Rating> =
            card.criteria().map(|c| (c.code.clone(), Rating::Points(c.max))).collect();
        assert_eq!(card.score(&r).unwrap().score, 100.0);
        // The tone at 2 of 4 (weight 1 of 17): 100 - 0.5/17.
        r.insert("tone".into(), Rating::Points(2));
        let s = card.score(&r).unwrap();
        assert_eq!(s.score, ((17.0 - 0.5) / 17.0 * 1000.0_f64).round() / 10.0);
        assert_eq!(s.failed, ["tone"]);
        // Not applicable: the weight leaves the denominator.
        r.insert("escalated_right".into(), Rating::NotApplicable(Na::Na));
        assert_eq!(card.score(&r).unwrap().score, ((15.0 - 0.5) / 15.0 * 1000.0_f64).round() / 10.0);
        // A failed knock-out scores 0 and names itself.
        r.insert("identity_before_disclosure".into(), Rating::Points(0));
        let s = card.score(&r).unwrap();
        assert_eq!((s.score, s.knocked_out.clone()), (0.0, vec!["identity_before_disclosure".to_owned()]));
        // Everything not applicable: nothing failed.
        assert_eq!(card.score(&all(&card, Rating::NotApplicable(Na::Na))).unwrap().score, 100.0);
    }

    #[test]
    fn bad_ratings_are_named() {
        let card = starter();
        let mut r = all(&card, Rating::Points(1));
        r.insert("tone".into(), Rating::Points(5));
        assert!(card.score(&r).unwrap_err().contains("tone"));
        r.remove("tone");
        assert!(card.score(&r).unwrap_err().contains("tone is not rated"));
        r.insert("nope".into(), Rating::Points(1));
        assert!(card.score(&r).unwrap_err().contains("nope"));
        let parsed: BTreeMap<String, Rating> = serde_json::from_str(r#"{"a": 2, "b": "na"}"#).unwrap();
        assert_eq!(parsed["b"], Rating::NotApplicable(Na::Na));
    }

    proptest! {
        /// Any ratings within scale score 0 to 100; with no knock-out failed, raising one
        /// rating never lowers the score; a failed knock-out always scores 0.
        #[test]
        fn score_arithmetic(points in prop::collection::vec(prop::option::of(0i64..=4), 8)) {
            let card = starter();
            let r: BTreeMap<String, Rating> = card.criteria().zip(&points).map(|(c, p)| {
                (c.code.clone(), p.map_or(Rating::NotApplicable(Na::Na), |p| Rating::Points(p.min(c.max))))
            }).collect();
            let s = card.score(&r).unwrap();
            prop_assert!((0.0..=100.0).contains(&s.score));
            if !s.knocked_out.is_empty() {
                prop_assert_eq!(s.score, 0.0);
            } else {
                for c in card.criteria() {
                    if let Some(Rating::Points(p)) = r.get(&c.code) && *p < c.max && (*p + 1 > 0 || !c.knockout) {
                        let mut up = r.clone();
                        up.insert(c.code.clone(), Rating::Points(p + 1));
                        let s2 = card.score(&up).unwrap();
                        prop_assert!(s2.score + 1e-9 >= s.score);
                    }
                }
            }
        }
    }
}
