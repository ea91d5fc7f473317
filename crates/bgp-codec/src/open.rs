//! OPEN (placeholder until the OPEN module lands; replaced wholesale).

use crate::{EncodeError, Notification};

/// An OPEN message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    /// Raw body.
    pub raw: Vec<u8>,
}

/// An unacceptable OPEN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Too short.
    #[error("too short")]
    Short,
}

impl OpenError {
    /// The NOTIFICATION to send.
    pub fn notification(&self) -> Notification {
        Notification::new(
            crate::ErrorCode::Open(crate::OpenSubcode::Unspecific),
            Vec::new(),
        )
    }
}

impl Open {
    pub(crate) fn decode(body: &[u8]) -> Result<Open, OpenError> {
        Ok(Open { raw: body.to_vec() })
    }

    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.raw);
        Ok(())
    }
}
