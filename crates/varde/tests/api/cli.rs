//! The command line, as an operator uses it.

use crate::durability::{run_ok, varde};

fn fails(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "expected failure, got: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn services_are_validated_against_norways_kommuner() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    let err =
        fails(varde(&db).args(["service", "add", "x-rom", "--name", "X", "--kind", "user_room", "--kommune", "0999"]));
    assert!(err.contains("kommunenummer"), "{err}");
    let err = fails(varde(&db).args(["service", "add", "x-rom", "--name", "X", "--kind", "shop", "--kommune", "0301"]));
    assert!(err.contains("unknown kind"), "{err}");
    run_ok(varde(&db).args([
        "service",
        "add",
        "tromso-lavterskel",
        "--name",
        "Tromsø lavterskel",
        "--kind",
        "low_threshold",
        "--kommune",
        "5501",
    ]));
    let list = run_ok(varde(&db).args(["service", "list"]));
    assert!(list.contains("tromso-lavterskel\tlow_threshold\tTromsø lavterskel\t5501 Tromsø"), "{list}");
    let err = fails(varde(&db).args([
        "service",
        "add",
        "tromso-lavterskel",
        "--name",
        "Again",
        "--kind",
        "lab",
        "--kommune",
        "5501",
    ]));
    assert!(err.contains("exists"), "{err}");
}

#[test]
fn tokens_are_issued_per_role_and_technicians_need_a_service() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    assert!(fails(varde(&db).args(["token", "issue", "--role", "technician"])).contains("--service"));
    assert!(fails(varde(&db).args(["token", "issue", "--role", "police"])).contains("unknown role"));
    assert!(
        fails(varde(&db).args(["token", "issue", "--role", "technician", "--service", "nowhere"])).contains("nowhere")
    );
    let t = run_ok(varde(&db).args(["token", "issue", "--role", "reviewer"]));
    assert!(t.trim().starts_with("vrd_") && t.trim().len() == 36, "{t}");
}

#[test]
fn audit_verify_names_the_altered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    let db = format!("sqlite://{}", path.display());
    run_ok(varde(&db).args(["demo", "--seed", "5", "--samples", "50"]));
    assert!(run_ok(varde(&db).args(["audit", "verify"])).contains("intact"));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET subject = 'X' WHERE seq = 20;").unwrap();
    drop(conn);
    let err = fails(varde(&db).args(["audit", "verify"]));
    assert!(err.contains("entry 20"), "{err}");
}

#[test]
fn the_demo_fills_only_a_fresh_database_and_is_deterministic_by_seed() {
    let dir = tempfile::tempdir().unwrap();
    let codes = |name: &str, seed: &str| {
        let path = dir.path().join(name);
        let db = format!("sqlite://{}", path.display());
        let out = run_ok(varde(&db).args(["demo", "--seed", seed, "--samples", "200"]));
        assert!(out.contains("12 services and 200 synthetic samples"), "{out}");
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mut stmt = conn.prepare("SELECT code FROM samples ORDER BY code").unwrap();
        let v: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
        (db, v)
    };
    let (db, a) = codes("a.db", "9");
    let (_, b) = codes("b.db", "9");
    let (_, c) = codes("c.db", "10");
    assert_eq!(a.len(), 200);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(fails(varde(&db).args(["demo", "--seed", "9"])).contains("already holds samples"));
}

#[test]
fn signals_series_prints_rs_numbers_for_a_csv_series() {
    let golden = format!("{}/../varde-signals/tests/golden", env!("CARGO_MANIFEST_DIR"));
    let out = run_ok(varde("sqlite://unused.db").args([
        "signals",
        "series",
        "--method",
        "farrington",
        "--b",
        "4",
        "--w",
        "3",
        "--range",
        "260:312",
        "--input",
        &format!("{golden}/salmonella_agona.csv"),
    ]));
    let expected = std::fs::read_to_string(format!("{golden}/algo_farrington_b4_w3.csv")).unwrap();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("t,observed,upperbound,alarm"));
    let mut n = 0;
    for (ours, r) in lines.zip(expected.lines().skip(1)) {
        let o: Vec<f64> = ours.split(',').map(|v| v.parse().unwrap()).collect();
        let r: Vec<f64> = r.split(',').map(|v| v.parse().unwrap()).collect();
        assert_eq!((o[0], o[1], o[3]), (r[0], r[1], r[3]), "{ours}");
        assert!((o[2] - r[2]).abs() <= 1e-6 * r[2].abs().max(1e-9), "{ours} vs {r:?}");
        n += 1;
    }
    assert_eq!(n, 53);
    // The default range is the last 52 weeks; bad input names its line.
    let out = run_ok(varde("sqlite://unused.db").args([
        "signals",
        "series",
        "--method",
        "earsc1",
        "--input",
        &format!("{golden}/salmonella_agona.csv"),
    ]));
    assert_eq!(out.lines().count(), 53);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "t,observed\n1,3\n2,three\n").unwrap();
    let err = fails(varde("sqlite://unused.db").args([
        "signals",
        "series",
        "--method",
        "cusum",
        "--input",
        bad.to_str().unwrap(),
    ]));
    assert!(err.contains("bad.csv:3"), "{err}");
}
