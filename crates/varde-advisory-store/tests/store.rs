//! The advisory database: sealed at rest, one kommune's cases apart from another's, invalid input refused with
//! nothing stored, retention that leaves only counts, key rotation, and an audit chain that shows tampering.

use jiff::civil::date;
use varde_advisory::case::{
    Attendance, CaseError, Conditions, HelpKind, Meeting, NoticeKind, Offer, Person, Recorded, Referral, Topic,
};
use varde_advisory_store::seal::Key;
use varde_advisory_store::{AdvisoryStore, Error, Role};

fn referral() -> Referral {
    Referral {
        case_reference: "POL-14567890".into(),
        decision_date: date(2026, 9, 1),
        conditions: Conditions {
            meetings: Some(1),
            tests: Some(2),
            period_start: date(2026, 9, 1),
            period_end: date(2027, 3, 1),
        },
    }
}

fn person() -> Person {
    Person::new("Kari Testperson", Some("15058912317"), None, "kari@example.org", None).unwrap()
}

fn raw(path: &std::path::Path) -> Vec<u8> {
    let mut all = std::fs::read(path).unwrap();
    if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
        all.extend(wal);
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_case_is_kept_sealed_and_read_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("advisory.db");
    let key = Key::from_hex(&Key::generate()).unwrap();
    let store = AdvisoryStore::open(&path, key.clone()).unwrap();
    let id = store.open_case("0301", &referral(), &person(), "caseworker", date(2026, 11, 30)).unwrap();
    let meeting = Meeting {
        at: date(2026, 9, 15).at(10, 0, 0, 0),
        attendance: Attendance::Attended,
        covered: vec![Topic::HarmsInformation, Topic::OfferOfHelp],
    };
    store.record("0301", id, &Recorded::Meeting(meeting.clone()), "caseworker").unwrap();
    let offer = Offer {
        kind: HelpKind::Nav,
        offered_on: date(2026, 9, 15),
        consent_on: Some(date(2026, 9, 15)),
        referred: true,
    };
    store.record("0301", id, &Recorded::Offer(offer.clone()), "caseworker").unwrap();
    let case = store.case("0301", id).unwrap();
    assert_eq!(case.person, person());
    assert_eq!(case.referral, referral());
    assert_eq!(case.recorded, vec![Recorded::Meeting(meeting), Recorded::Offer(offer)]);
    // Another kommune's caseworker cannot see it: it is as unknown as a case that does not exist.
    assert!(matches!(store.case("4601", id), Err(Error::UnknownCase)));
    assert!(store.cases("4601").unwrap().is_empty());
    drop(store);
    // The file alone reveals no one: no name, number, contact or case reference in it.
    let bytes = raw(&path);
    for secret in ["Kari", "Testperson", "15058912317", "kari@example.org", "POL-14567890"] {
        assert!(!contains(&bytes, secret), "{secret} is in the database file");
    }
    // And it does not open with another key.
    let other = Key::from_hex(&Key::generate()).unwrap();
    assert!(matches!(AdvisoryStore::open(&path, other), Err(Error::Seal(_))));
    assert!(AdvisoryStore::open(&path, key).is_ok());
}

#[test]
fn invalid_input_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = AdvisoryStore::open(&dir.path().join("a.db"), Key::from_hex(&Key::generate()).unwrap()).unwrap();
    let mut no_conditions = referral();
    no_conditions.conditions.meetings = None;
    no_conditions.conditions.tests = None;
    let e = store.open_case("0301", &no_conditions, &person(), "cw", date(2026, 11, 30)).unwrap_err();
    assert!(matches!(e, Error::Invalid(CaseError::NoConditions)), "{e}");
    assert!(store.cases("0301").unwrap().is_empty());
    let id = store.open_case("0301", &referral(), &person(), "cw", date(2026, 11, 30)).unwrap();
    let early = Meeting { at: date(2026, 8, 1).at(9, 0, 0, 0), attendance: Attendance::Attended, covered: vec![] };
    let e = store.record("0301", id, &Recorded::Meeting(early), "cw").unwrap_err();
    assert!(matches!(e, Error::Invalid(CaseError::MeetingBeforeReferral)), "{e}");
    let no_consent =
        Offer { kind: HelpKind::Treatment, offered_on: date(2026, 9, 2), consent_on: None, referred: true };
    let e = store.record("0301", id, &Recorded::Offer(no_consent), "cw").unwrap_err();
    assert!(matches!(e, Error::Invalid(CaseError::ConsentRequired)), "{e}");
    assert!(store.case("0301", id).unwrap().recorded.is_empty());
    assert!(matches!(
        store.record(
            "0301",
            id + 1,
            &Recorded::Outreach { on: date(2026, 9, 2), how: varde_advisory::case::Outreach::Phone },
            "cw"
        ),
        Err(Error::UnknownCase)
    ));
    assert_eq!(store.verify_audit().unwrap(), Ok(1), "the case opened and nothing else");
}

