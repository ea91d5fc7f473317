//! UPDATE (placeholder until the UPDATE module lands; replaced wholesale).

use crate::{EncodeError, Notification};

/// An UPDATE message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// Raw body.
    pub raw: Vec<u8>,
}

/// An unacceptable UPDATE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// Too short.
    #[error("too short")]
    Short,
}

impl UpdateError {
    /// The NOTIFICATION to send.
    pub fn notification(&self) -> Notification {
        Notification::new(
            crate::ErrorCode::Update(crate::UpdateSubcode::Unspecific),
            Vec::new(),
        )
    }
}

impl Update {
    pub(crate) fn decode(body: &[u8], _ctx: &crate::SessionContext) -> Result<Update, UpdateError> {
        Ok(Update { raw: body.to_vec() })
    }

    pub(crate) fn encode_body(
        &self,
        _ctx: &crate::SessionContext,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.raw);
        Ok(())
    }
}
