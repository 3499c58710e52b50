//! Headless Firefox driven over WebDriver BiDi, which Firefox speaks itself (Debian has no
//! geckodriver): `firefox-esr --remote-debugging-port 0` picks a port and prints it on stderr,
//! one WebSocket to `ws://…/session` carries the JSON commands, their answers and the one event
//! the tests need (`browsingContext.userPromptOpened`). Script results come back as BiDi remote
//! values and are turned into plain JSON, as WebDriver classic answers them.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::browser::{Kind, Process, Profile};
use crate::e2e_training::Ws;

/// The page's size: a laptop's screen, near Chromium's 1366×757.
const VIEWPORT: (u32, u32) = (1366, 768);

/// How long Firefox may take to answer one command.
const PATIENCE: Duration = Duration::from_secs(30);
/// How long Firefox may take to start: a fresh profile's first start is slow, and slower still
/// on a machine busy with the rest of the suite.
const START_PATIENCE: Duration = Duration::from_secs(120);
/// Lines of Firefox's stderr kept to explain a start that failed.
const STDERR_KEPT: usize = 30;

/// One Firefox with one page (browsing context); killed on drop, its profile then removed.
pub struct Firefox {
    ws: Ws,
    /// The id of the last command sent.
    last_id: u64,
    /// The page's browsing context.
    context: String,
    /// Whether a user prompt opened that is not handled yet.
    prompt_open: bool,
    _process: Process,
    _profile: Profile,
}

impl Firefox {
    /// Starts `program` headless in a fresh profile, opens a BiDi session that leaves user
    /// prompts to the test, and sets the page's viewport to [`VIEWPORT`].
    pub async fn start(program: &Path) -> Firefox {
        let profile = Profile::new(Kind::Firefox);
        let mut process = Process(
            Command::new(program)
                .args(["--headless", "--no-remote", "--remote-debugging-port", "0"])
                .arg("--profile")
                .arg(&profile.0)
                .arg("about:blank")
                .env("MOZ_CRASHREPORTER_DISABLE", "1")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start Firefox"),
        );
        // Firefox prints the address it listens on; the last lines of the rest of its stderr
        // are kept to explain a failed start.
        let stderr = process.0.stderr.take().unwrap();
        let (found, mut address) = tokio::sync::mpsc::unbounded_channel();
        let said = Arc::new(Mutex::new(VecDeque::new()));
        let kept = said.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("WebDriver BiDi listening on ") {
                    let _ = found.send(url.trim().to_owned());
                }
                let mut kept = kept.lock().unwrap();
                if kept.len() == STDERR_KEPT {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
        let Ok(Some(url)) = tokio::time::timeout(START_PATIENCE, address.recv()).await else {
            let exited = process.0.try_wait().ok().flatten();
            let said = Vec::from(said.lock().unwrap().clone()).join("\n");
            panic!(
                "Firefox did not say where WebDriver BiDi listens within {START_PATIENCE:?} \
                 (exited: {exited:?}); its stderr ended with:\n{said}"
            );
        };
        let (ws, _) = tokio_tungstenite::connect_async(format!("{url}/session"))
            .await
            .expect("connect to Firefox's WebDriver BiDi");
        let mut firefox = Firefox {
            ws,
            last_id: 0,
            context: String::new(),
            prompt_open: false,
            _process: process,
            _profile: profile,
        };
        let capabilities =
            json!({"alwaysMatch": {"unhandledPromptBehavior": {"default": "ignore"}}});
        firefox
            .call("session.new", json!({ "capabilities": capabilities }))
            .await;
        let events = json!({"events": ["browsingContext.userPromptOpened"]});
        firefox.call("session.subscribe", events).await;
        let tree = firefox.call("browsingContext.getTree", json!({})).await;
        firefox.context = tree["contexts"][0]["context"]
            .as_str()
            .expect("a browsing context")
            .to_owned();
        let (width, height) = VIEWPORT;
        let viewport = json!({"width": width, "height": height});
        firefox
            .command(
                "browsingContext.setViewport",
                json!({ "viewport": viewport }),
            )
            .await;
        firefox
    }

    /// Sends `method` with `params`; answers the command's id.
    async fn send(&mut self, method: &str, params: Value) -> u64 {
        self.last_id += 1;
        let id = self.last_id;
        let text = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws
            .send(Message::text(text))
            .await
            .expect("send to Firefox");
        id
    }

    /// Reads messages until the answer to command `id` (its `result`; panics on an error) or,
    /// with `or_prompt`, until a user prompt is open (`None`). Answers to commands no longer
    /// awaited are dropped.
    async fn answer(&mut self, id: u64, or_prompt: bool) -> Option<Value> {
        loop {
            if or_prompt && self.prompt_open {
                return None;
            }
            let message = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("Firefox did not answer within {PATIENCE:?}"))
                .expect("Firefox closed its WebDriver BiDi socket")
                .expect("read from Firefox");
            let Message::Text(text) = message else {
                continue;
            };
            let message: Value = serde_json::from_str(&text).expect("a BiDi JSON message");
            if message["method"] == "browsingContext.userPromptOpened" {
                self.prompt_open = true;
            } else if message["id"] == id {
                assert_eq!(message["type"], "success", "WebDriver BiDi: {message}");
                return Some(message["result"].clone());
            }
        }
    }

