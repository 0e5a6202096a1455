//! The HTML report of an experiment: one self-contained folder (relative
//! links only, no network) that reads like a results section. `folder`
//! writes it; `finding` picks the teacher and the validation-selected
//! students and words the result, `top` lays the finding out, `table` is the
//! sortable full table, `pivots` the temperature × depth views, `overlays`
//! copies sample explanations and `gallery` shows them side by side, `page`
//! assembles `index.html` (with `assets`: its CSS and script).

mod assets;
mod error;
mod finding;
mod folder;
mod format;
mod frame;
mod gallery;
mod overlays;
mod page;
mod pivots;
mod table;
mod top;

pub use error::ReportError;
pub use folder::write;

#[cfg(test)]
mod browser_tests;
#[cfg(test)]
mod tests;
