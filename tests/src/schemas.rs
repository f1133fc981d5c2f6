//! Every component schema of every spec, decodable by name: one generated module per spec
//! (`cargo xtask generate` writes them beside this file).

pub mod cerego;
pub mod sendauth;
pub mod zendesk;
