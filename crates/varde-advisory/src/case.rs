//! A case from the prosecutor's referral to its close: what may be recorded, what is due, and when everything about
//! the person must go. Helsedirektoratet's guidance sets the shape: attendance is met after the required meetings
//! (one unless the decision says more); the unit may invite again and seek the person out; offers of help are
//! referred on only with the person's consent; for drug testing the unit records that a sample was taken, never a
//! result (the laboratory answers the prosecutor); the prosecutor hears only that the condition is met or not.

use crate::fnr::{Fnr, FnrError};
use jiff::civil::{Date, DateTime};

/// The longest case reference kept (the police's references are far shorter).
pub const MAX_REFERENCE: usize = 40;
/// Days after the condition period ended and the final notice went before a case is deleted, unless configured.
pub const DEFAULT_GRACE_DAYS: i64 = 90;

/// Why something cannot be recorded. Each has a stable code for the API and the pages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("a referral needs the prosecutor's case reference")]
    NoReference,
    #[error("a case reference is at most {MAX_REFERENCE} characters")]
    ReferenceTooLong,
    #[error("a referral sets at least one condition: attendance or drug testing")]
    NoConditions,
    #[error("attendance needs at least one meeting")]
    NoMeetings,
    #[error("drug testing needs at least one test")]
    NoTests,
    #[error("the condition period must end after it begins")]
    PeriodBackwards,
    #[error("the decision date lies in the future")]
    DecisionInFuture,
    #[error("the condition period cannot begin before the decision")]
    PeriodBeforeDecision,
    #[error("{0}")]
    Fnr(#[from] FnrError),
    #[error("the birth date lies in the future")]
    BornInFuture,
    #[error("the birth date and the fødselsnummer disagree")]
    BirthMismatch,
    #[error("a person under 18 at the decision needs a guardian's name and contact")]
    GuardianRequired,
    #[error("a name is needed")]
    NoName,
    #[error("a meeting cannot take place before the referral's decision")]
    MeetingBeforeReferral,
    #[error("an onward referral needs the person's recorded consent")]
    ConsentRequired,
    #[error("consent cannot be given before the offer was made")]
    ConsentBeforeOffer,
    #[error("a sample needs the laboratory's sample identifier")]
    NoSampleId,
    #[error("this is not a condition of the case")]
    NotACondition,
    #[error("an invitation needs a place")]
    NoPlace,
}

impl CaseError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            CaseError::NoReference => "no_reference",
            CaseError::ReferenceTooLong => "reference_too_long",
            CaseError::NoConditions => "no_conditions",
            CaseError::NoMeetings => "no_meetings",
            CaseError::NoTests => "no_tests",
            CaseError::PeriodBackwards => "period_backwards",
            CaseError::DecisionInFuture => "decision_in_future",
            CaseError::PeriodBeforeDecision => "period_before_decision",
            CaseError::Fnr(FnrError::Length) => "fnr_length",
            CaseError::Fnr(FnrError::Checksum) => "fnr_checksum",
            CaseError::Fnr(FnrError::Date) => "fnr_date",
            CaseError::BornInFuture => "born_in_future",
            CaseError::BirthMismatch => "birth_mismatch",
            CaseError::GuardianRequired => "guardian_required",
            CaseError::NoName => "no_name",
            CaseError::MeetingBeforeReferral => "meeting_before_referral",
            CaseError::ConsentRequired => "consent_required",
            CaseError::ConsentBeforeOffer => "consent_before_offer",
            CaseError::NoSampleId => "no_sample_id",
            CaseError::NotACondition => "not_a_condition",
            CaseError::NoPlace => "no_place",
        }
    }
}

/// The conditions the prosecutor set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conditions {
    /// Meetings the person must attend; `None` when attendance is not a condition.
    pub meetings: Option<u8>,
    /// Drug tests over the period; `None` when testing is not a condition.
    pub tests: Option<u8>,
    pub period_start: Date,
    pub period_end: Date,
}

/// The prosecutor's referral.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Referral {
    /// The police district's case reference.
    pub case_reference: String,
    pub decision_date: Date,
    pub conditions: Conditions,
}

