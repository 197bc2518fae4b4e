//! Knowledge: SOPs, playbooks and FAQ pages as versioned Markdown. A playbook names a case kind
//! and its task list (`- [ ] …` lines) becomes the checklist of every case of that kind opened
//! while the version is in force; `(mandatory)` marks a task that blocks resolving.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    Sop,
    Playbook,
    Faq,
}

impl PageKind {
    pub const ALL: [PageKind; 3] = [Self::Sop, Self::Playbook, Self::Faq];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sop => "sop",
            Self::Playbook => "playbook",
            Self::Faq => "faq",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Sop => "SOP",
            Self::Playbook => "Playbook",
            Self::Faq => "FAQ",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A page's address: 3 to 80 lowercase letters, digits and dashes, starting with a letter.
pub fn check_slug(s: &str) -> Result<String, &'static str> {
    let ok = (3..=80).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok { Ok(s.to_owned()) } else { Err("3 to 80 lowercase letters, digits and dashes, starting with a letter") }
}

/// One task of a playbook's checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    pub title: String,
    pub mandatory: bool,
}

const MANDATORY: &str = "(mandatory)";

/// The task list of a playbook: every `- [ ] task` (or `* [ ]`) line, in order.
pub fn checklist(markdown: &str) -> Vec<ChecklistItem> {
    markdown
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l.strip_prefix("- [ ]").or_else(|| l.strip_prefix("* [ ]"))?;
            let mut title = rest.trim().to_owned();
            let mandatory = title.to_ascii_lowercase().contains(MANDATORY);
            if mandatory {
                let at = title.to_ascii_lowercase().find(MANDATORY).unwrap_or(0);
                title.replace_range(at..at + MANDATORY.len(), "");
                title = title.trim().to_owned();
            }
            (!title.is_empty()).then(|| ChecklistItem { title: title.chars().take(300).collect(), mandatory })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checklist_is_the_task_list() {
        let md = "# Account takeover\n\nFirst:\n- [ ] Verify identity (mandatory)\n  * [ ] Reset credentials (Mandatory)\n- [x] not a task\n- plain item\n- [ ]   \n";
        assert_eq!(
            checklist(md),
            vec![
                ChecklistItem { title: "Verify identity".into(), mandatory: true },
                ChecklistItem { title: "Reset credentials".into(), mandatory: true },
            ]
        );
        assert!(!checklist("- [ ] Tell the customer")[0].mandatory);
    }

    #[test]
    fn slugs() {
        assert!(check_slug("ato-playbook-2").is_ok());
        for bad in ["ab", "ATO", "1st", "a b", "x/../y", &"a".repeat(81)] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }
}
