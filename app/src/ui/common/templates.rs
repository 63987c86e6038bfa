//! The shipped templates' words in the page's language: titles and lessons from the
//! catalogue (the model keeps the English ones, which the API and the tests use). The
//! workflows column, the editor's lesson note, the Learn page and the document (which shows
//! an open template under its title) all read them here.

use crate::i18n::Locale;

/// A template's title in the page's language.
pub fn template_title(locale: Locale, key: &str) -> &'static str {
    template_text(locale, key).0
}

/// What a template shows, in the page's language.
pub fn template_lesson(locale: Locale, key: &str) -> &'static str {
    template_text(locale, key).1
}

/// A shipped template's title and lesson from the catalogue (the model keeps the English
/// ones, which the API and the tests use).
fn template_text(locale: Locale, key: &str) -> (&'static str, &'static str) {
    macro_rules! text {
        ($k:ident) => {
            (
                td_string!(locale, templates.$k.title),
                td_string!(locale, templates.$k.lesson),
            )
        };
    }
    match key {
        "order-orchestrated" => text!(order_orchestrated),
        "order-choreographed" => text!(order_choreographed),
        "ecommerce-orchestrated" => text!(ecommerce_orchestrated),
        "ecommerce-choreographed" => text!(ecommerce_choreographed),
        "onboarding-events" => text!(onboarding_events),
        "onboarding-hybrid" => text!(onboarding_hybrid),
        "image-fork-join" => text!(image_fork_join),
        "airflow-chain" => text!(airflow_chain),
        "fan-out-group" => text!(fan_out_group),
        "cart-fan-out" => text!(cart_fan_out),
        "financial-transaction" => text!(financial_transaction),
        "order-pipeline" => text!(order_pipeline),
        _ => ("", ""),
    }
}
