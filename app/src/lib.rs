//! Hybridflow's browser side and the model it shares with the server.
//!
//! # Layout
//! - [`model`]: the workflow document (nodes, command/event edges), its validation and
//!   limits, run history records and step states — compiled for both browser and server.
//! - [`ui`]: the Leptos components: [`ui::editor`] (the page: toolbar, workflows list,
//!   inspector), [`ui::canvas`] (the SVG drawing and its pointer interactions),
//!   [`ui::palette`] (the kinds of step to add, by click or drag), [`ui::live`] (following
//!   a run live with reconnection; summary, log and runs panel), [`ui::timeline`] (lanes,
//!   attempts and messages over time), [`ui::lab`] (the trade-off lab page), [`ui::report`] (its results as escaped HTML),
//!   [`ui::client`] (REST calls and the run's WebSocket, browser only); [`ui::spawn_local`]
//!   starts browser tasks that end with their page.
//!
//! [`shell`] is the HTML document the server renders; [`App`] the routed application;
//! [`hydrate`] the wasm entry point that takes over the server-rendered page.

pub mod model;
pub mod ui;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::StaticSegment;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
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
    view! {
        <Stylesheet id="leptos" href="/pkg/hybridflow.css"/>
        <Title text="Hybridflow"/>
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
                <Route path=StaticSegment("") view=ui::editor::EditorPage/>
                <Route path=StaticSegment("lab") view=ui::lab::LabPage/>
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
