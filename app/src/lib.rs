//! Hybridflow's browser side and the model it shares with the server.
//!
//! # Layout
//! - [`model`]: the workflow document (nodes, command/event edges), its validation and
//!   limits, run history records and step states — compiled for both browser and server.
//! - [`ui`]: the Leptos components — the pages ([`ui::editor`], [`ui::lab`]), the panels
//!   they are made of (canvas, palette, inspector, run panel, workflows, dialogs), the
//!   editor's state slices ([`ui::state`]), shared leaf types ([`ui::common`]) and the
//!   server calls ([`ui::client`]); see the [`ui`] module's map.
//!
//! [`shell`] is the HTML document the server renders; [`App`] the routed application;
//! [`hydrate`] the wasm entry point that takes over the server-rendered page.

// The canvas's view types nest deeply; hydration's async layout needs the room.
#![recursion_limit = "256"]

pub mod model;
pub mod ui;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::StaticSegment;

/// The Content-Security-Policy of every response. Scripts come only from this server, or
/// carry the response's nonce (`nonce`: the one inline script, Leptos' hydration starter);
/// `'wasm-unsafe-eval'` lets the bundle compile its wasm. The canvas positions steps with
/// inline `style` attributes (which nonces cannot cover); exports draw `data:`/`blob:`
/// images. Nothing may frame the app.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Puts the page's Content-Security-Policy, with this response's nonce, on the response.
#[cfg(feature = "ssr")]
fn page_security_policy() {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce().map(|n| n.to_string());
    if let Ok(value) = http::HeaderValue::from_str(&content_security_policy(nonce.as_deref())) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    page_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // The theme the user picked, on every page (in the browser, after hydration).
    Effect::new(|_| ui::common::theme::apply(ui::common::theme::remembered()));
    view! {
        <Stylesheet id="leptos" href="/pkg/hybridflow.css"/>
        <Title text="Hybridflow"/>
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
                <Route path=StaticSegment("") view=ui::editor::EditorPage/>
                <Route path=StaticSegment("lab") view={leptos_router::Lazy::<ui::lab::LabRoute>::new()}/>
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Async hydration: a page whose code is a lazily loaded chunk (the lab) waits for it.
    leptos::mount::hydrate_lazy(App);
}
