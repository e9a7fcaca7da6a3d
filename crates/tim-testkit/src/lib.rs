//! Test support: real servers the tests start themselves, on loopback ports, in temporary directories, stopped
//! when dropped. Nothing is mocked and no system service is needed. [`RedisServer`] and [`PostgresServer`].
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
    process: Process,
    program: PathBuf,
    port: u16,
}

/// A server's process and its directory: killed and removed when dropped.
#[derive(Debug)]
struct Process {
    child: Child,
    dir: PathBuf,
}

impl Process {
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl RedisServer {
    /// Starts one on a free loopback port, keeping nothing on disk. `None` (after saying so) when
    /// `redis-server` is missing and `TIM_TESTS_WITHOUT_SERVERS=1` allows skipping; a panic that says how to
    /// install it otherwise.
    pub fn start() -> Option<Self> {
        let test = &test_name();
        let program = find("redis-server", &["/usr/bin", "/usr/local/bin", "/usr/sbin"])
            .or_else(|| missing(test, "redis-server", "apt-get install redis-server"))?;
        let (port, dir) = (free_port(), temp_dir("redis"));
        let child = Self::spawn(&program, port, &dir);
        let server = Self { process: Process { child, dir }, program, port };
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
        self.process.child = Self::spawn(&self.program, self.port, &self.process.dir);
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
        self.process.kill();
    }
}

/// A PostgreSQL server of its own: a fresh cluster (`initdb`) in a temporary directory, trusting local
/// connections, without fsync (a test's data need not survive the machine). As root, it runs as `nobody`
/// (through `setpriv`),
/// since PostgreSQL refuses to run as root.
#[derive(Debug)]
pub struct PostgresServer {
    process: Process,
    port: u16,
    bin: PathBuf,
    as_root: bool,
    /// The server's own options (TLS), given again at a restart.
    options: Vec<String>,
}

impl PostgresServer {
    /// Starts one on a free loopback port. `None` (after saying so) when PostgreSQL is missing and
    /// `TIM_TESTS_WITHOUT_SERVERS=1` allows skipping; a panic that says how to install it otherwise.
    pub fn start() -> Option<Self> {
        Self::start_with(None)
    }

    /// Starts one that also accepts TLS connections with the server certificate `cert_pem` (a chain, leaf first)
    /// and its key `key_pem`.
    pub fn start_with_tls(cert_pem: &str, key_pem: &str) -> Option<Self> {
        Self::start_with(Some((cert_pem, key_pem)))
    }

