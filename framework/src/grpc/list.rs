//! List resources (protocol 5.10, `terraform query`): `ListResource`
//! streams what a lister sends, encoded as events, up to the limit, the first
//! error or `StopProvider` (after which it sends no more objects, only one
//! event saying the list was stopped: see [`super::stream`]);
//! `ValidateListResourceConfig`.

use super::*;
use guard::catch_panic;
use stream::Next;

/// Turns the results of a lister into `ListResource` events.
#[derive(Clone)]
pub(super) struct ListEncoder {
    type_name: String,
    identity_ty: Type,
    resource_ty: Type,
    include_resource_object: bool,
}

impl ListEncoder {
    /// The event, whether it ends the list (an error), and whether it is an
    /// object (counted against the limit) rather than diagnostics alone.
    fn event(&self, r: ListResult) -> (pb::list_resource::Event, bool, bool) {
        let mut diagnostics = r.diagnostics;
        let mut identity = None;
        match semantics::identity::listed(&self.type_name, &r.identity) {
            Ok(None) => {}
            Ok(Some(v)) => match toproto::identity(v, &self.identity_ty) {
                Ok(data) => identity = data,
                Err(e) => diagnostics.extend(bad_output("listed identity", e)),
            },
            Err(d) => diagnostics.push(d),
        }
        let mut resource_object = None;
        if self.include_resource_object
            && let Some(obj) = &r.resource_object
        {
            match toproto::dynamic_value(obj, &self.resource_ty) {
                Ok(v) => resource_object = Some(v),
                Err(e) => diagnostics.extend(bad_output("listed object", e)),
            }
        }
        let is_error = diagnostics.has_errors();
        let is_object = identity.is_some() && !is_error;
        let event = pb::list_resource::Event {
            identity,
            display_name: r.display_name,
            resource_object,
            diagnostic: toproto::diagnostics(&diagnostics),
        };
        (event, is_error, is_object)
    }
}

pub(super) type ListStream =
    Pin<Box<dyn futures::Stream<Item = Result<pb::list_resource::Event, Status>> + Send>>;

/// A lister, the managed type it lists, and what it is asked.
type StartedList<'a> = (Arc<dyn ListResource>, &'a Served<dyn Resource>, ListRequest);

/// The `config` block of a `list` block, decoded. Terraform sends an object
/// of nulls for an absent block; a client that sends nothing gets the same.
fn list_config(
    l: &Served<dyn ListResource>,
    dv: Option<&pb::DynamicValue>,
) -> Result<Value, Diagnostics> {
    let config = l.value(dv, "list configuration")?;
    Ok(semantics::config::block_or_nulls(config, &l.schema.block))
}

/// Runs a lister into `tx`; a panic ends the list with an error event.
async fn run_lister(
    lister: Arc<dyn ListResource>,
    ctx: CallContext,
    list_req: ListRequest,
    tx: tokio::sync::mpsc::Sender<ListResult>,
) {
    let mut sink = ListSink::new(tx);
    let run = catch_panic("ListResource", lister.list(&ctx, list_req, &mut sink));
    if let Err(d) = run.await {
        sink.fail(d).await;
    }
}

/// The last event of a list stopped by `StopProvider` after `sent` objects:
/// an error, since the list is not whole.
fn stopped_event(type_name: &str, sent: u64) -> pb::list_resource::Event {
    let objects = if sent == 1 { "object" } else { "objects" };
    let d = Diagnostic::error(
        "Listing stopped",
        format!(
            "Terraform asked the provider to stop before the list of {type_name} was complete; it ends after {sent} {objects}."
        ),
    );
    pb::list_resource::Event {
        diagnostic: toproto::diagnostics(&d.into()),
        ..Default::default()
    }
}

impl ProviderService {
    /// The lister, the managed type it lists and the request, from what
    /// Terraform sent; what is wrong with it, as diagnostics.
    fn start_list(&self, req: &pb::list_resource::Request) -> Result<StartedList<'_>, Diagnostics> {
        let l = self.list_type(&req.type_name)?;
        let r = self.resource(&req.type_name)?;
        let config = list_config(l, req.config.as_ref())?;
        let list_req = ListRequest {
            config,
            include_resource_object: req.include_resource_object,
            limit: u64::try_from(req.limit).ok().filter(|n| *n > 0),
        };
        Ok((l.imp.clone(), r, list_req))
    }

    pub(super) async fn list_resource_rpc(
        &self,
        req: Request<pb::list_resource::Request>,
    ) -> Result<Response<ListStream>, Status> {
        let req = req.into_inner();
        let stream = guarded("ListResource", self.start_list_stream(&req), |d| {
            let event = pb::list_resource::Event {
                diagnostic: toproto::diagnostics(&d),
                ..Default::default()
            };
            Box::pin(futures::stream::iter([Ok(event)]))
        })
        .await;
        Ok(Response::new(stream))
    }

    /// Starts the lister on its own task and streams its results.
    async fn start_list_stream(
        &self,
        req: &pb::list_resource::Request,
    ) -> Result<ListStream, Diagnostics> {
        let (lister, r, list_req) = self.start_list(req)?;
        let encoder = ListEncoder {
            type_name: req.type_name.clone(),
            identity_ty: r
                .identity
                .as_ref()
                .map(|i| i.ty.clone())
                .unwrap_or(Type::Dynamic),
            resource_ty: r.ty.clone(),
            include_resource_object: list_req.include_resource_object,
        };
        let limit = list_req.limit;
        let (tx, rx) = tokio::sync::mpsc::channel::<ListResult>(16);
        let ctx = self.ctx();
        let stop = ctx.stop.clone();
        tokio::spawn(run_lister(lister, ctx, list_req, tx));
        // Results go out as they come; the stream ends at the first error, at
        // the limit, at StopProvider, or when the lister is done. Dropping
        // the receiver tells the lister to stop.
        let stream = futures::stream::unfold((rx, 0u64, false), move |(mut rx, sent, done)| {
            let (encoder, stop) = (encoder.clone(), stop.clone());
            async move {
                if done || limit.is_some_and(|l| sent >= l) {
                    return None;
                }
                match stream::next(&mut rx, &stop).await {
                    Next::Item(result) => {
                        let (event, is_error, is_object) = encoder.event(result);
                        Some((Ok(event), (rx, sent + u64::from(is_object), is_error)))
                    }
                    Next::Stopped => {
                        let event = stopped_event(&encoder.type_name, sent);
                        Some((Ok(event), (rx, sent, true)))
                    }
                    Next::Done => None,
                }
            }
        });
        Ok(Box::pin(stream))
    }

    pub(super) async fn validate_list_resource_config_rpc(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = req.into_inner();
        let diagnostics = guarded(
            "ValidateListResourceConfig",
            async {
                let l = self.list_type(&req.type_name)?;
                let config = list_config(l, req.config.as_ref())?;
                Ok(toproto::diagnostics(&l.imp.validate(&config)))
            },
            |d| toproto::diagnostics(&d),
        )
        .await;
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics,
        }))
    }
}
