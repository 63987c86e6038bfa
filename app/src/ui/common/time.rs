//! Times as the browser shows them, in the page's language.

use crate::i18n::Locale;
#[cfg(feature = "hydrate")]
use leptos_i18n::Locale as _;

/// A Unix time in milliseconds as the browser's local time of day, formatted for `locale`
/// (the number itself on the server, which renders no lists of runs).
pub fn js_time(locale: Locale, ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    if let Some(time) = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
        .to_locale_time_string(locale.as_str())
        .as_string()
    {
        return time;
    }
    let _ = locale;
    ms.to_string()
}
