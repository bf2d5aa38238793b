//! Set commands (being written).

use super::CommandSpec;

pub fn register(_t: &mut Vec<CommandSpec>) {}