impl Referral {
    pub fn validate(&self, today: Date) -> Result<(), CaseError> {
        let reference = self.case_reference.trim();
        if reference.is_empty() {
            return Err(CaseError::NoReference);
        }
        if reference.chars().count() > MAX_REFERENCE {
            return Err(CaseError::ReferenceTooLong);
        }
        let c = &self.conditions;
        match (c.meetings, c.tests) {
            (None, None) => return Err(CaseError::NoConditions),
            (Some(0), _) => return Err(CaseError::NoMeetings),
            (_, Some(0)) => return Err(CaseError::NoTests),
            _ => {}
        }
        if self.decision_date > today {
            return Err(CaseError::DecisionInFuture);
        }
        if c.period_start < self.decision_date {
            return Err(CaseError::PeriodBeforeDecision);
        }
        if c.period_end <= c.period_start {
            return Err(CaseError::PeriodBackwards);
        }
        Ok(())
    }
}

/// Who the referral is about. Identity data: kept sealed, shown only to the unit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Person {
    pub name: String,
    pub fnr: Option<Fnr>,
    pub birth_date: Date,
    /// Telephone, e-mail or address: whatever reaches the person.
    pub contact: String,
    /// For a person under 18: the guardian's name and contact.
    pub guardian: Option<String>,
}

impl Person {
    /// A person from what the caseworker typed: a fødselsnummer (validated) or a birth date.
    pub fn new(
        name: &str,
        id: Option<&str>,
        birth_date: Option<Date>,
        contact: &str,
        guardian: Option<&str>,
    ) -> Result<Person, CaseError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CaseError::NoName);
        }
        let fnr = id.map(str::trim).filter(|s| !s.is_empty()).map(Fnr::parse).transpose()?;
        let birth_date = match (&fnr, birth_date) {
            (Some(f), Some(d)) if f.birth_date() != d => return Err(CaseError::BirthMismatch),
            (Some(f), _) => f.birth_date(),
            (None, Some(d)) => d,
            (None, None) => return Err(CaseError::Fnr(FnrError::Length)),
        };
        let guardian = guardian.map(str::trim).filter(|g| !g.is_empty()).map(str::to_owned);
        Ok(Person { name: name.to_owned(), fnr, birth_date, contact: contact.trim().to_owned(), guardian })
    }

    /// Checks what depends on the referral: born before it, and a guardian for a minor.
    pub fn validate_for(&self, referral: &Referral) -> Result<(), CaseError> {
        if self.birth_date > referral.decision_date {
            return Err(CaseError::BornInFuture);
        }
        let adult = self.birth_date.checked_add(jiff::Span::new().years(18)).is_ok_and(|d| d <= referral.decision_date);
        if !adult && self.guardian.is_none() {
            return Err(CaseError::GuardianRequired);
        }
        Ok(())
    }
}

/// Whether the person came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    Attended,
    NotAttended,
    /// Moved to another time at the person's or the unit's request: neither attended nor missed.
    Moved,
}

/// What a meeting covered: a fixed list, never notes (this is not a health record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Information about the harms of drug use.
    HarmsInformation,
    /// The conditions and what happens when they are or are not met.
    ConditionsExplained,
    /// An offer of help or services.
    OfferOfHelp,
    /// A further meeting agreed.
    FollowUpAgreed,
}

impl Topic {
    pub const ALL: [Topic; 4] =
        [Topic::HarmsInformation, Topic::ConditionsExplained, Topic::OfferOfHelp, Topic::FollowUpAgreed];
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Meeting {
    pub at: DateTime,
    pub attendance: Attendance,
    pub covered: Vec<Topic>,
}

impl Meeting {
    pub fn validate_for(&self, referral: &Referral) -> Result<(), CaseError> {
        if self.at.date() < referral.decision_date {
            return Err(CaseError::MeetingBeforeReferral);
        }
        Ok(())
    }
}

/// Services a person can be offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HelpKind {
    HealthServices,
    Nav,
    Treatment,
    UserOrganisation,
}

/// An offer of help, and whether the person wanted it referred on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Offer {
    pub kind: HelpKind,
    pub offered_on: Date,
    /// The day the person consented to an onward referral.
    pub consent_on: Option<Date>,
    /// Whether the unit referred them on.
    pub referred: bool,
}

impl Offer {
    /// An onward referral exists only with recorded consent, given no earlier than the offer.
    pub fn validate(&self) -> Result<(), CaseError> {
        match (self.referred, self.consent_on) {
            (true, None) => Err(CaseError::ConsentRequired),
            (_, Some(c)) if c < self.offered_on => Err(CaseError::ConsentBeforeOffer),
            _ => Ok(()),
        }
    }
}

