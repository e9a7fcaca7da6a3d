//! Test support: real servers the tests start themselves, on loopback ports, in temporary directories, stopped
//! when dropped. Nothing is mocked and no system service is needed.
//!
//! A server whose program is not installed makes the test fail with a message that says how to install it
//! (`.ci/run` installs them from Debian's packages), unless `TIM_TESTS_WITHOUT_SERVERS=1` is set: the test then
//! prints that it was skipped and why, and returns without asserting anything.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A `redis-server` of its own.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    program: PathBuf,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one on a free loopback port, keeping nothing on disk. `None` (after saying so) when
    /// `redis-server` is missing and `TIM_TESTS_WITHOUT_SERVERS=1` allows skipping; a panic that says how to
    /// install it otherwise.
    pub fn start(test: &str) -> Option<Self> {
        let program = find("redis-server", &["/usr/bin", "/usr/local/bin", "/usr/sbin"])
            .or_else(|| missing(test, "redis-server", "apt-get install redis-server"))?;
        let (port, dir) = (free_port(), temp_dir("redis"));
        let child = Self::spawn(&program, port, &dir);
        let server = Self { child, program, port, dir };
        wait_for(test, "redis-server", server.address());
        Some(server)
    }

    fn spawn(program: &Path, port: u16, dir: &Path) -> Child {
        Command::new(program)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| panic!("redis-server did not start: {error}"))
    }

    /// Starts the server again on the same port (empty: it keeps nothing on disk), after [`RedisServer::kill`].
    pub fn restart(&mut self) {
        self.kill();
        self.child = Self::spawn(&self.program, self.port, &self.dir);
        wait_for("restart", "redis-server", self.address());
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The listening address.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Stops the server at once (SIGKILL), as a crash or a network cut would; the port stays unanswered.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port nobody listens on (for a server that is down).
pub fn closed_port() -> u16 {
    free_port()
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free loopback port");
    listener.local_addr().expect("a bound address").port()
}

fn temp_dir(kind: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tim-testkit-{kind}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
    dir
}

fn find(program: &str, dirs: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(dirs.iter().map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

// A skipped test says so on the test's own output: that is this crate's whole job.
#[allow(clippy::print_stderr)]
fn missing<T>(test: &str, program: &str, install: &str) -> Option<T> {
    if std::env::var("TIM_TESTS_WITHOUT_SERVERS").is_ok_and(|value| value == "1") {
        eprintln!("SKIPPED {test}: {program} is not installed ({install}); TIM_TESTS_WITHOUT_SERVERS=1 allows this");
        return None;
    }
    panic!(
        "{test} needs {program}, which is not installed: {install} (`.ci/run` does), or set \
         TIM_TESTS_WITHOUT_SERVERS=1 to skip the tests that need it"
    );
}

fn wait_for(test: &str, program: &str, address: SocketAddr) {
    let started = Instant::now();
    while TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_err() {
        assert!(
            started.elapsed() < START_TIMEOUT,
            "{test}: {program} did not listen on {address} within {START_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
