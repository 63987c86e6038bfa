//! The page's language: Korean or English. The server picks it for the first page — the
//! language the switch remembered (a cookie), else the browser's `Accept-Language` — and
//! writes it as `lang` on `<html>`; the browser reads it back when it hydrates, so both
//! render the same words. The switch changes it at once and remembers it.
//!
//! The words come from `leptos_i18n`'s catalogues (`app/locales/*.json`, checked when the
//! crate builds): `td_string!(lang.get(), key)` in a closure follows the switch.

use leptos::prelude::*;
use leptos_i18n::Locale as _;

use crate::i18n::Locale;

/// The cookie that remembers the switch (read by the server for the next page).
pub const COOKIE: &str = "hybridflow_lang";

/// Accept-Language entries read at most (a header is not a reason to do unbounded work).
pub const MAX_ACCEPTED_LANGUAGES: usize = 16;

/// The page's language, shared by every component (provided by the app).
pub type Lang = RwSignal<Locale>;

/// A catalogue entry without arguments, in any language: `|l| td_string!(l, key)` (a field's
/// label, a hint).
pub type Words = fn(Locale) -> &'static str;

/// A catalogue entry as a closure that follows the page's language: one closure type for
/// every entry, so the views rendering it are compiled once.
pub fn words(lang: Lang, entry: Words) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    move || entry(lang.get())
}

/// The page's language.
pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or_else(|| RwSignal::new(Locale::en))
}

/// Provides the page's language: on the server from the request, in the browser from what
/// the server rendered.
pub fn provide_lang() -> Lang {
    let lang = RwSignal::new(requested());
    provide_context(lang);
    lang
}

/// The language the document shell provided (on the server), or a new one (in the browser,
/// where the app is the root).
pub fn use_lang_or_provide() -> Lang {
    use_context::<Lang>().unwrap_or_else(provide_lang)
}

/// Keeps `<html lang>` on the page's language once the switch changes it (the server wrote
/// the first one).
pub fn follow_with_lang_attribute(lang: Lang) {
    Effect::new(move |_| {
        let locale = lang.get();
        #[cfg(feature = "hydrate")]
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("lang", locale.as_str());
        }
        let _ = locale;
    });
}

/// The language tags of an `Accept-Language` header, most wanted first.
pub fn accepted(header: &str) -> Vec<&str> {
    let mut tags: Vec<(&str, f32)> = header
        .split(',')
        .take(MAX_ACCEPTED_LANGUAGES)
        .filter_map(|entry| {
            let mut parts = entry.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!tag.is_empty() && tag != "*" && q > 0.0).then_some((tag, q))
        })
        .collect();
    // Stable: equal weights keep the header's order.
    tags.sort_by(|a, b| b.1.total_cmp(&a.1));
    tags.into_iter().map(|(tag, _)| tag).collect()
}

/// The language tag of `locale` (`en`, `ko`): an `Accept-Language` or `Content-Language`.
pub fn tag(locale: Locale) -> &'static str {
    locale.as_str()
}

/// The language a request asks for: the remembered choice, else the best match of
/// `Accept-Language` (`leptos_i18n`'s matching), else English.
pub fn for_request(cookie: Option<&str>, accept_language: Option<&str>) -> Locale {
    let remembered = cookie.and_then(|cookies| {
        cookies
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .and_then(|(_, value)| value.parse::<Locale>().ok())
    });
    remembered.unwrap_or_else(|| match accept_language {
        Some(header) => Locale::find_locale(&accepted(header)),
        None => Locale::en,
    })
}

#[cfg(feature = "ssr")]
fn requested() -> Locale {
    let Some(parts) = use_context::<http::request::Parts>() else {
        return Locale::en;
    };
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
    };
    for_request(
        header(http::header::COOKIE),
        header(http::header::ACCEPT_LANGUAGE),
    )
}

#[cfg(not(feature = "ssr"))]
fn requested() -> Locale {
    #[cfg(feature = "hydrate")]
    if let Some(lang) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|root| root.get_attribute("lang"))
    {
        return lang.parse().unwrap_or_default();
    }
    Locale::en
}

/// Shows the page in `locale` and remembers it for the next page the server renders.
pub fn switch(lang: Lang, locale: Locale) {
    lang.set(locale);
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(document) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
        {
            let _ = document.set_cookie(&format!(
                "{COOKIE}={locale}; Path=/; Max-Age=31536000; SameSite=Lax"
            ));
        }
    }
}

/// The locale's name in its own language, as the switch lists it.
pub fn endonym(locale: Locale) -> &'static str {
    match locale {
        Locale::en => "English",
        Locale::ko => "한국어",
    }
}

/// The BCP 47 tag the browser formats times and numbers with.
pub fn format_tag(locale: Locale) -> &'static str {
    match locale {
        Locale::en => "en-GB",
        Locale::ko => "ko-KR",
    }
}

/// The language switch.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let lang = use_lang();
    view! {
        <select
            class="language"
            aria-label=tr!(lang, language)
            on:change=move |ev| {
                if let Ok(locale) = event_target_value(&ev).parse::<Locale>() {
                    switch(lang, locale);
                }
            }
        >
            {Locale::get_all()
                .iter()
                .map(|&locale| {
                    view! {
                        <option
                            value=locale.as_str()
                            lang=locale.as_str()
                            selected=move || lang.get() == locale
                        >
                            {endonym(locale)}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}
