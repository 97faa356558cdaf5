//! Workers SIGKILLed over and over while a backlog of mails drains (issue #18's drill): every
//! mail goes out; the outbox holds exactly one file per mail; over SMTP a mail arrives a second
//! time only if a kill landed inside its send (the killed worker held its claim, unmarked), at
//! most once per such kill, and every other mail arrives exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cartwheel_domain::emails::{self, NewEmail, Template};
use cartwheel_entity::{emails as email_rows, tenants};
use cartwheel_jobs::store::monitor::JobState;
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{
    Backend, Process, cartwheel_process, drain_jobs, eventually, job_count, migrated_database,
    scalar,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

const MAILS: usize = 1500;
const WORKERS: usize = 3;
const KILL_EVERY: Duration = Duration::from_millis(700);

enum Transport {
    Outbox(PathBuf),
    Smtp(MailServer),
}

impl Transport {
    fn env(&self) -> (&'static str, String) {
        match self {
            Transport::Outbox(dir) => ("CARTWHEEL_OUTBOX_DIR", dir.display().to_string()),
            Transport::Smtp(server) => ("CARTWHEEL_SMTP_URL", server.url()),
        }
    }

    /// Message-IDs (outbox: row ids) the transport has taken so far, with how often.
    fn delivered(&self) -> BTreeMap<String, usize> {
        let mut seen = BTreeMap::new();
        match self {
            Transport::Outbox(dir) => {
                for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if let Some(id) = name.strip_suffix(".eml") {
                        *seen.entry(id.to_string()).or_default() += 1;
                    }
                }
            }
            Transport::Smtp(server) => {
                for mail in server.messages() {
                    let id = mail
                        .header("Message-ID")
                        .expect("every mail has a Message-ID");
                    *seen.entry(id).or_default() += 1;
                }
            }
        }
        seen
    }

    /// What `delivered` calls the mail of `row`.
    fn key(&self, row: &email_rows::Model) -> String {
        match self {
            Transport::Outbox(_) => row.id.to_string(),
            Transport::Smtp(_) => row.message_id.clone(),
        }
    }
}

