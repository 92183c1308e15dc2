//! Know: the figures: the counted samples they read, the public dashboard, the analysts' page, open data, user-room
//! counts, and the charts they are drawn with.

pub mod analyst;
pub mod charts;
pub mod dashboard;
pub mod figures;
pub mod opendata;
pub mod tally;
pub mod user_room;
