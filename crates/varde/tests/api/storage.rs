//! When the storage fails: a full disk answers 503 `storage_unavailable` (never a conflict), `/healthz` says
//! `degraded` with the reason until a write succeeds, and nothing already stored is lost or corrupted.

use crate::helpers::{TestApp, heroin_sample};
use serde_json::json;
use std::path::Path;
use std::process::Command;

/// A small tmpfs at `dir`, unmounted when dropped. Needs root (as `.ci/run` has); None elsewhere.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> Option<SmallDisk> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| SmallDisk(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem holding `dir` with one file until the kernel says it is full.
fn fill(dir: &Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 4096];
    while f.write_all(&block).and_then(|_| f.flush()).is_ok() {}
    let _ = f.sync_all();
    path
}

#[tokio::test]
async fn a_full_disk_answers_503_degrades_health_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(dir.path(), "6m") else {
        // CI runs as root and must run this test; elsewhere it needs root to mount a small filesystem.
        assert!(std::env::var_os("CI").is_none(), "CI must be able to mount a small tmpfs (run as root)");
        eprintln!("skipped: mounting a small filesystem needs root");
        return;
    };
    let db = dir.path().join("varde.db");
    let app = TestApp::spawn_at(tempfile::tempdir().unwrap(), &db, TestApp::options()).await;
    let mut stored = Vec::new();
    for _ in 0..3 {
        let (status, s) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
        assert_eq!(status, 201, "{s}");
        stored.push(s["code"].as_str().unwrap().to_owned());
    }
    let (status, h) = app.get("/healthz", None).await;
    assert_eq!((status, h["status"].as_str().unwrap()), (200, "ok"));

    let filler = fill(dir.path());
    // Writes now fail as soon as the database needs a page it cannot get. Each answer is 201 (it still fitted) or
    // 503; never a conflict or an internal error.
    let mut refused = None;
    for i in 0..500 {
        let mut body = heroin_sample();
        body["notes"] = json!(format!("prøve {i}: {}", "brunt pulver, lukter eddik. ".repeat(60)));
        let (status, e) = app.post("/api/v1/samples", Some(&app.oslo), &body).await;
        match status {
            201 => stored.push(e["code"].as_str().unwrap().to_owned()),
            503 => {
                refused = Some(e);
                break;
            }
            other => panic!("a full disk answered {other}: {e}"),
        }
    }
    let e = refused.expect("the disk filled up within 500 samples");
    assert_eq!(e["error"], "storage_unavailable", "{e}");
    let (status, h) = app.get("/healthz", None).await;
    assert_eq!((status, h["status"].as_str().unwrap()), (503, "degraded"), "{h}");
    assert!(h["reason"].as_str().unwrap().contains("full"), "{h}");
    // Reads still work while writes fail.
    assert_eq!(app.get(&format!("/api/v1/samples/{}", stored[0]), Some(&app.oslo)).await.0, 200);

    // Space again: the next write succeeds and health returns.
    std::fs::remove_file(filler).unwrap();
    let (status, s) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    assert_eq!(status, 201, "{s}");
    stored.push(s["code"].as_str().unwrap().to_owned());
    let (status, h) = app.get("/healthz", None).await;
    assert_eq!((status, h["status"].as_str().unwrap()), (200, "ok"), "{h}");

    // Nothing acknowledged was lost; the database and its audit chain are intact.
    assert_eq!(app.count().await, stored.len() as u64);
    for code in &stored {
        assert_eq!(app.get(&format!("/api/v1/samples/{code}"), Some(&app.oslo)).await.0, 200, "{code}");
    }
    let report = app.store.queries().verify_audit().await.unwrap();
    assert!(report.first_broken.is_none(), "{report:?}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    drop(conn);
    drop(app);
    drop(disk);
}
