//! The `--seed` fleet format: the documented example file loads as written.

mod common;

use common::{PHONE0, SERVER0, start};
use cph_emulator::Config;
use reqwest::StatusCode;

#[tokio::test]
async fn example_seed_file_loads() {
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed.example.json");
    let emu = start(Config {
        seed: Some(seed),
        ..Config::default()
    })
    .await;
    let (status, servers) = emu.get("servers").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(servers["count"], 2);
    assert_eq!(servers["servers"][0]["server_name"], "demo-server");
    assert_eq!(
        servers["servers"][1]["server_model_name"],
        "physical.kg1.4xlarge.cp"
    );
    let (_, phones) = emu.get(&format!("phones?server_id={SERVER0}")).await;
    assert_eq!(phones["count"], 3);
    assert_eq!(phones["phones"][0]["phone_id"], PHONE0);
    assert_eq!(phones["phones"][1]["traffic_type"], "routing");
    assert_eq!(phones["phones"][2]["status"], 6);
    assert_eq!(
        phones["phones"][2]["phone_id"],
        cph_emulator::ids::phone_id(0, 2)
    );
    assert_eq!(emu.get("phones").await.1["count"], 5);
}

#[test]
fn bad_seed_is_refused() {
    let bad = r#"{"servers": [{"server_model_name": "physical.rx1.xlarge", "phone_model_name": "kg1.cp.c15.d46.e1v1"}]}"#;
    assert!(cph_emulator::fleet::Fleet::from_seed(bad, "r").is_err());
    assert!(cph_emulator::fleet::Fleet::from_seed("{", "r").is_err());
    let dup = r#"{"servers": [{"server_id": "a"}, {"server_id": "a"}]}"#;
    assert!(cph_emulator::fleet::Fleet::from_seed(dup, "r").is_err());
}
