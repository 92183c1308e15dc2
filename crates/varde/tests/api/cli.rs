//! The command line, as an operator uses it.

use crate::durability::{fails, run_ok, varde};

/// Where the demo years in these tests end: a fixed moment, so that every run of a commit fills the same database
/// whatever the date (the demo lays its year out before "now", and archiving counts days back from it).
const DEMO_NOW: &str = "2026-12-01T12:00:00Z";

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
    run_ok(varde(&db).args(["demo", "--seed", "5", "--samples", "50", "--now", DEMO_NOW]));
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
        let out = run_ok(varde(&db).args(["demo", "--seed", seed, "--samples", "200", "--now", DEMO_NOW]));
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
    // A sparse series (a rare substance in one fylke) is the normal case: R's numbers, not "could not be fitted".
    let out = run_ok(varde("sqlite://unused.db").args([
        "signals",
        "series",
        "--method",
        "farrington",
        "--b",
        "4",
        "--range",
        "260:312",
        "--input",
        &format!("{golden}/sparse_zero_reference_series.csv"),
    ]));
    let expected = std::fs::read_to_string(format!("{golden}/sparse_zero_reference_farrington_limit5.csv")).unwrap();
    let alarms = |text: &str, col: usize| -> Vec<String> {
        text.lines().skip(1).map(|l| l.split(',').nth(col).unwrap().to_owned()).collect()
    };
    assert_eq!(alarms(&out, 3), alarms(&expected, 3));
    assert!(alarms(&out, 3).contains(&"1".to_owned()), "the cluster in the evaluated weeks alarms, as in R");
}

#[test]
fn open_data_export_of_a_demo_year_keeps_every_group_at_five_or_more_and_hides_small_counts() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    run_ok(varde(&db).args(["demo", "--seed", "3", "--samples", "1500", "--now", DEMO_NOW]));
    let out = dir.path().join("open");
    run_ok(varde(&db).args(["export", "--out", out.to_str().unwrap()]));
    let samples = std::fs::read_to_string(out.join("samples.csv")).unwrap();
    let mut lines = samples.lines();
    assert_eq!(lines.next(), Some("period,area,form,sold_as_class,substances_found,highest_tier"));
    let mut groups = std::collections::HashMap::new();
    let mut rows = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        // No week and no fylke: those are in the count tables, protected (see varde_domain::opendata).
        assert!(f[0].contains("-Q") || f[0].len() == 4, "period {}", f[0]);
        assert_eq!(f[1], "national");
        *groups.entry((f[0].to_owned(), f[1].to_owned(), f[2].to_owned(), f[3].to_owned())).or_insert(0) += 1;
        rows += 1;
    }
    assert!(rows > 1000, "most of the year is published ({rows} of 1500)");
    assert!(
        groups.values().all(|n| *n >= 5),
        "every combination of period, area, form and sold-as class occurs at least 5 times"
    );
    // Nothing that could lead back to a sample: no notes, no codes (12 symbols in groups of four).
    assert!(!samples.contains("Syntetiske"));
    assert!(!samples.split([',', '\n']).any(|f| f.len() == 14 && f.matches('-').count() == 2));
    for file in ["fylke-counts.csv", "weekly-counts.csv"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        let counts: Vec<&str> = text.lines().skip(1).map(|l| l.rsplit(',').next().unwrap()).collect();
        assert!(!counts.is_empty());
        for c in &counts {
            assert!(*c == "<5" || c.parse::<u64>().is_ok_and(|n| n == 0 || n >= 5), "{file}: {c}");
        }
        assert!(counts.contains(&"<5"), "{file} has small cells to protect");
        assert!(!text.contains(",all,") && !text.contains("all,"), "{file}: no totals");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("samples.json")).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), rows);
}

#[test]
fn users_are_added_with_a_password_from_standard_input() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    let add = |args: &[&str], password: &str| {
        let mut child = varde(&db)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = add(&["user", "add", "rita", "--role", "reviewer"], "a-long-passphrase\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = add(&["user", "add", "kim", "--role", "reviewer"], "short\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12"));
    let out = add(&["user", "add", "rita", "--role", "admin"], "another-long-passphrase\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists"));
    let conn = rusqlite::Connection::open(dir.path().join("v.db")).unwrap();
    let hash: String =
        conn.query_row("SELECT password_hash FROM users WHERE username = 'rita'", [], |r| r.get(0)).unwrap();
    assert!(hash.starts_with("$argon2id$"), "only the hash is stored");
}

