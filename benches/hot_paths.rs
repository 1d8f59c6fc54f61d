//! Criterion benchmarks of the provider's hot paths (`make bench`).
//!
//! - The cty codecs on a `cph_phone_route` state of 1,000 phones (1,000 phone
//!   ids and 1,000 job objects, about 160 KB of msgpack): msgpack decode and
//!   encode, which every PlanResourceChange / ApplyResourceChange /
//!   ReadResource call does two to four times, and the stored-state JSON
//!   decode of UpgradeResourceState (alone, and with the msgpack answer it
//!   sends back).
//! - `SDK-HMAC-SHA256` signing of the two requests a route change repeats:
//!   `phones-traffic` with 100 phone ids, and a list-jobs page for 20 request
//!   ids (query canonicalisation included, as the transport does it).
//! - Parsing one list-jobs page (100 jobs) and one list-phones page (200
//!   phones), what the job poller and refreshes read on every call.
//!
//! Measurement time is kept short (1 s warm-up, 3 s, 30 samples) so that the
//! whole run stays well under a minute.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::{Digest, Sha256};

use terraform_provider_cph::cph::models::{JobList, PhoneList};
use terraform_provider_cph::cph::signer::{SignableRequest, Signer, canonical_query};
use terraform_provider_cph::resources::schemas;
use tf_framework::json::ExtraAttributes;
use tf_framework::{Type, Value, json, msgpack};

/// Phones in the benchmarked state.
const PHONES: usize = 1_000;
const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";

/// A 32-hex id, like the API's, derived from a label.
fn hex_id(label: &str) -> String {
    hex::encode(Sha256::digest(label.as_bytes()))[..32].to_string()
}

fn phone_ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| hex_id(&format!("phone/{}/{}", i / 100, i % 100)))
        .collect()
}

/// A `cph_phone_route` state after routing `n` phones: every job succeeded
/// but every tenth, which failed with an error code and message.
fn route_state(n: usize) -> (Value, Type) {
    let ty = schemas::phone_route().block.value_type();
    let ids = phone_ids(n);
    let jobs: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let failed = i % 10 == 9;
            Value::object([
                ("phone_id", Value::string(id)),
                ("job_id", Value::string(hex_id(&format!("job/{i}")))),
                (
                    "status",
                    Value::string(if failed { "failed" } else { "succeeded" }),
                ),
                (
                    "error_code",
                    if failed {
                        Value::string("CPS.0020")
                    } else {
                        Value::Null
                    },
                ),
                (
                    "error_msg",
                    if failed {
                        Value::string("the route of the phone could not be changed")
                    } else {
                        Value::Null
                    },
                ),
            ])
        })
        .collect();
    let mut state = schemas::phone_route().block.null_object();
    state.set_attr("id", Value::string("route-0123456789abcdef"));
    state.set_attr("phone_ids", Value::string_set(ids));
    state.set_attr("traffic_type", Value::string("routing"));
    state.set_attr("jobs", Value::List(jobs));
    (state, ty)
}

fn codecs(c: &mut Criterion) {
    let (state, ty) = route_state(PHONES);
    let packed = msgpack::encode(&state, &ty).expect("state encodes as msgpack");
    assert_eq!(
        msgpack::decode(&packed, &ty).expect("msgpack decodes"),
        state,
        "msgpack round trip"
    );
    let stored = serde_json::to_vec(&json::encode(&state, &ty).expect("state encodes as JSON"))
        .expect("JSON serialises");
    assert_eq!(
        json::decode(&stored, &ty, ExtraAttributes::Drop).expect("JSON decodes"),
        state,
        "JSON round trip"
    );
    eprintln!(
        "route state of {PHONES} phones: {} bytes msgpack, {} bytes JSON",
        packed.len(),
        stored.len()
    );

    let mut g = c.benchmark_group("route_state_1000_phones");
    g.throughput(Throughput::Bytes(packed.len() as u64));
    g.bench_function("msgpack_decode", |b| {
        b.iter(|| msgpack::decode(black_box(&packed), black_box(&ty)).expect("decodes"))
    });
    g.bench_function("msgpack_encode", |b| {
        b.iter(|| msgpack::encode(black_box(&state), black_box(&ty)).expect("encodes"))
    });
    g.throughput(Throughput::Bytes(stored.len() as u64));
    g.bench_function("json_state_decode", |b| {
        b.iter(|| {
            json::decode(black_box(&stored), black_box(&ty), ExtraAttributes::Drop)
                .expect("decodes")
        })
    });
    // UpgradeResourceState as the gRPC layer does it: stored JSON in, msgpack out.
    g.bench_function("upgrade_resource_state", |b| {
        b.iter(|| {
            let v = json::decode(black_box(&stored), black_box(&ty), ExtraAttributes::Drop)
                .expect("decodes");
            msgpack::encode(&v, &ty).expect("encodes")
        })
    });
    g.finish();
}

