//! Step templates, below both cases (which hold them) and dialects (which compile steps from
//! them): text with `{name}` placeholders, and hex bytes with them.

mod bytes;
mod text;

pub use bytes::ByteTemplate;
pub use text::{Template, TemplateError, is_identifier};
