//! The language model client: any OpenAI-compatible chat endpoint through `async-openai`
//! (OpenAI, Ollama, vLLM, LiteLLM, …), streaming, with a timeout on the connection and on
//! every chunk (a stalled stream ends), and retries on 429/5xx before the stream starts,
//! waiting what `Retry-After` asks (up to the timeout) or backing off exponentially. It only sends what the caller built (see
//! [`crate::assistant::model_messages`]: redacted, fenced); it has no tools to call.

use crate::config::LlmConfig;
use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequest,
};
use futures::StreamExt;
use std::time::Duration;

/// Where and how to call the model; `None` from [`Settings::resolve`] means offline. Its
/// `Debug` hides the key and header values.
#[derive(Clone)]
pub struct Settings {
    pub base_url: String,
    pub model: String,
    api_key: Option<String>,
    pub organization: Option<String>,
    pub headers: Vec<(String, String)>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// Connection and per-chunk timeout.
    pub timeout: Duration,
    pub attempts: u32,
    /// Azure OpenAI: (deployment, api-version); `base_url` is then the resource endpoint.
    pub azure: Option<(String, String)>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "(hidden)"))
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("timeout", &self.timeout)
            .field("azure", &self.azure)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Whether a key was found (its value is never shown).
    pub fn has_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// From the config file and the environment (`OPENAI_BASE_URL`, `SEXTANT_MODEL`,
    /// `OPENAI_API_KEY`, or the variable `api_key_env` names), which win over the file.
    /// `None` when nothing is configured.
    pub fn resolve(c: &LlmConfig) -> Option<Settings> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let base_url = env("OPENAI_BASE_URL").or_else(|| c.base_url.clone());
        let model = env("SEXTANT_MODEL").or_else(|| c.model.clone());
        if base_url.is_none()
            && model.is_none()
            && c.api_key_cmd.is_none()
            && c.api_key.is_none()
            && c.api_key_env.as_deref().and_then(env).is_none()
            && env("OPENAI_API_KEY").is_none()
        {
            return None;
        }
        let api_key = c
            .api_key_env
            .as_deref()
            .and_then(env)
            .or_else(|| env("OPENAI_API_KEY"))
            .or_else(|| c.api_key_cmd.as_deref().and_then(key_from_command))
            .or_else(|| c.api_key.clone());
        Some(Settings {
            base_url: base_url.unwrap_or_else(|| "https://api.openai.com/v1".into()),
            model: model.unwrap_or_else(|| "gpt-4.1-mini".into()),
            api_key,
            organization: c.organization.clone(),
            headers: c
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            temperature: c.temperature,
            max_tokens: c.max_tokens,
            timeout: Duration::from_secs(c.timeout_secs.unwrap_or(60)),
            attempts: 3,
            azure: c.azure_deployment.clone().map(|d| {
                (
                    d,
                    c.azure_api_version
                        .clone()
                        .unwrap_or_else(|| "2024-10-21".into()),
                )
            }),
        })
    }
}

/// How long `api_key_cmd` may take (a password manager waiting for a touch that never comes
/// must not hang every command).
const KEY_CMD_TIMEOUT: Duration = Duration::from_secs(10);

