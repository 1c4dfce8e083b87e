//! The reference: a slow, literal implementation of SPEC §1.2 normalisation and SPEC §2 query
//! semantics over plain `serde_json::Value`s, row at a time. It is the oracle the fast path is
//! tested against, never a fast path itself.
