//! No code: this crate's dependencies pin shared feature sets (see its Cargo.toml).
