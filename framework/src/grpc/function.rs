//! Provider functions: none are served; the RPCs answer as Terraform
//! expects of a provider without them.

use super::*;

impl ProviderService {
    pub(super) async fn get_functions_rpc(
        &self,
        _req: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    pub(super) async fn call_function_rpc(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let name = req.into_inner().name;
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!("The {} provider has no function {name:?}.", self.name),
                function_argument: None,
            }),
        }))
    }
}
