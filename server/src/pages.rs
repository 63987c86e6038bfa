//! The pages: Leptos server-side rendering of the app, and the built site's static files
//! (the hydration bundle under `/pkg`, the assets of `public/`). The bundle is sent as the
//! brotli or gzip copy the build made of it (`end2end/build/precompress.mjs`) when the
//! browser accepts one: nothing is compressed per request. The bundle is split into chunks
//! (`#[lazy]`, split by `make build`) whose names stay the same from one build to the next and
//! which only work with the main module of their own build, so every `/pkg` response says
//! `Cache-Control: no-cache`: the browser revalidates (a 304 when unchanged) and never mixes
//! two builds.

use app::{shell, App};
use axum::http::{header, HeaderValue};
use axum::Router;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeader;

pub fn router(options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let bundle = ServeDir::new(format!("{}/{}", options.site_root, options.site_pkg_dir))
        .precompressed_br()
        .precompressed_gzip();
    let bundle = SetResponseHeader::overriding(
        bundle,
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    Router::new()
        .nest_service(&format!("/{}", options.site_pkg_dir), bundle)
        // The API's description as a page to read (the JSON is at /api/openapi.json).
        .route(
            "/docs/api",
            axum::routing::get(|| async {
                axum::response::Html(crate::api::openapi::DOCS_PAGE.as_str())
            }),
        )
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options)
}
