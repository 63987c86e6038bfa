//! The Leptos components of the editor page and the lab page, and [`spawn_local`]: how they
//! start browser tasks.
//!
//! Pages: [`editor`] (the editor: toolbar, keyboard, the page's layout), [`lab`] (the
//! trade-off lab) and [`learn`] (the lessons: one experiment per claim of the article). Panels, used by pages: [`canvas`] (the drawing and its interaction core),
//! [`palette`], [`inspector`], [`run`] (the live run's transport and the run panel),
//! [`workflows`] (the workflows column), [`transfer`] (import, export and convert dialogs).
//! Below them: [`state`] (the editor's state slices, provided by context), [`common`] (leaf
//! types: selection, issues, viewport, geometry, pulses, presets, actions, the fault form,
//! theme), [`client`] (REST calls and WebSockets) and [`report`] (lab results as HTML).
//!
//! The rules the layout keeps (checked by `ui-shape`): panels never import a page, pages
//! never import each other, and no two modules import each other.
//!
//! What the editor's first page does not show is loaded lazily (`#[lazy]`, built with
//! split by `make build`): the lab route, a template's lesson, a selection's fields,
//! the learn route, the run's socket and summary, the run panel's other tabs, the faults
//! form, the dialogs. Each is a wasm
//! chunk fetched the first time it is used (`end2end/tests/bundle.spec.ts`).

pub mod canvas;
pub mod client;
pub mod common;
pub mod editor;
pub mod inspector;
pub mod lab;
pub mod learn;
pub mod palette;
pub mod report;
pub mod run;
pub mod state;
pub mod transfer;
pub mod workflows;

use std::future::Future;

/// The browser tasks of one page (route), ended when the user leaves it.
#[cfg(feature = "hydrate")]
#[derive(Clone, Default)]
struct Page {
    tasks: std::sync::Arc<std::sync::Mutex<Vec<futures::future::AbortHandle>>>,
    left: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[cfg(feature = "hydrate")]
impl Page {
    fn leave(&self) {
        self.left.store(true, std::sync::atomic::Ordering::Relaxed);
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// The page whose task is being polled (tasks started from inside a page task belong to
    /// the same page, although no reactive owner is current there).
    static POLLING: std::cell::RefCell<Option<Page>> = const { std::cell::RefCell::new(None) };
}

/// Marks the current component as a page: the tasks started inside it end with it.
pub fn provide_page() {
    #[cfg(feature = "hydrate")]
    {
        let page = Page::default();
        leptos::prelude::on_cleanup({
            let page = page.clone();
            move || page.leave()
        });
        leptos::prelude::provide_context(page);
    }
}

/// Starts a browser task that belongs to the current page: when the user leaves the page
/// (say, from the editor to the lab), the task is dropped — its sockets closed, its polling
/// stopped — instead of touching the page's state, which is gone by then. Outside a page it
/// is a plain `spawn_local`.
pub fn spawn_local(task: impl Future<Output = ()> + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let page =
            leptos::prelude::use_context::<Page>().or_else(|| POLLING.with(|p| p.borrow().clone()));
        if let Some(page) = page {
            if page.left.load(std::sync::atomic::Ordering::Relaxed) {
                return;
            }
            let (handle, registration) = futures::future::AbortHandle::new_pair();
            page.tasks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(handle);
            let mut task = Box::pin(futures::future::Abortable::new(task, registration));
            leptos::task::spawn_local(futures::future::poll_fn(move |cx| {
                let outer = POLLING.with(|p| p.replace(Some(page.clone())));
                let polled = task.as_mut().poll(cx).map(|_| ());
                POLLING.with(|p| *p.borrow_mut() = outer);
                polled
            }));
            return;
        }
    }
    leptos::task::spawn_local(task);
}

/// A listener on the window for as long as the current component lives: the editor's
/// keyboard shortcuts must not fire (and touch its state) once the user is on another page.
pub fn window_listener<E>(event: E, callback: impl Fn(E::EventType) + 'static)
where
    E: leptos::ev::EventDescriptor + 'static,
    E::EventType: wasm_bindgen::JsCast,
{
    let handle = leptos::prelude::window_event_listener(event, callback);
    leptos::prelude::on_cleanup(move || handle.remove());
}
