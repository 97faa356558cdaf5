//! A real SMTP server for integration tests: one `aiosmtpd` process per test, writing a Maildir we read back.
//!
//! Needs `python3` with `aiosmtpd` (`scripts/test` installs it). Set `TEST_LOG` to see the
//! server's output.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use mailparse::{MailAddr, MailHeaderMap};

const INSTALL_HINT: &str = "install it with `python3 -m pip install aiosmtpd`";

/// A running `python3 -m aiosmtpd` on a free 127.0.0.1 port; killed and cleaned up on drop.
pub struct MailServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

/// One received message, decoded.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Address from the From header, lowercase.
    pub from: String,
    /// Addresses from the To header, lowercase (Bcc/envelope recipients: see header `X-RcptTo`).
    pub to: Vec<String>,
    pub subject: String,
    /// Decoded text/plain part, or empty.
    pub text: String,
    /// Decoded text/html part, or empty.
    pub html: String,
    /// Top-level headers, values decoded. aiosmtpd adds X-Peer, X-MailFrom and X-RcptTo.
    pub headers: Vec<(String, String)>,
}

impl ReceivedMail {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    fn parse(raw: &[u8]) -> ReceivedMail {
        let mail = mailparse::parse_mail(raw).expect("received mail does not parse");
        let addresses = |name: &str| -> Vec<String> {
            let Some(header) = mail.headers.get_first_header(name) else {
                return Vec::new();
            };
            let list = mailparse::addrparse_header(header)
                .unwrap_or_else(|e| panic!("bad {name} header {:?}: {e}", header.get_value()));
            list.iter()
                .flat_map(|a| match a {
                    MailAddr::Single(s) => vec![s.addr.to_lowercase()],
                    MailAddr::Group(g) => g.addrs.iter().map(|s| s.addr.to_lowercase()).collect(),
                })
                .collect()
        };
        // First non-attachment part of the given type (walks nested multiparts).
        let body = |mimetype: &str| -> String {
            mail.parts()
                .find(|p| {
                    p.ctype.mimetype.eq_ignore_ascii_case(mimetype)
                        && p.get_content_disposition().disposition
                            != mailparse::DispositionType::Attachment
                })
                .map(|p| p.get_body().expect("undecodable body part"))
                .unwrap_or_default()
        };
        ReceivedMail {
            from: addresses("From").into_iter().next().unwrap_or_default(),
            to: addresses("To"),
            subject: mail.headers.get_first_value("Subject").unwrap_or_default(),
            text: body("text/plain"),
            html: body("text/html"),
            headers: mail
                .headers
                .iter()
                .map(|h| (h.get_key(), h.get_value()))
                .collect(),
        }
    }
}

/// A free port: bind to :0, read it, release it (tiny race with other processes; fine for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("cannot find a free port")
        .port()
}

impl MailServer {
    /// Starts a fresh server with its own temp dir and port; waits until it accepts connections.
    pub async fn start() -> MailServer {
        Self::start_on(free_port()).await
    }

    /// Starts a server on `port` (for tests where the mail server comes up late).
    pub async fn start_on(port: u16) -> MailServer {
        let dir = std::env::temp_dir().join(format!("smtp-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("cannot create temp dir for the SMTP server");

        let output = || match std::env::var_os("TEST_LOG") {
            Some(_) => Stdio::inherit(),
            None => Stdio::null(),
        };
        // The handler's extra CLI arg (the Maildir path) goes positionally after `-c CLASS`.
        // `-n`: don't setuid to nobody (we usually run as root).
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.join("maildir"))
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(output())
            .spawn()
            .unwrap_or_else(|e| {
                let _ = std::fs::remove_dir_all(&dir);
                panic!("cannot run python3 for the SMTP server ({e}); {INSTALL_HINT}")
            });
        // From here on, Drop kills the child and removes the dir, even if we panic below.
        let mut server = MailServer { child, port, dir };

        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "aiosmtpd exited early ({status}): is it installed? {INSTALL_HINT} \
                     (set TEST_LOG=1 to see its output)"
                );
            }
            if Instant::now() > deadline {
                panic!("aiosmtpd did not listen on 127.0.0.1:{port} within 10 s; {INSTALL_HINT}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `smtp://127.0.0.1:<port>` (plain SMTP, no TLS, no auth), e.g. for lettre's `from_url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// All messages received so far, oldest first (file mtime, then name).
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let maildir = self.dir.join("maildir");
        let mut files: Vec<(SystemTime, PathBuf)> = ["new", "cur"]
            .iter()
            .flat_map(|sub| list_files(&maildir.join(sub)))
            .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
            .collect();
        files.sort();
        files
            .iter()
            .map(|(_, p)| ReceivedMail::parse(&std::fs::read(p).expect("cannot read mail file")))
            .collect()
    }

    /// Polls until at least `count` messages have arrived; panics on timeout.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            if Instant::now() > deadline {
                panic!(
                    "expected {count} mail(s) within {timeout:?}, got {}",
                    messages.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits `quiet`, then asserts exactly `count` messages are there (e.g. "never sends twice").
    pub async fn assert_no_more(&self, count: usize, quiet: Duration) {
        tokio::time::sleep(quiet).await;
        let got = self.messages().len();
        assert_eq!(
            got, count,
            "expected exactly {count} mail(s) after waiting {quiet:?}, got {got}"
        );
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Files directly in `dir` (none if it doesn't exist yet).
fn list_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}
