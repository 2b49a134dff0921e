//! The control socket protocol: one JSON request per line, one JSON reply
//! per line, on a Unix socket.
//!
//! Requests:
//! - `{"cmd": "status"}`
//! - `{"cmd": "add", "cpu": 5}` (a declared hotpluggable slot) or
//!   `{"cmd": "add", "count": 2}` (the lowest-index slots not present)
//! - `{"cmd": "remove", "cpu": 5}`
//! - `{"cmd": "shutdown"}`
//!
//! Replies: `{"ok": true, ...}` or `{"ok": false, "error": "..."}` naming the
//! offending value. A bad request never stops the VM.

use serde::{Deserialize, Serialize};

/// Longest request line accepted, in bytes.
pub const MAX_REQUEST_LEN: usize = 4096;

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    /// Report every CPU's state.
    Status,
    /// Hot-add a slot, or `count` slots.
    Add {
        /// The slot (CPU index).
        cpu: Option<u32>,
        /// How many slots, lowest index first.
        count: Option<u32>,
    },
    /// Ask the guest to give a CPU back.
    Remove {
        /// The CPU index.
        cpu: u32,
    },
    /// Power the VM off.
    Shutdown,
}

/// Why a request line was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Longer than [`MAX_REQUEST_LEN`].
    #[error("request of {0} bytes is longer than {MAX_REQUEST_LEN}")]
    TooLong(usize),
    /// Not valid UTF-8.
    #[error("request is not UTF-8")]
    NotUtf8,
    /// Not a request: malformed JSON, unknown command or field, wrong types.
    #[error("malformed request {line:?}: {reason}")]
    Malformed {
        /// The line (truncated to 200 characters).
        line: String,
        /// serde_json's message, naming the offending value.
        reason: String,
    },
    /// `add` with both or neither of `cpu` and `count`.
    #[error("add needs exactly one of \"cpu\" and \"count\"")]
    AddTarget,
}

/// Parses one request line (without its newline).
///
/// # Errors
/// A [`RequestError`] naming what is wrong.
pub fn parse(line: &[u8]) -> Result<Request, RequestError> {
    if line.len() > MAX_REQUEST_LEN {
        return Err(RequestError::TooLong(line.len()));
    }
    let text = std::str::from_utf8(line).map_err(|_| RequestError::NotUtf8)?;
    let request: Request =
        serde_json::from_str(text.trim()).map_err(|e| RequestError::Malformed {
            line: text.chars().take(200).collect(),
            reason: e.to_string(),
        })?;
    match request {
        Request::Add {
            cpu: Some(_),
            count: Some(_),
        }
        | Request::Add {
            cpu: None,
            count: None,
        } => Err(RequestError::AddTarget),
        other => Ok(other),
    }
}

/// One CPU in a `status` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuStatus {
    /// CPU index (= ACPI UID).
    pub cpu: u32,
    /// `boot` or `hotpluggable`.
    pub slot: String,
    /// `present`, `absent`, `removing` (eject requested, not yet done) or `parked`.
    pub state: String,
    /// Proximity domain.
    pub node: u32,
}

/// A reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Success.
    pub ok: bool,
    /// What failed, when `ok` is false.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// CPUs added or removal-requested by this request.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub cpus: Vec<u32>,
    /// Every CPU's state (`status`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub status: Vec<CpuStatus>,
}

impl Reply {
    /// A success naming `cpus`.
    #[must_use]
    pub fn ok(cpus: Vec<u32>) -> Self {
        Self {
            ok: true,
            error: None,
            cpus,
            status: Vec::new(),
        }
    }

    /// A failure.
    #[must_use]
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            ok: false,
            error: Some(message.into()),
            cpus: Vec::new(),
            status: Vec::new(),
        }
    }

    /// The reply as one line, newline included.
    #[must_use]
    pub fn to_line(&self) -> String {
        // Plain strings, integers and vectors always serialize.
        serde_json::to_string(self).unwrap_or_else(|_| "{\"ok\":false}".into()) + "\n"
    }
}

