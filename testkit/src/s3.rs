//! A real S3-compatible server for integration tests: one `moto` server process per test
//! (PyPI `moto[server]`, which `scripts/test` installs), with a bucket made for the test.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use object_store::ObjectStore;

use crate::smtp::free_port;

const INSTALL_HINT: &str = "install it with `python3 -m pip install 'moto[server]==5.2.1'`";

/// A running moto server on a free 127.0.0.1 port with the bucket `backups`; killed on drop.
pub struct S3Server {
    child: Child,
    pub port: u16,
    client: reqwest::Client,
}

pub const BUCKET: &str = "backups";

impl S3Server {
    pub async fn start() -> S3Server {
        let port = free_port();
        let output = || match std::env::var_os("TEST_LOG") {
            Some(_) => Stdio::inherit(),
            None => Stdio::null(),
        };
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(output())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run python3 for the S3 server ({e}); {INSTALL_HINT}")
            });
        let mut server = S3Server {
            child,
            port,
            client: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("moto exited early ({status}): is it installed? {INSTALL_HINT}");
            }
            assert!(
                Instant::now() < deadline,
                "moto did not listen on 127.0.0.1:{port} within 30 s; {INSTALL_HINT}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // moto checks no signatures: plain requests make the bucket and read objects back.
        let made = server
            .client
            .put(server.url(BUCKET))
            .send()
            .await
            .expect("create the bucket");
        assert!(
            made.status().is_success(),
            "create bucket: {}",
            made.status()
        );
        server
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.endpoint())
    }

    /// The settings that send Cartwheel's backups here, under `prefix`.
    pub fn settings(&self, prefix: &str) -> Vec<(String, String)> {
        vec![
            (
                "CARTWHEEL_BACKUP_S3_URL".into(),
                format!("s3://{BUCKET}/{prefix}"),
            ),
            ("CARTWHEEL_BACKUP_S3_ENDPOINT".into(), self.endpoint()),
            ("CARTWHEEL_BACKUP_S3_ACCESS_KEY_ID".into(), "test".into()),
            (
                "CARTWHEEL_BACKUP_S3_SECRET_ACCESS_KEY".into(),
                "test".into(),
            ),
        ]
    }

    /// A client of the bucket (moto wants signed requests for some objects).
    fn bucket(&self) -> object_store::aws::AmazonS3 {
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .build()
            .unwrap()
    }

    /// Every key in the bucket, sorted.
    pub async fn keys(&self) -> Vec<String> {
        use futures::TryStreamExt;
        let listed: Vec<_> = self.bucket().list(None).try_collect().await.unwrap();
        let mut keys: Vec<String> = listed.into_iter().map(|m| m.location.to_string()).collect();
        keys.sort();
        keys
    }

    pub async fn get(&self, key: &str) -> Vec<u8> {
        let path = object_store::path::Path::from(key);
        let object = self.bucket().get(&path).await;
        let object = object.unwrap_or_else(|e| panic!("GET {key}: {e}"));
        object.bytes().await.unwrap().to_vec()
    }

    pub async fn put(&self, key: &str, body: Vec<u8>) {
        let path = object_store::path::Path::from(key);
        self.bucket()
            .put(&path, body.into())
            .await
            .unwrap_or_else(|e| panic!("PUT {key}: {e}"));
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
