//! The data source RPCs: validate and read.

use super::*;

impl ProviderService {
    pub(super) async fn validate_data_source_config_rpc(
        &self,
        req: Request<pb::validate_data_source_config::Request>,
    ) -> Result<Response<pb::validate_data_source_config::Response>, Status> {
        let req = req.into_inner();
        let resp = guarded(
            "ValidateDataSourceConfig",
            async {
                let d = self.data_source(&req.type_name)?;
                let config = d.value(req.config.as_ref(), "data source configuration")?;
                Ok(toproto::diagnostics(&d.imp.validate(&config)))
            },
            |d| toproto::diagnostics(&d),
        )
        .await;
        Ok(Response::new(pb::validate_data_source_config::Response {
            diagnostics: resp,
        }))
    }

    pub(super) async fn read_data_source_rpc(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = req.into_inner();
        let ctx = self.ctx();
        answer("ReadDataSource", async {
            let d = self.data_source(&req.type_name)?;
            let config = d.value(req.config.as_ref(), "data source configuration")?;
            let out = d.imp.read(&ctx, config).await;
            let mut diagnostics = out.diagnostics;
            let state = match toproto::dynamic_value(&out.state, &d.ty) {
                Ok(v) => Some(v),
                Err(e) => {
                    diagnostics.extend(bad_output("data source result", e));
                    None
                }
            };
            Ok(pb::read_data_source::Response {
                state,
                diagnostics: toproto::diagnostics(&diagnostics),
                deferred: None,
            })
        })
        .await
    }
}
