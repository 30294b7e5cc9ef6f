use super::*;
use std::{
    sync::{Mutex, mpsc},
    time::Duration,
};

/// Work that reports when it starts, then blocks until released or cancelled, and records the
/// most runs seen at once.
struct Probe {
    running: AtomicU64,
    peak: AtomicU64,
    started: mpsc::Sender<&'static str>,
    saw_cancel: AtomicBool,
}

impl Probe {
    fn new() -> (Arc<Self>, mpsc::Receiver<&'static str>) {
        let (tx, rx) = mpsc::channel();
        let p = Probe { running: AtomicU64::new(0), peak: AtomicU64::new(0), started: tx, saw_cancel: false.into() };
        (Arc::new(p), rx)
    }

    /// Runs until `release` says so or the ticket is cancelled (polling, as engines do).
    fn work(&self, name: &'static str, ticket: &Ticket, release: &Mutex<mpsc::Receiver<()>>) -> Result<&'static str> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let _ = self.started.send(name);
        let rx = release.lock().unwrap_or_else(|e| e.into_inner());
        let outcome = loop {
            if ticket.is_cancelled() {
                self.saw_cancel.store(true, Ordering::SeqCst);
                break ticket.check().map(|_| name);
            }
            if rx.recv_timeout(Duration::from_millis(5)).is_ok() {
                break Ok(name);
            }
        };
        self.running.fetch_sub(1, Ordering::SeqCst);
        outcome
    }
}

fn gate() -> (mpsc::Sender<()>, Arc<Mutex<mpsc::Receiver<()>>>) {
    let (tx, rx) = mpsc::channel();
    (tx, Arc::new(Mutex::new(rx)))
}

type Call = tokio::task::JoinHandle<Result<&'static str>>;

/// A caller running the probe's work under `name` until its gate opens.
fn call(pool: &Admission, probe: &Arc<Probe>, name: &'static str, gate: Arc<Mutex<mpsc::Receiver<()>>>) -> Call {
    let (pool, probe) = (pool.clone(), probe.clone());
    tokio::spawn(async move { pool.run(None, move |t| probe.work(name, t, &gate)).await })
}

async fn wait_until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_call_keeps_its_slot_until_its_work_ends() {
    let pool = Admission::new("test", 1);
    let (probe, started) = Probe::new();
    let (_release_a, a_gate) = gate();
    let a = call(&pool, &probe, "a", a_gate);
    assert_eq!(started.recv_timeout(Duration::from_secs(5)), Ok("a"));
    // The caller gives up: its work goes on until it notices, and holds the one slot meanwhile.
    a.abort();
    let (release_b, b_gate) = gate();
    let b = call(&pool, &probe, "b", b_gate);
    assert_eq!(started.recv_timeout(Duration::from_secs(5)), Ok("b"), "b runs once a has stopped");
    let _ = release_b.send(());
    assert_eq!(b.await.ok().and_then(|r| r.ok()), Some("b"));
    assert_eq!(probe.peak.load(Ordering::SeqCst), 1, "never two at once with one slot");
    assert!(probe.saw_cancel.load(Ordering::SeqCst), "the abandoned work saw its caller leave");
    let s = pool.snapshot();
    assert_eq!((s.started, s.aborted, s.busy), (2, 1, 0), "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_whose_caller_left_while_queued_never_starts() {
    let pool = Admission::new("test", 1);
    let (probe, started) = Probe::new();
    let (release_a, a_gate) = gate();
    let a = call(&pool, &probe, "a", a_gate);
    assert_eq!(started.recv_timeout(Duration::from_secs(5)), Ok("a"));
    let ran_b = Arc::new(AtomicBool::new(false));
    let b = {
        let (pool, ran_b) = (pool.clone(), ran_b.clone());
        tokio::spawn(async move {
            pool.run(None, move |_| {
                ran_b.store(true, Ordering::SeqCst);
                Ok(())
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    b.abort();
    let _ = b.await;
    let _ = release_a.send(());
    assert_eq!(a.await.ok().and_then(|r| r.ok()), Some("a"));
    // A later caller gets the slot; the one that left never ran.
    assert_eq!(pool.run(None, |_| Ok(7)).await.ok(), Some(7));
    assert!(!ran_b.load(Ordering::SeqCst));
    assert_eq!(pool.snapshot().started, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queueing_counts_against_the_deadline() {
    let pool = Admission::new("test", 1);
    let (probe, started) = Probe::new();
    let (release_a, a_gate) = gate();
    let a = call(&pool, &probe, "a", a_gate);
    assert_eq!(started.recv_timeout(Duration::from_secs(5)), Ok("a"));
    let ran = Arc::new(AtomicBool::new(false));
    let r = {
        let ran = ran.clone();
        pool.run(Some(Instant::now() + Duration::from_millis(50)), move |_| {
            ran.store(true, Ordering::SeqCst);
            Ok(())
        })
        .await
    };
    assert_eq!(r.map_err(|e| e.code), Err(ErrorCode::Timeout));
    assert!(!ran.load(Ordering::SeqCst), "work that waited out its deadline must not start");
    let _ = release_a.send(());
    let _ = a.await;
    assert_eq!(pool.snapshot().timed_out, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_work_sees_its_deadline() {
    let pool = Admission::new("test", 2);
    let (probe, _started) = Probe::new();
    let (_never, g) = gate();
    let r = pool.run(Some(Instant::now() + Duration::from_millis(40)), move |t| probe.work("a", t, &g)).await;
    assert_eq!(r.map_err(|e| e.code), Err(ErrorCode::Timeout));
    wait_until("the slot is back", || pool.available() == 2).await;
    assert_eq!(pool.snapshot().aborted, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_of_n_runs_n_at_once() {
    let pool = Admission::new("test", 2);
    let (probe, started) = Probe::new();
    let gates: Vec<_> = (0..4).map(|_| gate()).collect();
    let mut calls = Vec::new();
    for (name, (_, g)) in ["a", "b", "c", "d"].into_iter().zip(&gates) {
        calls.push(call(&pool, &probe, name, g.clone()));
    }
    let first: Vec<_> = (0..2).filter_map(|_| started.recv_timeout(Duration::from_secs(5)).ok()).collect();
    assert_eq!(first.len(), 2);
    assert!(started.recv_timeout(Duration::from_millis(50)).is_err(), "a third started early");
    for (tx, _) in &gates {
        let _ = tx.send(());
    }
    for c in calls {
        assert!(c.await.ok().is_some_and(|r| r.is_ok()));
    }
    assert_eq!(probe.peak.load(Ordering::SeqCst), 2);
}

#[test]
fn tickets_say_why_work_should_stop() {
    assert!(Ticket::unbounded().check().is_ok());
    let past = Ticket::until(Instant::now() - Duration::from_millis(1));
    assert!(past.is_cancelled());
    assert_eq!(past.check().map_err(|e| e.code), Err(ErrorCode::Timeout));
    let t = Ticket::unbounded();
    drop(GoneOnDrop(t.gone.clone()));
    assert_eq!(t.check().map_err(|e| e.code), Err(ErrorCode::Cancelled));
}
