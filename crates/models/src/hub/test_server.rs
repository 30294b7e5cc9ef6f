//! A loopback HTTP server for the hub tests: serves byte strings by path and counts requests.
use axum::{body::Bytes, extract::State, http::StatusCode, http::Uri};
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

#[derive(Clone, Default)]
struct Files {
    by_path: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    requests: Arc<AtomicUsize>,
}

pub struct Server {
    addr: std::net::SocketAddr,
    files: Files,
}

impl Server {
    /// Listens on 127.0.0.1 (a free port) on a thread of its own; lives as long as the process.
    pub fn start(routes: Vec<(String, Vec<u8>)>) -> Self {
        let files = Files::default();
        for (p, b) in routes {
            files.by_path.lock().expect("lock").insert(p, b);
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let state = files.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new().fallback(serve).with_state(state);
                let _ = axum::serve(listener, app).await;
            });
        });
        Self { addr, files }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn add(&mut self, path: &str, body: Vec<u8>) {
        self.files.by_path.lock().expect("lock").insert(path.to_string(), body);
    }

    pub fn requests(&self) -> usize {
        self.files.requests.load(Ordering::SeqCst)
    }
}

async fn serve(State(files): State<Files>, uri: Uri) -> Result<Bytes, StatusCode> {
    files.requests.fetch_add(1, Ordering::SeqCst);
    let found = files.by_path.lock().map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?.get(uri.path()).cloned();
    found.map(Bytes::from).ok_or(StatusCode::NOT_FOUND)
}

/// `data` as a zstd frame of raw (stored) blocks, the way the hub serves attachments; ruzstd
/// decodes but does not encode.
pub fn zstd_frame(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x28, 0xB5, 0x2F, 0xFD];
    // Single segment, 4-byte content size, no checksum, no dictionary.
    out.push(0xA0);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    let chunks: Vec<&[u8]> = if data.is_empty() { vec![&[][..]] } else { data.chunks(1 << 16).collect() };
    for (i, chunk) in chunks.iter().enumerate() {
        let last = u32::from(i + 1 == chunks.len());
        let header = last | ((chunk.len() as u32) << 3);
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        out.extend_from_slice(chunk);
    }
    out
}
