//! Diagrams drawn from the project for a page: the data-flow diagram (whole, of one
//! zone, or of what an architecture view shows), the STRIDE-per-element table, the
//! risk heat map and a view's sequence of flows. Each is escaped HTML/SVG in one block;
//! the book's directives (`render`) and the documents' template functions
//! (`documents`) both draw with these, so a diagram looks the same everywhere.

pub(crate) mod dfd;
pub(crate) mod heatmap;
pub(crate) mod sequence;
pub(crate) mod stride;