#[test]
fn retention_deletes_the_case_and_keeps_only_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let store = AdvisoryStore::open(&path, Key::from_hex(&Key::generate()).unwrap()).unwrap();
    let done = store.open_case("0301", &referral(), &person(), "cw", date(2026, 11, 30)).unwrap();
    let meeting = Meeting { at: date(2026, 9, 11).at(10, 0, 0, 0), attendance: Attendance::Attended, covered: vec![] };
    store.record("0301", done, &Recorded::Meeting(meeting), "cw").unwrap();
    store
        .record("0301", done, &Recorded::Notice { on: date(2026, 9, 11), kind: NoticeKind::ConditionFulfilled }, "cw")
        .unwrap();
    let running = store
        .open_case(
            "0301",
            &referral(),
            &Person::new("Ola Testperson", None, Some(date(1999, 1, 1)), "", None).unwrap(),
            "cw",
            date(2026, 11, 30),
        )
        .unwrap();
    let before = store.counts("0301").unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(
        (before[0].quarter.as_str(), before[0].referrals, before[0].attended_first, before[0].days_to_first_sum),
        ("2026-Q3", 2, 1, 10)
    );
    // 89 days after the period: kept. 90: deleted, the other case (no final notice) stays.
    assert_eq!(store.purge(date(2027, 5, 29), 90, "retention").unwrap(), 0);
    assert_eq!(store.purge(date(2027, 5, 30), 90, "retention").unwrap(), 1);
    assert!(matches!(store.case("0301", done), Err(Error::UnknownCase)));
    assert!(store.case("0301", running).is_ok());
    assert_eq!(store.counts("0301").unwrap(), before, "the counts are the same after the deletion");
    // Opened twice, a meeting, a notice, a deletion.
    assert_eq!(store.verify_audit().unwrap(), Ok(5));
}

#[test]
fn a_key_rotation_reseals_everything_and_the_audit_chain_shows_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let old = Key::from_hex(&Key::generate()).unwrap();
    let new = Key::from_hex(&Key::generate()).unwrap();
    let store = AdvisoryStore::open(&path, old.clone()).unwrap();
    store.add_user("lead", "hash", Role::Lead, "0301", "admin").unwrap();
    let id = store.open_case("0301", &referral(), &person(), "cw", date(2026, 11, 30)).unwrap();
    store
        .record(
            "0301",
            id,
            &Recorded::Outreach { on: date(2026, 9, 3), how: varde_advisory::case::Outreach::Letter },
            "cw",
        )
        .unwrap();
    assert_eq!(store.rotate_key(&new, "admin").unwrap(), 3);
    drop(store);
    assert!(matches!(AdvisoryStore::open(&path, old), Err(Error::Seal(_))), "the old key no longer opens it");
    let store = AdvisoryStore::open(&path, new.clone()).unwrap();
    assert_eq!(store.case("0301", id).unwrap().person, person());
    // A user added, a case opened, an outreach, the rotation.
    assert_eq!(store.verify_audit().unwrap(), Ok(4));
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 2", []).unwrap();
    drop(conn);
    let store = AdvisoryStore::open(&path, new).unwrap();
    assert_eq!(store.verify_audit().unwrap(), Err(2), "the changed entry is named");
}
