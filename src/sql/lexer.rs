//! Tokens with byte spans. (Written by the front-end work; see parser.rs.)
