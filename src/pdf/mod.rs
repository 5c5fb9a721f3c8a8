//! PDF documents: the standalone Markdown of a document converted to Typst markup.

// Called by the PDF engine (issue 16), which lands on its own branch.
#[allow(dead_code)]
pub(crate) mod markup;