/// A drug test as the unit knows it: that a sample was taken, or that the person did not come. There is no result,
/// by design: the laboratory sends it to the prosecutor, who requisitioned it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TestEvent {
    Taken { on: Date, sample_id: String },
    NotAppeared { on: Date },
}

impl TestEvent {
    pub fn validate_for(&self, referral: &Referral) -> Result<(), CaseError> {
        if referral.conditions.tests.is_none() {
            return Err(CaseError::NotACondition);
        }
        let on = match self {
            TestEvent::Taken { on, sample_id } => {
                if sample_id.trim().is_empty() {
                    return Err(CaseError::NoSampleId);
                }
                on
            }
            TestEvent::NotAppeared { on } => on,
        };
        if *on < referral.decision_date {
            return Err(CaseError::MeetingBeforeReferral);
        }
        Ok(())
    }
}

/// What the unit tells the prosecutor: only this fact, the case reference and who.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The attendance condition is met.
    ConditionFulfilled,
    /// The period ended without the required meetings.
    NonAttendance,
}

/// The notice due now, if any: fulfilled once the required meetings are attended; non-attendance once the period
/// has ended without them. Each is sent once; after either, nothing more is due.
pub fn notice_due<'a>(
    conditions: &Conditions,
    meetings: impl IntoIterator<Item = &'a Meeting>,
    sent: &[NoticeKind],
    today: Date,
) -> Option<NoticeKind> {
    let required = conditions.meetings?;
    if !sent.is_empty() {
        return None;
    }
    let attended = meetings.into_iter().filter(|m| m.attendance == Attendance::Attended).count();
    if attended >= usize::from(required) {
        Some(NoticeKind::ConditionFulfilled)
    } else if today > conditions.period_end {
        Some(NoticeKind::NonAttendance)
    } else {
        None
    }
}

/// Whether a case, and everything about its person, is to be deleted now: the condition period has ended, the final
/// notice went (or attendance was not a condition), and the grace period after both has passed.
pub fn deletion_due(conditions: &Conditions, final_notice_on: Option<Date>, grace_days: i64, today: Date) -> bool {
    let settled = match (conditions.meetings, final_notice_on) {
        (Some(_), None) => return false,
        (Some(_), Some(sent)) => sent.max(conditions.period_end),
        (None, sent) => sent.map_or(conditions.period_end, |s| s.max(conditions.period_end)),
    };
    settled.checked_add(jiff::Span::new().days(grace_days)).is_ok_and(|due| today >= due)
}

/// What needs the caseworker: no response to an invitation, or a period that ends soon without enough meetings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Invited, and the person did not come: invite again or seek them out.
    NoResponse,
    /// The period ends within two weeks and the meetings are not all attended.
    DeadlineNear,
    /// A notice is due to the prosecutor.
    NoticeDue,
}

/// The actions a case needs today, most pressing first. No response: the last meeting was missed and no new
/// invitation is pending, or the last invitation's day has passed with no meeting recorded since.
pub fn actions(conditions: &Conditions, recorded: &[Recorded], today: Date) -> Vec<Action> {
    let meetings: Vec<&Meeting> =
        recorded.iter().filter_map(|r| if let Recorded::Meeting(m) = r { Some(m) } else { None }).collect();
    let sent: Vec<NoticeKind> = recorded
        .iter()
        .filter_map(|r| if let Recorded::Notice { kind, .. } = r { Some(*kind) } else { None })
        .collect();
    let mut out = Vec::new();
    if notice_due(conditions, meetings.iter().copied(), &sent, today).is_some() {
        out.push(Action::NoticeDue);
    }
    let attended = meetings.iter().filter(|m| m.attendance == Attendance::Attended).count();
    let required = conditions.meetings.map_or(0, usize::from);
    let open = sent.is_empty() && attended < required;
    let soon = today.checked_add(jiff::Span::new().days(14)).unwrap_or(today);
    if open && conditions.period_end >= today && conditions.period_end <= soon {
        out.push(Action::DeadlineNear);
    }
    let last_meeting = meetings.iter().filter(|m| m.at.date() <= today).max_by_key(|m| m.at);
    let last_invitation =
        recorded.iter().filter_map(|r| if let Recorded::Invitation { at, .. } = r { Some(*at) } else { None }).max();
    let missed = last_meeting
        .is_some_and(|m| m.attendance == Attendance::NotAttended && last_invitation.is_none_or(|i| i <= m.at));
    let unanswered = last_invitation.is_some_and(|i| i.date() < today && last_meeting.is_none_or(|m| m.at < i));
    if open && (missed || unanswered) {
        out.push(Action::NoResponse);
    }
    out
}