#[test]
fn spectra_search_prints_the_csv_the_issue_specifies() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("lib.msp");
    let query = dir.path().join("q.msp");
    std::fs::write(
        &library,
        "Name: Cocaine\nDB#: L1\nNum Peaks: 4\n82 999\n182 400\n303 200\n105 300\n\n\
         Name: Caffeine, anhydrous\nDB#: L2\nNum Peaks: 3\n194 999\n109 500\n67 200\n\n\
         Name: Benzocaine\nDB#: L3\nNum Peaks: 3\n120 999\n165 500\n92 200\n",
    )
    .unwrap();
    std::fs::write(&query, "Name: unknown powder\nDB#: Q1\nNum Peaks: 3\n194 990\n109 520\n55 20\n").unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    for method in ["cosine", "composite", "entropy"] {
        let out = run_ok(
            varde(&db)
                .args(["spectra", "search", "--library"])
                .arg(&library)
                .arg("--query")
                .arg(&query)
                .args(["--method", method, "--top", "2"]),
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "query_id,rank,library_id,name,score", "{method}");
        let score: f64 = lines[1].strip_prefix("Q1,1,L2,\"Caffeine, anhydrous\",").unwrap().parse().unwrap();
        assert!(score > 0.8 && score <= 1.0, "{method}: {out}");
        // Only spectra sharing a peak are hits: cocaine and benzocaine share none.
        assert_eq!(lines.len(), 2, "{method}: {out}");
    }
    let err = fails(
        varde(&db)
            .args(["spectra", "search", "--library"])
            .arg(&query)
            .arg("--query")
            .arg(dir.path().join("missing.msp")),
    );
    assert!(err.contains("cannot read"), "{err}");
    std::fs::write(&query, "Name: broken\nNum Peaks: 2\n194 990\n").unwrap();
    let err = fails(varde(&db).args(["spectra", "search", "--library"]).arg(&library).arg("--query").arg(&query));
    assert!(err.contains("Num Peaks: 2 but 1 peaks follow"), "{err}");
}

/// The demo year does not drown the review queue: at its end no more than 25 open drafts, every one with evidence in
/// the last 21 days; the rest are archived.
#[tokio::test]
async fn the_demo_year_leaves_a_review_queue_a_person_can_work() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    run_ok(varde(&db).args(["demo", "--seed", "1", "--now", DEMO_NOW]));
    let reference = varde::load_reference(None).unwrap();
    let store = varde::open_store(&db, &reference).await.unwrap();
    let filter = |statuses| varde_store::AlertFilter { statuses, ..Default::default() };
    let drafts = store.queries().alerts(filter(vec![varde_domain::alert::AlertStatus::Draft])).await.unwrap();
    let archived = store.queries().alerts(filter(vec![varde_domain::alert::AlertStatus::Archived])).await.unwrap();
    assert!(!drafts.is_empty() && drafts.len() <= 25, "{} open drafts", drafts.len());
    assert!(archived.len() > 100, "{} archived", archived.len());
    let three_weeks_ago = DEMO_NOW.parse::<jiff::Timestamp>().unwrap() - jiff::SignedDuration::from_hours(24 * 21);
    for d in &drafts {
        assert!(d.last_evidence_at >= three_weeks_ago, "draft {} last had evidence {}", d.id, d.last_evidence_at);
    }
}

/// `serve --demo` fills the database and prints ready-made logins for the pages (passwords made at each start) as
/// well as API tokens; a restart makes new passwords, and the old ones stop working.
#[tokio::test]
async fn serve_demo_prints_logins_that_work_and_change_at_each_start() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let start = || {
        let mut child = crate::durability::varde(&db)
            .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut printed = Vec::new();
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            let done = line.starts_with("listening on ");
            printed.push(line);
            if done {
                break;
            }
        }
        (child, printed)
    };
    let login = |printed: &[String], user: &str| -> String {
        let line =
            printed.iter().find(|l| l.trim_start().starts_with(user)).unwrap_or_else(|| panic!("{user}: {printed:?}"));
        line.split_whitespace().nth(1).unwrap().to_owned()
    };
    let (mut first, printed) = start();
    let base = printed.last().unwrap().trim_start_matches("listening on ").to_owned();
    assert!(printed.iter().any(|l| l.contains("technician at oslo-brukerrom:")), "{printed:?}");
    let password = login(&printed, "demo-tekniker");
    assert_eq!(password.len(), 16);
    for user in ["demo-reviewer", "demo-admin"] {
        assert_ne!(login(&printed, user), password);
    }
    let (status, client) = log_in(&base, &password).await;
    assert_eq!(status, 303, "the printed login works");
    // The demo year includes the user room's days: the technician's page lists the last eight weeks.
    let page = client.get(format!("{base}/staff/user-room?lang=en")).send().await.unwrap().text().await.unwrap();
    assert!(page.matches("<th scope=\"row\">").count() >= 50, "{page}");
    first.kill().unwrap();
    first.wait().unwrap();

    let (mut second, printed) = start();
    let base_again = printed.last().unwrap().trim_start_matches("listening on ").to_owned();
    let new_password = login(&printed, "demo-tekniker");
    assert_ne!(new_password, password, "a new password at each start");
    assert_eq!(log_in(&base_again, &new_password).await.0, 303);
    assert_ne!(log_in(&base_again, &password).await.0, 303, "the old password no longer works");
    second.kill().unwrap();
    second.wait().unwrap();
}

