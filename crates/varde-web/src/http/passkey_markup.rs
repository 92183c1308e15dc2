//! What the pages show of passkeys (the handlers are `http::passkeys`): the second factor's page's button and the
//! sessions page's list, each hidden or explained where passkeys cannot work.

use crate::AppState;
use crate::http::i18n::t;
use maud::{Markup, html};
use varde_domain::Lang;
use varde_store::{SessionRecord, StoredPasskey};

/// The second factor's page's passkey button (hidden until the script shows it), for a person who has passkeys.
pub(crate) fn login_button(state: &AppState, session: &SessionRecord, has: bool, next: &str, lang: Lang) -> Markup {
    html! {
        @if has && state.passkeys.available() {
            div #passkey-login hidden data-csrf=(session.csrf) data-next=(next) data-failed=(t(lang, "passkey_failed")) {
                button type="button" { (t(lang, "passkey_use")) }
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
        h2 { (t(lang, "passkeys")) }
        p { (t(lang, "passkeys_intro")) }
        @if list.is_empty() { p { (t(lang, "passkeys_none")) } } @else {
            table.passkeys {
                thead { tr { th scope="col" { (t(lang, "passkey_column")) } th scope="col" { (t(lang, "passkey_added")) } th scope="col" { (t(lang, "token_last_used")) } th scope="col" { "" } } }
                tbody {
                    @for p in list {
                        tr {
                            td { (p.name) }
                            td { (moment(p.created)) }
                            td { @if let Some(used) = p.last_used { (moment(used)) } @else { "–" } }
                            td {
                                form method="post" action={ "/passkeys/" (p.id) "/remove?lang=" (lang.code()) } {
                                    input type="hidden" name="csrf" value=(user.csrf);
                                    button type="submit" { (t(lang, "passkey_remove")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if state.passkeys.available() {
            div #passkey-add hidden data-failed=(t(lang, "passkey_failed")) {
                form.concern data-csrf=(user.csrf) {
                    label for="passkey-name" { (t(lang, "passkey_name")) }
                    input #passkey-name name="name" maxlength="60" autocomplete="off";
                    button type="submit" { (t(lang, "passkey_add")) }
                }
                p role="status" {}
            }
            script src="/static/passkeys.js" defer {}
        } @else {
            p { (t(lang, "passkeys_unavailable")) }
        }
    }
}
