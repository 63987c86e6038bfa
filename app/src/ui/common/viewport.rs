//! What part of the canvas is shown (pan and zoom), and fitting a workflow into it.

use super::geometry::{bounds, HUB_RADIUS, HUB_RISE};
use crate::model::Workflow;

/// What part of the canvas is shown: canvas point `p` is drawn at `p * k + (x, y)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    pub x: f64,
    pub y: f64,
    pub k: f64,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport {
            x: 0.0,
            y: 0.0,
            k: 1.0,
        }
    }
}

pub const MIN_ZOOM: f64 = 0.2;
pub const MAX_ZOOM: f64 = 3.0;
/// Fitting never zooms in further than this (a two-step workflow stays life-size-ish).
pub const MAX_FIT_ZOOM: f64 = 1.25;
/// Room left around a fitted workflow, in screen pixels (edge labels and badges stick out).
pub const FIT_MARGIN: f64 = 24.0;

impl Viewport {
    /// Zooms by `factor`, keeping the screen point `(sx, sy)` where it is.
    pub fn zoomed(self, factor: f64, sx: f64, sy: f64) -> Viewport {
        self.pinched(factor, (sx, sy), (sx, sy))
    }

    /// Zooms by `factor` around the screen point `from` and moves that point to `to`
    /// (two fingers that spread and travel).
    pub fn pinched(self, factor: f64, from: (f64, f64), to: (f64, f64)) -> Viewport {
        let k = (self.k * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let ratio = k / self.k;
        Viewport {
            x: to.0 - (from.0 - self.x) * ratio,
            y: to.1 - (from.1 - self.y) * ratio,
            k,
        }
    }

    /// Moved by `(dx, dy)` screen pixels.
    pub fn panned(self, dx: f64, dy: f64) -> Viewport {
        Viewport {
            x: self.x + dx,
            y: self.y + dy,
            k: self.k,
        }
    }

    /// The canvas point under the screen point `(sx, sy)`.
    pub fn to_canvas(self, sx: f64, sy: f64) -> (f64, f64) {
        ((sx - self.x) / self.k, (sy - self.y) / self.k)
    }

    /// The view that shows every step of the workflow (and the orchestrator hub above them
    /// when `hub` is drawn) in a `width` × `height` canvas.
    pub fn fitting(workflow: &Workflow, width: f64, height: f64, hub: bool) -> Viewport {
        let Some((x0, mut y0, x1, y1)) = bounds(workflow) else {
            return Viewport::default();
        };
        if width <= 0.0 || height <= 0.0 {
            return Viewport::default();
        }
        if hub {
            y0 -= HUB_RISE + HUB_RADIUS;
        }
        // Room above for the state line drawn over each step.
        y0 -= 16.0;
        let k = ((width - 2.0 * FIT_MARGIN) / (x1 - x0))
            .min((height - 2.0 * FIT_MARGIN) / (y1 - y0))
            .clamp(MIN_ZOOM, MAX_FIT_ZOOM);
        Viewport {
            x: (width - (x1 - x0) * k) / 2.0 - x0 * k,
            y: (height - (y1 - y0) * k) / 2.0 - y0 * k,
            k,
        }
    }

    /// Whether the canvas box `(x0, y0, x1, y1)` is wholly on a `width` × `height` screen.
    pub fn shows(self, (x0, y0, x1, y1): (f64, f64, f64, f64), width: f64, height: f64) -> bool {
        let (sx0, sy0) = (x0 * self.k + self.x, y0 * self.k + self.y);
        let (sx1, sy1) = (x1 * self.k + self.x, y1 * self.k + self.y);
        sx0 >= 0.0 && sy0 >= 0.0 && sx1 <= width && sy1 <= height
    }
}