/// Logs in to the pages as the demo technician, as a browser does; the status and the browser.
async fn log_in(base: &str, password: &str) -> (u16, reqwest::Client) {
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = client.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = page[at..at + 64].to_owned();
    let res = client
        .post(format!("{base}/login"))
        .form(&[("username", "demo-tekniker"), ("password", password), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), client)
}

#[test]
fn the_advisory_commands_make_a_key_add_members_rotate_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    let (key1, key2) = (dir.path().join("k1"), dir.path().join("k2"));
    std::fs::write(&key1, run_ok(varde(&db).args(["advisory", "key"]))).unwrap();
    std::fs::write(&key2, run_ok(varde(&db).args(["advisory", "key"]))).unwrap();
    assert_ne!(std::fs::read(&key1).unwrap(), std::fs::read(&key2).unwrap());
    let advisory = |key: &std::path::Path| {
        let mut c = varde(&db);
        c.arg("--advisory-database").arg(format!("sqlite://{}", dir.path().join("a.db").display()));
        c.arg("--advisory-key-file").arg(key);
        c
    };
    let with_password = |cmd: &mut std::process::Command, password: &str| {
        use std::io::Write;
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = with_password(
        advisory(&key1).args(["advisory", "user", "siri", "--role", "lead", "--kommune", "0999"]),
        "radgivning-passord-1",
    );
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not a kommunenummer"));
    let out = with_password(
        advisory(&key1).args(["advisory", "user", "siri", "--role", "lead", "--kommune", "0301"]),
        "radgivning-passord-1",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(run_ok(advisory(&key1).args(["advisory", "audit-verify"])).contains("holds (1 entries)"));
    assert!(run_ok(advisory(&key1).arg("advisory").arg("rotate-key").arg(&key2)).contains("re-sealed"));
    let err = fails(advisory(&key1).args(["advisory", "audit-verify"]));
    assert!(err.contains("another key"), "the old key no longer opens it: {err}");
    assert!(run_ok(advisory(&key2).args(["advisory", "audit-verify"])).contains("holds (2 entries)"));
    assert!(run_ok(advisory(&key2).args(["advisory", "purge"])).contains("deleted 0 cases"));
    // The drug-checking database is never the advisory one.
    let mut same = varde(&db);
    same.arg("--advisory-database").arg(&db).arg("--advisory-key-file").arg(&key2).args(["advisory", "audit-verify"]);
    assert!(fails(&mut same).contains("a file of its own"));
}

/// Runs the attacker (tests/privacy/attack.py, PuLP) on an open-data folder: its exit status and what it printed.
fn attack(folder: &std::path::Path) -> (bool, String) {
    let root = env!("CARGO_MANIFEST_DIR").trim_end_matches("/crates/varde");
    let out = std::process::Command::new(format!("{root}/target/test-venv/bin/python"))
        .args([
            &format!("{root}/tests/privacy/attack.py"),
            folder.to_str().unwrap(),
            &format!("{root}/crates/varde-domain/data/substances.toml"),
        ])
        .output()
        .expect("scripts/install-test-tools makes the test venv");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Issue 31's attacker, on the demo year as published: integer programs over every count file, the links between
/// them (a quarter's fylker and its weeks count the same samples) and the sample table's rows, for every cell shown
/// as "<5". None can be narrowed within 0-4. The same attacker does narrow a cell where the figures allow it.
#[test]
fn no_small_count_of_a_demo_year_can_be_narrowed_by_integer_programming_across_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    run_ok(varde(&db).args(["demo", "--seed", "1", "--now", DEMO_NOW]));
    let out = dir.path().join("open");
    run_ok(varde(&db).args(["export", "--out", out.to_str().unwrap()]));
    let (held, printed) = attack(&out);
    assert!(held, "{printed}");
    let attacked: u64 = printed.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(attacked > 500, "the demo year has small cells to attack: {printed}");

    // A control the attacker must break: one fylke's "<5" beside another's 7, in a quarter whose only week shows 12
    // (12±2 less 7±2 is at least 1: the "<5" is not 0).
    let weak = dir.path().join("weak");
    std::fs::create_dir(&weak).unwrap();
    let write = |name: &str, text: &str| std::fs::write(weak.join(name), text).unwrap();
    write("fylke-counts.csv", "period,area,class,count\n2026-Q4,03,opioid,<5\n2026-Q4,11,opioid,7\n");
    write("weekly-counts.csv", "period,area,class,count\n2026-W45,national,opioid,12\n");
    write("result-changes.csv", "year,highest_tier,answer,class,count\n");
    write("samples.csv", "period,area,form,sold_as_class,substances_found,highest_tier\n");
    let (held, printed) = attack(&weak);
    assert!(!held && printed.contains("narrowed: 2026-Q4 opioid ('fylke', '03'): 1-4"), "{printed}");
}
