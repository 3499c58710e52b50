//! The browsers the end-to-end tests drive, behind one [`Browser`]: headless Chromium over the
//! W3C WebDriver protocol (Debian's `chromedriver` started on a free port, spoken to with plain
//! HTTP over reqwest) and headless Firefox over WebDriver BiDi ([`crate::firefox`]). Each runs in
//! a fresh profile directory; the browser is killed and its profile removed on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::firefox::Firefox;

/// Which browser a test drives.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Debian's `chromium`, through `chromedriver`.
    Chromium,
    /// Debian's `firefox-esr`, which speaks WebDriver BiDi itself.
    Firefox,
}

impl Kind {
    /// What a file name or message calls it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Chromium => "chromium",
            Kind::Firefox => "firefox",
        }
    }
}

/// One headless browser with one page; killed on drop.
pub enum Browser {
    /// Chromium over W3C WebDriver (classic).
    Chromium(Chromium),
    /// Firefox over WebDriver BiDi.
    Firefox(Box<Firefox>),
}

/// Calls the same method on whichever driver `$browser` holds.
macro_rules! on_driver {
    ($browser:expr, $driver:ident => $call:expr) => {
        match $browser {
            Browser::Chromium($driver) => $call.await,
            Browser::Firefox($driver) => $call.await,
        }
    };
}