    /// Sends one command and answers its result.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params).await;
        self.answer(id, false).await.unwrap()
    }

    /// [`Firefox::call`] with the page's context added to `params`.
    async fn command(&mut self, method: &str, mut params: Value) -> Value {
        params["context"] = json!(self.context);
        self.call(method, params).await
    }

    /// Calls the JavaScript function `declaration` with `args` (BiDi local values) in the page;
    /// answers its result as a BiDi remote value and panics on an exception.
    async fn call_function(&mut self, declaration: &str, args: Vec<Value>) -> Value {
        let params = json!({
            "functionDeclaration": declaration,
            "arguments": args,
            "target": {"context": self.context},
            "awaitPromise": true,
            "resultOwnership": "none",
        });
        let result = self.call("script.callFunction", params).await;
        assert_eq!(
            result["type"], "success",
            "the script threw: {}",
            result["exceptionDetails"]["text"]
        );
        result["result"].clone()
    }

    /// Opens `url` and waits for it to load.
    pub async fn open(&mut self, url: &str) {
        let params = json!({"url": url, "wait": "complete"});
        self.command("browsingContext.navigate", params).await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and answers its return value.
    pub async fn run(&mut self, script: &str, args: Value) -> Value {
        let args = args
            .as_array()
            .map_or(vec![], |args| args.iter().map(local).collect());
        let declaration = format!("function () {{ {script} }}");
        plain(&self.call_function(&declaration, args).await)
    }

    /// Clicks the middle of the element `css` selects, scrolled into view if need be, with the mouse.
    /// Answers as soon as the click is done or has opened a user prompt.
    pub async fn click(&mut self, css: &str) {
        let find = "(css) => { const found = document.querySelector(css);\
                    found?.scrollIntoView({block: 'nearest'}); return found; }";
        let element = self.call_function(find, vec![local(&json!(css))]).await;
        let shared_id = element["sharedId"].as_str();
        let shared_id = shared_id.unwrap_or_else(|| panic!("no element {css}"));
        let origin = json!({"type": "element", "element": {"sharedId": shared_id}});
        let mouse = [
            json!({"type": "pointerMove", "x": 0, "y": 0, "origin": origin}),
            json!({"type": "pointerDown", "button": 0}),
            json!({"type": "pointerUp", "button": 0}),
        ];
        self.act(json!({"type": "pointer", "id": "mouse", "actions": mouse}))
            .await;
    }

    /// Clicks the element `css` selects, then types `text` with key presses.
    pub async fn type_into(&mut self, css: &str, text: &str) {
        self.click(css).await;
        let keys: Vec<Value> = text
            .chars()
            .flat_map(|key| ["keyDown", "keyUp"].map(|kind| json!({"type": kind, "value": key})))
            .collect();
        self.act(json!({"type": "key", "id": "keyboard", "actions": keys}))
            .await;
    }

    /// Performs one input source's actions; answers when they are done or a prompt opened.
    async fn act(&mut self, source: Value) {
        let params = json!({"context": self.context, "actions": [source]});
        let id = self.send("input.performActions", params).await;
        self.answer(id, true).await;
    }

    /// Accepts the user prompt that opened or opens, waiting for it up to five seconds.
    pub async fn accept_dialog(&mut self) {
        // No command has id 0: this reads (keeping what it sees) until the prompt is open.
        let wait = self.answer(0, true);
        tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .expect("no dialog opened");
        let accept = json!({"accept": true});
        self.command("browsingContext.handleUserPrompt", accept)
            .await;
        self.prompt_open = false;
    }

    /// A screenshot of the page's viewport, as base64 PNG.
    pub async fn screenshot(&mut self) -> String {
        let shot = self
            .command("browsingContext.captureScreenshot", json!({}))
            .await;
        shot["data"].as_str().expect("base64 PNG").to_owned()
    }
}

/// `value` as a BiDi local value (a script argument).
fn local(value: &Value) -> Value {
    match value {
        Value::Null => json!({"type": "null"}),
        Value::Bool(_) => json!({"type": "boolean", "value": value}),
        Value::Number(_) => json!({"type": "number", "value": value}),
        Value::String(_) => json!({"type": "string", "value": value}),
        Value::Array(items) => {
            json!({"type": "array", "value": items.iter().map(local).collect::<Vec<_>>()})
        }
        Value::Object(fields) => {
            let pairs: Vec<Value> = fields.iter().map(|(k, v)| json!([k, local(v)])).collect();
            json!({"type": "object", "value": pairs})
        }
    }
}

/// A BiDi remote value (a script result) as plain JSON: strings, booleans, finite numbers,
/// arrays (and sets), objects (and maps, their keys as strings); `null` for `undefined`, `null`
/// and what JSON cannot hold (nodes, functions, NaN, …).
fn plain(remote: &Value) -> Value {
    let value = &remote["value"];
    match remote["type"].as_str().unwrap_or_default() {
        "string" | "boolean" => value.clone(),
        "number" if value.is_number() => value.clone(),
        "array" | "set" => value.as_array().map_or(Value::Null, |items| {
            Value::Array(items.iter().map(plain).collect())
        }),
        "object" | "map" => {
            let pairs = value.as_array().map(Vec::as_slice).unwrap_or_default();
            let key = |key: &Value| {
                key.as_str()
                    .map_or_else(|| plain(key).to_string(), str::to_owned)
            };
            let fields = pairs.iter().map(|pair| (key(&pair[0]), plain(&pair[1])));
            Value::Object(fields.collect())
        }
        _ => Value::Null,
    }
}

#[test]
fn remote_values_become_plain_json() {
    let remote = json!({"type": "array", "value": [
        {"type": "string", "value": "token"},
        {"type": "number", "value": 2},
        {"type": "number", "value": "NaN"},
        {"type": "undefined"},
        {"type": "object", "value": [["ok", {"type": "boolean", "value": true}]]},
    ]});
    assert_eq!(
        plain(&remote),
        json!(["token", 2, null, null, {"ok": true}])
    );
    let args = local(&json!(["a", 1, null, {"k": false}]));
    assert_eq!(args["value"][0], json!({"type": "string", "value": "a"}));
    assert_eq!(args["value"][3]["value"][0][1]["type"], "boolean");
}
