//! A client for Google's Directions API (legacy) and Routes API that returns one
//! result type for both.
//!
//! # Contract
//!
//! Requests are validated and built as `http::Request` values in pure code; the
//! transport that sends them is injected (reqwest by default), so tests point the
//! client at a local server and count every call, because every call may be billed.
//! Every API status becomes a typed error carrying the server's message; only
//! transient failures are retried, with exponential backoff and full jitter inside a
//! bounded budget. Step instructions are turned from HTML into clean text.
//!
//! # Status
//!
//! The workspace issue created this crate; its contents land with the `mapsclient`
//! issue. Nothing is exported yet.
