//! What the pages show of passkeys (the handlers are `http::passkeys`): the second factor's page's button and the
//! sessions page's list, each hidden or explained where passkeys cannot work.

use crate::AppState;
use maud::{Markup, html};
use varde_domain::Lang;
use varde_http::passkeys::text;
use varde_store::{SessionRecord, StoredPasskey};

/// The second factor's page's passkey button (hidden until the script shows it), for a person who has passkeys.
pub(crate) fn login_button(state: &AppState, session: &SessionRecord, has: bool, next: &str, lang: Lang) -> Markup {
    html! {
        @if has && state.passkeys.available() {
            div #passkey-login hidden data-csrf=(session.csrf) data-next=(next) data-start="/login/passkey/start" data-finish="/login/passkey" data-failed=(text(lang.code(), "failed")) {
                button type="button" { (text(lang.code(), "use")) }
                p role="status" {}
            }
            script src="/static/passkeys.js" defer {}
        }
    }
}

/// The sessions page's passkey section: the person's passkeys, each with a remove button, and adding one.
pub(crate) fn section(state: &AppState, user: &SessionRecord, list: &[StoredPasskey], lang: Lang) -> Markup {
    let moment = |t| crate::http::pages::moment(t, lang);
    html! {
        h2 { (text(lang.code(), "title")) }
        p { (text(lang.code(), "intro")) }
        @if list.is_empty() { p { (text(lang.code(), "none")) } } @else {
            table.passkeys {
                thead { tr { th scope="col" { (text(lang.code(), "column")) } th scope="col" { (text(lang.code(), "added")) } th scope="col" { (text(lang.code(), "last_used")) } th scope="col" { "" } } }
                tbody {
                    @for p in list {
                        tr {
                            td { (p.name) }
                            td { (moment(p.created)) }
                            td { @if let Some(used) = p.last_used { (moment(used)) } @else { "–" } }
                            td {
                                form method="post" action={ "/passkeys/" (p.id) "/remove?lang=" (lang.code()) } {
                                    input type="hidden" name="csrf" value=(user.csrf);
                                    button type="submit" { (text(lang.code(), "remove")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if state.passkeys.available() {
            div #passkey-add hidden data-failed=(text(lang.code(), "failed")) data-start="/passkeys/start" data-finish="/passkeys" {
                form.concern data-csrf=(user.csrf) {
                    label for="passkey-name" { (text(lang.code(), "name")) }
                    input #passkey-name name="name" maxlength="60" autocomplete="off";
                    button type="submit" { (text(lang.code(), "add")) }
                }
                p role="status" {}
            }
            script src="/static/passkeys.js" defer {}
        } @else {
            p { (text(lang.code(), "unavailable")) }
        }
    }
}
