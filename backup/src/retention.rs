//! Which backups to keep: the newest verified backup of each of the last `daily` days that have
//! one, and of each of the last `weekly` ISO weeks that have one; never the newest verified
//! backup. A backup that is not verified goes once a newer one is verified (it is kept while
//! none is, as the only copy there is). Days and weeks are UTC.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Datelike, Utc};

/// One stored backup, as retention sees it.
#[derive(Clone, Debug)]
pub struct Stored {
    pub key: String,
    pub created_at: DateTime<Utc>,
    pub verified: bool,
}

/// The keys to delete.
pub fn to_delete(stored: &[Stored], daily: usize, weekly: usize) -> Vec<String> {
    let mut verified: Vec<&Stored> = stored.iter().filter(|s| s.verified).collect();
    verified.sort_by_key(|s| std::cmp::Reverse(s.created_at));
    let Some(newest) = verified.first() else {
        return Vec::new();
    };
    let mut keep: HashSet<&str> = HashSet::from([newest.key.as_str()]);
    let mut days = BTreeSet::new();
    let mut weeks = BTreeSet::new();
    for s in &verified {
        let day = s.created_at.date_naive();
        if days.len() < daily && days.insert(day) {
            keep.insert(&s.key);
        }
        let week = (day.iso_week().year(), day.iso_week().week());
        if weeks.len() < weekly && weeks.insert(week) {
            keep.insert(&s.key);
        }
    }
    stored
        .iter()
        .filter(|s| !keep.contains(s.key.as_str()))
        .filter(|s| s.verified || s.created_at < newest.created_at)
        .map(|s| s.key.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    fn stored(day: u32, hour: u32, verified: bool) -> Stored {
        Stored {
            key: format!("{day:02}-{hour:02}"),
            created_at: at(day, hour),
            verified,
        }
    }

    #[test]
    fn keeps_the_newest_of_each_day_and_week() {
        // November 2026: the 2nd is a Monday. Two backups a day from the 1st to the 20th.
        let all: Vec<Stored> = (1..=20)
            .flat_map(|d| [stored(d, 2, true), stored(d, 14, true)])
            .collect();
        let deleted = to_delete(&all, 3, 2);
        let kept: Vec<&str> = all
            .iter()
            .map(|s| s.key.as_str())
            .filter(|k| !deleted.iter().any(|d| d == k))
            .collect();
        // Days 20, 19, 18 (newest of each); weeks of the 16th–20th and the 9th–15th: the 20th
        // (kept already) and the 15th.
        assert_eq!(kept, vec!["15-14", "18-14", "19-14", "20-14"]);
    }

    #[test]
    fn never_deletes_the_newest_verified_or_newer_unverified() {
        let all = vec![
            stored(1, 2, true),
            stored(2, 2, false),
            stored(3, 2, true),
            stored(4, 2, false),
        ];
        assert_eq!(to_delete(&all, 0, 0), vec!["01-02", "02-02"]);
        // Nothing verified: nothing goes.
        let none = vec![stored(1, 2, false), stored(2, 2, false)];
        assert!(to_delete(&none, 1, 1).is_empty());
    }
}
