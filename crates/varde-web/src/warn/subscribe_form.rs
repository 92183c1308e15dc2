//! The subscription form the public alerts page shows (the requests it sends are `subscriptions.rs`'s).

use crate::AppState;
use crate::http::i18n::t;
use maud::{Markup, html};
use varde_domain::Lang;

/// The form on the public alerts page: e-mail (when this server sends e-mail) and, for browsers that can, a
/// "notify me" button that `notify.js` reveals.
pub fn form(state: &AppState, lang: Lang) -> Markup {
    let email = state.reach.mailer.is_some();
    html! {
        section.subscribe #subscribe-section hidden[!email] {
            h2 { (t(lang, "subscribe_heading")) }
            p { (t(lang, "subscribe_intro")) }
            form #subscribe method="post" action="/subscriptions" {
                input type="hidden" name="lang" value=(lang.code());
                @if email {
                    label for="sub-address" { (t(lang, "subscribe_address")) }
                    input #sub-address type="email" name="address" autocomplete="email" required;
                }
                fieldset {
                    legend { (t(lang, "subscribe_tier")) }
                    label { input type="radio" name="min_tier" value="warning" checked; " " (t(lang, "subscribe_tier_warning")) }
                    label { input type="radio" name="min_tier" value="severe"; " " (t(lang, "subscribe_tier_severe")) }
                }
                details {
                    summary { (t(lang, "subscribe_area")) }
                    @for f in state.assessor.geography.fylker() {
                        label.check { input type="checkbox" name="fylke" value=(f.number); " " (f.public_name()) }
                    }
                }
                @if email { button type="submit" { (t(lang, "subscribe_button")) } }
                p.meta { (t(lang, "subscribe_privacy")) }
            }
            div #push hidden data-key=(state.reach.vapid.public_base64()) data-done=(t(lang, "push_done"))
                data-failed=(t(lang, "push_failed")) {
                button type="button" { (t(lang, "push_button")) }
                p role="status" {}
            }
            script src="/static/notify.js" defer {}
        }
    }
}
