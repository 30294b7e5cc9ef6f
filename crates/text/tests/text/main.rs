//! The text crate's tests: the case files of every class, and properties over arbitrary input.
mod cases;
mod never_panics;
