//! Service hours close and open groups on the business calendar, over real
//! WebSockets on a scaled clock anchored just before closing time: a
//! customer joins while the group is open, it closes at 18:00 on a Friday
//! (the driver wakes for it), a late customer is told it opens on Tuesday
//! (a weekend and a holiday later) in their own time zone, the customer
//! already waiting is still served, and a restart with other hours opens it
//! again and routes a new customer.

mod common;

use std::path::Path;

use common::*;
use serde_json::json;
use switchboard_server::auth::Role;
use switchboard_server::config::{Config, TimeText};

/// Friday 2026-03-06 18:00 in Shanghai: the group closes.
const FRIDAY_SIX_PM: u64 = 1_772_791_200_000;
/// Tuesday 2026-03-10 09:00 in Shanghai: the next opening (Monday is a holiday).
const TUESDAY_NINE_AM: u64 = 1_773_104_400_000;
const REFUNDS_OPEN: &str = r#"switchboard_group_open{group="refunds"}"#;

/// One business minute per real second; refunds has `hours`; business time 0 is `start` (Shanghai time).
fn hours_config(data_dir: &Path, hours: &str, start: &str) -> Config {
    let extra =
        format!("data_dir = {data_dir:?}\n[calendar]\ntime_zone = \"Asia/Shanghai\"\nholidays = [\"2026-03-09\"]\n");
    let mut config = config(60.0, &extra);
    config.clock.start = Some(TimeText(start.to_owned()));
    let refunds = config.router.groups.iter_mut().find(|g| g.id.as_str() == "refunds").unwrap();
    refunds.service_hours = Some(hours.to_owned());
    config
}

#[tokio::test]
async fn a_group_closes_at_the_end_of_its_hours_and_opens_again_after_the_weekend_and_a_holiday() {
    let dir = tempfile::Builder::new().prefix("hours-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let server = start(hours_config(dir.path(), "Mon-Fri 09:00-18:00", "2026-03-06T17:58:30")).await;
    let (public, admin) = (server.public_addr, server.admin_addr);

    // Open: the supervisor sees until when, a customer joins and waits (nobody is available).
    let mut sue = Client::connect(public, "/v1/ws/agent?agent=sue", Side::Agent).await;
    let welcome = sue.expect("welcome").await;
    let refunds = welcome["group_hours"].as_array().unwrap().iter().find(|g| g["id"] == "refunds").cloned();
    assert_eq!(refunds, Some(json!({"id": "refunds", "open": true, "next_change_at": FRIDAY_SIX_PM})), "{welcome}");
    let (mut early, _) = Client::customer(public, "refunds").await;
    early.expect("queued").await;
    wait_for_sample(admin, REFUNDS_OPEN, 1.0).await;

    // 18:00: closed. The driver woke for it: agents and supervisors hear, the gauge flips.
    let hours = sue.expect("group_hours").await;
    assert_eq!(hours["groups"], json!([{"id": "refunds", "open": false, "next_change_at": TUESDAY_NINE_AM}]));
    let metrics = wait_for_sample(admin, REFUNDS_OPEN, 0.0).await;
    assert_eq!(sample(&metrics, r#"switchboard_group_open{group="general"}"#), Some(1.0), "no hours: always open");

    // A late customer is told when it opens, in unix ms and in their own time zone, and nothing is queued.
    let path = "/v1/ws/customer?group=refunds&time_zone=Europe/Berlin";
    let mut late = Client::connect(public, path, Side::Customer).await;
    let closed = late.expect("group_closed").await;
    assert_eq!(closed["opens_at"], TUESDAY_NINE_AM, "{closed}");
    assert_eq!(closed["opens_at_local"], "2026-03-10T02:00:00+01:00[Europe/Berlin]", "{closed}");
    assert_eq!(closed["service_hours"], "Mon-Fri 09:00-18:00");
    let error = late.expect("error").await;
    assert_eq!(error["code"], "group_closed", "{error}");
    assert_eq!(late.expect_close().await, Some(1008));
    let mut bad_zone =
        Client::connect(public, "/v1/ws/customer?group=general&time_zone=Mars/Olympus", Side::Customer).await;
    assert_eq!(bad_zone.expect("error").await["code"], "time_zone_invalid");

    // The customer who waited before closing time is still served.
    let _rita = Client::available_agent(public, "rita").await;
    early.expect("assigned").await;
    server.shutdown().await.unwrap();

    // Restarted on the same data_dir with other hours (allowed: hours are calendar config), on
    // Tuesday a little before nine: closed at first, then open, and a new customer is routed.
    let server = start(hours_config(dir.path(), "Mon-Fri 09:00-17:00", "2026-03-10T08:57:00")).await;
    let (public, admin) = (server.public_addr, server.admin_addr);
    wait_for_sample(admin, REFUNDS_OPEN, 1.0).await;
    let mut rita = Client::available_agent(public, "rita").await;
    let (mut next, _) = Client::customer(public, "refunds").await;
    next.expect("assigned").await;
    rita.expect("session_assigned").await;
    server.shutdown().await.unwrap();
}

/// The refunds group of the test roster with `hours` (an admin added, who may reload).
fn roster_with_refunds_hours(hours: &str) -> String {
    let refunds = "id = \"refunds\"\nname = \"Refunds\"\n";
    assert!(ROSTER.contains(refunds), "the test roster still lists refunds this way");
    let with_hours = ROSTER.replace(refunds, &format!("{refunds}service_hours = \"{hours}\"\n"));
    format!("{with_hours}\n[[router.agents]]\nid = \"ada\"\nrole = \"admin\"\ngroups = []\n")
}

#[tokio::test]
async fn a_reload_applies_new_service_hours_at_once() {
    let dir = tempfile::Builder::new().prefix("hours-reload-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    // Hours on holidays only, and no holidays: never open.
    let (_, config) = config_file(dir.path(), "", &roster_with_refunds_hours("holidays 10:00-16:00"));
    let server = start(config).await;
    let (public, admin) = (server.public_addr, server.admin_addr);
    wait_for_sample(admin, REFUNDS_OPEN, 0.0).await;
    let mut rita = Client::connect(public, "/v1/ws/agent?agent=rita", Side::Agent).await;
    let welcome = rita.expect("welcome").await;
    let refunds = welcome["group_hours"].as_array().unwrap().iter().find(|g| g["id"] == "refunds").cloned();
    assert_eq!(refunds, Some(json!({"id": "refunds", "open": false, "next_change_at": null})), "never opens");
    let mut late = Client::connect(public, "/v1/ws/customer?group=refunds", Side::Customer).await;
    let closed = late.expect("group_closed").await;
    assert_eq!((closed["opens_at"].is_null(), closed["opens_at_local"].is_null()), (true, true), "{closed}");

    rewrite_config_file(dir.path(), "", &roster_with_refunds_hours("every day 00:00-24:00"));
    let answer = http_post(admin, "/v1/admin/reload", Some(&token_with_role("ada", Role::Admin)), "").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let hours = rita.expect("group_hours").await;
    assert_eq!(hours["groups"][0]["open"], true, "{hours}");
    wait_for_sample(admin, REFUNDS_OPEN, 1.0).await;
    let (mut customer, _) = Client::customer(public, "refunds").await;
    customer.expect("queued").await;
    server.shutdown().await.unwrap();
}
