//! The networked commands end to end: real processes, real iroh endpoints on loopback with
//! relays disabled.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Stdio};

use commonplace_testkit::Member;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_commonplace"))
}

/// A running `serve`; stopped with SIGTERM on drop.
struct Serve {
    child: Child,
    address: String,
}

impl Serve {
    fn start(m: &Member) -> Serve {
        let mut child = m
            .command(&["serve", "--relay", "none", "--no-mdns", "--interval", "2s"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let address = commonplace_testkit::serve_address(&mut child);
        Serve { child, address }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

#[test]
fn invite_join_serve_and_sync_between_processes() {
    let root = tempfile::tempdir().unwrap();
    let ana = Member::init(bin(), root.path(), "ana", "Ana Silva");
    let bea = Member::init(bin(), root.path(), "bea", "Bea Santos");
    let c = ana
        .ok(&["community", "create", "--name", "Nurses Exchange"])
        .trim()
        .to_owned();
    ana.ok(&[
        "thread",
        "new",
        "--kind",
        "request",
        "--title",
        "Night shifts",
        "--body",
        "How do you rest?",
    ]);
    let code = ana
        .ok(&[
            "invite",
            "create",
            "--bind",
            "127.0.0.1:0",
            "--relay",
            "none",
            "--no-mdns",
            "--role",
            "member",
        ])
        .trim()
        .to_owned();
    assert!(code.starts_with("cpinvite1"));
    let serve = Serve::start(&ana);

    // While serve holds Ana's profile, other commands run inside it (the control socket).
    assert_eq!(ana.json(&["thread", "list"])[0]["title"], "Night shifts");

    // Bea joins with the code and receives the community.
    let joined = bea.json(&["join", &code, "--relay", "none"]);
    assert_eq!(joined["community"], c.as_str());
    assert_eq!(bea.json(&["thread", "list"])[0]["title"], "Night shifts");
    let members = bea.json(&["member", "list"]);
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "Bea Santos" && m["role"] == "member")
    );
    // The code is single-use.
    let eve = Member::init(bin(), root.path(), "eve", "Eve");
    let err = eve.fails(&["join", &code, "--relay", "none"]);
    assert!(err.contains("already used"), "{err}");

    // Bea writes offline, then syncs once with Ana's always-on peer.
    let t = bea.json(&["thread", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    bea.ok(&["reply", &t, "--body", "Short naps before the shift."]);
    // Status tells the truth: one change of Bea's has reached nobody yet.
    assert_eq!(bea.json(&["status"])["unshared"][0]["changes"], 1);
    let summary = bea.json(&[
        "sync",
        "--peer",
        &serve.address,
        "--relay",
        "none",
        "--timeout",
        "30s",
    ]);
    assert_eq!(summary[0]["ok"], true);
    // The reply travels in this session, or in the catch-up session the two nodes start when
    // gossip links them a moment earlier (the summary counts only this one); either way Ana
    // holds it below.
    assert!(summary[0]["sent"].as_u64().is_some(), "{summary}");
    // Status remembers the peer and the sync.
    let status = bea.json(&["status"]);
    assert_eq!(status["peers"][0]["member_id"], ana.id.as_str());
    assert_eq!(status["syncs"][0]["ok"], true);
    assert_eq!(status["unshared"][0]["changes"], 0);
    drop(serve);
    // After serve stops, Ana's profile holds Bea's reply.
    let shown = ana.json(&["thread", "show", &t]);
    assert_eq!(shown["posts"][0]["body"], "Short naps before the shift.");
    assert_eq!(shown["posts"][0]["author"]["name"], "Bea Santos");
    // A sync with nobody listening fails clearly, within its timeout.
    let err = bea.fails(&["sync", "--relay", "none", "--timeout", "5s"]);
    assert!(err.contains("error:"), "{err}");
}

/// `text` as a QR code in a PNG file (4 pixels a module, a quiet zone of 4 modules), the way
/// a screenshot of the invite dialog would hold it.
fn qr_png(text: &str, path: &Path) {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).unwrap();
    let (modules, colors) = (code.width(), code.to_colors());
    let (scale, quiet) = (4usize, 4usize);
    let side = (modules + 2 * quiet) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i % modules + quiet, i / modules + quiet);
            for y in my * scale..(my + 1) * scale {
                for x in mx * scale..(mx + 1) * scale {
                    pixels[y * side + x] = 0;
                }
            }
        }
    }
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut enc = png::Encoder::new(file, side as u32, side as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()
        .unwrap()
        .write_image_data(&pixels)
        .unwrap();
}

#[test]
fn short_codes_pending_list_revoke_and_join_from_a_qr_image() {
    let root = tempfile::tempdir().unwrap();
    let ana = Member::init(bin(), root.path(), "ana", "Ana Silva");
    let bea = Member::init(bin(), root.path(), "bea", "Bea Santos");
    let cy = Member::init(bin(), root.path(), "cy", "Cy Moreau");
    let eve = Member::init(bin(), root.path(), "eve", "Eve");
    let c = ana
        .ok(&["community", "create", "--name", "Nurses Exchange"])
        .trim()
        .to_owned();
    let invite = || {
        ana.json(&[
            "invite",
            "create",
            "--bind",
            "127.0.0.1:0",
            "--relay",
            "none",
            "--no-mdns",
        ])
    };
    let (first, second, third) = (invite(), invite(), invite());
    let short = |v: &serde_json::Value| v["short_code"].as_str().unwrap().to_owned();
    assert_eq!(short(&first).len(), 19);
    let listed = ana.json(&["invite", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 3);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["state"] == "pending" && p["community"] == c.as_str())
    );
    // Revoked before anyone used it.
    let said = ana.ok(&["invite", "revoke", &short(&second).to_lowercase()]);
    assert!(said.contains("revoked"), "{said}");
    let err = ana.fails(&["invite", "revoke", "K7QM-3XPA-9FHD-2WNE"]);
    assert!(
        err.contains("typo") || err.contains("no invitation"),
        "{err}"
    );

