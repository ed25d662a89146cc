//! Cases: scripted fake clients as reviewable TOML files (model, template syntax, loader).

mod load;
mod model;
mod template;

pub use load::{BUILTIN_VARIABLES, load_case, parse_case};
pub use model::{Case, Condition, Step};
pub use template::{Template, TemplateError, is_identifier};