/// How the unit sought a person out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outreach {
    Phone,
    Letter,
    Visit,
    ThroughGuardian,
    ThroughServices,
}

impl Outreach {
    pub const ALL: [Outreach; 5] =
        [Outreach::Phone, Outreach::Letter, Outreach::Visit, Outreach::ThroughGuardian, Outreach::ThroughServices];
}

/// One thing recorded in a case, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Recorded {
    /// An invitation to a meeting, with time and place (the letter is made from it).
    Invitation {
        at: DateTime,
        place: String,
    },
    /// An attempt to reach the person.
    Outreach {
        on: Date,
        how: Outreach,
    },
    Meeting(Meeting),
    Offer(Offer),
    Test(TestEvent),
    /// A notice to the prosecutor, kept as sent.
    Notice {
        on: Date,
        kind: NoticeKind,
    },
}

impl Recorded {
    /// The kind, as stored in the clear.
    pub fn kind(&self) -> &'static str {
        match self {
            Recorded::Invitation { .. } => "invitation",
            Recorded::Outreach { .. } => "outreach",
            Recorded::Meeting(_) => "meeting",
            Recorded::Offer(_) => "offer",
            Recorded::Test(_) => "test",
            Recorded::Notice { .. } => "notice",
        }
    }

    /// The day it happened (or will: an invitation's meeting day).
    pub fn day(&self) -> Date {
        match self {
            Recorded::Invitation { at, .. } => at.date(),
            Recorded::Outreach { on, .. } | Recorded::Notice { on, .. } => *on,
            Recorded::Meeting(m) => m.at.date(),
            Recorded::Offer(o) => o.offered_on,
            Recorded::Test(TestEvent::Taken { on, .. } | TestEvent::NotAppeared { on }) => *on,
        }
    }

    /// Checks it against the case's referral (dates after the decision, consent, a place for an invitation).
    pub fn validate_for(&self, referral: &Referral) -> Result<(), CaseError> {
        match self {
            Recorded::Meeting(m) => m.validate_for(referral),
            Recorded::Offer(o) => {
                o.validate()?;
                if o.offered_on < referral.decision_date {
                    return Err(CaseError::MeetingBeforeReferral);
                }
                Ok(())
            }
            Recorded::Test(t) => t.validate_for(referral),
            Recorded::Invitation { place, .. } if place.trim().is_empty() => Err(CaseError::NoPlace),
            other if other.day() < referral.decision_date => Err(CaseError::MeetingBeforeReferral),
            _ => Ok(()),
        }
    }
}

/// A case as the unit sees it: the referral, the person and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: i64,
    pub kommune: String,
    pub referral: Referral,
    pub person: Person,
    pub recorded: Vec<Recorded>,
}

impl Case {
    pub fn meetings(&self) -> impl Iterator<Item = &Meeting> {
        self.recorded.iter().filter_map(|r| if let Recorded::Meeting(m) = r { Some(m) } else { None })
    }

    pub fn notices(&self) -> Vec<NoticeKind> {
        self.recorded
            .iter()
            .filter_map(|r| if let Recorded::Notice { kind, .. } = r { Some(*kind) } else { None })
            .collect()
    }

