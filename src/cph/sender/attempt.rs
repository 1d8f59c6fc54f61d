//! One attempt on the wire and what became of it: sending a request
//! (waiting out a write already sent after a stop), turning a failure into
//! the error a person can act on and a retry decision's inputs
//! (`Retry-After`, the delay), and the debug log line of each attempt.

use super::*;

/// Sends one attempt and reads its answer. A read stops as soon as the scope
/// is cancelled. A write is never abandoned midway, since it may already have
/// taken effect and only its answer says how (which jobs started, which order
/// was placed): a route change is waited for up to [`STOPPED_WRITE_WAIT`]
/// after the cancellation (then it counts as [`Outcome::Unanswered`]), a
/// write that must not happen twice for its whole attempt timeout.
pub(super) async fn transmit(
    request: reqwest::RequestBuilder,
    safety: Safety,
    scope: &CallScope,
) -> Result<Outcome> {
    let exchange = async {
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return Outcome::NoAnswer(error),
        };
        let status = response.status();
        let headers = response.headers().clone();
        match response.bytes().await {
            Ok(body) => {
                let request_id = answer::request_id(&headers, &body);
                Outcome::Answer(Response {
                    status,
                    headers,
                    body: body.to_vec(),
                    request_id,
                })
            }
            Err(error) => Outcome::Broken { status, error },
        }
    };
    match (&scope.cancel, safety) {
        (Some(cancel), Safety::Read) => tokio::select! {
            _ = cancel.cancelled() => Err(Error::Cancelled),
            outcome = exchange => Ok(outcome),
        },
        (Some(cancel), Safety::IdempotentWrite) => {
            tokio::pin!(exchange);
            tokio::select! {
                outcome = &mut exchange => Ok(outcome),
                _ = cancel.cancelled() => {
                    match tokio::time::timeout(STOPPED_WRITE_WAIT, exchange).await {
                        Ok(outcome) => Ok(outcome),
                        Err(_) => Ok(Outcome::Unanswered),
                    }
                }
            }
        }
        _ => Ok(exchange.await),
    }
}

/// A write whose answer did not come in time after the caller was cancelled.
pub(super) fn unanswered(request: &Request) -> Failure {
    Failure {
        error: Error::Transport {
            host: request.authority(),
            setting: None,
            url: request.describe(),
            message: format!(
                "no answer within {}s of Terraform's request to stop; the call may have taken effect",
                STOPPED_WRITE_WAIT.as_secs()
            ),
            connect_to: None,
        },
        retryable: false,
        retry_after: None,
        throttled: false,
    }
}

/// A non-2xx answer.
pub(super) fn failed_answer(request: &Request, response: Response) -> Failure {
    let retry_after = matches!(response.status.as_u16(), 429 | 503)
        .then(|| retry_after(&response))
        .flatten();
    Failure {
        retryable: retry::status_is_retryable(response.status.as_u16(), request.safety),
        retry_after,
        throttled: response.status == StatusCode::TOO_MANY_REQUESTS,
        error: answer::api_error(response.status, response.request_id, &response.body),
    }
}

/// An answer whose body broke off: the request was processed.
pub(super) fn broken_answer(
    request: &Request,
    status: StatusCode,
    error: &reqwest::Error,
) -> Failure {
    Failure {
        error: Error::Transport {
            host: request.authority(),
            setting: None,
            url: request.describe(),
            message: format!(
                "reading the answer (HTTP {}) failed: {}",
                status.as_u16(),
                answer::describe(error)
            ),
            connect_to: None,
        },
        retryable: request.safety != Safety::NonIdempotent,
        retry_after: None,
        throttled: false,
    }
}

/// No answer at all. A connection that could not be made names the host
/// and port it was made to.
pub(super) fn no_answer(request: &Request, error: &reqwest::Error) -> Failure {
    let connect = error.is_connect();
    let error = if connect {
        Error::Transport {
            host: request.authority(),
            setting: None,
            url: request.describe(),
            message: answer::connect_cause(error),
            connect_to: Some(request.authority()),
        }
    } else {
        Error::Transport {
            host: request.authority(),
            setting: None,
            url: request.describe(),
            message: answer::describe(error),
            connect_to: None,
        }
    };
    Failure {
        error,
        retryable: retry::transport_error_is_retryable(connect, request.safety),
        retry_after: None,
        throttled: false,
    }
}

/// The `Retry-After` of an answer, if it has a readable one.
pub(super) fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry::parse_retry_after(v, SystemTime::now()))
}

/// How long to wait before the next attempt; `None`: give up. No retry
/// starts that the caller's deadline would cut short.
pub(super) fn retry_delay(
    failure: &Failure,
    retries: u32,
    max_retries: u32,
    deadline: Option<Instant>,
) -> Option<Duration> {
    if !failure.retryable || retries >= max_retries {
        return None;
    }
    let delay = match failure.retry_after {
        Some(d) if d > retry::MAX_RETRY_AFTER => return None,
        Some(d) => d,
        None => retry::backoff(retries),
    };
    if deadline.is_some_and(|deadline| Instant::now() + delay >= deadline) {
        return None;
    }
    Some(delay)
}

pub(super) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub(super) fn log_outcome(request: &Request, outcome: &Outcome, elapsed: Duration, attempt: u32) {
    match outcome {
        Outcome::Answer(response) => tracing::debug!(
            target: "cph",
            op = request.op,
            method = %request.method,
            path = %request.path(),
            status = response.status.as_u16(),
            request_id = response.request_id.as_deref().unwrap_or(""),
            duration_ms = millis(elapsed),
            attempt,
            "CPH call"
        ),
        Outcome::Broken { status, error } => tracing::debug!(
            target: "cph",
            op = request.op,
            method = %request.method,
            path = %request.path(),
            status = status.as_u16(),
            attempt,
            error = %answer::describe(error),
            "CPH call: reading the answer failed"
        ),
        Outcome::Unanswered => tracing::debug!(
            target: "cph",
            op = request.op,
            method = %request.method,
            path = %request.path(),
            duration_ms = millis(elapsed),
            attempt,
            "CPH call: no answer in time after the stop request; it may have taken effect"
        ),
        Outcome::NoAnswer(error) => tracing::debug!(
            target: "cph",
            op = request.op,
            method = %request.method,
            path = %request.path(),
            host = %request.authority(),
            duration_ms = millis(elapsed),
            attempt,
            connect = error.is_connect(),
            error = %answer::describe(error),
            "CPH call failed"
        ),
    }
}

pub(super) fn log_retry(request: &Request, delay: Duration, next_attempt: u32) {
    tracing::debug!(
        target: "cph",
        op = request.op,
        path = %request.path(),
        delay_ms = millis(delay),
        next_attempt,
        "retrying CPH call"
    );
}
