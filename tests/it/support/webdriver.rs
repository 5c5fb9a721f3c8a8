//! A small blocking WebDriver client: starts `chromedriver` as a child process on a
//! free loopback port and drives one headless Chromium session over plain HTTP/1.1.
//! Hand-written over `TcpStream` so the tests need no HTTP or base64 crate.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Key under which WebDriver returns an element reference (W3C spec constant).
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A `file://` URL of `path`, bytes other than unreserved characters and `/`
/// percent-encoded.
pub fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// Waits up to 10 s for `script` to return `true` in the page.
pub fn wait_for(b: &Browser, script: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.js(script, &[]).unwrap() != json!(true) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Finds an executable: an explicit env var first, then each name on `PATH`.
pub fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A running chromedriver and one browser session in it. Dropping it ends the
/// session (which closes Chromium) and then kills chromedriver.
pub struct Browser {
    child: Child,
    port: u16,
    session: Option<String>,
    log: PathBuf,
    // Holds the profile and log folder until the browser is gone.
    _dir: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a `width`x`height` window.
    pub fn start(
        chromedriver: &Path,
        chromium: Option<&Path>,
        width: u32,
        height: u32,
    ) -> Result<Browser, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let log = dir.path().join("chromedriver.log");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", chromedriver.display()))?;
        let mut browser = Browser {
            child,
            port,
            session: None,
            log,
            _dir: dir,
        };

        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match browser.call("GET", "/status", None) {
                Ok(v) if v["ready"] == json!(true) => break,
                _ if Instant::now() > deadline => {
                    return Err(format!(
                        "chromedriver did not become ready on port {port}{}",
                        browser.log_tail()
                    ))
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
            if let Ok(Some(status)) = browser.child.try_wait() {
                return Err(format!(
                    "chromedriver exited early ({status}){}",
                    browser.log_tail()
                ));
            }
        }

        let profile = browser._dir.path().join("profile");
        // Without the background-networking flags Chromium keeps calling home, which
        // on a closed network only produces noise and delays.
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-extensions".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.display()),
        ];
        args.sort();
        let mut options = json!({ "args": args });
        if let Some(bin) = chromium {
            options["binary"] = json!(bin.display().to_string());
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "goog:loggingPrefs": { "browser": "ALL" },
        }}});
        let created = browser
            .call("POST", "/session", Some(&caps))
            .map_err(|e| format!("cannot start Chromium: {e}{}", browser.log_tail()))?;
        let id = created["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no sessionId in {created}"))?
            .to_owned();
        browser.session = Some(id);

        // --window-size counts the (invisible) browser frame: grow the window by it so
        // the page itself gets width x height.
        let frame = browser.js(
            "return [outerWidth - innerWidth, outerHeight - innerHeight];",
            &[],
        )?;
        let (dw, dh) = (
            frame[0].as_i64().unwrap_or(0),
            frame[1].as_i64().unwrap_or(0),
        );
        let rect = json!({ "width": i64::from(width) + dw, "height": i64::from(height) + dh });
        browser.cmd("POST", "/window/rect", Some(&rect))?;
        let inner = browser.js("return [innerWidth, innerHeight];", &[])?;
        if inner != json!([width, height]) {
            return Err(format!("viewport is {inner}, wanted [{width},{height}]"));
        }
        Ok(browser)
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(20)..];
        if tail.is_empty() {
            String::new()
        } else {
            format!(
                "\nchromedriver log ({}):\n{}",
                self.log.display(),
                tail.join("\n")
            )
        }
    }

    fn session_path(&self, rest: &str) -> String {
        format!(
            "/session/{}{rest}",
            self.session.as_deref().unwrap_or("none")
        )
    }

    /// One WebDriver command; returns the response's `value`.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let (status, json) = http(self.port, method, path, body)?;
        let value = json.get("value").cloned().unwrap_or(Value::Null);
        if status != 200 {
            return Err(format!(
                "{method} {path}: HTTP {status}: {} {}",
                value["error"].as_str().unwrap_or("?"),
                value["message"]
                    .as_str()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or("")
            ));
        }
        Ok(value)
    }

    pub fn cmd(&self, method: &str, rest: &str, body: Option<&Value>) -> Result<Value, String> {
        self.call(method, &self.session_path(rest), body)
    }

    pub fn goto(&self, url: &str) -> Result<(), String> {
        self.cmd("POST", "/url", Some(&json!({ "url": url })))
            .map(drop)
    }

    pub fn url(&self) -> Result<String, String> {
        Ok(self
            .cmd("GET", "/url", None)?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Runs `script` (a function body; arguments in `arguments`) in the page.
    pub fn js(&self, script: &str, args: &[Value]) -> Result<Value, String> {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(&json!({ "script": script, "args": args })),
        )
    }

    /// Clicks an element returned by `js` (a WebDriver element reference).
    pub fn click(&self, element: &Value) -> Result<(), String> {
        let id = element[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| format!("not an element reference: {element}"))?;
        self.cmd("POST", &format!("/element/{id}/click"), Some(&json!({})))
            .map(drop)
    }

    /// Text of an open `alert()`, if any: a script that ran opens one.
    pub fn alert_text(&self) -> Option<String> {
        self.cmd("GET", "/alert/text", None)
            .ok()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
    }

    /// Browser console entries since the last call, as (level, message).
    pub fn console(&self) -> Result<Vec<(String, String)>, String> {
        let v = self.cmd("POST", "/se/log", Some(&json!({ "type": "browser" })))?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["level"].as_str().unwrap_or_default().to_owned(),
                            e["message"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Result<Vec<u8>, String> {
        let v = self.cmd("GET", "/screenshot", None)?;
        base64_decode(v.as_str().ok_or("screenshot is not a string")?)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.session.is_some() {
            let _ = self.cmd("DELETE", "", None);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request with `Connection: close`; returns status and JSON body.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value), String> {
    let err = |e: std::io::Error| format!("{method} {path}: {e}");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(err)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(err)?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).map_err(err)?;
    stream.write_all(body.as_bytes()).map_err(err)?;
    // chromedriver keeps the connection open despite `Connection: close`, so read
    // the head, then exactly the body it announces.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let split = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut buf).map_err(err)?;
        if n == 0 {
            return Err(format!(
                "{method} {path}: connection closed before the response head"
            ));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut payload = raw[split + 4..].to_vec();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{method} {path}: bad status line in {head:?}"))?;
    let header = |name: &str| {
        head.lines().find_map(|l| {
            l.strip_prefix(name)
                .and_then(|v| v.strip_prefix(':'))
                .map(|v| v.trim().to_owned())
        })
    };
    let complete = |p: &[u8]| -> bool {
        match header("content-length") {
            Some(len) => len.parse::<usize>().is_ok_and(|len| p.len() >= len),
            None if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) => {
                dechunk(p).is_some()
            }
            None => false,
        }
    };
    while !complete(&payload) {
        let n = stream.read(&mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        payload.extend_from_slice(&buf[..n]);
    }
    if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        payload = dechunk(&payload).ok_or_else(|| format!("{method} {path}: bad chunked body"))?;
    } else if let Some(len) = header("content-length").and_then(|l| l.parse::<usize>().ok()) {
        payload.truncate(len);
    }
    if payload.is_empty() {
        return Ok((status, Value::Null));
    }
    let json = serde_json::from_slice(&payload)
        .map_err(|e| format!("{method} {path}: body is not JSON: {e}"))?;
    Ok((status, json))
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let value = |c: u8| -> Result<u32, String> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("bad base64 byte {c:#x}")),
        } as u32)
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for group in digits.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in group.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..group.len()]);
    }
    Ok(out)
}

