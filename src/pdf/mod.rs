//! PDF documents: the standalone Markdown of a document converted to Typst markup.

// Until the PDF engine (issue 16, on its own branch) calls it; the expectation fails
// once it does, so this line goes with the merge.
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "called by the PDF engine of issue 16")
)]
pub(crate) mod markup;
