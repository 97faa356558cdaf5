//! The dashboard's periods in a shop's timezone (today, this week from Monday, this month),
//! each with the same span of the period before, and how a period splits into the whole UTC
//! days the rollups hold and the partial days at its edges.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// From `from` (inclusive) to `to` (exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Each period until now, with the period before it until the same point.
pub struct Periods {
    pub today: (Period, Period),
    pub week: (Period, Period),
    pub month: (Period, Period),
}

impl Periods {
    pub fn at(tz: Tz, now: DateTime<Utc>) -> Self {
        let today = now.with_timezone(&tz).date_naive();
        let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
        let first = today.with_day(1).expect("every month has a first day");
        let previous_first = (first - Duration::days(1))
            .with_day(1)
            .expect("every month has a first day");
        Periods {
            today: so_far(tz, now, today, today - Duration::days(1)),
            week: so_far(tz, now, monday, monday - Duration::days(7)),
            month: so_far(tz, now, first, previous_first),
        }
    }
}

/// The period from `start` (a local date) until now, and the one from `previous` for as long,
/// never past `start`.
fn so_far(tz: Tz, now: DateTime<Utc>, start: NaiveDate, previous: NaiveDate) -> (Period, Period) {
    let from = midnight(tz, start);
    let previous_from = midnight(tz, previous);
    let previous_to = Ord::min(previous_from + (now - from), from);
    (
        Period { from, to: now },
        Period {
            from: previous_from,
            to: previous_to,
        },
    )
}

/// When the local `date` begins (the first instant of it, where a clock change skips
/// midnight).
pub fn midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut local = date.and_time(NaiveTime::MIN);
    loop {
        if let Some(at) = tz.from_local_datetime(&local).earliest() {
            return at.with_timezone(&Utc);
        }
        // No zone skips more than a few hours: the first minute that exists begins the day.
        local += Duration::minutes(15);
    }
}

/// A period as the rollups read it: whole UTC days `[first, end)` (`YYYY-MM-DD`), and the
/// partial days before and after them.
pub struct Split {
    head: Option<Period>,
    days: Option<(String, String)>,
    tail: Option<Period>,
}

impl Split {
    /// The partial days, read from the orders themselves.
    pub fn edges(&self) -> impl Iterator<Item = Period> + '_ {
        self.head.into_iter().chain(self.tail)
    }

    /// The whole days, read from the rollups.
    pub fn days(&self) -> Option<(String, String)> {
        self.days.clone()
    }
}

impl Period {
    pub fn split_at_utc_days(self) -> Split {
        let day_start = |at: DateTime<Utc>| at.date_naive().and_time(NaiveTime::MIN).and_utc();
        let first = {
            let start = day_start(self.from);
            if start == self.from {
                start
            } else {
                start + Duration::days(1)
            }
        };
        let end = day_start(self.to);
        if self.to <= self.from {
            return Split {
                head: None,
                days: None,
                tail: None,
            };
        }
        if first >= end {
            return Split {
                head: Some(self),
                days: None,
                tail: None,
            };
        }
        let day = |at: DateTime<Utc>| at.format("%Y-%m-%d").to_string();
        Split {
            head: (self.from < first).then_some(Period {
                from: self.from,
                to: first,
            }),
            days: Some((day(first), day(end))),
            tail: (end < self.to).then_some(Period {
                from: end,
                to: self.to,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn periods_begin_at_local_midnight_and_compare_with_as_long_before() {
        // Sunday 6 December 2026, 10:30 in New York (15:30 UTC).
        let now = at("2026-12-06T15:30:00Z");
        let p = Periods::at(chrono_tz::America::New_York, now);
        assert_eq!(p.today.0.from, at("2026-12-06T05:00:00Z"));
        assert_eq!(p.today.1.from, at("2026-12-05T05:00:00Z"));
        assert_eq!(p.today.1.to, at("2026-12-05T15:30:00Z"));
        // The week began on Monday the 30th of November.
        assert_eq!(p.week.0.from, at("2026-11-30T05:00:00Z"));
        assert_eq!(p.week.1.from, at("2026-11-23T05:00:00Z"));
        assert_eq!(p.month.0.from, at("2026-12-01T05:00:00Z"));
        assert_eq!(
            p.month.1.from,
            at("2026-11-01T04:00:00Z"),
            "daylight time then"
        );
    }

    #[test]
    fn the_previous_month_is_cut_at_its_end() {
        // 31 March: February has 28 days, so "as long" ends at 1 March.
        let now = at("2027-03-31T12:00:00Z");
        let p = Periods::at(chrono_tz::UTC, now);
        assert_eq!(p.month.1.from, at("2027-02-01T00:00:00Z"));
        assert_eq!(p.month.1.to, at("2027-03-01T00:00:00Z"));
    }

    #[test]
    fn a_day_that_skips_midnight_begins_when_the_clock_does() {
        // Chile moves to summer time at midnight: 6 September 2026 begins at 01:00.
        let start = midnight(
            chrono_tz::America::Santiago,
            NaiveDate::from_ymd_opt(2026, 9, 6).unwrap(),
        );
        assert_eq!(start, at("2026-09-06T04:00:00Z"));
    }

    #[test]
    fn a_period_splits_into_whole_utc_days_and_its_edges() {
        let split = Period {
            from: at("2026-12-01T05:00:00Z"),
            to: at("2026-12-06T15:30:00Z"),
        }
        .split_at_utc_days();
        let edges: Vec<Period> = split.edges().collect();
        assert_eq!(
            edges,
            [
                Period {
                    from: at("2026-12-01T05:00:00Z"),
                    to: at("2026-12-02T00:00:00Z")
                },
                Period {
                    from: at("2026-12-06T00:00:00Z"),
                    to: at("2026-12-06T15:30:00Z")
                },
            ]
        );
        assert_eq!(
            split.days(),
            Some(("2026-12-02".to_string(), "2026-12-06".to_string()))
        );
        // Within one UTC day: all of it from the orders.
        let short = Period {
            from: at("2026-12-06T05:00:00Z"),
            to: at("2026-12-06T15:30:00Z"),
        }
        .split_at_utc_days();
        assert_eq!(short.edges().count(), 1);
        assert_eq!(short.days(), None);
        // From midnight UTC: no head.
        let whole = Period {
            from: at("2026-12-05T00:00:00Z"),
            to: at("2026-12-07T00:00:00Z"),
        }
        .split_at_utc_days();
        assert_eq!(whole.edges().count(), 0);
        assert_eq!(
            whole.days(),
            Some(("2026-12-05".to_string(), "2026-12-07".to_string()))
        );
    }
}
