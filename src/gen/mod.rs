//! Synthetic fleet generator.