/// Run `sh -c cmd` with no input and a deadline; its stdout (at most 64 KiB) on success. On
/// timeout the shell is killed. The output is never logged.
fn run_bounded(cmd: &str, timeout: Duration) -> Result<String, String> {
    use std::io::Read;
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("could not run: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stdout).take(64 * 1024).read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => {
                let out = rx.recv_timeout(Duration::from_secs(1)).unwrap_or_default();
                return Ok(String::from_utf8_lossy(&out).into_owned());
            }
            Ok(Some(status)) => return Err(format!("exited with {status}")),
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s", timeout.as_secs()));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The key a command prints (`[llm] api_key_cmd`), run once per process with `sh -c`. Its
/// output is never logged or printed; a failing command is named with its exit status only.
fn key_from_command(cmd: &str) -> Option<String> {
    static KEYS: std::sync::Mutex<Vec<(String, Option<String>)>> =
        std::sync::Mutex::new(Vec::new());
    let mut keys = KEYS.lock().ok()?;
    if let Some((_, k)) = keys.iter().find(|(c, _)| c == cmd) {
        return k.clone();
    }
    let key = match run_bounded(cmd, KEY_CMD_TIMEOUT) {
        Ok(out) => Some(out.trim().to_string()).filter(|k| !k.is_empty()),
        Err(why) => {
            tracing::warn!(%why, "[llm] api_key_cmd failed; no API key");
            None
        }
    };
    keys.push((cmd.to_string(), key.clone()));
    key
}

/// Why a model call failed (each is one line for the user).
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("{url}: HTTP {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url}: no answer within {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("{url}: the stream stalled for {secs} s")]
    Stalled { url: String, secs: u64 },
    #[error("{url}: {message}")]
    Other { url: String, message: String },
}

/// A connected client.
pub struct LlmClient {
    client: Client<Box<dyn async_openai::config::Config>>,
    pub settings: Settings,
    /// What the last response asked for in `Retry-After` (see [`transport`]).
    retry_after: RetryAfter,
}

/// The wait the endpoint asked for in its last response (`retry-after-ms`, which Azure
/// sends, or `Retry-After` in seconds or as an HTTP date).
#[derive(Clone, Default)]
struct RetryAfter(std::sync::Arc<std::sync::Mutex<Option<Duration>>>);

impl RetryAfter {
    fn take(&self) -> Option<Duration> {
        self.0.lock().ok().and_then(|mut g| g.take())
    }
    fn set(&self, d: Option<Duration>) {
        if let Ok(mut g) = self.0.lock() {
            *g = d;
        }
    }
}

/// Parse the wait a response asks for.
pub(crate) fn retry_after_of(headers: &http::HeaderMap) -> Option<Duration> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::trim);
    // A server's number is untrusted: `inf`, `NaN` or `1e20` must not panic. What is not a
    // representable non-negative duration is capped (the caller bounds the wait by its
    // timeout anyway).
    let secs = |s: f64| -> Duration {
        Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(if s.is_nan() {
            Duration::ZERO
        } else {
            Duration::MAX
        })
    };
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Some(secs(ms / 1000.0));
    }
    let v = get("retry-after")?;
    if let Ok(s) = v.parse::<f64>() {
        return Some(secs(s));
    }
    // An HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT") is RFC 2822 shaped.
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(v)
        .ok()?;
    let left = at.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(left).unwrap_or_default())
}

/// The HTTP transport under the client: async-openai's plain reqwest service (not its
/// default stack, which retries on its own and would multiply [`LlmClient::retrying`]'s
/// attempts and wait as long as any `Retry-After` says), adding the configured extra
/// headers to every request (OpenAI and Azure alike) and noting what each response asks
/// for in `Retry-After`, so the one retry loop can honour it.
fn transport(
    headers: http::HeaderMap,
    seen: RetryAfter,
) -> impl tower::Service<
    async_openai::middleware::HttpRequestFactory,
    Response = ReqwestResponse,
    Error = OpenAIError,
    Future = impl Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static {
    use async_openai::middleware::{HttpRequestFactory, ReqwestService};
    use tower::ServiceExt;
    let base = ReqwestService::default();
    let headers = std::sync::Arc::new(headers);
    tower::service_fn(move |factory: HttpRequestFactory| {
        let base = base.clone();
        let seen = seen.clone();
        let headers = headers.clone();
        async move {
            let factory = if headers.is_empty() {
                factory
            } else {
                HttpRequestFactory::new(move || {
                    let factory = factory.clone();
                    let headers = headers.clone();
                    async move {
                        let mut request = factory.build().await?;
                        for (k, v) in headers.iter() {
                            request.headers_mut().insert(k.clone(), v.clone());
                        }
                        Ok(request)
                    }
                })
            };
            let response = base.oneshot(factory).await?;
            seen.set(retry_after_of(response.headers()));
            Ok(response)
        }
    })
}

/// The response type of async-openai's transport (reqwest's, named through the service).
type ReqwestResponse = <async_openai::middleware::ReqwestService as tower::Service<
    async_openai::middleware::HttpRequestFactory,
>>::Response;