impl Browser {
    /// Starts `kind` headless in a fresh profile, with a page of a laptop's size (about
    /// 1366×760). `Err` names the program that is not installed.
    pub async fn start(kind: Kind) -> Result<Browser, &'static str> {
        let find = |name: &'static str| on_path(name).ok_or(name);
        Ok(match kind {
            Kind::Chromium => {
                let (chromium, driver) = (find("chromium")?, find("chromedriver")?);
                Browser::Chromium(Chromium::start(&chromium, &driver).await)
            }
            Kind::Firefox => {
                let firefox = on_path("firefox-esr").or_else(|| on_path("firefox"));
                let firefox = firefox.ok_or("firefox-esr")?;
                Browser::Firefox(Box::new(Firefox::start(&firefox).await))
            }
        })
    }

    /// Opens `url` and waits for it to load.
    pub async fn open(&mut self, url: &str) {
        on_driver!(self, driver => driver.open(url))
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and answers its return value
    /// as JSON.
    pub async fn run(&mut self, script: &str, args: Value) -> Value {
        on_driver!(self, driver => driver.run(script, args))
    }

    /// Types `text` into the element `css` selects.
    pub async fn type_into(&mut self, css: &str, text: &str) {
        on_driver!(self, driver => driver.type_into(css, text))
    }

    /// Clicks the element `css` selects.
    pub async fn click(&mut self, css: &str) {
        on_driver!(self, driver => driver.click(css))
    }

    /// Accepts the `confirm()` dialog that opened or opens, waiting for it up to five seconds.
    pub async fn accept_dialog(&mut self) {
        on_driver!(self, driver => driver.accept_dialog())
    }

    /// Writes a PNG screenshot of the page to `path`.
    pub async fn screenshot(&mut self, path: &Path) {
        let png = on_driver!(self, driver => driver.screenshot());
        let png = decode_base64(&png);
        assert!(png.starts_with(b"\x89PNG"), "not a PNG screenshot");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

/// Where `name` is on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// A spawned program, killed (and reaped) on drop.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh, empty profile directory under the temporary directory, removed on drop.
pub struct Profile(pub PathBuf);

impl Profile {
    /// Creates `scale-ops-<browser>-<uuid>`.
    pub fn new(kind: Kind) -> Profile {
        let name = format!("scale-ops-{}-{}", kind.name(), uuid::Uuid::new_v4());
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir).expect("create a browser profile directory");
        Profile(dir)
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One Chromium session; the session is closed and the driver killed on drop (the fields drop
/// in order: the driver, then the profile).
pub struct Chromium {
    /// `http://127.0.0.1:PORT/session/ID`.
    session: String,
    http: reqwest::Client,
    _driver: Process,
    _profile: Profile,
}

impl Chromium {
    /// Starts the driver and opens a headless window of 1366×900 (a page of 1366×757).
    async fn start(chromium: &Path, chromedriver: &Path) -> Chromium {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Process(
            Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver"),
        );
        let profile = Profile::new(Kind::Chromium);
        let mut browser = Chromium {
            session: String::new(),
            http: reqwest::Client::new(),
            _driver: driver,
            _profile: profile,
        };
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = browser.http.get(format!("{base}/status")).send().await;
            if let Ok(res) = ready {
                let status: Value = res.json().await.unwrap_or_default();
                if status["value"]["ready"] == true {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1366,900",
                    format!("--user-data-dir={}", browser._profile.0.display()),
                ],
            },
        }}});
        let url = format!("{base}/session");
        let created = browser
            .call(reqwest::Method::POST, &url, capabilities)
            .await;
        let id = created["sessionId"].as_str().expect("a session id");
        browser.session = format!("{base}/session/{id}");
        browser
    }

    /// Sends one WebDriver command; panics on a WebDriver error. Answers its `value`.
    async fn call(&self, method: reqwest::Method, url: &str, body: Value) -> Value {
        let mut req = self.http.request(method, url);
        if !body.is_null() {
            req = req.json(&body);
        }
        let res = req.send().await.expect("WebDriver answers");
        let status = res.status();
        let answer: Value = res.json().await.expect("a WebDriver JSON answer");
        assert!(status.is_success(), "WebDriver {url}: {answer}");
        answer["value"].clone()
    }

    /// `POST {session}/{path}` with `body`.
    async fn command(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/{path}", self.session);
        self.call(reqwest::Method::POST, &url, body).await
    }

    /// Opens `url`.
    async fn open(&self, url: &str) {
        self.command("url", json!({ "url": url })).await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and answers its return value.
    async fn run(&self, script: &str, args: Value) -> Value {
        self.command("execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// The id of the element `css` selects (the first).
    async fn element(&self, css: &str) -> String {
        let found = self
            .command("element", json!({ "using": "css selector", "value": css }))
            .await;
        found
            .as_object()
            .and_then(|object| object.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    /// Types `text` into the element `css` selects.
    async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.command(&format!("element/{id}/value"), json!({ "text": text }))
            .await;
    }

    /// Clicks the element `css` selects.
    async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.command(&format!("element/{id}/click"), json!({}))
            .await;
    }

    /// Accepts the open `confirm()` dialog, waiting for it up to five seconds.
    async fn accept_dialog(&self) {
        let url = format!("{}/alert/accept", self.session);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let res = self.http.post(&url).json(&json!({})).send().await.unwrap();
            if res.status().is_success() {
                return;
            }
            assert!(Instant::now() < deadline, "no dialog opened");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A screenshot of the window, as base64 PNG.
    async fn screenshot(&self) -> String {
        let url = format!("{}/screenshot", self.session);
        let encoded = self.call(reqwest::Method::GET, &url, Value::Null).await;
        encoded.as_str().expect("base64 PNG").to_owned()
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // Closing the session stops Chromium; killing the driver alone could leave it running.
        if !self.session.is_empty() {
            let session = self.session.clone();
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let close = reqwest::Client::new().delete(session).send();
                    let _ = tokio::time::timeout(Duration::from_secs(5), close).await;
                });
            })
            .join();
        }
    }
}

/// Decodes standard base64 (the encoding of WebDriver and BiDi screenshots).
fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .map(value)
        .collect();
    digits
        .chunks(4)
        .flat_map(|chunk| {
            let bits = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, d)| acc | u32::from(*d) << (18 - 6 * i));
            let bytes = bits.to_be_bytes();
            bytes[1..chunk.len()].to_vec()
        })
        .collect()
}

#[test]
fn base64_decodes_with_and_without_padding() {
    assert_eq!(decode_base64("TWFu"), b"Man");
    assert_eq!(decode_base64("TWE="), b"Ma");
    assert_eq!(decode_base64("TQ=="), b"M");
    assert_eq!(decode_base64("iVBORw0KGgo="), b"\x89PNG\r\n\x1a\n");
}
