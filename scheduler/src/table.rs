//! The cron table: built-in entries, overridden or extended by configuration.

use std::str::FromStr;

use cartwheel_jobs::Job;
use cartwheel_jobs::families::abandoned_cart::FindAbandonedCarts;
use cartwheel_jobs::families::backup::RunBackup;
use cartwheel_jobs::families::maintenance::PruneJobs;
use cartwheel_jobs::families::order_confirmation::ExpireUnpaidOrders;
use cartwheel_jobs::families::stock::SweepStock;

/// An entry as configuration states it.
#[derive(Clone, Debug, PartialEq)]
pub struct CronSpec {
    pub name: String,
    /// Six or seven fields, seconds first: `sec min hour day-of-month month day-of-week [year]`.
    pub schedule: String,
    /// The job type (its queue name), e.g. `maintenance.prune`.
    pub job: String,
    pub payload: serde_json::Value,
    pub enabled: bool,
}

/// An entry ready to run.
#[derive(Clone, Debug)]
pub struct CronEntry {
    pub name: String,
    pub schedule: cron::Schedule,
    pub queue: String,
    pub max_attempts: u32,
    pub payload: serde_json::Value,
    pub enabled: bool,
}

/// Entries every installation has; configuration may disable or reschedule them by name.
/// Carts idle for `abandoned_cart_idle_minutes` get their reminder; the daily `backup` is on
/// when backups are configured.
pub fn builtin_entries(abandoned_cart_idle_minutes: u64, backups: bool) -> Vec<CronSpec> {
    let entry = |name: &str, schedule: &str, job: &str, payload: serde_json::Value| CronSpec {
        name: name.into(),
        schedule: schedule.into(),
        job: job.into(),
        payload,
        enabled: true,
    };
    vec![
        entry(
            "prune-jobs",
            "0 15 3 * * *",
            PruneJobs::QUEUE,
            serde_json::json!({}),
        ),
        entry(
            "abandoned-carts",
            "0 0 * * * *",
            FindAbandonedCarts::QUEUE,
            serde_json::json!({ "idle_minutes": abandoned_cart_idle_minutes }),
        ),
        entry(
            "stock-sweep",
            "0 */15 * * * *",
            SweepStock::QUEUE,
            serde_json::json!({}),
        ),
        entry(
            "unpaid-orders",
            "0 */5 * * * *",
            ExpireUnpaidOrders::QUEUE,
            serde_json::json!({}),
        ),
        CronSpec {
            enabled: backups,
            ..entry(
                "backup",
                "0 30 2 * * *",
                RunBackup::QUEUE,
                serde_json::json!({}),
            )
        },
    ]
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("cron entry `{entry}`: {message}")]
pub struct TableError {
    pub entry: String,
    pub message: String,
}

/// Built-ins first, then configured entries (replacing built-ins of the same name); every
/// schedule and payload is checked so a typo stops start-up instead of silently never running.
pub fn build_table(
    builtins: Vec<CronSpec>,
    configured: Vec<CronSpec>,
) -> Result<Vec<CronEntry>, TableError> {
    let mut specs = builtins;
    for spec in configured {
        match specs.iter_mut().find(|s| s.name == spec.name) {
            Some(existing) => *existing = spec,
            None => specs.push(spec),
        }
    }
    specs
        .into_iter()
        .map(|spec| {
            let error = |message: String| TableError {
                entry: spec.name.clone(),
                message,
            };
            let schedule = cron::Schedule::from_str(&spec.schedule)
                .map_err(|e| error(format!("bad schedule `{}`: {e}", spec.schedule)))?;
            let policy =
                cartwheel_jobs::families::check_payload(&spec.job, &spec.payload).map_err(error)?;
            Ok(CronEntry {
                name: spec.name,
                schedule,
                queue: spec.job,
                max_attempts: policy.max_attempts,
                payload: spec.payload,
                enabled: spec.enabled,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, schedule: &str, job: &str) -> CronSpec {
        CronSpec {
            name: name.into(),
            schedule: schedule.into(),
            job: job.into(),
            payload: serde_json::json!({}),
            enabled: true,
        }
    }

    #[test]
    fn configuration_overrides_builtins_by_name() {
        let mut off = spec("prune-jobs", "0 0 4 * * *", "maintenance.prune");
        off.enabled = false;
        let table = build_table(
            builtin_entries(240, false),
            vec![off, spec("ping", "* * * * * *", "noop")],
        )
        .unwrap();
        assert_eq!(table.len(), 6);
        assert!(!table[0].enabled);
        assert_eq!(table[1].queue, "abandoned_cart.scan");
        assert_eq!(table[1].payload["idle_minutes"], 240);
        assert_eq!(table[2].queue, "stock.sweep");
        assert_eq!(table[3].queue, "order_confirmation.expire");
        assert_eq!(table[4].queue, "backup.run");
        assert!(!table[4].enabled, "no backups configured");
        assert_eq!(table[5].queue, "noop");
        assert_eq!(table[5].max_attempts, 3);
    }

    #[test]
    fn bad_entries_are_named() {
        let err = build_table(vec![], vec![spec("nightly", "every day", "noop")]).unwrap_err();
        assert_eq!(err.entry, "nightly");
        let err = build_table(vec![], vec![spec("x", "* * * * * *", "no.such.job")]).unwrap_err();
        assert!(err.message.contains("unknown job"));
        let mut bad = spec("y", "* * * * * *", "noop");
        bad.payload = serde_json::json!({"sleep_ms": "long"});
        assert!(build_table(vec![], vec![bad]).is_err());
    }
}
