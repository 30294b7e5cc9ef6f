//! Audio objects through the `object_store` crate: a local directory by default, any
//! S3-compatible service (MinIO, SeaweedFS, Garage, AWS) by URL. Uploads stream: bytes are
//! hashed and written part by part under a temporary key, never held whole in memory, and moved
//! to their content address (`audio/ab/abcdef…`) only when complete.
use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::{ObjectStore, PutPayload, WriteMultipart, path::Path};
use sha2::{Digest, Sha256};
use sokuji_core::{Error, ErrorCode, Result};
use std::{ops::Range, sync::Arc};

#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    /// The directory of a local store (where half-written uploads can be found as files).
    local: Option<std::path::PathBuf>,
}

/// An upload written under a temporary key, with its hash and size.
pub struct Staged {
    tmp: Path,
    pub sha256: String,
    pub size: u64,
}

fn store_error(e: object_store::Error) -> Error {
    match e {
        object_store::Error::NotFound { path, .. } => Error::new(ErrorCode::NotFound, format!("no object {path}")),
        other => Error::new(ErrorCode::EngineUnavailable, format!("object storage: {other}")),
    }
}

impl Objects {
    /// `url`: a directory path or `file:///dir` (created if missing), or `s3://bucket[/prefix]`
    /// with credentials, region and endpoint from the usual `AWS_*` variables
    /// (`AWS_ENDPOINT_URL` for S3-compatible services; plain http allowed for loopback ones).
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with(url, [])
    }

    /// The same, with S3 settings given instead of read from the environment (they win over
    /// it): `("aws_endpoint", "http://127.0.0.1:8333")`, `("aws_access_key_id", …)`…
    pub fn open_with<'a>(url: &str, options: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        if url.starts_with("s3://") {
            let mut builder = object_store::aws::AmazonS3Builder::from_env();
            for (k, v) in options {
                let key: object_store::aws::AmazonS3ConfigKey =
                    k.parse().map_err(|e| Error::invalid_request(format!("S3 option {k:?}: {e}")))?;
                builder = builder.with_config(key, v);
            }
            let s3 = builder
                .with_url(url)
                .with_allow_http(true)
                .build()
                .map_err(|e| Error::invalid_request(format!("object store {url:?}: {e}")))?;
            return Ok(Self { store: Arc::new(s3), local: None });
        }
        let dir = url.strip_prefix("file://").unwrap_or(url);
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::internal(format!("cannot create object directory {dir}: {e}")))?;
        let local = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| Error::invalid_request(format!("object directory {dir:?}: {e}")))?;
        Ok(Self { store: Arc::new(local), local: Some(std::path::PathBuf::from(dir)) })
    }

    /// Removes uploads left half-written (a process killed mid-upload) or staged but never
    /// committed, older than `older_than`: run at start-up. An accepted recording's bytes are
    /// committed before it is accepted, so none are here. On S3, the bucket's
    /// AbortIncompleteMultipartUpload rule clears unfinished parts; staged objects are removed here.
    pub async fn clean_orphans(&self, older_than: std::time::Duration) -> Result<usize> {
        let cutoff = std::time::SystemTime::now() - older_than;
        let mut removed = 0;
        if let Some(dir) = &self.local {
            // Files, in-progress parts included (object_store does not list those).
            if let Ok(entries) = std::fs::read_dir(dir.join("uploads")) {
                for entry in entries.flatten() {
                    let old = entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t < cutoff);
                    if old && std::fs::remove_file(entry.path()).is_ok() {
                        removed += 1;
                    }
                }
            }
            return Ok(removed);
        }
        let cutoff_ms = cutoff.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let mut listed = self.store.list(Some(&Path::from("uploads")));
        while let Some(meta) = listed.next().await {
            let meta = meta.map_err(store_error)?;
            if meta.last_modified.timestamp_millis() < cutoff_ms && self.store.delete(&meta.location).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Streams `body` under a temporary key, hashing it; refuses (and removes) more than
    /// `max_bytes` and empty bodies.
    pub async fn stage<S, E>(&self, mut body: S, max_bytes: u64) -> Result<Staged>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp = Path::from(format!("uploads/{}", uuid::Uuid::new_v4()));
        let upload = self.store.put_multipart(&tmp).await.map_err(store_error)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, 8 << 20);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let failed = loop {
            let chunk = match body.next().await {
                None => break None,
                Some(Ok(c)) => c,
                Some(Err(e)) => break Some(Error::invalid_request(format!("upload interrupted: {e}"))),
            };
            size += chunk.len() as u64;
            if size > max_bytes {
                break Some(Error::new(
                    ErrorCode::UploadTooLarge,
                    format!("the upload is larger than {max_bytes} bytes"),
                ));
            }
            hasher.update(&chunk);
            // Bounded: waits while too many parts are in flight.
            if let Err(e) = writer.wait_for_capacity(4).await {
                break Some(store_error(e));
            }
            writer.write(&chunk);
        };
        let failed = failed.or_else(|| (size == 0).then(|| Error::invalid_audio("the upload is empty (0 bytes)")));
        if let Some(e) = failed {
            let _ = writer.abort().await;
            return Err(e);
        }
        writer.finish().await.map_err(store_error)?;
        Ok(Staged { tmp, sha256: format!("{:x}", hasher.finalize()), size })
    }

    /// Moves a staged upload to its content address in `tenant`'s space and returns the key;
    /// when those bytes are already stored there the staged copy is dropped. Tenants never share
    /// an object, so one deleting its recording leaves another's bytes alone.
    pub async fn commit(&self, staged: &Staged, tenant: &str) -> Result<String> {
        let key = match tenant {
            "" => format!("audio/{}/{}", &staged.sha256[..2], staged.sha256),
            t => format!("audio/t/{t}/{}/{}", &staged.sha256[..2], staged.sha256),
        };
        let path = Path::from(key.as_str());
        match self.store.head(&path).await {
            Ok(_) => self.discard(staged).await,
            Err(object_store::Error::NotFound { .. }) => {
                self.store.rename(&staged.tmp, &path).await.map_err(store_error)?;
            }
            Err(e) => return Err(store_error(e)),
        }
        Ok(key)
    }

    /// Removes a staged upload that will not be kept.
    pub async fn discard(&self, staged: &Staged) {
        if let Err(e) = self.store.delete(&staged.tmp).await {
            tracing::warn!("could not remove staged upload {}: {e}", staged.tmp);
        }
    }

    pub async fn size(&self, key: &str) -> Result<u64> {
        Ok(self.store.head(&Path::from(key)).await.map_err(store_error)?.size)
    }

    pub async fn get(&self, key: &str) -> Result<Bytes> {
        let r = self.store.get(&Path::from(key)).await.map_err(store_error)?;
        r.bytes().await.map_err(store_error)
    }

    /// Streams an object into a local file (for decoders that read files), holding one chunk
    /// in memory at a time.
    pub async fn download(&self, key: &str, to: &std::path::Path) -> Result<u64> {
        use tokio::io::AsyncWriteExt;
        let io = |e: std::io::Error| Error::internal(format!("writing {}: {e}", to.display()));
        let mut stream = self.store.get(&Path::from(key)).await.map_err(store_error)?.into_stream();
        let mut file = tokio::fs::File::create(to).await.map_err(io)?;
        let mut n = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(store_error)?;
            file.write_all(&chunk).await.map_err(io)?;
            n += chunk.len() as u64;
        }
        file.flush().await.map_err(io)?;
        Ok(n)
    }

    pub async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes> {
        self.store.get_range(&Path::from(key), range).await.map_err(store_error)
    }

    pub async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        self.store.put(&Path::from(key), PutPayload::from(data)).await.map_err(store_error)?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[tokio::test]
    async fn orphans_go_and_accepted_audio_stays() {
        let dir = tempfile::tempdir().expect("tmp");
        let objects = Objects::open(&dir.path().display().to_string()).expect("store");
        let body = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"RIFF audio"))]);
        let kept = objects.commit(&objects.stage(body, 1 << 20).await.expect("stage"), "").await.expect("commit");
        let uploads = dir.path().join("uploads");
        std::fs::create_dir_all(&uploads).expect("dir");
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        for (name, old) in [("abandoned", true), ("half-written#1", true), ("in-flight#1", false)] {
            let f = std::fs::File::create(uploads.join(name)).expect("file");
            if old {
                f.set_modified(hour_ago).expect("mtime");
            }
        }
        assert_eq!(objects.clean_orphans(Duration::from_secs(120)).await.expect("clean"), 2);
        assert!(uploads.join("in-flight#1").exists(), "a recent upload is left alone");
        assert!(!uploads.join("abandoned").exists() && !uploads.join("half-written#1").exists());
        assert_eq!(objects.get(&kept).await.expect("kept").as_ref(), b"RIFF audio");
    }
}