#[tokio::test]
async fn outbox_killed_workers_leave_one_file_per_mail() {
    let dir = std::env::temp_dir().join(format!("cw_outbox_{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // Even a kill between the file and the mark makes no second file: the retry replaces it
    // (`mail::an_outbox_resend_replaces_its_file` makes that case every time).
    let caught = drill(&Transport::Outbox(dir.clone())).await;
    println!("outbox: {caught} kill(s) landed between a file and its mark");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn smtp_killed_workers_send_twice_only_inside_the_window() {
    drill(&Transport::Smtp(MailServer::start().await)).await;
}

/// Queues `MAILS` mails, drains them with `WORKERS` workers while one is killed and replaced
/// every `KILL_EVERY`, and checks what arrived. Returns how many rows a kill caught with their
/// mail already delivered and the row not yet marked.
async fn drill(transport: &Transport) -> usize {
    let (_database, url, db) = migrated_database(Backend::Postgres).await;
    let ids = backlog(&db).await;
    let (key, value) = transport.env();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("CARTWHEEL_JOB_RECOVERY_SECS", "2"),
        ("CARTWHEEL_WORKER_POLL_MS", "100"),
        // Well above a send's time on this busy machine; a killed worker's rows wait out their
        // 6 s claim before another worker sends them.
        ("CARTWHEEL_SMTP_TIMEOUT_SECS", "3"),
        (key, value.as_str()),
    ];
    let unsent = "SELECT COUNT(*) FROM emails WHERE sent_at IS NULL";

    let mut workers: Vec<Process> = (0..WORKERS)
        .map(|_| cartwheel_process(&["worker"], &env))
        .collect();
    // Row id → how many kills found it claimed by the killed worker and not marked sent: the
    // kill landed inside its send, somewhere between the claim and the mark.
    let mut held: BTreeMap<Uuid, usize> = BTreeMap::new();
    // Of those, the ones whose mail was already delivered at the kill.
    let mut caught = BTreeSet::new();
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && scalar(&db, unsent).await > 0 {
        tokio::time::sleep(KILL_EVERY).await;
        let mut victim = workers.remove(0);
        victim.signal("KILL");
        victim.wait(Duration::from_secs(5)).await;
        kills += 1;
        let delivered = transport.delivered();
        for row in held_by(&db, victim.id()).await {
            *held.entry(row.id).or_default() += 1;
            if delivered.contains_key(&transport.key(&row)) {
                caught.insert(row.id);
            }
        }
        workers.push(cartwheel_process(&["worker"], &env));
    }
    // Each kill came within `KILL_EVERY` of a look that found mails still unsent.
    assert!(kills >= 5, "the backlog outlived several kills ({kills})");

    eventually(
        Duration::from_secs(60),
        "every mail marked sent",
        || async { scalar(&db, unsent).await == 0 },
    )
    .await;
    drain_jobs(&db).await;
    assert_eq!(
        job_count(&db, Some("email.send"), Some(JobState::Dead)).await,
        0,
        "no send gave up"
    );
    drop(workers);

    let rows = email_rows::Entity::find().all(&db).await.unwrap();
    assert_eq!(rows.len(), ids.len());
    let delivered = transport.delivered();
    let mut twice = 0;
    for row in &rows {
        let times = delivered.get(&transport.key(row)).copied().unwrap_or(0);
        let kills_inside = held.get(&row.id).copied().unwrap_or(0);
        match transport {
            // A file per mail, whatever the kills.
            Transport::Outbox(_) => assert_eq!(times, 1, "mail {} has {times} files", row.id),
            // Once, plus at most once per kill that landed inside its send.
            Transport::Smtp(_) => assert!(
                (1..=1 + kills_inside).contains(&times),
                "mail {} delivered {times} time(s), and {kills_inside} kill(s) landed inside \
                 its send (last claimed by {:?})",
                row.id,
                row.claimed_by
            ),
        }
        twice += usize::from(times > 1);
    }
    assert_eq!(
        delivered.len(),
        rows.len(),
        "nothing delivered that is not a row"
    );
    println!(
        "{MAILS} mails, {kills} kills; {} rows held by a killed worker, {} of them delivered \
         at the kill; {twice} mails delivered twice",
        held.len(),
        caught.len(),
    );
    caught.len()
}

/// A ready shop and `MAILS` queued mails to it, committed together.
async fn backlog(db: &DatabaseConnection) -> Vec<Uuid> {
    let txn = db.begin().await.unwrap();
    let shop = cartwheel_entity::TenantId(Uuid::now_v7());
    let now = chrono::Utc::now();
    tenants::ActiveModel {
        id: Set(shop),
        slug: Set("drill".into()),
        name: Set("Drill Supplies".into()),
        status: Set(tenants::Status::Ready),
        progress: Set(100),
        failure: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .unwrap();
    let mut ids = Vec::with_capacity(MAILS);
    for n in 0..MAILS {
        let email = NewEmail {
            tenant_id: Some(shop),
            to: format!("shopper-{n}@mail.example"),
            template: Template::CustomerAccountExists,
            context: serde_json::json!({ "name": format!("Shopper {n}") }),
        };
        ids.push(emails::queue(&txn, email).await.unwrap());
    }
    txn.commit().await.unwrap();
    ids
}

/// Unsent rows claimed by the worker process `pid` (claims name `host-pid-random`).
async fn held_by(db: &DatabaseConnection, pid: u32) -> Vec<email_rows::Model> {
    email_rows::Entity::find()
        .filter(email_rows::Column::SentAt.is_null())
        .filter(email_rows::Column::ClaimedUntil.is_not_null())
        .filter(email_rows::Column::ClaimedBy.like(format!("%-{pid}-%")))
        .all(db)
        .await
        .unwrap()
}