impl LlmClient {
    pub fn new(settings: Settings) -> Result<LlmClient, LlmError> {
        crate::install_crypto_provider();
        let config: Box<dyn async_openai::config::Config> = match &settings.azure {
            // Azure: {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…,
            // the key in the `api-key` header.
            Some((deployment, version)) => {
                let mut c = async_openai::config::AzureConfig::new()
                    .with_api_base(settings.base_url.trim_end_matches('/'))
                    .with_deployment_id(deployment)
                    .with_api_version(version);
                if let Some(k) = &settings.api_key {
                    c = c.with_api_key(k);
                }
                Box::new(c)
            }
            None => {
                let mut config =
                    OpenAIConfig::new().with_api_base(settings.base_url.trim_end_matches('/'));
                if let Some(k) = &settings.api_key {
                    config = config.with_api_key(k);
                }
                if let Some(o) = &settings.organization {
                    config = config.with_org_id(o);
                }
                Box::new(config)
            }
        };
        let mut headers = http::HeaderMap::new();
        for (k, v) in &settings.headers {
            let bad = |e: String| LlmError::Other {
                url: settings.base_url.clone(),
                message: format!("[llm] headers: {k}: {e}"),
            };
            let name =
                http::HeaderName::from_bytes(k.as_bytes()).map_err(|e| bad(e.to_string()))?;
            let value = http::HeaderValue::from_str(v).map_err(|e| bad(e.to_string()))?;
            headers.insert(name, value);
        }
        let retry_after = RetryAfter::default();
        let transport = transport(headers, retry_after.clone());
        Ok(LlmClient {
            client: Client::with_config(config).with_http_service(transport),
            settings,
            retry_after,
        })
    }

    fn err(&self, e: OpenAIError) -> (bool, LlmError) {
        let url = self.settings.base_url.clone();
        match e {
            OpenAIError::ApiError(a) => {
                let status = a.status_code.as_u16();
                (
                    status == 429 || status >= 500,
                    LlmError::Status {
                        url,
                        status,
                        message: one_line(&a.api_error.message),
                    },
                )
            }
            OpenAIError::Reqwest(r) => (
                true,
                LlmError::Other {
                    url,
                    message: one_line(&r.to_string()),
                },
            ),
            other => (
                false,
                LlmError::Other {
                    url,
                    message: one_line(&other.to_string()),
                },
            ),
        }
    }

    /// The endpoint's model ids (`GET /models`): proves the URL, the TLS and the key work
    /// without spending tokens (`doctor`). Within the timeout, no retries.
    pub async fn models(&self) -> Result<Vec<String>, LlmError> {
        let secs = self.settings.timeout.as_secs();
        // Read loosely: servers that speak the API leave out fields the typed reply requires
        // (`created`, `owned_by`); the ids are what matters.
        let models = self.client.models();
        let listed = models.list_byot::<serde_json::Value>();
        match tokio::time::timeout(self.settings.timeout, listed).await {
            Err(_) => Err(LlmError::Timeout {
                url: self.settings.base_url.clone(),
                secs,
            }),
            Ok(Err(e)) => Err(self.err(e).1),
            Ok(Ok(body)) => Ok(body
                .get("data")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| {
                    m.get("id")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_string)
                })
                .collect()),
        }
    }

    /// Stream an answer to `messages` (role, text), calling `on_text` with each piece.
    /// Returns the whole text.
    pub async fn chat(
        &self,
        messages: &[(&str, String)],
        mut on_text: impl FnMut(&str),
    ) -> Result<String, LlmError> {
        let msgs: Vec<ChatCompletionRequestMessage> = messages
            .iter()
            .map(|(role, text)| match *role {
                "system" => ChatCompletionRequestSystemMessage::from(text.as_str()).into(),
                // Earlier answers of a conversation (the REPL's memory).
                "assistant" => ChatCompletionRequestAssistantMessage::from(text.as_str()).into(),
                _ => ChatCompletionRequestUserMessage::from(text.as_str()).into(),
            })
            .collect();
        let request = CreateChatCompletionRequest {
            model: self.settings.model.clone(),
            messages: msgs,
            temperature: self.settings.temperature,
            max_completion_tokens: self.settings.max_tokens,
            stream: Some(true),
            ..Default::default()
        };
        let secs = self.settings.timeout.as_secs();
        let url = self.settings.base_url.clone();
        let mut stream = self
            .retrying(|| async { self.client.chat().create_stream(request.clone()).await })
            .await?;
        let mut text = String::new();
        loop {
            match tokio::time::timeout(self.settings.timeout, stream.next()).await {
                Err(_) => return Err(LlmError::Stalled { url, secs }),
                Ok(None) => break,
                Ok(Some(Err(e))) => return Err(self.err(e).1),
                Ok(Some(Ok(chunk))) => {
                    for c in &chunk.choices {
                        if let Some(t) = &c.delta.content {
                            text.push_str(t);
                            on_text(t);
                        }
                    }
                }
            }
        }
        Ok(text)
    }
}

/// What an agent run did.
#[derive(Debug, Default)]
pub struct AgentRun {
    pub answer: String,
    /// (tool, arguments) of every call executed, in order (duplicates were served from the
    /// first result and are not repeated here).
    pub calls: Vec<(String, serde_json::Value)>,
    pub steps: usize,
}