    /// A command running `program` of the installation, as `nobody` when the tests run as root.
    fn command(bin: &Path, as_root: bool, program: &str) -> Command {
        let mut command = if as_root {
            // setpriv executes the program in its own process (runuser would stay its parent), so the child
            // killed is the server itself.
            let mut command = Command::new("setpriv");
            command.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]).arg(bin.join(program));
            command
        } else {
            Command::new(bin.join(program))
        };
        command.stdin(Stdio::null());
        command
    }

    fn start_with(tls: Option<(&str, &str)>) -> Option<Self> {
        let test = &test_name();
        let bin =
            postgres_bin().or_else(|| missing(test, "PostgreSQL (initdb, postgres)", "apt-get install postgresql"))?;
        let (port, dir) = (free_port(), temp_dir("postgres"));
        let data = dir.join("data");
        let as_root = is_root();
        if as_root {
            // The cluster belongs to `nobody`, who runs it.
            let status = Command::new("chown").args(["-R", "nobody"]).arg(&dir).status();
            assert!(status.is_ok_and(|s| s.success()), "{test}: cannot hand {} to nobody", dir.display());
        }
        let initdb = Self::command(&bin, as_root, "initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .output()
            .unwrap_or_else(|error| panic!("{test}: initdb did not start: {error}"));
        assert!(initdb.status.success(), "{test}: initdb failed: {}", String::from_utf8_lossy(&initdb.stderr));
        let mut options = Vec::new();
        if let Some((cert, key)) = tls {
            // The server refuses a key others may read; the files belong to whoever runs it.
            use std::os::unix::fs::PermissionsExt as _;
            let (cert_file, key_file) = (dir.join("server.crt"), dir.join("server.key"));
            std::fs::write(&cert_file, cert).unwrap();
            std::fs::write(&key_file, key).unwrap();
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
            if as_root {
                let status = Command::new("chown").arg("nobody").arg(&cert_file).arg(&key_file).status();
                assert!(status.is_ok_and(|s| s.success()), "{test}: cannot hand the TLS files to nobody");
            }
            options.extend(["-c".to_owned(), "ssl=on".to_owned()]);
            options.extend(["-c".to_owned(), format!("ssl_cert_file={}", cert_file.display())]);
            options.extend(["-c".to_owned(), format!("ssl_key_file={}", key_file.display())]);
        }
        let child = Self::spawn(test, &bin, as_root, &dir, port, &options);
        let server = Self { process: Process { child, dir }, port, bin, as_root, options };
        server.wait_until_ready(test);
        Some(server)
    }

    fn spawn(test: &str, bin: &Path, as_root: bool, dir: &Path, port: u16, options: &[String]) -> Child {
        Self::command(bin, as_root, "postgres")
            .args(options)
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-k")
            .arg(dir)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-c", "fsync=off", "-c", "full_page_writes=off"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{test}: postgres did not start: {error}"))
    }

    /// Waits until it listens, then until it accepts sessions (listening comes first: "the database system is
    /// starting up").
    fn wait_until_ready(&self, test: &str) {
        wait_for(test, "postgres", self.address());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let status = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres"])
                .status()
                .unwrap_or_else(|error| panic!("{test}: pg_isready cannot run: {error}"));
            if status.success() {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{test}: postgres did not accept sessions in 30 s");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same port with the same data (it recovers what was committed), after
    /// [`PostgresServer::kill`].
    pub fn restart(&mut self) {
        let test = &test_name();
        self.kill();
        // The killed server's sessions outlive it for a moment (they notice it is gone and exit); until they have,
        // a new server refuses to start on the same data. Start it again until it stays up.
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            self.process.child =
                Self::spawn(test, &self.bin, self.as_root, &self.process.dir, self.port, &self.options);
            while TcpStream::connect_timeout(&self.address(), Duration::from_millis(100)).is_err() {
                if self.process.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if self.process.child.try_wait().ok().flatten().is_none() {
                break;
            }
            assert!(Instant::now() < deadline, "{test}: postgres did not start again");
            std::thread::sleep(Duration::from_millis(100));
        }
        self.wait_until_ready(test);
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The listening address.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Runs one SQL statement with `psql` (from the same installation) and returns what it printed, unaligned and
    /// without headers.
    pub fn psql(&self, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            // Its own session in plaintext, so that it never counts among the encrypted ones a test looks for.
            .env("PGSSLMODE", "disable")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", "postgres"])
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .stdin(Stdio::null())
            .output()
            .expect("psql runs");
        assert!(output.status.success(), "psql {sql:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Stops the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        self.process.kill();
    }
}

/// The directory of PostgreSQL's programs: where Debian puts them (the newest version), else `initdb` on the PATH.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| is_executable(&bin.join("initdb")) && is_executable(&bin.join("postgres")))
        .collect();
    versions.sort();
    versions.pop().or_else(|| find("initdb", &[]).and_then(|initdb| initdb.parent().map(Path::to_path_buf)))
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// A loopback port nobody listens on (for a server that is down).
pub fn closed_port() -> u16 {
    free_port()
}

/// The running test's name: the test harness names each test's thread after it (a `#[tokio::test]` body runs on
/// that thread too).
fn test_name() -> String {
    std::thread::current().name().unwrap_or("a test").to_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_server_answers_queries_and_is_gone_once_killed() {
        let Some(mut server) = PostgresServer::start() else {
            return;
        };
        assert_eq!(server.psql("SELECT 40 + 2"), "42");
        server.psql("CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2)");
        assert_eq!(server.psql("SELECT count(*) FROM t"), "2");
        let address = server.address();
        server.kill();
        assert!(TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err());
    }

    #[test]
    fn a_redis_server_comes_back_on_its_port_after_a_restart() {
        let Some(mut server) = RedisServer::start() else {
            return;
        };
        let address = server.address();
        server.kill();
        assert!(TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err());
        server.restart();
        assert!(TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok());
    }
}
