//! Real redis-server processes for the tests: started on a free loopback
//! port in a fresh directory, with the module loaded, and killed on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use super::resp::Client;

/// How a server should start.
#[derive(Clone)]
pub struct Options {
    pub module: bool,
    pub module_args: Vec<String>,
    pub config: Vec<(String, String)>,
    /// Arguments passed as they are, after the settings above.
    pub raw_args: Vec<String>,
    pub dir: Option<PathBuf>,
    pub port: Option<u16>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            module: true,
            module_args: Vec::new(),
            config: Vec::new(),
            raw_args: Vec::new(),
            dir: None,
            port: None,
        }
    }
}

impl Options {
    pub fn module_arg(mut self, name: &str, value: &str) -> Self {
        self.module_args.push(name.into());
        self.module_args.push(value.into());
        self
    }

    pub fn config(mut self, name: &str, value: &str) -> Self {
        self.config.push((name.into(), value.into()));
        self
    }

    /// A setting with several words, each passed as its own argument
    /// (`rename-command ZCOUNT ""`).
    pub fn setting(mut self, words: &[&str]) -> Self {
        self.raw_args.push(format!("--{}", words[0]));
        self.raw_args
            .extend(words[1..].iter().map(|w| w.to_string()));
        self
    }

    pub fn without_module(mut self) -> Self {
        self.module = false;
        self
    }

    pub fn dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }

    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }
}

pub struct Server {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
    keep_dir: bool,
}

impl Server {
    /// A server with the module and default settings.
    pub fn start() -> Server {
        Server::with(Options::default())
    }

    pub fn with(options: Options) -> Server {
        Server::try_with(options).unwrap_or_else(|log| panic!("redis-server did not start:\n{log}"))
    }

    /// Starts a server; on failure returns the server's log. A free port
    /// can be taken by another process before the server binds it: then the
    /// start is retried on another port.
    pub fn try_with(options: Options) -> Result<Server, String> {
        let mut attempt = 0;
        loop {
            match Server::try_once(options.clone()) {
                Err(log) if options.port.is_none() && attempt < 3 && port_was_taken(&log) => {
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    fn try_once(options: Options) -> Result<Server, String> {
        let keep_dir = options.dir.is_some();
        let dir = options.dir.clone().unwrap_or_else(fresh_dir);
        std::fs::create_dir_all(&dir).expect("create test dir");
        let port = options.port.unwrap_or_else(free_port);
        let log = dir.join(format!("redis-{port}.log"));
        let _ = std::fs::remove_file(&log);
        let mut cmd = Command::new(redis_server());
        cmd.arg("--port").arg(port.to_string());
        cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        cmd.arg("--dir").arg(&dir);
        cmd.arg("--logfile").arg(&log);
        cmd.args(["--enable-debug-command", "yes"]);
        for (name, value) in &options.config {
            cmd.arg(format!("--{name}")).arg(value);
        }
        cmd.args(&options.raw_args);
        if options.module {
            cmd.arg("--loadmodule")
                .arg(module_path())
                .args(&options.module_args);
        }
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let child = cmd.spawn().expect("spawn redis-server (is it installed?)");
        let mut server = Server {
            port,
            dir,
            child: Some(child),
            keep_dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(child) = server.child.as_mut() {
                if let Ok(Some(_)) = child.try_wait() {
                    server.child = None;
                    return Err(std::fs::read_to_string(&log).unwrap_or_default());
                }
            }
            // A server that refuses to load the module has already bound its
            // port, so a connection may open and then be reset.
            if let Ok(mut c) = Client::connect(port) {
                if c.try_call(&["PING"])
                    .is_ok_and(|pong| pong.is_simple("PONG"))
                {
                    return Ok(server);
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "timed out\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn client(&self) -> Client {
        Client::connect(self.port).expect("connect")
    }

    /// A client speaking RESP3.
    pub fn client3(&self) -> Client {
        let mut c = self.client();
        c.hello3();
        c
    }

    /// Stops the server (SHUTDOWN, so the AOF is flushed) and keeps its files.
    pub fn stop(mut self) -> PathBuf {
        let mut c = self.client();
        c.send_only(&["SHUTDOWN", "NOSAVE"]);
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        self.keep_dir = true;
        self.dir.clone()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("redis-{}.log", self.port)))
            .unwrap_or_default()
    }

    /// Freezes the process (SIGSTOP), as a stalled host or a long GC pause
    /// would: it keeps its connections but answers nothing.
    pub fn suspend(&self) {
        self.signal("-STOP");
    }

    /// Lets a suspended process run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args([which, &child.id().to_string()])
                .status();
        }
    }

    /// Waits up to `seconds` for the process to end by itself; returns
    /// whether it exited with status 0.
    pub fn wait_exit(&mut self, seconds: u64) -> Option<bool> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Some(status.success());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn is_alive(&self) -> bool {
        Client::connect(self.port)
            .and_then(|mut c| c.try_call(&["PING"]))
            .is_ok_and(|pong| pong.is_simple("PONG"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !self.keep_dir && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn redis_server() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into())
}

/// The module built by this `cargo test` run: cargo puts the cdylib next to
/// the test binaries in `target/<profile>/deps`.
pub fn module_path() -> PathBuf {
    if let Ok(path) = std::env::var("SESS_MODULE") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps dir");
    for dir in [deps, deps.parent().unwrap_or(deps)] {
        let candidate = dir.join("libredis_sessions.so");
        if candidate.exists() {
            return candidate;
        }
    }
    panic!("libredis_sessions.so not found next to {}", exe.display());
}

pub fn fresh_dir() -> PathBuf {
    static COUNTER: AtomicU16 = AtomicU16::new(0);
    let base = std::env::var("TEST_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = base.join(format!("sess-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A loopback port that is free now, and whose cluster bus port (+10000)
/// is free too.
pub fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20000 + (std::process::id() % 500) as u16 * 20;
    loop {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % 10000;
        let port = base.wrapping_add(offset) % 30000 + 20000;
        if port_free(port) && port_free(port + 10000) {
            return port;
        }
    }
}

fn port_was_taken(log: &str) -> bool {
    log.contains("Address already in use") || log.contains("Could not create server TCP")
}

fn port_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Polls `check` until it holds or `seconds` pass; returns whether it held.
pub fn eventually(seconds: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}