impl LlmClient {
    /// Run `call` with the timeout, retrying 429/5xx/transport errors and timeouts with
    /// exponential backoff, up to `attempts`.
    async fn retrying<T, F, Fut>(&self, call: F) -> Result<T, LlmError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, OpenAIError>>,
    {
        let secs = self.settings.timeout.as_secs();
        let mut delay = Duration::from_millis(500);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.retry_after.set(None);
            let (retry, e) = match tokio::time::timeout(self.settings.timeout, call()).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => self.err(e),
                Err(_) => (
                    true,
                    LlmError::Timeout {
                        url: self.settings.base_url.clone(),
                        secs,
                    },
                ),
            };
            if !retry || attempt >= self.settings.attempts {
                return Err(e);
            }
            // The endpoint's own wait wins over the backoff, up to the timeout: a longer
            // wait (a quota reset in an hour) is reported rather than slept through.
            let wait = match self.retry_after.take() {
                Some(asked) if asked > self.settings.timeout => {
                    return Err(LlmError::Other {
                        url: self.settings.base_url.clone(),
                        message: format!(
                            "{e}; the endpoint asks to retry after {} s, longer than the {secs} s timeout",
                            asked.as_secs()
                        ),
                    });
                }
                Some(asked) => asked,
                None => delay,
            };
            tracing::warn!(error = %e, attempt, wait_ms = wait.as_millis() as u64, "model call failed; retrying");
            tokio::time::sleep(wait).await;
            delay *= 2;
        }
    }

    /// The agent loop: the model may call `tools` (read-only, executed by `exec`) for up to
    /// `max_steps` rounds; identical calls are answered from the first result; the last
    /// round is asked without tools so an answer always comes. Every round is streamed: text
    /// goes to `on_text` as it arrives (the answer, and any words the model says before
    /// calling a tool), tool calls are assembled from their deltas. An endpoint that rejects
    /// tools answers HTTP 400 (the caller then falls back to a single-shot prompt).
    /// `on_round(n, added)` runs before every round after the first with the messages added
    /// since the previous request (the model's tool calls and their results): the audit trail
    /// records each request.
    pub async fn agent(
        &self,
        messages: &[(&str, String)],
        tools: &serde_json::Value,
        max_steps: usize,
        mut exec: impl FnMut(&str, &serde_json::Value) -> String,
        mut on_text: impl FnMut(&str),
        mut on_round: impl FnMut(usize, &[serde_json::Value]),
    ) -> Result<AgentRun, LlmError> {
        use serde_json::json;
        let mut msgs: Vec<serde_json::Value> = messages
            .iter()
            .map(|(r, t)| json!({"role": r, "content": t}))
            .collect();
        let mut run = AgentRun::default();
        let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        let mut sent = msgs.len();
        for step in 0..=max_steps {
            run.steps = step + 1;
            if step > 0 {
                on_round(step, &msgs[sent.min(msgs.len())..]);
                sent = msgs.len();
            }
            let mut req = json!({"model": self.settings.model, "messages": msgs, "stream": true});
            if step < max_steps {
                req["tools"] = tools.clone();
            }
            if let Some(t) = self.settings.temperature {
                req["temperature"] = json!(t);
            }
            if let Some(m) = self.settings.max_tokens {
                req["max_completion_tokens"] = json!(m);
            }
            let (content, calls) = self.stream_round(&req, &mut on_text).await?;
            run.answer.push_str(&content);
            if calls.is_empty() {
                return Ok(run);
            }
            let said = if content.is_empty() {
                serde_json::Value::Null
            } else {
                json!(content)
            };
            msgs.push(json!({"role": "assistant", "content": said, "tool_calls": calls}));
            for c in calls {
                let name = c
                    .pointer("/function/name")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("");
                let raw = c
                    .pointer("/function/arguments")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("{}");
                let args: serde_json::Value = serde_json::from_str(raw).unwrap_or(json!({}));
                let key = format!("{name}\u{0}{args}");
                let result = match seen.get(&key) {
                    Some(r) => r.clone(),
                    None => {
                        let r = exec(name, &args);
                        run.calls.push((name.to_string(), args.clone()));
                        seen.insert(key, r.clone());
                        r
                    }
                };
                msgs.push(json!({"role": "tool", "tool_call_id": c.get("id").cloned().unwrap_or(json!("")), "content": result}));
            }
        }
        Err(LlmError::Other {
            url: self.settings.base_url.clone(),
            message: format!("no answer after {max_steps} tool rounds"),
        })
    }

    /// One streamed round of the agent: its text (passed to `on_text` piece by piece) and its
    /// tool calls, assembled from the deltas by `index` (id and name once, arguments in
    /// fragments).
    async fn stream_round(
        &self,
        req: &serde_json::Value,
        on_text: &mut impl FnMut(&str),
    ) -> Result<(String, Vec<serde_json::Value>), LlmError> {
        use serde_json::{Value, json};
        let secs = self.settings.timeout.as_secs();
        let url = self.settings.base_url.clone();
        let mut stream = self
            .retrying(|| async {
                self.client
                    .chat()
                    .create_stream_byot::<_, Value>(req.clone())
                    .await
            })
            .await?;
        let mut content = String::new();
        let mut calls: Vec<Value> = Vec::new();
        loop {
            let chunk = match tokio::time::timeout(self.settings.timeout, stream.next()).await {
                Err(_) => return Err(LlmError::Stalled { url, secs }),
                Ok(None) => break,
                Ok(Some(Err(e))) => return Err(self.err(e).1),
                Ok(Some(Ok(chunk))) => chunk,
            };
            let Some(delta) = chunk.pointer("/choices/0/delta") else {
                continue;
            };
            if let Some(t) = delta.get("content").and_then(Value::as_str)
                && !t.is_empty()
            {
                content.push_str(t);
                on_text(t);
            }
            let deltas = delta.get("tool_calls").and_then(Value::as_array);
            for d in deltas.into_iter().flatten() {
                let i = d
                    .get("index")
                    .and_then(Value::as_u64)
                    .map_or(calls.len(), |i| i as usize)
                    .min(64);
                while calls.len() <= i {
                    calls.push(json!({"id": "", "type": "function", "function": {"name": "", "arguments": ""}}));
                }
                let call = &mut calls[i];
                if let Some(id) = d.get("id").and_then(Value::as_str) {
                    call["id"] = json!(id);
                }
                for field in ["name", "arguments"] {
                    if let Some(part) = d
                        .pointer(&format!("/function/{field}"))
                        .and_then(Value::as_str)
                    {
                        let joined =
                            format!("{}{part}", call["function"][field].as_str().unwrap_or(""));
                        call["function"][field] = json!(joined);
                    }
                }
            }
        }
        calls.retain(|c| {
            c.pointer("/function/name")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty())
        });
        Ok((content, calls))
    }
}

fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_commands_are_bounded_in_time() {
        let t = std::time::Instant::now();
        let r = run_bounded("sleep 30", Duration::from_millis(300));
        assert!(r.is_err_and(|e| e.contains("timed out")));
        assert!(t.elapsed() < Duration::from_secs(5));
        assert_eq!(
            run_bounded("echo k3y", Duration::from_secs(5))
                .as_deref()
                .map(str::trim),
            Ok("k3y")
        );
        assert!(run_bounded("exit 3", Duration::from_secs(5)).is_err());
    }

    #[test]
    fn hostile_retry_after_values_do_not_panic() {
        for v in ["inf", "-inf", "NaN", "1e20", "-5", "3"] {
            let mut h = http::HeaderMap::new();
            h.insert("retry-after", http::HeaderValue::from_static(v));
            let d = retry_after_of(&h).expect(v);
            if v == "3" {
                assert_eq!(d, Duration::from_secs(3));
            }
            let mut h = http::HeaderMap::new();
            h.insert("retry-after-ms", http::HeaderValue::from_static(v));
            assert!(retry_after_of(&h).is_some(), "{v}");
        }
    }

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, http::HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    #[test]
    fn retry_after_in_seconds_milliseconds_and_dates() {
        assert_eq!(retry_after_of(&headers(&[])), None);
        assert_eq!(
            retry_after_of(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        // Azure's millisecond header wins over the seconds one.
        assert_eq!(
            retry_after_of(&headers(&[
                ("retry-after", "7"),
                ("retry-after-ms", "1500")
            ])),
            Some(Duration::from_millis(1500))
        );
        let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(120);
        let date = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&soon)
            .expect("date");
        let wait = retry_after_of(&headers(&[("retry-after", &date)])).expect("parsed");
        assert!(
            wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        // A date in the past means now; garbage means no hint.
        assert_eq!(
            retry_after_of(&headers(&[(
                "retry-after",
                "Wed, 21 Oct 2015 07:28:00 GMT"
            )])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after_of(&headers(&[("retry-after", "soon")])), None);
    }
}
