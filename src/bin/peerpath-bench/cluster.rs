//! A throwaway PostgreSQL cluster from `initdb` and `postgres` on PATH, as the tests start
//! one (as the `postgres` user when run as root); stopped and removed when the bench ends.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};

pub struct Cluster {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn as_owner(program: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    }
}

pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

impl Cluster {
    pub fn start() -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("peerpath-bench-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        if is_root() {
            Command::new("chown")
                .arg("postgres:postgres")
                .arg(&dir)
                .status()
                .map_err(|e| e.to_string())?;
        }
        let data = dir.join("data");
        let out = as_owner("initdb")
            .args([
                "-U",
                "peerpath",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .output()
            .map_err(|e| format!("initdb is not on PATH: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let port = free_port()?;
        let child = as_owner("postgres")
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(&dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=400",
            ])
            .args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("postgres is not on PATH: {e}"))?;
        let cluster = Self { port, dir, child };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                let admin = format!("postgres://peerpath@127.0.0.1:{port}/postgres");
                if let Ok(mut conn) = PgConnection::establish(&admin) {
                    diesel::sql_query("CREATE DATABASE bench")
                        .execute(&mut conn)
                        .map_err(|e| e.to_string())?;
                    return Ok(cluster);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("the PostgreSQL cluster did not start".into())
    }

    pub fn url(&self) -> String {
        format!("postgres://peerpath@127.0.0.1:{}/bench", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The postmaster itself: when started through runuser (as root), the child is runuser,
        // which does not pass SIGINT on.
        let postmaster = std::fs::read_to_string(self.dir.join("data").join("postmaster.pid"))
            .ok()
            .and_then(|pid| pid.lines().next().map(str::to_string));
        for pid in postmaster.into_iter().chain([self.child.id().to_string()]) {
            let _ = Command::new("kill").args(["-INT", &pid]).status();
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
