//! Times as the browser shows them.

/// A Unix time in milliseconds as the browser's local time of day (the number itself on
/// the server, which renders no lists of runs).
pub fn js_time(ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    if let Some(time) = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
        .to_locale_time_string("en-GB")
        .as_string()
    {
        return time;
    }
    ms.to_string()
}
