//! A real SMTP server for the tests: it speaks SMTP over TCP on a local port, keeps what it
//! receives, and can be told to misbehave (refuse for a while, reject a recipient, hang).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    }

    /// The text after `marker` up to the next whitespace or quote (for links).
    pub fn find_after(&self, marker: &str) -> Option<String> {
        let unfolded = self.data.replace("=\r\n", "").replace("=3D", "=");
        let start = unfolded.find(marker)? + marker.len();
        Some(
            unfolded[start..]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
                .collect(),
        )
    }
}

#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Answer `451` to this many transactions before accepting.
    pub temp_failures: usize,
    /// Answer `550` to recipients containing this text.
    pub reject_containing: Option<String>,
    /// Accept connections but never say anything.
    pub hang: bool,
}

pub struct SmtpServer {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    stop: Arc<AtomicBool>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn reply(stream: &mut TcpStream, line: &str) -> std::io::Result<()> {
    stream.write_all(format!("{line}\r\n").as_bytes())
}

fn session(
    stream: TcpStream,
    received: &Mutex<Vec<Received>>,
    behaviour: &Mutex<Behaviour>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    if behaviour.lock().unwrap().hang {
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        return Ok(());
    }
    // Replies go out at once: with Nagle's algorithm and delayed ACKs, small SMTP replies
    // would each wait ~40 ms, and the measurements would time the sink, not peerpath.
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    reply(&mut writer, "220 sink.test ESMTP ready")?;
    let mut to = vec![];
    let mut refuse_transaction = false;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => reply(&mut writer, "250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8")?,
            "HELO" | "NOOP" => reply(&mut writer, "250 ok")?,
            "RSET" => {
                to.clear();
                reply(&mut writer, "250 ok")?;
            }
            "MAIL" => {
                to.clear();
                let mut b = behaviour.lock().unwrap();
                refuse_transaction = b.temp_failures > 0;
                if refuse_transaction {
                    b.temp_failures -= 1;
                    reply(&mut writer, "451 4.3.0 try again later")?;
                } else {
                    reply(&mut writer, "250 ok")?;
                }
            }
            "RCPT" => {
                let rejected = behaviour
                    .lock()
                    .unwrap()
                    .reject_containing
                    .as_ref()
                    .is_some_and(|r| command.contains(r.as_str()));
                if rejected {
                    reply(&mut writer, "550 5.1.1 no such mailbox")?;
                } else {
                    to.push(command.clone());
                    reply(&mut writer, "250 ok")?;
                }
            }
            "DATA" => {
                if refuse_transaction || to.is_empty() {
                    reply(&mut writer, "554 5.5.1 no valid recipients")?;
                    continue;
                }
                reply(&mut writer, "354 end with <CRLF>.<CRLF>")?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                received.lock().unwrap().push(Received {
                    to: std::mem::take(&mut to),
                    data,
                });
                reply(&mut writer, "250 2.0.0 queued")?;
            }
            "QUIT" => {
                reply(&mut writer, "221 bye")?;
                return Ok(());
            }
            _ => reply(&mut writer, "502 5.5.2 not implemented")?,
        }
    }
}

impl SmtpServer {
    pub fn start() -> Self {
        Self::start_on(0, Behaviour::default())
    }

    /// Starts on `port` (0 for any free one).
    pub fn start_on(port: u16, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the SMTP port");
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(vec![]));
        let behaviour = Arc::new(Mutex::new(behaviour));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, b, s) = (received.clone(), behaviour.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (r, b, s) = (r.clone(), b.clone(), s.clone());
                std::thread::spawn(move || {
                    let _ = session(stream, &r, &b, &s);
                });
            }
        });
        Self {
            port,
            received,
            behaviour,
            stop,
        }
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (without blocking the test's runtime) until `n` messages arrived.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// A port nobody listens on yet.
pub fn unused_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}
