//! A scripted OpenAI-compatible server on 127.0.0.1 for the assistant tests: each request to
//! `/chat/completions` takes the next scripted reply — an SSE stream of text chunks, an error
//! status (429 with Retry-After, 500), a stream that stalls, malformed JSON — and every request
//! body is recorded so tests can check what left Sextant.
#![allow(dead_code)]

#[path = "../support/http.rs"]
mod http;

use std::collections::VecDeque;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Reply {
    /// Stream these text pieces, then `[DONE]`.
    Stream(Vec<String>),
    /// An error status with an OpenAI-style error body (a 429 says `retry-after: 0`).
    Status(u16, &'static str),
    /// 429 with this exact rate-limit header line (e.g. `retry-after: 1`).
    RateLimited(&'static str),
    /// Send these pieces, then hang (never finish).
    Stall(Vec<String>),
    /// A chunk that is not JSON.
    Malformed,
    /// A non-streaming completion whose message is this JSON (e.g. with `tool_calls`).
    Message(serde_json::Value),
    /// This JSON body as it is, 200 (e.g. the `GET /models` list).
    Json(serde_json::Value),
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    bodies: Vec<String>,
    /// (target, headers) of every request.
    requests: Vec<(String, Vec<(String, String)>)>,
}

pub struct FakeOpenAi {
    pub addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeOpenAi {
    pub fn start(script: Vec<Reply>) -> FakeOpenAi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            bodies: Vec::new(),
            requests: Vec::new(),
        }));
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let st = st.clone();
                std::thread::spawn(move || serve(conn, &st));
            }
        });
        FakeOpenAi { addr, state }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// (target, headers) of every request.
    pub fn requests(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.state.lock().expect("lock").requests.clone()
    }

    pub fn bodies(&self) -> Vec<String> {
        self.state.lock().expect("lock").bodies.clone()
    }
}

fn chunk(text: &str) -> String {
    let v = serde_json::json!({"id": "c1", "object": "chat.completion.chunk", "created": 1,
        "model": "fake", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
    format!("data: {v}\n\n")
}

fn serve(mut conn: TcpStream, st: &Arc<Mutex<State>>) {
    let _ = conn.set_nodelay(true);
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    loop {
        let Some(http::Request {
            target,
            headers,
            body,
            ..
        }) = http::read_request(&mut reader)
        else {
            return;
        };
        let streaming = String::from_utf8_lossy(&body).contains("\"stream\":true");
        let reply = {
            let mut s = st.lock().expect("lock");
            s.bodies.push(String::from_utf8_lossy(&body).into_owned());
            s.requests.push((target, headers));
            s.script
                .pop_front()
                .unwrap_or(Reply::Status(500, "script exhausted"))
        };
        // A non-streaming request gets the scripted text as one completion.
        let reply = match reply {
            Reply::Stream(pieces) if !streaming => {
                Reply::Message(serde_json::json!({"role": "assistant", "content": pieces.concat()}))
            }
            // A streaming request gets a scripted message as deltas: its text, then each tool
            // call's id and name, then its arguments in two fragments (as real servers split).
            Reply::Message(m) if streaming => {
                let mut out = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n".to_string();
                let delta = |d: serde_json::Value| {
                    format!(
                        "data: {}\n\n",
                        serde_json::json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "fake",
                            "choices": [{"index": 0, "delta": d, "finish_reason": null}]})
                    )
                };
                if let Some(t) = m.get("content").and_then(|c| c.as_str()) {
                    out.push_str(&delta(
                        serde_json::json!({"role": "assistant", "content": t}),
                    ));
                }
                let calls = m
                    .get("tool_calls")
                    .and_then(|c| c.as_array())
                    .cloned()
                    .unwrap_or_default();
                for (i, c) in calls.iter().enumerate() {
                    let args = c
                        .pointer("/function/arguments")
                        .and_then(|a| a.as_str())
                        .unwrap_or("");
                    let cut = args
                        .char_indices()
                        .nth(args.chars().count() / 2)
                        .map_or(0, |(b, _)| b);
                    out.push_str(&delta(serde_json::json!({"tool_calls": [{"index": i, "id": c["id"], "type": "function",
                        "function": {"name": c.pointer("/function/name"), "arguments": ""}}]})));
                    for part in [&args[..cut], &args[cut..]] {
                        out.push_str(&delta(serde_json::json!({"tool_calls": [{"index": i, "function": {"arguments": part}}]})));
                    }
                }
                out.push_str("data: [DONE]\n\n");
                let _ = conn.write_all(out.as_bytes());
                return;
            }
            other => other,
        };
        let sse_head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
        // A 429 says how long to wait: `retry-after: 0` unless scripted.
        let (reply, retry) = match reply {
            Reply::RateLimited(header) => {
                (Reply::Status(429, "slow down"), format!("{header}\r\n"))
            }
            Reply::Status(429, msg) => (Reply::Status(429, msg), "retry-after: 0\r\n".into()),
            other => (other, String::new()),
        };
        match reply {
            Reply::RateLimited(_) => unreachable!("mapped to a 429 above"),
            Reply::Status(code, msg) => {
                let body = serde_json::json!({"error": {"message": msg, "type": "error", "param": null, "code": null}}).to_string();
                let _ = conn.write_all(
                    format!(
                        "HTTP/1.1 {code} Error\r\ncontent-type: application/json\r\n{retry}content-length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            }
            Reply::Stream(pieces) => {
                let mut out = sse_head.to_string();
                for p in &pieces {
                    out.push_str(&chunk(p));
                }
                out.push_str("data: [DONE]\n\n");
                let _ = conn.write_all(out.as_bytes());
                return;
            }
            Reply::Stall(pieces) => {
                let mut out = sse_head.to_string();
                for p in &pieces {
                    out.push_str(&chunk(p));
                }
                let _ = conn.write_all(out.as_bytes());
                std::thread::sleep(Duration::from_secs(30));
                return;
            }
            Reply::Message(message) => {
                let body = serde_json::json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "fake",
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
                .to_string();
                let _ = conn.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            }
            Reply::Json(body) => {
                let body = body.to_string();
                let _ = conn.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            }
            Reply::Malformed => {
                let _ = conn.write_all(format!("{sse_head}data: {{not json\n\n").as_bytes());
                return;
            }
        }
    }
}
