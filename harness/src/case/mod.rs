//! Cases: scripted fake clients as reviewable TOML files (model, template syntax, loader), and
//! recorded sessions replayed as cases.

mod byte_template;
mod from_capture;
mod load;
mod model;
mod template;

pub use byte_template::ByteTemplate;
pub use from_capture::case_from_capture;
pub use load::{BUILTIN_VARIABLES, load_case, load_case_in, parse_case};
pub use model::{Case, Condition, Origin, Step};
pub use template::{Template, TemplateError, is_identifier};
