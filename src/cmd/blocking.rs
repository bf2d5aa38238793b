//! Blocking list commands.

use super::CommandSpec;

pub fn register(_t: &mut Vec<CommandSpec>) {}