    let serve = Serve::start(&ana);
    // Bea types the short code and names the inviting node's address.
    let joined = bea.json(&[
        "join",
        &short(&first),
        "--peer",
        &serve.address,
        "--relay",
        "none",
    ]);
    assert_eq!(joined["community"], c.as_str());
    // The revoked one is refused; a typo is caught before any network wait.
    let err = eve.fails(&[
        "join",
        &short(&second),
        "--via",
        &serve.address,
        "--relay",
        "none",
    ]);
    assert!(err.contains("revoked"), "{err}");
    let mut typo = short(&third).into_bytes();
    typo[1] = if typo[1] == b'7' { b'8' } else { b'7' };
    let typo = String::from_utf8(typo).unwrap();
    let err = eve.fails(&["join", &typo, "--via", &serve.address, "--relay", "none"]);
    assert!(err.contains("typo"), "{err}");
    // Cy joins from a picture of the QR code (the long code: no resolution needed).
    let png = root.path().join("invite.png");
    qr_png(third["code"].as_str().unwrap(), &png);
    let joined = cy.json(&["join", "--qr", png.to_str().unwrap(), "--relay", "none"]);
    assert_eq!(joined["community"], c.as_str());
    let err = eve.fails(&["join", "--qr", bin().to_str().unwrap(), "--relay", "none"]);
    assert!(err.contains("no invitation QR code"), "{err}");
    drop(serve);

    let listed = ana.json(&["invite", "list", "-c", "Nurses Exchange"]);
    let by_code = |code: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["short_code"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(by_code(&short(&first))["state"], "used");
    assert_eq!(by_code(&short(&first))["used_by_name"], "Bea Santos");
    assert_eq!(by_code(&short(&second))["state"], "revoked");
    assert_eq!(by_code(&short(&third))["used_by_name"], "Cy Moreau");
    let text = ana.ok(&["invite", "list"]);
    assert!(text.contains("used by Bea Santos"), "{text}");
}

/// Ana's node in this process, Bea's `serve` in another: when Bea stops it (Ctrl+C), Ana's
/// status stops calling her connected within seconds, not minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_serve_stops_is_not_connected_seconds_later() {
    use commonplace_node::{NetConfig, NewCommunity, Node, Online, Profile, RelayConfig};
    let root = tempfile::tempdir().unwrap();
    let ana = Node::init(Profile::at(root.path().join("ana")), "Ana", None, None).unwrap();
    let bea = Member::init(bin(), root.path(), "bea", "Bea Santos");
    let bea_id: commonplace_base::MemberId = bea.id.parse().unwrap();
    let c = ana
        .create_community(&NewCommunity {
            name: "Nurses".into(),
            ..Default::default()
        })
        .unwrap();
    ana.add_member(&c, &bea_id, "Bea Santos", commonplace_model::Role::Member)
        .unwrap();
    let a = Online::start(
        ana.clone(),
        NetConfig {
            bind: Some("127.0.0.1:0".parse().unwrap()),
            relay: RelayConfig::Disabled,
            ..NetConfig::default()
        },
    )
    .await
    .unwrap();
    // Bea gets the community from Ana's node (she holds none yet), then serves.
    bea.ok(&[
        "sync",
        "--peer",
        &a.ticket().to_string(),
        "--bind",
        "127.0.0.1:0",
        "--relay",
        "none",
    ]);
    let connected = || {
        a.sync_status()
            .unwrap()
            .peers
            .iter()
            .any(|p| p.member == bea_id && p.connected)
    };
    let serve = Serve::start(&bea);
    let start = std::time::Instant::now();
    while !connected() {
        assert!(
            start.elapsed().as_secs() < 30,
            "Bea's serve never connected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    std::process::Command::new("kill")
        .args(["-INT", &serve.child.id().to_string()])
        .status()
        .unwrap();
    let stopped = std::time::Instant::now();
    while connected() {
        assert!(
            stopped.elapsed().as_secs() < 12,
            "Bea is still shown connected {} s after her node stopped",
            stopped.elapsed().as_secs()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(serve);
    a.shutdown().await;
}
