//! The calls that configure and reach phones: `phones/batch-update-property`,
//! `phones/commands` and `phones/batch-connection`. A batch-connection
//! answer carries tickets: it is decoded here and never logged, and a body
//! that cannot be decoded is reported without any of its text.

use super::{Client, Service};
use crate::cph::error::{Error, Result};
use crate::cph::models::*;
use crate::cph::sender::retry::Safety;

impl Client {
    /// `POST /v1/{project_id}/cloud-phone/phones/batch-update-property`: one
    /// job per phone. Setting the same values twice changes nothing more, so
    /// it is retried like other idempotent writes. The API documents no
    /// maximum per call: the caller chooses its chunk size.
    pub async fn update_phone_properties(
        &self,
        req: &UpdatePropertyRequest,
    ) -> Result<BatchJobsResponse> {
        if req.phones.is_empty() {
            return Err(Error::Config(
                "batch-update-property takes at least one phone".into(),
            ));
        }
        self.post(
            Service::Cph,
            "update_phone_property",
            "/phones/batch-update-property",
            req,
            Safety::IdempotentWrite,
        )
        .await
    }

    /// `POST /v1/{project_id}/cloud-phone/phones/commands` to 1 to 100
    /// phones, or when `phone_ids` is empty to every phone of 1 to 100
    /// servers. Not retried once it may have reached the server: a command
    /// may not be safe to run twice.
    pub async fn run_phone_command(&self, req: &CommandRequest) -> Result<BatchJobsResponse> {
        let (what, n) = if req.phone_ids.is_empty() {
            ("server_ids", req.server_ids.len())
        } else {
            ("phone_ids", req.phone_ids.len())
        };
        if n == 0 || n > MAX_IDS_PER_COMMAND_CALL {
            return Err(Error::Config(format!(
                "a command takes 1 to {MAX_IDS_PER_COMMAND_CALL} {what}, got {n}"
            )));
        }
        self.post(
            Service::Cph,
            "run_phone_command",
            "/phones/commands",
            req,
            Safety::NonIdempotent,
        )
        .await
    }

    /// `POST /v1/{project_id}/cloud-phone/phones/batch-connection` for 1 to
    /// 10 phones: access information and a ticket per phone, and the phones
    /// it refused in `errors`. Each call issues fresh tickets, so a retry is
    /// harmless.
    pub async fn phone_connections(
        &self,
        phone_ids: &[String],
        client_type: ClientType,
    ) -> Result<ConnectionAnswer> {
        let n = phone_ids.len();
        if n == 0 || n > MAX_PHONES_PER_CONNECTION_CALL {
            return Err(Error::Config(format!(
                "batch-connection takes 1 to {MAX_PHONES_PER_CONNECTION_CALL} phones, got {n}"
            )));
        }
        let body = ConnectionRequest {
            phone_ids: phone_ids.to_vec(),
            client_type,
        };
        let (request, answer) = self
            .post_raw(
                Service::Cph,
                "phone_connection",
                "/phones/batch-connection",
                &body,
                Safety::IdempotentWrite,
            )
            .await?;
        decode_without_text(&answer).map_err(|(line, column)| Error::Decode {
            url: request.path().to_string(),
            message: format!(
                "phone_connection answer is not the expected JSON (line {line}, column {column}; \
                 its text is not shown: it may hold tickets)"
            ),
        })
    }
}

/// Decode a body whose text must never appear in an error: only the
/// position of a failure is kept.
fn decode_without_text<T: serde::de::DeserializeOwned>(
    body: &[u8],
) -> std::result::Result<T, (usize, usize)> {
    serde_json::from_slice(body).map_err(|e| (e.line(), e.column()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_answer_keeps_no_text() {
        let body =
            br#"{"connect_infos": [{"access_info": {"ticket": 5, "access_port": "TICKETLIKE"}}]}"#;
        let err = decode_without_text::<ConnectionAnswer>(body).expect_err("bad port");
        assert_eq!(err.0, 1);
    }
}