    pub fn final_notice_on(&self) -> Option<Date> {
        self.recorded.iter().filter_map(|r| if let Recorded::Notice { on, .. } = r { Some(*on) } else { None }).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn referral() -> Referral {
        Referral {
            case_reference: "14567890".into(),
            decision_date: date(2026, 9, 1),
            conditions: Conditions {
                meetings: Some(1),
                tests: None,
                period_start: date(2026, 9, 1),
                period_end: date(2027, 3, 1),
            },
        }
    }

    fn meeting(d: Date, attendance: Attendance) -> Meeting {
        Meeting { at: d.at(10, 0, 0, 0), attendance, covered: vec![Topic::HarmsInformation] }
    }

    #[test]
    fn a_referral_needs_a_reference_a_condition_and_a_period_in_order() {
        let today = date(2026, 11, 30);
        assert_eq!(referral().validate(today), Ok(()));
        let mut r = referral();
        r.conditions.meetings = None;
        assert_eq!(r.validate(today), Err(CaseError::NoConditions), "a referral without conditions");
        r.conditions.tests = Some(4);
        assert_eq!(r.validate(today), Ok(()), "testing alone is a condition");
        let mut r = referral();
        r.case_reference = "  ".into();
        assert_eq!(r.validate(today).unwrap_err().code(), "no_reference");
        let mut r = referral();
        r.conditions.period_end = r.conditions.period_start;
        assert_eq!(r.validate(today), Err(CaseError::PeriodBackwards));
        let mut r = referral();
        r.decision_date = date(2026, 12, 1);
        assert_eq!(r.validate(today), Err(CaseError::DecisionInFuture));
        let mut r = referral();
        r.conditions.period_start = date(2026, 8, 31);
        assert_eq!(r.validate(today), Err(CaseError::PeriodBeforeDecision));
        let mut r = referral();
        r.conditions.meetings = Some(0);
        assert_eq!(r.validate(today), Err(CaseError::NoMeetings));
    }

    #[test]
    fn a_person_is_identified_by_a_valid_number_or_a_birth_date_and_a_minor_has_a_guardian() {
        let p = Person::new("Kari Nordmann", Some("150589 12317"), None, "+47 400 00 000", None).unwrap();
        assert_eq!(p.birth_date, date(1989, 5, 15));
        assert_eq!(p.validate_for(&referral()), Ok(()));
        assert_eq!(
            Person::new("Kari", Some("15058912318"), None, "", None).unwrap_err().code(),
            "fnr_checksum",
            "an invalid fødselsnummer"
        );
        assert_eq!(
            Person::new("Kari", Some("15058912317"), Some(date(1989, 5, 16)), "", None),
            Err(CaseError::BirthMismatch)
        );
        assert_eq!(Person::new(" ", None, Some(date(1990, 1, 1)), "", None), Err(CaseError::NoName));
        let minor = Person::new("Ola", None, Some(date(2009, 9, 2)), "", None).unwrap();
        assert_eq!(minor.validate_for(&referral()), Err(CaseError::GuardianRequired), "17 on the decision day");
        let minor = Person::new("Ola", None, Some(date(2009, 9, 2)), "", Some("Mor, +47 900 00 000")).unwrap();
        assert_eq!(minor.validate_for(&referral()), Ok(()));
        let adult = Person::new("Ola", None, Some(date(2008, 9, 1)), "", None).unwrap();
        assert_eq!(adult.validate_for(&referral()), Ok(()), "18 on the decision day");
    }

    #[test]
    fn meetings_and_tests_come_after_the_referral_and_tests_carry_no_result() {
        let r = referral();
        assert_eq!(
            meeting(date(2026, 8, 31), Attendance::Attended).validate_for(&r),
            Err(CaseError::MeetingBeforeReferral)
        );
        assert_eq!(meeting(date(2026, 9, 1), Attendance::Attended).validate_for(&r), Ok(()));
        let taken = TestEvent::Taken { on: date(2026, 9, 10), sample_id: "LAB-1".into() };
        assert_eq!(taken.validate_for(&r), Err(CaseError::NotACondition), "testing was not a condition");
        let mut r = referral();
        r.conditions.tests = Some(2);
        assert_eq!(taken.validate_for(&r), Ok(()));
        assert_eq!(
            TestEvent::Taken { on: date(2026, 9, 10), sample_id: " ".into() }.validate_for(&r),
            Err(CaseError::NoSampleId)
        );
        // The serialised form has no field for a result: only what happened, when, and the laboratory's id.
        let json = serde_json::to_value(&taken).unwrap();
        let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["kind", "on", "sample_id"]);
    }

    #[test]
    fn an_onward_referral_without_consent_is_impossible() {
        let offer = Offer { kind: HelpKind::Nav, offered_on: date(2026, 9, 10), consent_on: None, referred: true };
        assert_eq!(offer.validate(), Err(CaseError::ConsentRequired));
        let offer = Offer { consent_on: Some(date(2026, 9, 10)), ..offer };
        assert_eq!(offer.validate(), Ok(()));
        let offer = Offer { consent_on: Some(date(2026, 9, 9)), ..offer };
        assert_eq!(offer.validate(), Err(CaseError::ConsentBeforeOffer));
        let declined =
            Offer { kind: HelpKind::Treatment, offered_on: date(2026, 9, 10), consent_on: None, referred: false };
        assert_eq!(declined.validate(), Ok(()), "an offer declined is recorded as such");
    }

