//! Capabilities (placeholder; replaced by the OPEN module).
