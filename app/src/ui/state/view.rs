//! How the canvas is looked at: pan and zoom, the orchestrator hub, and the transient input
//! state other parts need to see (a palette drag in flight, Space held, the pointer over
//! the canvas).

use leptos::prelude::*;

use crate::model::Workflow;
use crate::ui::common::viewport::Viewport;

/// The view slice: how the canvas is looked at. The canvas owns it.
#[derive(Clone, Copy)]
pub struct ViewState {
    /// The canvas's pan and zoom.
    pub viewport: RwSignal<Viewport>,
    /// Draw the run's orchestrator as a hub node every command and reply passes through.
    pub show_orchestrator: RwSignal<bool>,
    /// The palette entry being dragged towards the canvas, if any.
    pub palette_drag: RwSignal<Option<usize>>,
    /// The space bar is held: a drag anywhere on the canvas pans.
    pub space_held: RwSignal<bool>,
    /// The pointer is over the canvas: Space means "pan" there, even if a button has focus.
    pub canvas_hovered: RwSignal<bool>,
    /// The view the last fit made, and the drawing it fitted: while the user has neither
    /// moved the view nor changed the drawing since, a canvas that changes size (the run
    /// panel opens, the window grows) is fitted again.
    fitted: StoredValue<Option<Fitted>>,
}

impl ViewState {
    pub fn new() -> Self {
        ViewState {
            viewport: RwSignal::new(Viewport::default()),
            show_orchestrator: RwSignal::new(false),
            palette_drag: RwSignal::new(None),
            space_held: RwSignal::new(false),
            canvas_hovered: RwSignal::new(false),
            fitted: StoredValue::new(None),
        }
    }

    /// Zooms around the canvas's centre.
    pub fn zoom(&self, factor: f64) {
        let (w, h) = canvas_size();
        self.viewport
            .update(|v| *v = v.zoomed(factor, w / 2.0, h / 2.0));
    }

    /// Shows the whole workflow (with the hub, when it is drawn).
    pub fn fit(&self, workflow: &Workflow) {
        let (w, h) = canvas_size();
        let hub = self.show_orchestrator.get_untracked();
        let fitted = Viewport::fitting(workflow, w, h, hub);
        self.fitted.set_value(Some((fitted, drawing(workflow))));
        self.viewport.set(fitted);
    }

    /// The canvas changed size: fits again if the view and the drawing are still the last
    /// fit's (an empty canvas is not fitted: there was nothing to fit).
    pub fn resized(&self, workflow: &Workflow) {
        let unchanged = self.fitted.with_value(|f| {
            f.as_ref().is_some_and(|(view, steps)| {
                !steps.is_empty()
                    && *view == self.viewport.get_untracked()
                    && *steps == drawing(workflow)
            })
        });
        if unchanged {
            self.fit(workflow);
        }
    }

    /// Draws the orchestrator hub, or stops, and fits the view to what is drawn.
    pub fn toggle_hub(&self, workflow: &Workflow) {
        self.show_orchestrator.update(|s| *s = !*s);
        self.fit(workflow);
    }
}

impl Default for ViewState {
    fn default() -> Self {
        Self::new()
    }
}

/// A fit: the view it made, and where the steps were.
type Fitted = (Viewport, Vec<(f64, f64)>);

/// Where the steps are: what a fit depends on.
fn drawing(workflow: &Workflow) -> Vec<(f64, f64)> {
    workflow
        .nodes
        .iter()
        .map(|n| (n.position.x, n.position.y))
        .collect()
}

/// The size of the canvas on screen (800 × 600 where there is no screen, on the server).
pub fn canvas_size() -> (f64, f64) {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("svg.canvas").ok().flatten())
        .map(|el| {
            let r = el.get_bounding_client_rect();
            (r.width(), r.height())
        })
        .filter(|(w, h)| *w > 0.0 && *h > 0.0)
        .unwrap_or((800.0, 600.0))
}
