//! SIGHUP reloads the config file (its own test binary: the signal goes to
//! the whole process, and no other test's server may see it).

mod common;

use std::time::Duration;

use common::{config_file, http_get, rewrite_config_file, sample, start, Client, ROSTER};

const ZOE: &str = "\n[[router.agents]]\nid = \"zoe\"\nname = \"Zoe\"\ngroups = [{ group = \"general\" }]\n";

#[tokio::test]
async fn sighup_reloads_the_config_file() {
    let dir = tempfile::Builder::new().prefix("sighup-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (_, config) = config_file(dir.path(), "", ROSTER);
    let server = start(config).await;
    // Served means started: the SIGHUP handler is installed before anything is served.
    Client::agent(server.public_addr, "ann").await;
    rewrite_config_file(dir.path(), "", &format!("{ROSTER}{ZOE}"));

    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .expect("the kill command");
    assert!(status.success());
    let series = "switchboard_config_reloads_total{outcome=\"applied\"}";
    let mut applied = None;
    for _ in 0..50 {
        applied = sample(&http_get(server.admin_addr, "/metrics").await.1, series);
        if applied == Some(1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(applied, Some(1.0), "one reload applied");
    Client::agent(server.public_addr, "zoe").await;
    server.shutdown().await.unwrap();
}
