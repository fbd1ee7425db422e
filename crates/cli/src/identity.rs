//! Who this profile is: `init`, `whoami`, `profile`. (The key's backup and restore are in
//! `backup`.)

use anyhow::Result;
use commonplace_node::{Node, Profile};

use crate::Ctx;
use crate::output::Out;

/// Creates this profile's identity and prints the member id.
pub(crate) fn init(
    profile: Profile,
    name: &str,
    region: Option<&str>,
    organisation: Option<&str>,
    out: &Out,
) -> Result<()> {
    let node = Node::init(profile, name, region, organisation)?;
    out.identity(&node.identity()?, true)
}

pub(crate) fn whoami(cx: &Ctx) -> Result<()> {
    cx.out.identity(&cx.node.identity()?, false)
}

/// Changes the name, region or organisation; options not given stay.
pub(crate) fn update(
    cx: &Ctx,
    name: Option<String>,
    region: Option<String>,
    organisation: Option<String>,
) -> Result<()> {
    let me = cx.node.identity()?;
    let id = cx.node.update_profile(
        name.as_deref().unwrap_or(&me.name),
        region.as_deref().or(me.region.as_deref()),
        organisation.as_deref().or(me.organisation.as_deref()),
    )?;
    cx.out.identity(&id, false)
}
