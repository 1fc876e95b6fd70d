//! HTTP/1.1 load over keep-alive connections: closed loop for the maximum rate, open loop
//! at a fixed rate for latency (each request timed from when it was due, so a slow answer
//! counts against every request queued behind it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request: method, path, bearer token or page-session cookie, JSON body.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub token: Option<String>,
    pub cookie: Option<String>,
    pub body: Option<String>,
}

/// Makes the n-th request of a scenario.
pub type Maker = Arc<dyn Fn(u64) -> Request + Send + Sync>;

pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    pub async fn open(port: u16) -> std::io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(16 * 1024),
        })
    }

    /// Sends a request and reads the answer: (status, body).
    pub async fn send(&mut self, r: &Request) -> std::io::Result<(u16, Vec<u8>)> {
        let mut head = format!("{} {} HTTP/1.1\r\nHost: bench\r\n", r.method, r.path);
        if let Some(token) = &r.token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        if let Some(cookie) = &r.cookie {
            head.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        let body = r.body.as_deref().unwrap_or("");
        if r.body.is_some() {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        head.push_str(body);
        self.stream.write_all(head.as_bytes()).await?;
        let (status, _, body) = self.read_response().await?;
        Ok((status, body))
    }

    /// Sends a request written out whole; answers (status, head, body).
    pub async fn raw(&mut self, request: &str) -> std::io::Result<(u16, String, Vec<u8>)> {
        self.stream.write_all(request.as_bytes()).await?;
        self.read_response().await
    }

    async fn read_response(&mut self) -> std::io::Result<(u16, String, Vec<u8>)> {
        let broken =
            |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string());
        loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buffer[..end]).to_string();
                let status: u16 = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| broken("no status"))?;
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())
                            .flatten()
                    })
                    .unwrap_or(0);
                let total = end + 4 + length;
                while self.buffer.len() < total {
                    self.fill().await?;
                }
                let body = self.buffer[end + 4..total].to_vec();
                self.buffer.drain(..total);
                return Ok((status, head, body));
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.buffer.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Failed requests by what failed: an HTTP status, or the I/O error's kind.
pub type Errors = std::collections::BTreeMap<String, u64>;

/// Counts a failed answer; false when the answer was a success.
pub fn failed(errors: &mut Errors, answer: &std::io::Result<(u16, Vec<u8>)>) -> bool {
    let kind = match answer {
        Ok((status, _)) if *status < 400 => return false,
        Ok((status, _)) => status.to_string(),
        Err(e) => format!("{:?}", e.kind()),
    };
    *errors.entry(kind).or_default() += 1;
    true
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Outcome {
    pub requests: u64,
    pub errors: u64,
    pub error_kinds: Errors,
    pub seconds: f64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The latencies (µs) and error counts of load tasks, together.
pub async fn gather(tasks: Vec<tokio::task::JoinHandle<(Vec<u64>, Errors)>>) -> (Vec<u64>, Errors) {
    let mut all = vec![];
    let mut errors = Errors::new();
    for t in tasks {
        if let Ok((m, e)) = t.await {
            all.extend(m);
            for (kind, n) in e {
                *errors.entry(kind).or_default() += n;
            }
        }
    }
    (all, errors)
}

pub fn summarise(mut micros: Vec<u64>, errors: Errors, seconds: f64) -> Outcome {
    micros.sort_unstable();
    let at = |q: f64| {
        micros
            .get(((micros.len() as f64 * q) as usize).min(micros.len().saturating_sub(1)))
            .map_or(0.0, |m| *m as f64 / 1000.0)
    };
    Outcome {
        requests: micros.len() as u64,
        errors: errors.values().sum(),
        error_kinds: errors,
        seconds,
        rps: micros.len() as f64 / seconds.max(1e-9),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: micros.last().map_or(0.0, |m| *m as f64 / 1000.0),
    }
}

/// As many requests as `connections` keep-alive connections can carry for `duration`.
pub async fn closed_loop(
    port: u16,
    connections: usize,
    duration: Duration,
    make: Maker,
) -> Outcome {
    let started = Instant::now();
    let deadline = started + duration;
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = vec![];
    for _ in 0..connections {
        let (make, counter) = (make.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut micros = vec![];
            let mut errors = Errors::new();
            let mut conn = Connection::open(port).await.ok();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let request = make(n);
                let t = Instant::now();
                let answer = match conn.as_mut() {
                    Some(c) => c.send(&request).await,
                    None => Err(std::io::ErrorKind::NotConnected.into()),
                };
                if !failed(&mut errors, &answer) {
                    micros.push(t.elapsed().as_micros() as u64);
                } else if answer.is_err() {
                    conn = Connection::open(port).await.ok();
                }
            }
            (micros, errors)
        }));
    }
    let (all, errors) = gather(tasks).await;
    summarise(all, errors, started.elapsed().as_secs_f64())
}

/// `rate` requests a second for `duration`, spread over `connections`, each timed from the
/// moment it was due.
pub async fn open_loop(
    port: u16,
    connections: usize,
    rate: f64,
    duration: Duration,
    make: Maker,
) -> Outcome {
    let started = Instant::now();
    let total = (rate * duration.as_secs_f64()) as u64;
    let interval = Duration::from_secs_f64(1.0 / rate.max(1e-3));
    let mut tasks = vec![];
    for k in 0..connections as u64 {
        let make = make.clone();
        let connections = connections as u64;
        tasks.push(tokio::spawn(async move {
            let mut micros = vec![];
            let mut errors = Errors::new();
            let mut conn = Connection::open(port).await.ok();
            let mut n = k;
            while n < total {
                let due = started + interval * n as u32;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    tokio::time::sleep(wait).await;
                }
                let request = make(n);
                let answer = match conn.as_mut() {
                    Some(c) => c.send(&request).await,
                    None => Err(std::io::ErrorKind::NotConnected.into()),
                };
                if !failed(&mut errors, &answer) {
                    micros.push(due.elapsed().as_micros() as u64);
                } else if answer.is_err() {
                    conn = Connection::open(port).await.ok();
                }
                n += connections;
            }
            (micros, errors)
        }));
    }
    let (all, errors) = gather(tasks).await;
    summarise(all, errors, started.elapsed().as_secs_f64())
}
