//! Light and dark themes. The page follows the system (`prefers-color-scheme`) until the
//! user picks one; the pick is remembered in this browser and set as `data-theme` on the
//! document (on every page, by the app), where the style sheet's theme tokens read it.

use leptos::prelude::*;

use crate::ui::client;
use crate::ui::common::language::use_lang;

/// The user's choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

/// Where the choice is kept.
pub const THEME_KEY: &str = "hybridflow:theme";

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(text: &str) -> Theme {
        match text {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::System,
        }
    }

    /// The next choice of the toggle: system → dark → light → system.
    pub fn next(self) -> Theme {
        match self {
            Theme::System => Theme::Dark,
            Theme::Dark => Theme::Light,
            Theme::Light => Theme::System,
        }
    }
}

/// The remembered choice (the system's theme until one is made).
pub fn remembered() -> Theme {
    client::local_get(THEME_KEY)
        .map(|text| Theme::parse(&text))
        .unwrap_or(Theme::System)
}

/// Shows the page in `theme` and remembers it.
pub fn apply(theme: Theme) {
    #[cfg(feature = "hydrate")]
    {
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = match theme {
                Theme::System => root.remove_attribute("data-theme"),
                other => root.set_attribute("data-theme", other.as_str()),
            };
        }
    }
    match theme {
        Theme::System => client::local_remove(THEME_KEY),
        other => client::local_set(THEME_KEY, other.as_str()),
    }
}

/// The theme button: cycles system → dark → light, and says which is on.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(Theme::System);
    // In the browser only, after hydration: the server renders the system theme (the app
    // applies the remembered one on every page; the button only shows it).
    Effect::new(move |_| theme.set(remembered()));
    let lang = use_lang();
    let name = move || {
        let locale = lang.get();
        match theme.get() {
            Theme::System => td_string!(locale, theme.system),
            Theme::Dark => td_string!(locale, theme.dark),
            Theme::Light => td_string!(locale, theme.light),
        }
    };
    view! {
        <button
            class="theme-toggle"
            aria-label=move || td_string!(lang.get(), theme.label, theme = name()).to_string()
            title=tr!(lang, theme.title)
            on:click=move |_| {
                let next = theme.get_untracked().next();
                apply(next);
                theme.set(next);
            }
        >
            {move || match theme.get() {
                Theme::System => "◐",
                Theme::Dark => "☾",
                Theme::Light => "☀",
            }}
        </button>
    }
}