fn signing(c: &mut Criterion) {
    let signer = Signer::new("EMULATORACCESSKEY", "emulator-secret-key", None, PROJECT_ID);
    let host = "cph.cn-east-3.myhuaweicloud.com";
    let date = "20240809T100000Z";

    let body = serde_json::to_vec(&serde_json::json!({
        "traffic_type": "routing",
        "phone_ids": phone_ids(100),
    }))
    .expect("body serialises");
    let traffic_path = format!("/v1/{PROJECT_ID}/cloud-phone/phones-traffic");
    let jobs_path = format!("/v1/{PROJECT_ID}/cloud-phone/jobs");
    let request_ids: Vec<String> = (0..20).map(|i| hex_id(&format!("request/{i}"))).collect();
    let jobs_query = [
        ("request_ids", request_ids.join(",")),
        ("offset", "0".to_string()),
        ("limit", "100".to_string()),
    ];

    let mut g = c.benchmark_group("sign_sdk_hmac_sha256");
    g.bench_function("post_phones_traffic_100_ids", |b| {
        b.iter(|| {
            let req = SignableRequest {
                method: "POST",
                host,
                path: &traffic_path,
                canonical_query: "",
                content_type: Some("application/json"),
                body: black_box(&body),
            };
            signer.sign(&req, date)
        })
    });
    g.bench_function("get_list_jobs_20_request_ids", |b| {
        b.iter(|| {
            let query = canonical_query(black_box(&jobs_query));
            let req = SignableRequest {
                method: "GET",
                host,
                path: &jobs_path,
                canonical_query: &query,
                content_type: None,
                body: b"",
            };
            signer.sign(&req, date)
        })
    });
    g.finish();
}

fn api_pages(c: &mut Criterion) {
    let jobs: Vec<serde_json::Value> = (0..100)
        .map(|i| {
            serde_json::json!({
                "job_id": hex_id(&format!("job/{i}")),
                "request_id": hex_id("request/0"),
                "phone_id": hex_id(&format!("phone/0/{i}")),
                "server_id": hex_id("server/0"),
                "status": 2,
                "begin_time": "2024-08-09T10:00:00Z",
                "end_time": "2024-08-09T10:00:02Z",
                "execute_msg": "success",
            })
        })
        .collect();
    let jobs_page = serde_json::to_vec(&serde_json::json!({
        "jobs": jobs, "count": 1000, "request_id": hex_id("answer"),
    }))
    .expect("page serialises");
    let phones: Vec<serde_json::Value> = (0..200)
        .map(|i| {
            serde_json::json!({
                "phone_id": hex_id(&format!("phone/{}/{}", i / 100, i % 100)),
                "phone_name": format!("phone-{}-{}", i / 100, i % 100),
                "server_id": hex_id(&format!("server/{}", i / 100)),
                "phone_model_name": "rx1.cp.c15.d46.e1v1",
                "image_id": "8d2ffa2d84414ad6a8e4cf26a14a9b03",
                "vnc_enable": "false",
                "status": 2,
                "type": 0,
                "traffic_type": "routing",
                "availability_zone": "cn-east-3a",
                "create_time": "2024-08-09T10:00:00Z",
                "update_time": "2024-08-09T10:00:00Z",
            })
        })
        .collect();
    let phones_page = serde_json::to_vec(&serde_json::json!({
        "phones": phones, "count": 5000, "request_id": hex_id("answer"),
    }))
    .expect("page serialises");

    let mut g = c.benchmark_group("api_page_parse");
    g.throughput(Throughput::Bytes(jobs_page.len() as u64));
    g.bench_function("list_jobs_100_jobs", |b| {
        b.iter(|| serde_json::from_slice::<JobList>(black_box(&jobs_page)).expect("parses"))
    });
    g.throughput(Throughput::Bytes(phones_page.len() as u64));
    g.bench_function("list_phones_200_phones", |b| {
        b.iter(|| serde_json::from_slice::<PhoneList>(black_box(&phones_page)).expect("parses"))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = hot_paths;
    config = config();
    targets = codecs, signing, api_pages
}
criterion_main!(hot_paths);
