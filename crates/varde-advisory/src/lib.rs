//! The municipal advisory unit for drug cases (rådgivende enhet for russaker, helse- og omsorgstjenesteloven
//! § 3-9 c): its rules, pure. Attendance is a criminal-law condition set by the prosecutor, not health care: nothing
//! here is a health record, no drug-test result has a place, and nothing refers to drug-checking data.

pub mod case;
pub mod fnr;
