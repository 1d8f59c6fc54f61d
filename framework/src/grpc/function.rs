//! Provider functions: none are served; the RPCs answer as Terraform
//! expects of a provider without them.

use super::*;

impl ProviderService {
    pub(super) async fn get_functions_rpc(
        &self,
        _req: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        answer("GetFunctions", async {
            Ok(pb::get_functions::Response::default())
        })
        .await
    }

    pub(super) async fn call_function_rpc(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let name = req.into_inner().name;
        let resp = guarded(
            "CallFunction",
            async {
                Err(Diagnostic::error(
                    "Unknown function",
                    format!("The {} provider has no function {name:?}.", self.name),
                )
                .into())
            },
            |d| pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text: error_text(&d),
                    function_argument: None,
                }),
            },
        )
        .await;
        Ok(Response::new(resp))
    }
}
