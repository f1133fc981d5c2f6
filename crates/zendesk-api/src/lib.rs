//! (glue written after the spec)
