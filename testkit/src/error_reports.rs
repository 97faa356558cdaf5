//! A Sentry ingest endpoint for tests: real HTTP on a random port that accepts envelopes at
//! `/api/<project>/envelope/` (what sentry's transport posts) and keeps every event in them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Route, Server, handler, post};
use serde_json::Value;

/// The receiver; its server task ends with the test's runtime.
pub struct ReportReceiver {
    pub port: u16,
    events: Arc<Mutex<Vec<Value>>>,
}

#[handler]
fn envelope(body: Vec<u8>, events: Data<&Arc<Mutex<Vec<Value>>>>) -> &'static str {
    // An envelope is newline-separated JSON: its header, then each item's header and payload.
    // The payload after an item header of type `event` is an event; its level, when sentry
    // leaves it out, is the default, `error`.
    let mut events = events.lock().unwrap();
    let mut lines = body.split(|b| *b == b'\n');
    while let Some(line) = lines.next() {
        let Ok(header) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        if header["type"] == "event"
            && let Some(payload) = lines.next()
            && let Ok(mut event) = serde_json::from_slice::<Value>(payload)
        {
            if event.get("level").is_none() {
                event["level"] = "error".into();
            }
            events.push(event);
        }
    }
    "{}"
}

impl ReportReceiver {
    pub async fn start() -> ReportReceiver {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
        let events = Arc::new(Mutex::new(Vec::new()));
        let app = Route::new()
            .at("/api/:project/envelope/", post(envelope))
            .data(events.clone());
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        ReportReceiver { port, events }
    }

    /// The DSN that sends here (project 42).
    pub fn dsn(&self) -> String {
        format!("http://public@127.0.0.1:{}/42", self.port)
    }

    /// Every event received so far.
    pub fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) for an event `matches` accepts, and answers it.
    pub async fn wait_for(&self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let what = format!("an error report {what}");
        crate::wait::eventually(Duration::from_secs(10), &what, || async {
            self.events().iter().any(&matches)
        })
        .await;
        self.events().into_iter().find(|e| matches(e)).unwrap()
    }
}
