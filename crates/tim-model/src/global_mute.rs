//! Global mute: setnospeaking and getnospeaking. An account muted for one-to-one or group messages cannot send them
//! until its time runs out (the service answers 20012 and 10017 to the sends it checks); 0 unmutes and
//! [`MUTED_FOR_EVER`] never ends.

mod generated;

pub use generated::*;

use crate::error::Problem;
use crate::validate::Checker;

impl SetNoSpeakingRequest {
    /// At least one of the two times (130008 otherwise).
    fn rules(&self, c: &mut Checker) {
        if self.c2c_msg_nospeaking_time.is_none() && self.group_msg_nospeaking_time.is_none() {
            c.fail("C2CmsgNospeakingTime", Problem::Rule("or GroupmsgNospeakingTime must be given"));
        }
    }
}
