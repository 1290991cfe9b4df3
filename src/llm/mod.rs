//! The language model client: any OpenAI-compatible chat endpoint through `async-openai`
//! (OpenAI, Ollama, vLLM, LiteLLM, …), streaming, with a timeout on the connection and on
//! every chunk (a stalled stream ends), and retries with exponential backoff on 429/5xx
//! before the stream starts. It only sends what the caller built (see
//! [`crate::assistant::model_messages`]: redacted, fenced); it has no tools to call.

use crate::config::LlmConfig;
use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage, CreateChatCompletionRequest,
};
use futures::StreamExt;
use std::time::Duration;

/// Where and how to call the model; `None` from [`Settings::resolve`] means offline.
#[derive(Debug, Clone)]
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
}

impl Settings {
    /// From the config file and the environment (`OPENAI_BASE_URL`, `SEXTANT_MODEL`,
    /// `OPENAI_API_KEY`, or the variable `api_key_env` names), which win over the file.
    /// `None` when nothing is configured.
    pub fn resolve(c: &LlmConfig) -> Option<Settings> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let base_url = env("OPENAI_BASE_URL").or_else(|| c.base_url.clone());
        let model = env("SEXTANT_MODEL").or_else(|| c.model.clone());
        let api_key = c
            .api_key_env
            .as_deref()
            .and_then(env)
            .or_else(|| env("OPENAI_API_KEY"))
            .or_else(|| c.api_key.clone());
        if base_url.is_none() && model.is_none() && api_key.is_none() {
            return None;
        }
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
        })
    }
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
    client: Client<OpenAIConfig>,
    pub settings: Settings,
}

impl LlmClient {
    pub fn new(settings: Settings) -> Result<LlmClient, LlmError> {
        crate::install_crypto_provider();
        let mut config = OpenAIConfig::new().with_api_base(settings.base_url.trim_end_matches('/'));
        if let Some(k) = &settings.api_key {
            config = config.with_api_key(k);
        }
        if let Some(o) = &settings.organization {
            config = config.with_org_id(o);
        }
        for (k, v) in &settings.headers {
            let bad = |e: String| LlmError::Other {
                url: settings.base_url.clone(),
                message: format!("header {k}: {e}"),
            };
            let name =
                http::HeaderName::from_bytes(k.as_bytes()).map_err(|e| bad(e.to_string()))?;
            config = config
                .with_header(name, v.clone())
                .map_err(|e| bad(e.to_string()))?;
        }
        Ok(LlmClient {
            client: Client::with_config(config),
            settings,
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
        let mut delay = Duration::from_millis(500);
        let mut attempt = 0;
        let mut stream = loop {
            attempt += 1;
            let started = tokio::time::timeout(
                self.settings.timeout,
                self.client.chat().create_stream(request.clone()),
            )
            .await;
            let e = match started {
                Ok(Ok(s)) => break s,
                Ok(Err(e)) => self.err(e),
                Err(_) => (
                    true,
                    LlmError::Timeout {
                        url: url.clone(),
                        secs,
                    },
                ),
            };
            if !e.0 || attempt >= self.settings.attempts {
                return Err(e.1);
            }
            tracing::warn!(error = %e.1, attempt, "model call failed; retrying");
            tokio::time::sleep(delay).await;
            delay *= 2;
        };
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

fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.chars().take(300).collect()
}
