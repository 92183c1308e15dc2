//! Machine-readable channels built from domain data: Atom (RFC 4287) and CAP 1.2. Handlers only fetch and serve.

pub mod atom;
pub mod cap;

use crate::AppState;
use axum::routing::get;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/alerts.atom", get(atom::handler))
}

/// An XML document as quick-xml writes it: every text and attribute value escaped by the writer, one element a line
/// (indented by depth), so that no feed depends on escaping written by hand.
pub struct Xml(quick_xml::Writer<Vec<u8>>);

impl Xml {
    /// A document with its declaration (UTF-8).
    pub fn new(capacity: usize) -> Xml {
        let mut w = quick_xml::Writer::new_with_indent(Vec::with_capacity(capacity), b' ', 1);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None))).expect("writing to memory");
        Xml(w)
    }

    /// Opens element `name` with these attributes.
    pub fn open(&mut self, name: &str, attributes: &[(&str, &str)]) -> &mut Xml {
        self.0.write_event(Event::Start(element(name, attributes))).expect("writing to memory");
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Xml {
        self.0.write_event(Event::End(BytesEnd::new(name))).expect("writing to memory");
        self
    }

    /// `<name>text</name>`.
    pub fn text(&mut self, name: &str, text: &str) -> &mut Xml {
        self.text_with(name, &[], text)
    }

    /// `<name attributes…>text</name>`.
    pub fn text_with(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) -> &mut Xml {
        self.open(name, attributes);
        self.0.write_event(Event::Text(BytesText::new(&carried(text)))).expect("writing to memory");
        self.close(name)
    }

    /// `<name attributes…/>`.
    pub fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) -> &mut Xml {
        self.0.write_event(Event::Empty(element(name, attributes))).expect("writing to memory");
        self
    }

    pub fn finish(self) -> String {
        let mut bytes = self.0.into_inner();
        bytes.push(b'\n');
        String::from_utf8(bytes).expect("the writer writes the UTF-8 it was given")
    }
}

/// An element's start with its attributes (their values escaped by quick-xml).
fn element<'a>(name: &'a str, attributes: &[(&str, &str)]) -> BytesStart<'a> {
    let mut start = BytesStart::new(name);
    for (key, value) in attributes {
        start.push_attribute((*key, carried(value).as_ref()));
    }
    start
}

/// The text without the characters XML 1.0 cannot carry at all (escaping cannot help those); stored texts never
/// hold them (free text refuses control characters), so this only guards.
fn carried(s: &str) -> std::borrow::Cow<'_, str> {
    let cannot = |c: char| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r');
    if s.chars().any(cannot) { s.chars().filter(|c| !cannot(*c)).collect::<String>().into() } else { s.into() }
}

/// RFC 3339 with a numeric offset in Norwegian time, e.g. 2026-11-20T14:05:00+01:00 (CAP forbids "Z").
pub fn datetime(t: jiff::Timestamp) -> String {
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
    t.to_zoned(oslo).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}