    #[test]
    fn the_prosecutor_hears_once_fulfilled_or_once_not_attended_after_the_period() {
        let c = referral().conditions;
        let missed =
            [meeting(date(2026, 9, 10), Attendance::NotAttended), meeting(date(2026, 9, 20), Attendance::Moved)];
        assert_eq!(notice_due(&c, &missed, &[], date(2026, 12, 1)), None, "the period runs");
        assert_eq!(notice_due(&c, &missed, &[], date(2027, 3, 2)), Some(NoticeKind::NonAttendance));
        let attended =
            [meeting(date(2026, 9, 10), Attendance::NotAttended), meeting(date(2026, 10, 1), Attendance::Attended)];
        assert_eq!(notice_due(&c, &attended, &[], date(2026, 10, 1)), Some(NoticeKind::ConditionFulfilled));
        assert_eq!(notice_due(&c, &attended, &[NoticeKind::ConditionFulfilled], date(2026, 10, 2)), None, "once");
        let two = Conditions { meetings: Some(2), ..c.clone() };
        assert_eq!(notice_due(&two, &attended, &[], date(2026, 10, 1)), None, "two meetings required");
        let testing_only = Conditions { meetings: None, tests: Some(3), ..c };
        assert_eq!(notice_due(&testing_only, &[], &[], date(2027, 6, 1)), None, "no attendance condition to report");
    }

    #[test]
    fn a_case_is_deleted_after_the_period_the_final_notice_and_the_grace_period() {
        let c = referral().conditions; // ends 2027-03-01
        let day = |d| deletion_due(&c, Some(date(2026, 10, 1)), DEFAULT_GRACE_DAYS, d);
        assert!(!day(date(2027, 5, 29)), "89 days after the period");
        assert!(day(date(2027, 5, 30)), "90 days after the period");
        assert!(!deletion_due(&c, None, DEFAULT_GRACE_DAYS, date(2030, 1, 1)), "never before the final notice");
        // A notice sent after the period counts from the notice.
        assert!(!deletion_due(&c, Some(date(2027, 4, 1)), 90, date(2027, 6, 29)));
        assert!(deletion_due(&c, Some(date(2027, 4, 1)), 90, date(2027, 6, 30)));
        let testing_only = Conditions { meetings: None, tests: Some(3), ..c };
        assert!(deletion_due(&testing_only, None, 90, date(2027, 5, 30)), "no notice to wait for");
    }

    #[test]
    fn a_case_asks_for_action_when_the_person_did_not_come_or_the_period_runs_out() {
        let c = referral().conditions;
        let invite = |d: Date| Recorded::Invitation { at: d.at(10, 0, 0, 0), place: "Storgata 1".into() };
        let missed =
            vec![invite(date(2026, 9, 10)), Recorded::Meeting(meeting(date(2026, 9, 10), Attendance::NotAttended))];
        assert_eq!(actions(&c, &missed, date(2026, 9, 11)), vec![Action::NoResponse]);
        assert_eq!(actions(&c, &missed, date(2027, 2, 20)), vec![Action::DeadlineNear, Action::NoResponse]);
        assert_eq!(actions(&c, &missed, date(2027, 3, 2)), vec![Action::NoticeDue, Action::NoResponse]);
        let mut noticed = missed.clone();
        noticed.push(Recorded::Notice { on: date(2027, 3, 2), kind: NoticeKind::NonAttendance });
        assert!(actions(&c, &noticed, date(2027, 3, 3)).is_empty());
        // Invited again: nothing to do until that day has passed without a meeting.
        let mut again = missed.clone();
        again.push(invite(date(2026, 9, 20)));
        assert!(actions(&c, &again, date(2026, 9, 15)).is_empty());
        assert!(actions(&c, &again, date(2026, 9, 20)).is_empty(), "the day itself");
        assert_eq!(actions(&c, &again, date(2026, 9, 21)), vec![Action::NoResponse], "no meeting recorded");
        // An invitation nobody answered, without any meeting recorded.
        assert_eq!(actions(&c, &[invite(date(2026, 9, 10))], date(2026, 9, 11)), vec![Action::NoResponse]);
        assert!(actions(&c, &[], date(2026, 9, 11)).is_empty());
        let attended =
            vec![invite(date(2026, 9, 10)), Recorded::Meeting(meeting(date(2026, 9, 10), Attendance::Attended))];
        assert_eq!(actions(&c, &attended, date(2026, 9, 11)), vec![Action::NoticeDue]);
    }
}
