//! The backup storage: an S3-compatible bucket (AWS, MinIO, Garage, moto, …) under a prefix.
//! Each backup is two objects: the dump (`<prefix>/cartwheel-<time>-<id>.<ext>`) and its
//! manifest beside it (`<key>.manifest.json`). Objects stream through in chunks; none is ever
//! held in memory whole.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, RetryConfig, WriteMultipart};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::manifest::Manifest;

/// Where backups go, as configured.
#[derive(Clone, Debug)]
pub struct StorageSettings {
    /// `s3://bucket` or `s3://bucket/prefix`.
    pub url: String,
    /// For servers other than AWS (`http://127.0.0.1:9000`); requests are then path-style.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<SecretString>,
    pub secret_access_key: Option<SecretString>,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("backup storage URL `{0}`: expected s3://bucket or s3://bucket/prefix")]
    BadUrl(String),
    #[error("backup storage: {0}")]
    Store(#[from] object_store::Error),
    #[error("backup storage: {0}")]
    Io(#[from] std::io::Error),
    /// What was being uploaded failed (the dump's own error).
    #[error("{0}")]
    Source(String),
    #[error("manifest {key}: {message}")]
    Manifest { key: String, message: String },
}

/// The opened storage.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    bucket: String,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Bytes per part of a multipart upload, and parts in flight at once.
const PART_SIZE: usize = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;
const MANIFEST_SUFFIX: &str = ".manifest.json";

impl Storage {
    pub fn open(settings: &StorageSettings) -> Result<Self, StorageError> {
        let bad = || StorageError::BadUrl(settings.url.clone());
        let rest = settings.url.strip_prefix("s3://").ok_or_else(bad)?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad());
        }
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&settings.region)
            // A storage that is down fails the attempt within about a minute; the job's own
            // retries (minutes apart) take it from there.
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(60),
                ..Default::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(10))
                    .with_timeout(Duration::from_secs(300)),
            );
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let Some(key) = &settings.access_key_id {
            builder = builder.with_access_key_id(key.expose_secret());
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose_secret());
        }
        Ok(Storage {
            store: Arc::new(builder.build()?),
            prefix: prefix.trim_matches('/').to_string(),
            bucket: bucket.to_string(),
        })
    }

    /// The key of a new backup made at `at` with id `id` and file extension `ext`.
    pub fn new_key(&self, at: chrono::DateTime<chrono::Utc>, id: &str, ext: &str) -> String {
        let name = format!("cartwheel-{}-{id}.{ext}", at.format("%Y%m%dT%H%M%SZ"));
        if self.prefix.is_empty() {
            name
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    /// Streams `reader` into the object `key`; answers its size and SHA-256 (hex). The upload
    /// completes only once the reader has ended and `source_ok` says the source ended well (a
    /// dump that exits with an error after writing part of itself); a failure aborts it, so no
    /// partial object is left.
    pub async fn upload(
        &self,
        key: &str,
        mut reader: impl AsyncRead + Unpin,
        source_ok: impl Future<Output = Result<(), String>>,
    ) -> Result<(u64, String), StorageError> {
        let upload = self.store.put_multipart(&Path::from(key)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buffer = vec![0u8; 256 * 1024];
        let written: Result<(), StorageError> = async {
            loop {
                let n = reader.read(&mut buffer).await?;
                if n == 0 {
                    return Ok(());
                }
                hasher.update(&buffer[..n]);
                size += n as u64;
                writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                writer.write(&buffer[..n]);
            }
        }
        .await;
        let written = match written {
            Ok(()) => source_ok.await.map_err(StorageError::Source),
            Err(e) => Err(e),
        };
        match written {
            Ok(()) => {
                writer.finish().await?;
                Ok((size, hex::encode(hasher.finalize())))
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// Streams the object `key` into the file `to`; answers its size and SHA-256 (hex).
    pub async fn download(
        &self,
        key: &str,
        to: &std::path::Path,
    ) -> Result<(u64, String), StorageError> {
        let mut stream = self.store.get(&Path::from(key)).await?.into_stream();
        let mut file = tokio::fs::File::create(to).await?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok((size, hex::encode(hasher.finalize())))
    }

    /// Writes (or rewrites) a backup's manifest.
    pub async fn put_manifest(&self, manifest: &Manifest) -> Result<(), StorageError> {
        let body = serde_json::to_vec_pretty(manifest).map_err(|e| StorageError::Manifest {
            key: manifest.key.clone(),
            message: e.to_string(),
        })?;
        self.store
            .put(&manifest_path(&manifest.key), body.into())
            .await?;
        Ok(())
    }

    /// The manifest of the backup `key`.
    pub async fn manifest(&self, key: &str) -> Result<Manifest, StorageError> {
        let bytes = self.store.get(&manifest_path(key)).await?.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| StorageError::Manifest {
            key: key.to_string(),
            message: e.to_string(),
        })
    }

    /// Every backup's manifest under the prefix, oldest first. A manifest that does not parse
    /// is skipped with a warning (it is no backup this version can restore).
    pub async fn manifests(&self) -> Result<Vec<Manifest>, StorageError> {
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        let mut listing = self.store.list(prefix.as_ref());
        let mut keys = Vec::new();
        while let Some(meta) = listing.next().await {
            let location = meta?.location.to_string();
            if let Some(key) = location.strip_suffix(MANIFEST_SUFFIX) {
                keys.push(key.to_string());
            }
        }
        let mut manifests = Vec::new();
        for key in keys {
            match self.manifest(&key).await {
                Ok(manifest) => manifests.push(manifest),
                Err(StorageError::Manifest { key, message }) => {
                    tracing::warn!(%key, %message, "skipping a manifest that does not parse");
                }
                Err(e) => return Err(e),
            }
        }
        manifests.sort_by_key(|m| m.created_at);
        Ok(manifests)
    }

    /// Deletes a backup: its object, then its manifest (so a listed backup always has both,
    /// or is being deleted). Deleting what is gone already is no error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        for path in [Path::from(key), manifest_path(key)] {
            match self.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

fn manifest_path(key: &str) -> Path {
    Path::from(format!("{key}{MANIFEST_SUFFIX}"))
}