/// Serves one control connection: reads request lines (each at most
/// [`MAX_REQUEST_LEN`] bytes; a longer one is discarded up to its newline and
/// answered with an error), answers each with `handle`'s reply, and returns at
/// end of input. Malformed requests reach `handle` as errors so the VMM can
/// log them; the connection, and the VM, go on.
///
/// # Errors
/// Reading or writing the connection failed.
pub fn serve_connection<R: std::io::BufRead, W: std::io::Write>(
    mut reader: R,
    mut writer: W,
    handle: &mut dyn FnMut(Result<Request, RequestError>) -> Reply,
) -> std::io::Result<()> {
    loop {
        let mut line = Vec::new();
        let mut too_long = 0usize;
        loop {
            let available = reader.fill_buf()?;
            if available.is_empty() {
                break;
            }
            let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            if too_long == 0 && line.len() + chunk.len() <= MAX_REQUEST_LEN {
                line.extend_from_slice(chunk);
            } else {
                too_long = too_long.max(line.len()) + chunk.len();
                line.clear();
            }
            let consumed = done.unwrap_or(chunk.len());
            reader.consume(consumed);
            if done.is_some() {
                break;
            }
        }
        if line.is_empty() && too_long == 0 {
            // End of input, or an empty line.
            if reader.fill_buf()?.is_empty() {
                return Ok(());
            }
            continue;
        }
        let request = if too_long > 0 {
            Err(RequestError::TooLong(too_long))
        } else {
            parse(&line)
        };
        let reply = handle(request);
        writer.write_all(reply.to_line().as_bytes())?;
        writer.flush()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_requests_parse() {
        assert_eq!(parse(br#"{"cmd":"status"}"#), Ok(Request::Status));
        assert_eq!(
            parse(br#" {"cmd":"add","cpu":5} "#),
            Ok(Request::Add {
                cpu: Some(5),
                count: None
            })
        );
        assert_eq!(
            parse(br#"{"cmd":"add","count":2}"#),
            Ok(Request::Add {
                cpu: None,
                count: Some(2)
            })
        );
        assert_eq!(
            parse(br#"{"cmd":"remove","cpu":3}"#),
            Ok(Request::Remove { cpu: 3 })
        );
        assert_eq!(parse(br#"{"cmd":"shutdown"}"#), Ok(Request::Shutdown));
    }

    #[test]
    fn test_malformed_requests_name_the_problem() {
        let err = parse(br#"{"cmd":"add","cpu":"five"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(r#"invalid type: string "five", expected u32"#),
            "{err}"
        );
        let err = parse(br#"{"cmd":"reboot"}"#).unwrap_err().to_string();
        assert!(err.contains("unknown variant `reboot`"), "{err}");
        let err = parse(br#"{"cmd":"remove","cpu":1,"force":true}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `force`"), "{err}");
        assert_eq!(parse(br#"{"cmd":"add"}"#), Err(RequestError::AddTarget));
        assert_eq!(
            parse(br#"{"cmd":"add","cpu":1,"count":1}"#),
            Err(RequestError::AddTarget)
        );
        assert_eq!(parse(&[0xFF, 0xFE]), Err(RequestError::NotUtf8));
        assert_eq!(
            parse(&vec![b' '; MAX_REQUEST_LEN + 1]),
            Err(RequestError::TooLong(MAX_REQUEST_LEN + 1))
        );
        assert!(matches!(
            parse(b"{\"cmd\":"),
            Err(RequestError::Malformed { .. })
        ));
        assert!(matches!(
            parse(br#"{"cmd":"remove","cpu":-1}"#),
            Err(RequestError::Malformed { .. })
        ));
    }

    #[test]
    fn test_a_connection_gets_one_reply_per_request_line() {
        let long = format!(
            "{{\"cmd\":\"status\",\"pad\":\"{}\"}}",
            "x".repeat(MAX_REQUEST_LEN)
        );
        let input = format!(
            "{{\"cmd\":\"status\"}}\nnot json\n{long}\n\n{{\"cmd\":\"remove\",\"cpu\":2}}\n"
        );
        let mut out = Vec::new();
        let mut seen = Vec::new();
        serve_connection(input.as_bytes(), &mut out, &mut |r| {
            seen.push(r.clone());
            match r {
                Ok(_) => Reply::ok(Vec::new()),
                Err(e) => Reply::error(e.to_string()),
            }
        })
        .expect("in-memory I/O");
        let replies: Vec<&str> = std::str::from_utf8(&out).expect("utf-8").lines().collect();
        assert_eq!(replies.len(), 4, "{replies:?}");
        assert_eq!(seen[0], Ok(Request::Status));
        assert!(matches!(seen[1], Err(RequestError::Malformed { .. })));
        assert_eq!(seen[2], Err(RequestError::TooLong(long.len())));
        assert_eq!(seen[3], Ok(Request::Remove { cpu: 2 }));
        assert!(replies[2].contains("longer than 4096"), "{}", replies[2]);
    }

    #[test]
    fn test_reply_lines() {
        assert_eq!(Reply::ok(vec![4]).to_line(), "{\"ok\":true,\"cpus\":[4]}\n");
        assert_eq!(
            Reply::error("CPU 9 does not exist").to_line(),
            "{\"ok\":false,\"error\":\"CPU 9 does not exist\"}\n"
        );
    }
}