#[test]
fn base64_round_trip() {
    assert_eq!(base64_decode("TWFu").unwrap(), b"Man");
    assert_eq!(base64_decode("TWE=").unwrap(), b"Ma");
    assert_eq!(base64_decode("TQ==").unwrap(), b"M");
    assert!(base64_decode("T!==").is_err());
}

#[test]
fn dechunk_joins_chunks() {
    assert_eq!(
        dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n").unwrap(),
        b"abcde"
    );
    assert!(dechunk(b"5\r\nab").is_none());
}

/// Starts headless Chromium for a test: `None` (the test skips) only when
/// `QMS_SKIP_BROWSER=1`; a missing browser or driver fails the test with an install hint.
pub fn start_for_tests(width: u32, height: u32) -> Option<Browser> {
    if std::env::var("QMS_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("browser test skipped: QMS_SKIP_BROWSER=1");
        return None;
    }
    let hint = "install Chromium and chromedriver (Debian: apt-get install chromium chromium-driver), \
                point CHROMEDRIVER / CHROME_BIN at them, or set QMS_SKIP_BROWSER=1 to skip this test";
    let driver = find_program("CHROMEDRIVER", &["chromedriver"])
        .unwrap_or_else(|| panic!("chromedriver not found on PATH: {hint}"));
    let chromium = find_program(
        "CHROME_BIN",
        &[
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
            "chrome",
        ],
    )
    .unwrap_or_else(|| panic!("Chromium not found on PATH: {hint}"));
    match Browser::start(&driver, Some(&chromium), width, height) {
        Ok(b) => Some(b),
        Err(e) => panic!("could not start headless Chromium: {e}\n({hint})"),
    }
}
