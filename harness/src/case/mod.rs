//! Cases: scripted fake clients as reviewable TOML files (model, template syntax, loader), and
//! recorded sessions replayed as cases.

mod from_capture;
mod load;
mod model;

pub use from_capture::case_from_capture;
pub use load::{BUILTIN_VARIABLES, load_case, load_case_in, parse_case};
pub use model::{Case, Condition, Origin, Step};
// Templates live below cases and dialects both; cases are written with them.
pub use crate::template::{ByteTemplate, Template, TemplateError};
